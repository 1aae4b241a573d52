package lu

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// This file drives real Apps through every sequence of external stimuli,
// and checks the lifecycle's invariants after each. Time is synctest's fake
// time, so deadlines pass at once and every run is deterministic: a
// stimulus is applied, then the bubble settles (synctest.Wait) before the
// next one.

type stimulus int

const (
	doLaunch stimulus = iota
	doShutdown
	doStartHookFail
	doStartHookPanic
	doProcessFail
	doProcessPanic
	doCancelLaunchContext
	doStopHookFail
	doPassDeadline
	doStartHookOK
	doStopHookOK
	doStop
	doCallbackPanic
	doStartHookGoexit
	doProcessGoexit
	doStopHookGoexit
	numStimuli
)

var stimulusNames = [...]string{"Launch", "Shutdown", "StartHookFail", "StartHookPanic", "ProcessFail",
	"ProcessPanic", "CancelLaunchContext", "StopHookFail", "PassDeadline", "StartHookOK", "StopHookOK",
	"Stop", "CallbackPanic", "StartHookGoexit", "ProcessGoexit", "StopHookGoexit"}

func (s stimulus) String() string { return stimulusNames[s] }

type command int

const (
	cmdOK command = iota
	cmdFail
	cmdPanic
	cmdGoexit
)

var (
	errStartHook = errors.New("start hook failed")
	errProcess   = errors.New("process failed")
	errStopHook  = errors.New("stop hook failed")
	errCallback  = errors.New("callback panicked")
)

const exploreTimeout = 10 * time.Second

var exploreDepth = flag.Int("explore.depth", 0,
	"the longest sequence of stimuli TestExploreAllSequences tries (default 6, 5 under -race, 4 with -short)")

// harness is one App under test, with one start hook, one process and one
// stop hook that each wait for a command.
type harness struct {
	a      *App
	ctx    context.Context
	cancel context.CancelFunc

	startCmd, procCmd, stopCmd             chan command
	startWaiting, procWaiting, stopWaiting atomic.Bool
	procRunning                            atomic.Int32

	// The AppStartup and AppTerminating callbacks wait at a gate until the
	// next stimulus has been applied, so that states Startup and
	// Terminating, which the App otherwise passes through at once, are
	// explored too.
	gate        chan struct{}
	gateWaiting atomic.Bool

	mu         sync.Mutex
	events     []Event
	violations []string
	states     []State

	launched     bool
	launchErr    chan error
	shutdowns    int
	shutdownErrs chan error
	cancelled    bool

	// panicNext makes the next OnEvent callback panic; panicked counts
	// the callbacks that did.
	panicNext atomic.Bool
	panicked  atomic.Int32
}

