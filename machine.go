package lu

import (
	"context"

	"github.com/qmuntal/stateless"
)

// lifecycle is the state machine shared by every App. Its configuration,
// built once from the transitions table, holds no App's data: the state
// lives in the App and is read and written through the fireContext passed
// to every Fire, so building an App costs no machine configuration.
//
// stateless runs no lock around actions and does not serialise concurrent
// Fire calls, so each App fires only while holding its own mutex (see
// [App.fireLocked]), and the one entry action never blocks, never fires and
// never calls user code.
var lifecycle = buildMachine()

// fireContext is the context handed to the machine when an App fires a
// trigger. It carries the App so the shared machine can find its state, and
// it is a field of the App, so firing allocates no context.
type fireContext struct {
	context.Context
	app *App
}

type fireKey struct{}

// Value returns the App for fireKey: stateless hands actions a context
// derived from the one given to Fire.
func (c *fireContext) Value(key any) any {
	if key == (fireKey{}) {
		return c.app
	}
	return c.Context.Value(key)
}

// appOf returns the App being fired, or nil outside a Fire.
func appOf(ctx context.Context) *App {
	if fc, ok := ctx.(*fireContext); ok {
		return fc.app
	}
	a, _ := ctx.Value(fireKey{}).(*App)
	return a
}

func buildMachine() *stateless.StateMachine {
	sm := stateless.NewStateMachineWithExternalStorage(loadState, storeState, stateless.FiringImmediate)
	for s := State(0); s < numStates; s++ {
		// Configure every state, Terminated included, so each is drawn and
		// none is created lazily while another goroutine reads the config.
		sm.Configure(s)
	}
	for _, t := range transitions {
		if t.From == t.To {
			sm.Configure(t.From).Ignore(t.On)
		} else {
			sm.Configure(t.From).Permit(t.On, t.To)
		}
	}
	sm.Configure(StateDraining).OnEntry(enterStopping)
	sm.Configure(StateTerminating).OnEntry(enterStopping)
	sm.OnUnhandledTrigger(refuseTrigger)
	return sm
}

// loadState reads the state of the App being fired. Outside a Fire (as when
// the diagram is drawn) there is no App and the machine reads as Idle.
func loadState(ctx context.Context) (stateless.State, error) {
	if a := appOf(ctx); a != nil {
		return State(a.state.Load()), nil
	}
	return StateIdle, nil
}

func storeState(ctx context.Context, s stateless.State) error {
	appOf(ctx).state.Store(int32(s.(State)))
	return nil
}

// refuseTrigger answers a trigger that the table does not list for the
// current state.
func refuseTrigger(_ context.Context, s stateless.State, t stateless.Trigger, _ []string) error {
	return &TransitionError{State: s.(State), Trigger: t.(Trigger)}
}

// enterStopping runs on entering Draining or Terminating, whichever comes
// first: it records why the App stops, closes the channel returned by
// WaitForShutdown and cancels the start hooks' context if start-up is
// still under way. It runs under the App's mutex and must not block.
func enterStopping(ctx context.Context, _ ...any) error {
	a := appOf(ctx)
	if a.stopEntered {
		return nil // Draining came first
	}
	a.stopEntered = true
	a.stopCause = a.pendingCause
	if a.stopping == nil {
		a.stopping = make(chan struct{})
	}
	close(a.stopping)
	if a.cancelStart != nil {
		a.cancelStart(a.stopCause)
	}
	return nil
}

// fireLocked fires t on the App's machine and reports whether the state
// changed. The caller holds a.mu.
func (a *App) fireLocked(t Trigger) (moved bool, err error) {
	if a.fctx.app == nil {
		a.fctx = fireContext{Context: context.Background(), app: a}
	}
	from := a.state.Load()
	err = lifecycle.FireCtx(&a.fctx, t)
	moved = err == nil && a.state.Load() != from
	if moved {
		a.recordTransition(State(from), t, a.State())
	}
	return moved, err
}

// fire is fireLocked for a caller that does not hold a.mu; it logs the
// transition.
func (a *App) fire(t Trigger) (moved bool, err error) {
	a.mu.Lock()
	moved, err = a.fireLocked(t)
	a.mu.Unlock()
	a.flushLog()
	return moved, err
}

//go:generate go test -run TestDiagram -update .

// LifecycleDOT returns the lifecycle state machine in Graphviz DOT, drawn
// by the state machine library from the machine every App runs on. The
// output is deterministic: it is what diagrams/lifecycle.dot holds.
func LifecycleDOT() string {
	return lifecycle.ToGraph()
}
