// Package lu runs a service's lifecycle: start-up hooks, long-running
// processes, signals and graceful shutdown.
//
// The lifecycle is an explicit state machine (see [State] and
// [Transitions]): every step is a named state, every call that the current
// state does not allow is refused with an error wrapping
// [ErrIllegalTransition], and the diagram in the repository is drawn from
// the machine itself.
package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// DefaultTimeout is the StartupTimeout and ShutdownTimeout of an App that
// sets none.
const DefaultTimeout = 15 * time.Second

var (
	errShutdownCalled = fmt.Errorf("lu: Shutdown called: %w", context.Canceled)
	errStartupDone    = errors.New("lu: start-up finished")
)

// App manages the lifecycle of a service, emitting an event for each stage.
// The zero value is ready to use. An App runs once: after it has
// terminated, Launch is refused.
//
// Lifecycle: [App.Launch] runs the start hooks and starts the processes;
// [App.WaitForShutdown] closes when the App begins to stop (Shutdown was
// called, a process failed, or Launch's context is done); [App.Shutdown]
// stops the processes, runs the stop hooks and returns every error.
type App struct {
	// StartupTimeout is the deadline for running the start hooks and
	// starting all the processes. Zero means [DefaultTimeout] (15 s).
	StartupTimeout time.Duration

	// ShutdownTimeout is the deadline for stopping all the processes and
	// running the stop hooks. Zero means [DefaultTimeout] (15 s).
	ShutdownTimeout time.Duration

	// OnEvent is called for every lifecycle event; see [EventType]. It is
	// never called while the App holds a lock, so it may call State,
	// RunningProcesses and GetProcesses. App events come from the goroutine
	// driving the lifecycle, ProcessEnd from the process's own goroutine, so
	// calls may overlap. It is read once, by Launch.
	OnEvent OnEvent

	// UseProcessFile makes Launch write the process id to ProcessFile while
	// the App runs. Launch fails while another live process holds the file;
	// a file left by a process that no longer exists is replaced. The file
	// is removed when the App terminates.
	UseProcessFile bool

	// ProcessFile is the path of the process file. Empty means
	// "/tmp/lu.pid".
	ProcessFile string

	// DrainDelay is the lame-duck pause between a stop being requested in
	// state Running and the processes being stopped: the App is Draining,
	// its readiness handler reports not-ready so that load balancers (and
	// Kubernetes, which removes endpoints asynchronously) stop sending
	// traffic, and everything keeps serving. Zero, the default, stops at
	// once. The shutdown deadline starts after the drain.
	DrainDelay time.Duration

	// Logger, if set, receives a record of every transition, hook and
	// process start and end, with durations. Without it the App logs
	// nothing; only Run reports, to slog.Default, why it exits.
	Logger *slog.Logger

	// OnShutdownErr is called by Run when Shutdown returns an error, with
	// the termination context. It may change the error, or report it; if it
	// returns nil, Run exits 0.
	OnShutdownErr func(ctx context.Context, err error) error

	mu    sync.Mutex   // guards everything below that is not atomic
	state atomic.Int32 // a State; written only by the machine, under mu
	fctx  fireContext

	hookSeq    int
	startHooks []hook
	stopHooks  []hook
	procs      procList // every process added, in order
	frozen     bool     // processes have been started; AddProcess is refused
	configErrs []error  // bad registrations, reported by Launch or Shutdown

	onEvent         OnEvent
	log             atomic.Pointer[slog.Logger]
	shutdownTimeout time.Duration
	drainDelay      time.Duration
	launchCtx       context.Context
	detached        context.Context         // launchCtx's values without its cancellation
	cancelStart     context.CancelCauseFunc // cancels the start hooks' context
	stopAfter       func() bool             // unregisters the Launch context watch
	processFile     string                  // the file written, or ""

	stopping     chan struct{} // closed by enterStopping
	started      chan struct{} // closed once Launch has emitted its events
	startedFlag  atomic.Bool   // set just before started is closed
	done         chan struct{} // closed after AppTerminated was emitted
	pendingCause error         // the cause of a stop being requested
	stopCause    error         // the cause of the stop, set by enterStopping
	stopEntered  bool          // enterStopping has run
	result       error         // what Shutdown returns; written before done closes

	procCtx     context.Context
	cancelProcs context.CancelCauseFunc
	// The errgroup's counter changes with every process start and end: keep
	// it off the cache lines of the fields every process goroutine reads.
	_     [64]byte
	eg    errgroup.Group
	_     [64]byte
	taken atomic.Int64 // processes taken by a goroutine; see runNext
	_     [56]byte
	// While the processes are being stopped, a stamp that the stop
	// advances every stopClockTick (see endStamp); otherwise zero.
	stopClock atomic.Int64
	_         [56]byte

	// The journal; see journal.go.
	epoch         time.Time
	entered       stamp // when the current state was entered
	transitions   []JournalTransition
	transBuf      [8]JournalTransition // room for a whole lifecycle, no allocation
	logged        int                  // transitions already logged
	startRun      *hookRun
	stopRun       *hookRun
	shutdownFuncs int // processes with a Shutdown func
	startsPassed  int // processes before this index passed their Start; Launch goroutine, before the stop
	procErrs      []error
}

