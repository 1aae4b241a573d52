package lu

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// hook is a start or stop hook as registered.
//
// It is 64 bytes, a cache line: the runner visits 10,000 hooks in priority
// order, which is not the order they sit in memory.
type hook struct {
	Name string
	// F is called at start-up or at shutdown; its context is cancelled when
	// the start-up or shutdown deadline passes.
	F       ProcessFunc
	timeout time.Duration // WithHookTimeout; 0: none; negative: an error
	seq     int32         // registration order, the tie-breaker between equal priorities
	prio    int8          // a HookPriority, in [HookPriorityFirst, HookPriorityLast]

	rec hookRec // written by the hook's runner; see hookRun.pos
}

func (h *hook) priority() HookPriority { return HookPriority(h.prio) }

// label names the hook in errors and in the timeout report.
func (h *hook) label() string {
	if h.Name != "" {
		return strconv.Quote(h.Name)
	}
	return "#" + strconv.Itoa(int(h.seq))
}

// name is the hook's name, or its label if it has none.
func (h *hook) name() string {
	if h.Name != "" {
		return h.Name
	}
	return h.label()
}

// HookOption configures a hook registered with [App.OnStartUp] or
// [App.OnShutdown].
type HookOption func(*hook)

// WithHookName names the hook in events, errors and pprof labels.
func WithHookName(s string) HookOption {
	return func(h *hook) { h.Name = s }
}

// WithHookTimeout bounds the hook to d, inside the overall start-up or
// shutdown budget: its context ends after d, and if it has not returned by
// then the App stops waiting for it and records a *[TimeoutError] naming
// it. A start hook that times out fails the start-up; after a stop hook
// that times out, the next one runs. A negative d is an error that Launch
// or Shutdown returns.
func WithHookTimeout(d time.Duration) HookOption {
	return func(h *hook) { h.timeout = d }
}

// HookPriority orders hooks: lower runs earlier.
type HookPriority int

// The range of hook priorities, and the default.
const (
	HookPriorityFirst   HookPriority = -100
	HookPriorityDefault HookPriority = 0
	HookPriorityLast    HookPriority = 100
)

// WithHookPriority controls the order in which hooks run: the lower p, the
// earlier the hook runs; hooks of equal priority run in the order they were
// registered. The default priority is [HookPriorityDefault].
//
// WithHookPriority panics if p is outside [HookPriorityFirst,
// HookPriorityLast]: an out-of-range priority is a programming error best
// caught where it is written.
func WithHookPriority(p HookPriority) HookOption {
	if p < HookPriorityFirst || p > HookPriorityLast {
		panic(fmt.Sprintf("lu: hook priority %d outside [HookPriorityFirst, HookPriorityLast] = [%d, %d]",
			p, HookPriorityFirst, HookPriorityLast))
	}
	return func(h *hook) { h.prio = int8(p) }
}

// OnStartUp registers f to run during [App.Launch], before any process
// starts. Start hooks run one at a time, by priority and then in the order
// they were registered; the first to fail stops the start-up.
//
// A start hook may register further stop hooks and processes. Registering a
// start hook once the start hooks have begun is an error that the next
// Launch or Shutdown returns, as is a nil f.
func (a *App) OnStartUp(f ProcessFunc, opts ...HookOption) {
	a.addHook(&a.startHooks, "OnStartUp", StateStartup, f, opts)
}

// OnShutdown registers f to run during shutdown, after every process has
// returned. Stop hooks run one at a time, by priority and then in the order
// they were registered, each one even if an earlier one failed. Use them to
// close database connections and release what the start hooks acquired.
//
// Stop hooks may be registered until the stop hooks begin, from a start
// hook or a process included. Registering one later is an error that
// Shutdown returns, as is a nil f.
func (a *App) OnShutdown(f ProcessFunc, opts ...HookOption) {
	a.addHook(&a.stopHooks, "OnShutdown", StateTerminating, f, opts)
}