func newHarness() *harness {
	h := &harness{
		startCmd: make(chan command), procCmd: make(chan command), stopCmd: make(chan command),
		gate:      make(chan struct{}),
		launchErr: make(chan error, 1), shutdownErrs: make(chan error, 8),
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.a = &App{StartupTimeout: exploreTimeout, ShutdownTimeout: exploreTimeout, DrainDelay: exploreTimeout / 2,
		OnEvent: h.onEvent}
	h.a.OnStartUp(h.startHook, WithHookName("start"))
	h.a.AddProcess(Process{Name: "proc", Run: h.process})
	h.a.OnShutdown(h.stopHook, WithHookName("stop"))
	return h
}

func obey(c command, err error) error {
	switch c {
	case cmdFail:
		return err
	case cmdPanic:
		panic(err)
	case cmdGoexit:
		runtime.Goexit()
	}
	return nil
}

func (h *harness) startHook(ctx context.Context) error {
	h.startWaiting.Store(true)
	defer h.startWaiting.Store(false)
	select {
	case c := <-h.startCmd:
		return obey(c, errStartHook)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *harness) process(ctx context.Context) error {
	h.procRunning.Add(1)
	defer h.procRunning.Add(-1)
	h.procWaiting.Store(true)
	defer h.procWaiting.Store(false)
	select {
	case c := <-h.procCmd:
		return obey(c, errProcess)
	case <-ctx.Done():
		return nil
	}
}

// stopHook ignores its context: only a command ends it, so a deadline
// can pass while it runs.
func (h *harness) stopHook(context.Context) error {
	h.stopWaiting.Store(true)
	defer h.stopWaiting.Store(false)
	return obey(<-h.stopCmd, errStopHook)
}

func (h *harness) violate(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.violations = append(h.violations, fmt.Sprintf(format, args...))
}

func (h *harness) onEvent(_ context.Context, e Event) {
	h.mu.Lock()
	h.events = append(h.events, e)
	h.mu.Unlock()
	if e.Type == AppStartup || e.Type == AppTerminating {
		h.gateWaiting.Store(true)
		<-h.gate
		h.gateWaiting.Store(false)
	}
	if h.panicNext.CompareAndSwap(true, false) {
		h.panicked.Add(1)
		panic(errCallback)
	}
	if e.Type == AppTerminated {
		if n := h.procRunning.Load(); n != 0 {
			h.violate("AppTerminated while %d process(es) still run", n)
		}
		if s := h.a.State(); s != StateTerminated {
			h.violate("AppTerminated emitted in state %v", s)
		}
	}
}

func (h *harness) eventCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

// fingerprint captures what a stimulus may change, to tell a no-op.
func (h *harness) fingerprint() string {
	return fmt.Sprint(h.a.State(), h.eventCount(), h.startWaiting.Load(), h.procWaiting.Load(),
		h.stopWaiting.Load(), h.gateWaiting.Load(), h.launched, h.shutdowns, h.cancelled, len(h.launchErr),
		len(h.shutdownErrs), h.panicNext.Load(), h.panicked.Load())
}

// send delivers c to a component if it is waiting for a command.
func send(waiting *atomic.Bool, ch chan command, c command) {
	if waiting.Load() {
		ch <- c
	}
}

// apply applies one stimulus; the bubble must be settled.
func (h *harness) apply(s stimulus) {
	switch s {
	case doLaunch:
		if !h.launched {
			h.launched = true
			go func() { h.launchErr <- h.a.Launch(h.ctx) }()
			return
		}
		h.illegal("second Launch", func() error { return h.a.Launch(h.ctx) })
	case doShutdown:
		if h.a.State() == StateIdle {
			h.illegal("Shutdown before Launch", h.a.Shutdown)
			return
		}
		if h.shutdowns < 2 {
			h.shutdowns++
			go func() { h.shutdownErrs <- h.a.Shutdown() }()
		}
	case doCancelLaunchContext:
		h.cancel()
		h.cancelled = true
	case doPassDeadline:
		time.Sleep(exploreTimeout + time.Second)
	case doStop:
		h.a.Stop(nil)
	case doCallbackPanic:
		h.panicNext.Store(true)
	default:
		ch, waiting, cmd := h.target(s)
		send(waiting, ch, cmd)
	}
}

// target returns the channel of the component a stimulus commands, the
// flag that says whether it waits for a command, and the command.
func (h *harness) target(s stimulus) (chan command, *atomic.Bool, command) {
	switch s {
	case doStartHookFail:
		return h.startCmd, &h.startWaiting, cmdFail
	case doStartHookPanic:
		return h.startCmd, &h.startWaiting, cmdPanic
	case doStartHookOK:
		return h.startCmd, &h.startWaiting, cmdOK
	case doProcessFail:
		return h.procCmd, &h.procWaiting, cmdFail
	case doProcessPanic:
		return h.procCmd, &h.procWaiting, cmdPanic
	case doStopHookFail:
		return h.stopCmd, &h.stopWaiting, cmdFail
	case doStopHookOK:
		return h.stopCmd, &h.stopWaiting, cmdOK
	case doStartHookGoexit:
		return h.startCmd, &h.startWaiting, cmdGoexit
	case doProcessGoexit:
		return h.procCmd, &h.procWaiting, cmdGoexit
	case doStopHookGoexit:
		return h.stopCmd, &h.stopWaiting, cmdGoexit
	}
	panic("no component for stimulus " + s.String())
}

// step applies a stimulus, lets the App settle, then opens the gate if a
// callback waits at it, and lets the App settle again.
func (h *harness) step(s stimulus) {
	waited := h.gateWaiting.Load()
	h.apply(s)
	synctest.Wait()
	if waited && h.gateWaiting.Load() {
		h.gate <- struct{}{}
		synctest.Wait()
	}
}

// illegal makes a call the state does not allow and checks it changes
// nothing.
func (h *harness) illegal(what string, call func() error) {
	before, events := h.a.State(), h.eventCount()
	err := call()
	if !errors.Is(err, ErrIllegalTransition) {
		h.violate("%s in state %v returned %v, want ErrIllegalTransition", what, before, err)
	}
	synctest.Wait()
	if after := h.a.State(); after != before || h.eventCount() != events {
		h.violate("%s changed the App: state %v -> %v, events %d -> %d", what, before, after, events, h.eventCount())
	}
}

// observe records the settled state and checks that it moved only forward
// along the table.
func (h *harness) observe() {
	s := h.a.State()
	if n := len(h.states); n > 0 && !reachable(h.states[n-1], s) {
		h.violate("state moved from %v to %v, which the table does not allow", h.states[n-1], s)
	}
	h.states = append(h.states, s)
}

// reachable reports whether the table leads from s to d in zero or more
// steps.
func reachable(s, d State) bool {
	seen := map[State]bool{s: true}
	todo := []State{s}
	for len(todo) > 0 {
		cur := todo[0]
		todo = todo[1:]
		for _, tr := range transitions {
			if tr.From == cur && !seen[tr.To] {
				seen[tr.To] = true
				todo = append(todo, tr.To)
			}
		}
	}
	return seen[d]
}

// finish releases whatever still waits, shuts the App down if it was
// launched, waits for every call, and checks the invariants.
func (h *harness) finish() {
	if h.launched && h.shutdowns == 0 {
		h.shutdowns++
		go func() { h.shutdownErrs <- h.a.Shutdown() }()
	}
	for idle := 0; ; {
		synctest.Wait()
		switch {
		case h.launched && h.a.State() != StateTerminated && idle < 10:
			// Waiting on time (a drain, a deadline): let it pass. Ten
			// deadlines without progress would be a hang, and check
			// reports it.
			idle++
			h.releaseOne()
			time.Sleep(exploreTimeout + time.Second)
		default:
			h.releaseOne()
			synctest.Wait()
			if h.startWaiting.Load() || h.stopWaiting.Load() || h.gateWaiting.Load() {
				continue
			}
			h.check()
			return
		}
	}
}

// releaseOne lets one waiting component or callback go on, if any.
func (h *harness) releaseOne() {
	switch {
	case h.startWaiting.Load():
		h.startCmd <- cmdOK
	case h.stopWaiting.Load():
		h.stopCmd <- cmdOK
	case h.gateWaiting.Load():
		h.gate <- struct{}{}
	case h.procWaiting.Load() && h.a.State() >= StateTerminated:
		h.procCmd <- cmdOK // a process left behind would be a violation
		h.violate("a process still runs after Terminated")
	}
}

func (h *harness) check() {
	h.observe()
	if !h.launched {
		if s := h.a.State(); s != StateIdle || len(h.events) > 0 {
			h.violate("never launched, but state %v and %d events", s, len(h.events))
		}
		return
	}
	if s := h.a.State(); s != StateTerminated {
		h.violate("launched and shut down, but ended in state %v", s)
	}
	launchErr := <-h.launchErr
	var first error
	for i := range h.shutdowns {
		err := <-h.shutdownErrs
		if i == 0 {
			first = err
		} else if err != first {
			h.violate("Shutdown callers got different results: %v and %v", first, err)
		}
	}
	if h.panicked.Load() > 0 && !errors.Is(launchErr, errCallback) && !errors.Is(first, errCallback) {
		h.violate("a callback panicked, but neither Launch (%v) nor Shutdown (%v) reported it", launchErr, first)
	}
	h.checkEvents()
}

func (h *harness) checkEvents() {
	ev := h.events
	count := map[EventType]int{}
	open := map[string]int{}
	for i, e := range ev {
		count[e.Type]++
		switch e.Type {
		case PreHookStart, PreHookStop:
			open[fmt.Sprint(e.Type, e.Name)]++
		case PostHookStart:
			if k := fmt.Sprint(PreHookStart, e.Name); open[k] == 0 {
				h.violate("PostHookStart(%s) without its PreHookStart", e.Name)
			} else {
				open[k]--
			}
		case PostHookStop:
			if k := fmt.Sprint(PreHookStop, e.Name); open[k] == 0 {
				h.violate("PostHookStop(%s) without its PreHookStop", e.Name)
			} else {
				open[k]--
			}
		case AppTerminated:
			if i != len(ev)-1 {
				h.violate("AppTerminated is not the last event")
			}
		}
	}
	if len(ev) == 0 || ev[0].Type != AppStartup {
		h.violate("AppStartup is not the first event")
	}
	if count[AppTerminated] != 1 || count[AppTerminating] != 1 || count[AppStartup] != 1 {
		h.violate("AppStartup, AppTerminating and AppTerminated must be emitted once each")
	}
	if count[ProcessStart] != count[ProcessEnd] {
		h.violate("%d ProcessStart but %d ProcessEnd", count[ProcessStart], count[ProcessEnd])
	}
	if count[AppRunning] > 1 {
		h.violate("AppRunning emitted %d times", count[AppRunning])
	}
}

func (h *harness) eventsString() string {
	s := make([]string, len(h.events))
	for i, e := range h.events {
		s[i] = evs(e.Type, e.Name)
	}
	return strings.Join(s, " ")
}

// runSequence runs one sequence in a fresh bubble and returns whether its
// last stimulus changed anything, the states it went through and any
// violation.
func runSequence(t *testing.T, seq []stimulus) (changed bool, states []State, violations []string) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		h.observe()
		before := ""
		for i, s := range seq {
			if i == len(seq)-1 {
				before = h.fingerprint()
			}
			h.step(s)
			h.observe()
		}
		changed = len(seq) == 0 || h.fingerprint() != before
		h.finish()
		states = h.states
		violations = h.violations
		if len(violations) > 0 {
			violations = append(violations, "events: "+h.eventsString())
		}
	})
	return changed, states, violations
}