// NoApp returns a nil *App. It can be used when calling a function that
// accepts a *App when there is no App in scope: f(lu.NoApp()) reads more
// clearly than f(nil). State, RunningProcesses, GetProcesses and
// WaitForShutdown accept a nil App.
func NoApp() *App { return nil }

// State returns the App's current lifecycle state. It is safe to call at
// any time, from any goroutine, an OnEvent callback included.
func (a *App) State() State {
	if a == nil {
		return StateIdle
	}
	return State(a.state.Load())
}

// AddProcess adds processes that Launch starts, each on its own goroutine,
// once the start hooks have succeeded. If a process fails, the App stops.
//
// Processes may be added until they are started, from a start hook
// included. A process with a nil Run func makes Launch fail; a process
// added too late is an error that Shutdown returns.
func (a *App) AddProcess(processes ...Process) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.frozen || a.State() > StateHookStart {
		for _, p := range processes {
			a.configErrs = append(a.configErrs, fmt.Errorf("lu: AddProcess in state %s: process %q will never run: %w",
				a.State(), p.Name, ErrIllegalTransition))
		}
		return
	}
	for _, p := range processes {
		a.procs.add(p)
	}
}

// GetProcesses returns a copy of the processes added to the App.
func (a *App) GetProcesses() []Process {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ps := make([]Process, 0, a.procs.len())
	for _, p := range a.procs.all {
		ps = append(ps, p.Process)
	}
	return ps
}

// RunningProcesses returns the names of the processes that have been
// started and have not returned, in the order they were added. After a
// shutdown that timed out it lists the processes that did not stop.
func (a *App) RunningProcesses() []string {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var names []string
	for _, p := range a.procs.all {
		if p.running() {
			names = append(names, p.Name)
		}
	}
	return names
}

// WaitForShutdown returns a channel that is closed when the App begins to
// stop: Shutdown was called, a process failed, or the context given to
// Launch is done. The App has not finished stopping when it closes: call
// Shutdown to wait for that and to collect the errors.
func (a *App) WaitForShutdown() <-chan struct{} {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopping == nil {
		a.stopping = make(chan struct{})
	}
	return a.stopping
}