// addHook registers a hook if the App's state is at most last.
func (a *App) addHook(list *[]hook, call string, last State, f ProcessFunc, opts []HookOption) {
	h := hook{F: f}
	for _, o := range opts {
		o(&h)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hookSeq++
	h.seq = int32(a.hookSeq)
	switch s := State(a.state.Load()); {
	case h.timeout < 0:
		a.configErrs = append(a.configErrs, fmt.Errorf("%s: hook %s: lu: WithHookTimeout: negative duration %v", call, h.label(), h.timeout))
	case f == nil:
		a.configErrs = append(a.configErrs, fmt.Errorf("lu: %s: hook %s has a nil func", call, h.label()))
	case s > last:
		a.configErrs = append(a.configErrs, fmt.Errorf("lu: %s in state %s: hook %s will never run: %w",
			call, s, h.label(), ErrIllegalTransition))
	default:
		*list = append(*list, h)
	}
}

// sortedHooks returns pointers to hooks in running order: by priority, then
// by registration. Priorities span a small fixed range, so a counting sort
// does it in O(n); registration only appends, so n registrations cost O(n).
// The hooks must not be appended to while the pointers are in use: the
// lists are closed to registration before they run.
func sortedHooks(hooks []hook) []*hook {
	if len(hooks) == 0 {
		return nil
	}
	const buckets = HookPriorityLast - HookPriorityFirst + 1
	var start [buckets + 1]int
	for i := range hooks {
		start[hooks[i].priority()-HookPriorityFirst+1]++
	}
	for b := 1; b <= int(buckets); b++ {
		start[b] += start[b-1]
	}
	sorted := make([]*hook, len(hooks))
	for i := range hooks {
		b := hooks[i].priority() - HookPriorityFirst
		sorted[start[b]] = &hooks[i]
		start[b]++
	}
	return sorted
}

// hookRun runs a list of hooks on a goroutine of its own, so that a hook
// that ignores its context cannot hold the App past its deadline.
//
// Running a hook costs one atomic store besides the call: the runner writes
// the hook's record and then publishes it by storing pos, and readers (the
// journal, the timeout report) read pos first and then only the records it
// publishes. Times are read through stamp, which reads the clock only when
// the waiter's ticker has ticked since the last reading.
type hookRun struct {
	a     *App
	stop  bool // stop hooks: keep going after a failure
	hooks []*hook
	done  chan struct{}

	// pos is where the runner is: 2i+1 while hook i runs, 2i+2 once it has
	// ended. Records of the hooks before pos/2 are complete, and the
	// running hook's start is set.
	pos atomic.Int64
	// abandoned is set when the deadline passed: from then on the runner
	// starts no hook and emits no event.
	abandoned atomic.Bool
	// ticks is advanced by the waiter when tick fires; the runner re-arms
	// tick once it has seen the tick, so a hook that runs for long costs
	// the waiter one wake-up, not one per tick.
	ticks atomic.Int64
	tick  *time.Timer

	// The runner's own: the last clock reading and the ticks it was read at.
	last     stamp
	lastTick int64

	mu   sync.Mutex
	errs []error
}

// hookRec is the journal's record of one hook. An App runs once, so each
// hook runs at most once and its record lives in the hook.
type hookRec struct {
	started, ended stamp
	err            *error // the hook's failure, if any
}

// hookClockTick bounds how early a hook's journalled start or end may be:
// running thousands of quick hooks does not wait for thousands of clock
// readings, and a hook that runs longer than a tick gets an exact end.
const hookClockTick = time.Millisecond

// stamp returns the time, early by at most about hookClockTick. Only the
// runner calls it.
func (r *hookRun) stamp() stamp {
	if t := r.ticks.Load(); t != r.lastTick || r.last == 0 {
		if t != r.lastTick && !r.abandoned.Load() {
			r.tick.Reset(hookClockTick) // it fired and was received
		}
		r.last, r.lastTick = r.a.now(), t
	}
	return r.last
}

// running returns the index of the hook running and when it started, or
// -1.
func (r *hookRun) running() (int, stamp) {
	pos := r.pos.Load()
	if pos%2 == 0 {
		return -1, 0
	}
	i := int(pos / 2)
	return i, r.hooks[i].rec.started
}

// journal returns the runner's hooks as journal entries.
func (r *hookRun) journal() []JournalEntry {
	pos := int(r.pos.Load())
	entries := make([]JournalEntry, len(r.hooks))
	for i, h := range r.hooks {
		var rec hookRec
		switch {
		case i < pos/2:
			rec = h.rec
		case i == pos/2 && pos%2 == 1:
			rec.started = h.rec.started
		}
		var err error
		if rec.err != nil {
			err = *rec.err
		}
		entries[i] = r.a.entry(h.Name, rec.started, rec.ended, err)
		entries[i].Name = h.name()
		entries[i].Priority = h.priority()
	}
	return entries
}

// runHooks runs hooks in order, with a context that ends at deadline,
// until they are done or deadline passes. It returns the hooks' errors and,
// if the deadline passed, a *TimeoutError naming the hook that was running.
func (a *App) runHooks(ctx context.Context, hooks []*hook, stop bool, deadline time.Time) ([]error, error) {
	if len(hooks) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	r := &hookRun{a: a, stop: stop, hooks: hooks, done: make(chan struct{}),
		tick: time.NewTimer(hookClockTick)}
	defer r.tick.Stop()
	a.mu.Lock()
	if stop {
		a.stopRun = r
	} else {
		a.startRun = r
	}
	a.mu.Unlock()
	go r.run(ctx)
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
wait:
	for {
		select {
		case <-r.done:
			return r.errs, nil
		case <-r.tick.C:
			r.ticks.Add(1)
		case <-t.C:
			break wait
		}
	}
	select {
	case <-r.done: // finished just in time
		return r.errs, nil
	default:
	}
	r.abandoned.Store(true)
	te := &TimeoutError{State: State(a.state.Load())}
	if i, started := r.running(); i >= 0 {
		te.Hook = r.hooks[i].name()
		te.Running = time.Duration(a.now() - started)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs), te
}

func (r *hookRun) run(ctx context.Context) {
	defer close(r.done)
	start, end, kind := PreHookStart, PostHookStart, "start hook"
	if r.stop {
		start, end, kind = PreHookStop, PostHookStop, "stop hook"
	}
	// Without observers, a hook starts when the one before it ended.
	log := r.a.logger()
	observed := r.a.onEvent != nil || log != nil
	cancelled := ctx.Done()
	now := r.stamp()
	for i, h := range r.hooks {
		if !r.stop {
			select {
			case <-cancelled:
				r.pos.Store(int64(2 * i)) // the hooks before i have ended
				r.fail(fmt.Errorf("lu: start-up stopped before hook %s: %w", h.label(), context.Cause(ctx)))
				return
			default:
			}
		}
		if r.abandoned.Load() {
			r.pos.Store(int64(2 * i))
			return
		}
		if observed {
			now = r.stamp()
		}
		h.rec.started = now
		r.pos.Store(int64(2*i + 1))
		if observed {
			r.log(log, kind, i, false, nil)
			r.a.emit(ctx, start, h.Name)
		}
		var err error
		if h.Name == "" && h.timeout == 0 {
			err = callHookHere(ctx, h, kind) // the common case, one frame less
		} else {
			err = callHook(ctx, h, kind)
		}
		now = r.stamp()
		h.rec.ended = now
		if err != nil {
			failure := err // escapes only on this path
			h.rec.err = &failure
			r.pos.Store(int64(2*i + 2))
			r.fail(err)
			if !r.stop {
				r.log(log, kind, i, true, err)
				return
			}
		}
		if observed {
			r.pos.Store(int64(2*i + 2))
			r.log(log, kind, i, true, err)
			if r.abandoned.Load() {
				return
			}
			r.a.emit(ctx, end, h.Name)
		}
	}
	r.pos.Store(int64(2 * len(r.hooks)))
}

// log logs a hook's start or end, if there is a logger.
func (r *hookRun) log(l *slog.Logger, kind string, i int, end bool, err error) {
	if l == nil {
		return
	}
	h := r.hooks[i]
	rec := &h.rec
	switch {
	case !end:
		l.Info("lu: "+kind+" started", "hook", h.name(), "priority", int(h.prio))
	case err != nil:
		l.Error("lu: "+kind+" failed", "hook", h.name(), "duration", time.Duration(rec.ended-rec.started), "error", err)
	default:
		l.Info("lu: "+kind+" done", "hook", h.name(), "duration", time.Duration(rec.ended-rec.started))
	}
}

func (r *hookRun) fail(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

// callHook runs one hook under a pprof label with its name, turning a
// panic into a *PanicError.
func callHook(ctx context.Context, h *hook, kind string) (err error) {
	if h.Name != "" {
		labelled := pprof.WithLabels(ctx, pprof.Labels("lu_hook", h.Name))
		pprof.SetGoroutineLabels(labelled)
		defer pprof.SetGoroutineLabels(ctx)
		ctx = labelled
	}
	if h.timeout > 0 {
		return callHookWithin(ctx, h, kind)
	}
	return callHookHere(ctx, h, kind)
}

func callHookHere(ctx context.Context, h *hook, kind string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Where: kind + " " + h.label(), Value: v, Stack: debug.Stack()}
		}
	}()
	if err := h.F(ctx); err != nil {
		return fmt.Errorf("lu: %s %s: %w", kind, h.label(), err)
	}
	return nil
}

// callHookWithin runs a hook that has its own timeout on a goroutine of
// its own, so that the runner can move on when it does not return in time.
func callHookWithin(ctx context.Context, h *hook, kind string) error {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	done := make(chan error, 1) // sized so an abandoned hook can still finish
	go func() { done <- callHookHere(ctx, h, kind) }()
	t := time.NewTimer(h.timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
	}
	select {
	case err := <-done:
		return err
	default:
	}
	return fmt.Errorf("lu: %s %s: %w", kind, h.label(), &TimeoutError{Hook: h.name(), Running: h.timeout, State: hookState(kind)})
}

func hookState(kind string) State {
	if kind == "stop hook" {
		return StateHookStop
	}
	return StateHookStart
}