func TestExploreAllSequences(t *testing.T) {
	depth := *exploreDepth
	switch {
	case depth > 0:
	case testing.Short():
		depth = 4
	case raceEnabled:
		depth = 5 // the race detector makes each sequence about five times slower
	default:
		depth = 6
	}
	explored := 0
	reached := map[State]bool{}
	var walk func(seq []stimulus)
	walk = func(seq []stimulus) {
		changed, states, violations := runSequence(t, seq)
		explored++
		for _, s := range states {
			reached[s] = true
		}
		if len(violations) > 0 {
			t.Errorf("sequence %v:\n  %s", seq, strings.Join(violations, "\n  "))
			return
		}
		if !changed || len(seq) == depth {
			return // a no-op leaves the App as the shorter sequence did
		}
		for s := range numStimuli {
			walk(append(seq[:len(seq):len(seq)], s))
		}
	}
	walk(nil)
	t.Logf("explored %d sequences of up to %d stimuli", explored, depth)
	for s := range State(numStates) {
		if !reached[s] {
			t.Errorf("state %v never reached", s)
		}
	}
}

// TestEveryStateIsReachable drives a real App into each state with the
// shortest sequence of stimuli that gets there and stays.
func TestEveryStateIsReachable(t *testing.T) {
	tests := []struct {
		state State
		seq   []stimulus
	}{
		{StateIdle, nil},
		{StateStartup, []stimulus{doLaunch}}, // held by the AppStartup callback
		// Time passing opens the gate and changes nothing else: no clock
		// runs while a callback does.
		{StateHookStart, []stimulus{doLaunch, doPassDeadline}},
		{StateRunning, []stimulus{doLaunch, doPassDeadline, doStartHookOK}},
		{StateDraining, []stimulus{doLaunch, doPassDeadline, doStartHookOK, doShutdown}},
		{StateTerminating, []stimulus{doLaunch, doPassDeadline, doStartHookOK, doShutdown, doPassDeadline}},
		{StateHookStop, []stimulus{doLaunch, doPassDeadline, doStartHookOK, doShutdown, doPassDeadline, doPassDeadline}},
		{StateTerminated, []stimulus{doLaunch, doPassDeadline, doStartHookOK, doShutdown, doPassDeadline, doPassDeadline, doStopHookOK}},
	}
	for _, tt := range tests {
		t.Run(tt.state.String(), func(t *testing.T) {
			_, states, violations := runSequence(t, tt.seq)
			if len(violations) > 0 {
				t.Fatal(strings.Join(violations, "\n"))
			}
			if got := states[len(tt.seq)]; got != tt.state {
				t.Errorf("after %v the App is in state %v, want %v", tt.seq, got, tt.state)
			}
		})
	}
}