// Launch runs the start hooks, then starts every process, and returns once
// they are all started; ctx is the context of the start hooks and, without
// its cancellation, of the processes. When ctx is done the App stops.
//
// Start-up is bounded by StartupTimeout. If a start hook fails or panics,
// the deadline passes, ctx is already done, or Shutdown is called before
// start-up completes, Launch starts no (further) process, stops those it
// started, runs the stop hooks so that what the start hooks acquired is
// released, and returns the start-up error joined with any error from that
// clean-up; the App is then Terminated.
//
// Launch on an App that is not Idle returns an error wrapping
// [ErrIllegalTransition]. A configuration error (a nil Run func, a negative
// timeout) is returned before anything runs, and leaves the App Idle.
func (a *App) Launch(ctx context.Context) error {
	if a == nil {
		return errors.New("lu: Launch on a nil App")
	}
	if ctx == nil {
		return errors.New("lu: Launch with a nil context")
	}
	a.mu.Lock()
	if a.State() != StateIdle {
		_, err := a.fireLocked(TriggerLaunch) // refused by the machine
		a.mu.Unlock()
		return err
	}
	if err := a.checkLocked(); err != nil {
		a.mu.Unlock()
		return err
	}
	if a.StartupTimeout == 0 {
		a.StartupTimeout = DefaultTimeout
	}
	if a.ShutdownTimeout == 0 {
		a.ShutdownTimeout = DefaultTimeout
	}
	a.shutdownTimeout = a.ShutdownTimeout
	a.drainDelay = a.DrainDelay
	if a.Logger != nil {
		a.log.Store(a.Logger)
	}
	a.epoch = time.Now()
	a.entered = a.now()
	a.transitions = a.transBuf[:0]
	a.onEvent = a.OnEvent
	a.launchCtx = ctx
	a.detached = context.WithoutCancel(ctx)
	if a.stopping == nil {
		a.stopping = make(chan struct{})
	}
	a.started = make(chan struct{})
	a.done = make(chan struct{})
	if _, err := a.fireLocked(TriggerLaunch); err != nil {
		a.mu.Unlock()
		return err
	}
	a.mu.Unlock()

	a.emitState(ctx, StateStartup)
	// The clock starts once the AppStartup callback returned: callbacks are
	// the user's own time, and a deadline they used up would fail a start-up
	// that never had its chance.
	startErr := a.start(ctx, time.Now().Add(a.StartupTimeout))

	a.mu.Lock()
	if startErr == nil {
		if moved, _ := a.fireLocked(TriggerStarted); moved {
			if ctx.Done() != nil {
				a.stopAfter = context.AfterFunc(ctx, a.contextDone)
			}
			a.mu.Unlock()
			a.emitState(ctx, StateRunning)
			a.markStarted()
			return nil
		}
		// Shutdown was called or a process failed during start-up.
		if !errors.Is(a.stopCause, errShutdownCalled) {
			startErr = errors.New("lu: start-up interrupted: a process failed")
		} else {
			startErr = fmt.Errorf("lu: start-up interrupted: %w", a.stopCause)
		}
	} else {
		a.pendingCause = startErr
		_, _ = a.fireLocked(TriggerStartFailed) // refused if already Terminating
	}
	a.mu.Unlock()
	a.markStarted()
	return errors.Join(startErr, a.stop())
}

// markStarted tells the process goroutines and the stop that Launch has
// emitted its last event.
func (a *App) markStarted() {
	a.startedFlag.Store(true)
	close(a.started)
}

// waitStarted waits until Launch has emitted its last event. The flag spares
// thousands of process goroutines the channel's lock.
func (a *App) waitStarted() {
	if !a.startedFlag.Load() {
		<-a.started
	}
}

// checkLocked reports configuration errors found before Launch.
func (a *App) checkLocked() error {
	errs := slices.Clone(a.configErrs)
	a.configErrs = nil
	if a.StartupTimeout < 0 {
		errs = append(errs, fmt.Errorf("lu: negative StartupTimeout %v", a.StartupTimeout))
	}
	if a.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("lu: negative ShutdownTimeout %v", a.ShutdownTimeout))
	}
	if a.DrainDelay < 0 {
		errs = append(errs, fmt.Errorf("lu: negative DrainDelay %v", a.DrainDelay))
	}
	errs = append(errs, a.checkProcesses()...)
	return errors.Join(errs...)
}

func (a *App) checkProcesses() []error {
	var errs []error
	for i, p := range a.procs.all {
		if p.Run == nil {
			errs = append(errs, fmt.Errorf("lu: process %q (number %d) has a nil Run func", p.Name, i))
		}
	}
	return errs
}

