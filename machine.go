package lu

import (
	"context"
	"fmt"
	"time"

	"github.com/qmuntal/stateless"
)

// lifecycle is the state machine shared by every App, built once from the
// tables in transitions.go. It holds no App's data: the state lives in the
// run and is read and written through the fireContext passed to every Fire,
// so launching an App configures no machine.
//
// stateless runs no lock around actions and does not serialise concurrent
// Fire calls, so a run fires only while holding its mutex (see
// [run.fireLocked]), and the one entry action never blocks, never fires and
// never calls user code.
var lifecycle = buildMachine()

func buildMachine() *stateless.StateMachine {
	sm := stateless.NewStateMachineWithExternalStorage(loadState, storeState, stateless.FiringImmediate)
	for s := range State(numAllStates) {
		// Configure every state, Terminated included, so each is drawn and
		// none is created lazily while another goroutine reads the config.
		sm.Configure(s)
	}
	for _, ss := range superstates {
		sm.Configure(ss.Sub).SubstateOf(ss.Super)
	}
	for _, t := range transitions {
		if t.From == t.To {
			sm.Configure(t.From).Ignore(t.On)
		} else {
			sm.Configure(t.From).Permit(t.On, t.To)
		}
	}
	sm.Configure(stateStopping).OnEntry(enterStopping)
	sm.OnUnhandledTrigger(refuseTrigger)
	return sm
}

// fireContext is the context handed to the machine when a run fires a
// trigger: it carries the run, so the shared machine can find its state. It
// is a field of the run, so firing allocates no context.
type fireContext struct {
	context.Context
	r *run
}

type runKey struct{}

// Value returns the run for runKey: stateless hands actions a context
// derived from the one given to Fire.
func (c *fireContext) Value(key any) any {
	if key == (runKey{}) {
		return c.r
	}
	return c.Context.Value(key)
}

// runOf returns the run being fired, or nil outside a Fire (as when the
// diagram is drawn).
func runOf(ctx context.Context) *run {
	if fc, ok := ctx.(*fireContext); ok {
		return fc.r
	}
	r, _ := ctx.Value(runKey{}).(*run)
	return r
}

// loadState reads the state of the run being fired; outside a Fire the
// machine reads as Idle.
func loadState(ctx context.Context) (stateless.State, error) {
	if r := runOf(ctx); r != nil {
		return State(r.state.Load()), nil
	}
	return StateIdle, nil
}

func storeState(ctx context.Context, s stateless.State) error {
	runOf(ctx).state.Store(int32(s.(State)))
	return nil
}

// refuseTrigger answers a trigger that the tables do not list for the
// current state.
func refuseTrigger(_ context.Context, s stateless.State, t stateless.Trigger, _ []string) error {
	return &TransitionError{State: s.(State), Trigger: t.(Trigger)}
}

// stopRequest is why the App stops. Every trigger that can begin the stop
// carries one as its Fire argument.
type stopRequest struct {
	// cause becomes the cause of the processes' context (see
	// context.Cause). It is never nil.
	cause error
	// report is set when the cause is a failure that nothing else reports,
	// such as the cause given to Stop: Shutdown then returns it.
	report bool
}

// enterStopping is the entry action of the Stopping superstate, run once,
// on the first transition into it: it records why the App stops and closes
// the channel returned by WaitForShutdown. It runs under the run's mutex
// and must not block nor call code of the user's (cancelling the start-up's
// context may: requestStop does it).
func enterStopping(ctx context.Context, args ...any) error {
	r := runOf(ctx)
	req := args[0].(stopRequest)
	tr := stateless.GetTransition(ctx)
	r.stopReq, r.stopFrom, r.stopTrigger = req, tr.Source.(State), tr.Trigger.(Trigger)
	r.stopAt = time.Now()
	close(r.stopping)
	return nil
}

// fireLocked fires t with args on the run's machine and returns the states
// before and after. The caller holds r.mu.
func (r *run) fireLocked(t Trigger, args ...any) (from, to State, err error) {
	from = State(r.state.Load())
	err = lifecycle.FireCtx(&r.fctx, t, args...)
	to = State(r.state.Load())
	if to != from {
		r.journal.transition(from, t, to)
	}
	return from, to, err
}

// fire is fireLocked for a trigger that the App fires itself as its work
// completes: the machine refusing it is a bug in lu, made loud by bug.
func (r *run) fire(t Trigger, args ...any) {
	r.mu.Lock()
	_, _, err := r.fireLocked(t, args...)
	r.mu.Unlock()
	if err != nil {
		r.bug(fmt.Errorf("lu: internal trigger refused: %w", err))
	}
}

// bug records an internal trigger the machine refused: a bug in lu.
// Shutdown returns it, and tests make it panic (see onBug).
func (r *run) bug(err error) {
	r.mu.Lock()
	r.bugs = append(r.bugs, err)
	r.mu.Unlock()
	onBug(err)
}

// onBug is called with every bug; the tests make it panic.
var onBug = func(error) {}

//go:generate go test -run TestDiagram -update .

// LifecycleDOT returns the lifecycle state machine in Graphviz DOT, drawn
// by the state machine library from the machine every App runs on. The
// output is deterministic: it is what diagrams/lifecycle.dot holds.
func LifecycleDOT() string {
	return lifecycle.ToGraph()
}