// start is the start-up: states Startup and HookStart. It returns nil when
// every process was started or when the App began stopping meanwhile.
func (a *App) start(ctx context.Context, deadline time.Time) error {
	if ctx.Err() != nil {
		return fmt.Errorf("lu: Launch context already done: %w", context.Cause(ctx))
	}
	if a.UseProcessFile {
		path := a.ProcessFile
		if path == "" {
			path = defaultProcessFile
		}
		if err := writeProcessFile(path); err != nil {
			return err
		}
		a.mu.Lock()
		a.processFile = path
		a.mu.Unlock()
	}

	a.mu.Lock()
	if moved, _ := a.fireLocked(TriggerRunHooks); !moved {
		a.mu.Unlock()
		return nil
	}
	hooks := sortedHooks(a.startHooks)
	var hctx context.Context
	var cancelStart context.CancelCauseFunc
	if len(hooks) > 0 {
		hctx, cancelStart = context.WithCancelCause(ctx)
		a.cancelStart = cancelStart // enterStopping cancels it
	}
	a.mu.Unlock()
	a.flushLog()

	if len(hooks) > 0 {
		errs, timeout := a.runHooks(hctx, hooks, false, deadline)
		cancelStart(errStartupDone)
		if timeout != nil {
			return timeout
		}
		if len(errs) > 0 {
			return errs[0]
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("lu: Launch context done during start-up: %w", context.Cause(ctx))
	}

	a.mu.Lock()
	if a.State() != StateHookStart {
		a.mu.Unlock()
		return nil
	}
	errs := append(a.configErrs, a.checkProcesses()...)
	a.configErrs = nil
	if len(errs) > 0 {
		a.mu.Unlock()
		return errors.Join(errs...)
	}
	a.frozen = true
	for _, p := range a.procs.all {
		if p.Shutdown != nil {
			a.shutdownFuncs++
		}
	}
	a.procCtx, a.cancelProcs = context.WithCancelCause(a.detached)
	a.mu.Unlock()

	for i, p := range a.procs.all {
		if p.Start != nil {
			if err := p.Start(ctx); err != nil {
				return fmt.Errorf("lu: Start of process %q: %w", p.Name, err)
			}
		}
		a.startsPassed = i + 1
	}

	a.startProcesses()
	if time.Now().After(deadline) {
		return &TimeoutError{State: StateHookStart, Running: time.Since(deadline.Add(-a.StartupTimeout))}
	}
	return nil
}

// Shutdown stops the App and returns once it has terminated:
//  1. every process's Shutdown func is called, all at once;
//  2. the processes' context is cancelled and the processes are awaited;
//  3. the stop hooks run in order, each even if an earlier one failed;
//  4. the process file is removed, and AppTerminated is emitted.
//
// ShutdownTimeout bounds the whole: the processes get half of it when there
// are stop hooks, so that a process that will not stop cannot starve them.
// When the deadline passes, Shutdown stops waiting and returns a
// *[TimeoutError] (wrapping context.DeadlineExceeded) that names the state
// and the processes or hook still running; RunningProcesses lists them.
//
// Shutdown returns every error, joined: from Shutdown funcs, from processes
// (the one that made the App stop included), from stop hooks. It may be
// called from many goroutines at once and again later: the App stops once
// and every call returns the same result. Called during start-up, it makes
// Launch fail and returns the clean-up's result. Called before Launch, it
// returns an error wrapping [ErrIllegalTransition].
//
// Shutdown must not be called from an OnEvent callback or a hook, which it
// would wait for; call it from another goroutine.
func (a *App) Shutdown() error {
	if a == nil {
		return &TransitionError{State: StateIdle, Trigger: TriggerShutdown}
	}
	a.mu.Lock()
	from := a.State()
	a.pendingCause = errShutdownCalled
	moved, err := a.fireLocked(TriggerShutdown)
	done := a.done
	a.mu.Unlock()
	if err != nil {
		return err
	}
	if moved && from == StateRunning {
		return a.stop()
	}
	<-done
	return a.result
}

// contextDone stops the App when the Launch context is done.
func (a *App) contextDone() {
	a.mu.Lock()
	a.pendingCause = fmt.Errorf("lu: Launch context done: %w", context.Cause(a.launchCtx))
	moved, _ := a.fireLocked(TriggerContextDone)
	a.mu.Unlock()
	if moved {
		a.stop()
	}
}

// processFailed stops the App when a process fails.
func (a *App) processFailed(err error) {
	a.mu.Lock()
	from := a.State()
	a.pendingCause = err
	moved, _ := a.fireLocked(TriggerProcessFailed)
	a.mu.Unlock()
	if moved && from == StateRunning {
		// The stop waits for this process's goroutine, so it cannot run
		// here. Shutdown joins it through a.done.
		go a.stop()
	}
}

// stop runs states Draining, Terminating and HookStop and ends Terminated.
// Exactly one goroutine runs it: the one that moved the App from Running to
// Draining, or the Launch goroutine if the stop began during start-up.
func (a *App) stop() error {
	a.waitStarted()
	a.mu.Lock()
	cause := a.stopCause
	stopAfter := a.stopAfter
	timeout := a.shutdownTimeout
	hasHooks := len(a.stopHooks) > 0
	draining := a.State() == StateDraining
	a.mu.Unlock()
	if stopAfter != nil {
		stopAfter()
	}
	a.flushLog()
	if draining {
		if a.drainDelay > 0 {
			t := time.NewTimer(a.drainDelay)
			<-t.C
		}
		_, _ = a.fire(TriggerDrained)
	}

	ctx := a.detached
	a.emitState(ctx, StateTerminating)
	// As for start-up, the clock starts after the AppTerminating callback.
	began := time.Now()
	deadline := began.Add(timeout)

	procDeadline := deadline
	if hasHooks {
		procDeadline = began.Add(timeout / 2)
	}
	errs := a.stopProcesses(ctx, cause, began, procDeadline)

	a.mu.Lock()
	_, _ = a.fireLocked(TriggerProcessesStopped)
	hooks := sortedHooks(a.stopHooks)
	a.mu.Unlock()
	a.flushLog()

	if len(hooks) > 0 {
		hookErrs, timeoutErr := a.runHooks(ctx, hooks, true, deadline)
		errs = append(errs, hookErrs...)
		if timeoutErr != nil {
			errs = append(errs, timeoutErr)
		}
	}

	a.mu.Lock()
	errs = append(errs, a.configErrs...)
	if a.processFile != "" {
		if err := removeProcessFile(a.processFile); err != nil {
			errs = append(errs, err)
		}
	}
	a.result = errors.Join(errs...)
	_, _ = a.fireLocked(TriggerHooksStopped)
	a.mu.Unlock()

	a.emitState(ctx, StateTerminated)
	close(a.done)
	return a.result
}

// stopProcesses is state Terminating: it calls the Shutdown funcs, cancels
// the processes' context and waits for them, until deadline.
func (a *App) stopProcesses(ctx context.Context, cause error, began, deadline time.Time) []error {
	if !a.frozen || a.procs.len() == 0 {
		return nil
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	expired := false

	var errs []error
	var stuck []bool // Shutdown funcs that did not return, by process
	n := 0
	if a.shutdownFuncs > 0 {
		for i, p := range a.procs.all {
			if a.needsShutdown(i, p) {
				n++
			}
		}
	}
	if n > 0 {
		pctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		results := make(chan shutdownResult, n) // sized to its senders
		stuck = make([]bool, a.procs.len())
		for i, p := range a.procs.all {
			if a.needsShutdown(i, p) {
				stuck[i] = true
				go func() { results <- shutdownResult{i, callShutdown(pctx, p)} }()
			}
		}
	wait:
		for ; n > 0; n-- {
			select {
			case r := <-results:
				stuck[r.i] = false
				if r.err != nil {
					errs = append(errs, r.err)
				}
			case <-timer.C:
				expired = true
				break wait
			}
		}
	}

	var tick <-chan time.Time
	if a.procs.len() >= stopClockMin {
		a.stopClock.Store(int64(a.now()))
		t := time.NewTicker(stopClockTick)
		defer t.Stop()
		tick = t.C
	}
	a.cancelProcs(cause)
	allReturned := false
	if !expired {
		returned := ErrGroupWait(&a.eg)
	await:
		for {
			select {
			case <-returned:
				allReturned = true
				break await
			case <-tick: // never without a stop clock
				a.stopClock.Store(int64(a.now()))
			case <-timer.C:
				break await
			}
		}
	}
	a.stopClock.Store(0)

	a.mu.Lock()
	errs = append(errs, a.procErrs...)
	a.procErrs = nil
	a.mu.Unlock()
	if allReturned && stuck == nil {
		return errs
	}

	var names []string
	for i, p := range a.procs.all {
		if (p.ended.Load() == 0 && p.state.CompareAndSwap(procRunning, procAbandoned)) || p.state.Load() == procEnding || (stuck != nil && stuck[i]) {
			names = append(names, p.Name)
		}
	}
	if len(names) > 0 {
		errs = append(errs, &TimeoutError{State: StateTerminating, Processes: names, Running: time.Since(began)})
	}
	return errs
}

// stopClockTick is how often the stop advances the clock that processes
// returning during the stop read (see endStamp): the end time journalled
// for such a process may be early by about that much. Reading the clock in
// each of thousands of processes that return at once would slow the stop
// by a tenth.
const stopClockTick = time.Millisecond

// stopClockMin is the number of processes from which the stop keeps a
// clock for them: with fewer, each reads the clock itself.
const stopClockMin = 64

// needsShutdown reports whether the stop calls p's Shutdown func: p was
// started, or its Start succeeded even if its Run never began.
func (a *App) needsShutdown(i int, p *procRun) bool {
	return p.Shutdown != nil && (p.state.Load() != procNotStarted || (p.Start != nil && i < a.startsPassed))
}

type shutdownResult struct {
	i   int
	err error
}

// Run launches the App, waits until it begins to stop, shuts it down and
// returns an exit code: 0 after a clean shutdown, 1 after a failed launch
// or shutdown. SIGINT and SIGTERM stop the App; SIGQUIT stops it too, but
// then Run waits for SIGINT or SIGTERM before returning, as a Kubernetes
// preStop hook expects (see [AppContext]). A second SIGINT or SIGTERM while
// the App stops logs the hooks and processes that have not finished and
// exits the binary at once with code 2. Run reports errors to the App's
// Logger, or to slog.Default.
func (a *App) Run() int {
	ac := NewAppContext(context.Background())
	defer ac.Stop()
	log := a.Logger
	if log == nil {
		log = slog.Default()
	}

	finished := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() {
		select {
		case <-ac.Forced():
			a.reportUnfinished(log)
			exit(2)
		case <-finished:
		}
	})
	defer watcher.Wait()
	defer close(finished)

	if err := a.Launch(ac.AppContext); err != nil {
		log.Error("lu: launch failed", "error", err)
		return 1
	}
	<-a.WaitForShutdown()
	code := 0
	if err := a.Shutdown(); err != nil {
		if a.OnShutdownErr != nil {
			err = a.OnShutdownErr(ac.TerminationContext, err)
		}
		if err != nil {
			log.Error("lu: shutdown failed", "error", err)
			code = 1
		}
	}
	if ac.AppContext.Err() != nil {
		// Stopped by a signal: wait for the one that ends the binary.
		<-ac.TerminationContext.Done()
	}
	return code
}

// exit ends the binary; a variable so that tests can see it called.
var exit = os.Exit

// reportUnfinished logs what a forced exit leaves unfinished.
func (a *App) reportUnfinished(log *slog.Logger) {
	j := a.Journal()
	var hooks, procs []string
	for _, list := range [][]JournalEntry{j.StartHooks, j.StopHooks} {
		for _, e := range list {
			if e.Running {
				hooks = append(hooks, fmt.Sprintf("%s (running for %v)", e.Name, e.Duration.Round(time.Millisecond)))
			} else if e.Started.IsZero() {
				hooks = append(hooks, e.Name+" (not started)")
			}
		}
	}
	for _, e := range j.Processes {
		if e.Running {
			procs = append(procs, fmt.Sprintf("%s (running for %v)", e.Name, e.Duration.Round(time.Millisecond)))
		}
	}
	a.mu.Lock()
	for i := range a.stopHooks { // stop hooks that have not even been scheduled
		if a.stopRun == nil {
			hooks = append(hooks, a.stopHooks[i].name()+" (not started)")
		}
	}
	a.mu.Unlock()
	log.Error("lu: second signal: exiting before the shutdown finished",
		"state", a.State().String(), "unfinished_hooks", hooks, "unfinished_processes", procs)
}
