package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

var errStartupDone = errors.New("lu: start-up finished")

// run is one launch of an App. Launch builds it; each stretch of the
// lifecycle has one owner goroutine (the Launch goroutine for the
// start-up, the stop goroutine for the stop), and each field says who may
// write it.
type run struct {
	app *App // registrations made while the App runs go through app.mu

	// Read-only after Launch.
	cfg         config
	launchCtx   context.Context
	startCtx    context.Context         // the start-up's: launchCtx, cancelled when the stop begins
	cancelStart context.CancelCauseFunc // called by enterStopping, and when start-up ends
	procCtx     context.Context         // the processes': launchCtx's values, cancelled by the stop
	cancelProcs context.CancelCauseFunc
	stopping    chan struct{} // WaitForShutdown's channel, closed by enterStopping
	startEnded  chan struct{} // closed by the Launch goroutine after its last event
	done        chan struct{} // closed by the stop goroutine after AppTerminated

	// Guarded by mu, which is held only around a Fire and the journal's
	// updates, never while user code runs.
	mu           sync.Mutex
	fctx         fireContext
	journal      journal
	procs        []proc  // set once, when the processes start; each record guards itself
	callbackErrs []error // callbacks' failures, for Shutdown to return
	bugs         []error // internal triggers the machine refused
	leftRunning  bool    // a hook, process or Shutdown func was given up on at its deadline

	// Written only by the machine, under mu.
	state atomic.Int32 // a State

	// Written by enterStopping, under mu, before stopping closes.
	stopReq     stopRequest
	stopAt      time.Time
	stopFrom    State   // the state the stop began in
	stopTrigger Trigger // the trigger that began it

	eg   errgroup.Group // the process goroutines
	work sync.WaitGroup // the goroutines that call hooks, Start and Shutdown funcs

	// awaited receives the end of each process the stop waits for after its
	// deadline; the stop makes it before marking any process procAwaited.
	awaited chan struct{}

	// Owned by the Launch goroutine until startEnded closes; read-only after.
	hooksBegan  bool          // the start hooks' stretch began: stop hooks may run
	startErr    error         // the start-up's failure, before any stop request
	lateErrs    []error       // failures of a start-up the stop interrupted
	pidFile     *processFile  // the process file held, if any
	unwatch     func() bool   // unregisters the Launch context's watch
	starting    *proc         // the process whose ProcessStart is being emitted
	running     bool          // Started was fired: the processes start
	sentRunning bool          // AppRunning was emitted (or is being)
	hookWait    time.Duration // how long the start-up waited for hooks after a stop was requested
	startCbTime time.Duration // how long the start-up's hook callbacks took, not counted by StartupTimeout

	// Owned by the stop goroutine; see stop.go. result and beyondCause are
	// read by others once done is closed.
	st         stopProgress
	result     error
	resultErrs []error // what result joins, for Run's log
}

// config is what Launch reads of the App's exported fields.
type config struct {
	startupTimeout, shutdownTimeout, drainDelay time.Duration
	onEvent                                     OnEvent
	log                                         *slog.Logger
	observers                                   []func(JournalTransition)
	processFile                                 string // "" without UseProcessFile
}

// Launch runs the start hooks, then the processes' Start funcs, then
// starts every process, and returns once they are all started. ctx is the
// context of the start-up and, without its cancellation, of the processes;
// when ctx is done the App stops (see [App.Shutdown] for what it returns).
//
// Start-up is bounded by StartupTimeout, which starts once the AppStartup
// callback has returned. If the process file is refused, a start hook or a
// Start func fails, panics or runs out of time, an OnEvent callback panics,
// or a stop is requested (Shutdown, Stop, ctx) before start-up completes,
// Launch starts no further process, stops those it started, runs the stop
// hooks if the start hooks had begun (and each paired stop hook only if
// its start half succeeded), and returns the start-up's failure joined
// with every error of that clean-up; the App is then Terminated.
//
// Launch on an App that is not Idle returns an error wrapping
// [ErrIllegalTransition]. A configuration error (a nil hook func, a
// process with neither Run nor Shutdown, a negative timeout) is returned
// before anything runs, and leaves the App Idle.
func (a *App) Launch(ctx context.Context) error {
	if a == nil {
		return errors.New("lu: Launch on a nil App")
	}
	if ctx == nil {
		return errors.New("lu: Launch with a nil context")
	}
	// The contexts are made before the App's lock is taken: deriving from
	// ctx may call its code (its AfterFunc method, say).
	c := runContexts{launch: ctx}
	c.start, c.cancelStart = context.WithCancelCause(ctx)
	c.procs, c.cancelProcs = context.WithCancelCause(context.WithoutCancel(ctx))
	r, err := a.newRun(c)
	if err != nil {
		c.cancelStart(err)
		c.cancelProcs(err)
		return err
	}
	return r.launch()
}

// runContexts are the contexts of a run: the Launch context and those
// derived from it.
type runContexts struct {
	launch, start, procs     context.Context
	cancelStart, cancelProcs context.CancelCauseFunc
}

// newRun checks the configuration, builds the run and fires Launch.
func (a *App) newRun(c runContexts) (*run, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.run != nil {
		return nil, a.run.refuse(TriggerLaunch)
	}
	if err := a.checkLocked(); err != nil {
		return nil, err
	}
	r := &run{
		app:        a,
		cfg:        a.configLocked(),
		launchCtx:  c.launch,
		startCtx:   c.start,
		procCtx:    c.procs,
		stopping:   a.stoppingLocked(),
		startEnded: make(chan struct{}),
		done:       make(chan struct{}),
	}
	r.fctx = fireContext{Context: context.Background(), r: r}
	r.journal.epoch = time.Now()
	r.journal.entered = r.journal.now()
	r.journal.transitions = make([]JournalTransition, 0, 8) // room for a whole lifecycle
	r.cancelStart, r.cancelProcs = c.cancelStart, c.cancelProcs
	r.mu.Lock()
	_, _, err := r.fireLocked(TriggerLaunch)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	a.run = r
	return r, nil
}

// checkLocked reports configuration errors found before Launch.
func (a *App) checkLocked() error {
	var errs []error
	if a.StartupTimeout < 0 {
		errs = append(errs, fmt.Errorf("lu: negative StartupTimeout %v", a.StartupTimeout))
	}
	if a.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("lu: negative ShutdownTimeout %v", a.ShutdownTimeout))
	}
	if a.DrainDelay < 0 {
		errs = append(errs, fmt.Errorf("lu: negative DrainDelay %v", a.DrainDelay))
	}
	// A refused Launch leaves the registrations, and their errors, as they
	// are: launching again fails the same way.
	if err := a.regErrsLocked(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// callbacks reports whether user code runs on the lifecycle's own
// goroutines: OnEvent, the Logger's handler, OnTransition funcs.
func (c *config) callbacks() bool {
	return c.onEvent != nil || c.log != nil || len(c.observers) > 0
}

// configLocked applies the defaults and returns what the run reads.
func (a *App) configLocked() config {
	if a.StartupTimeout == 0 {
		a.StartupTimeout = DefaultTimeout
	}
	if a.ShutdownTimeout == 0 {
		a.ShutdownTimeout = DefaultTimeout
	}
	c := config{startupTimeout: a.StartupTimeout, shutdownTimeout: a.ShutdownTimeout, drainDelay: a.DrainDelay,
		onEvent: a.OnEvent, log: a.Logger, observers: a.reg.observers}
	if a.UseProcessFile {
		c.processFile = a.ProcessFile
		if c.processFile == "" {
			c.processFile = defaultProcessFile
		}
	}
	return c
}

// refuse fires a trigger the state does not allow and returns the
// machine's refusal.
func (r *run) refuse(t Trigger) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _, err := r.fireLocked(t)
	return err
}

// launch is the start-up stretch, on the Launch goroutine.
func (r *run) launch() error {
	defer r.endStart()
	if r.launchCtx.Done() != nil {
		r.unwatch = context.AfterFunc(r.launchCtx, r.contextDone)
	}
	failure := r.startUp()
	if failure != nil && !r.stopRequested() && r.launchCtx.Err() != nil {
		r.contextDone() // the end of ctx, which the start-up saw first, is what stops it
	}
	switch {
	case failure != nil && r.stopRequested():
		// A stop interrupted the start-up: what failed because of it is the
		// stop's to report.
		if !r.echoesStop(failure) {
			r.lateErrs = append(r.lateErrs, failure)
		}
	case failure != nil:
		r.startErr = failure
		r.requestStop(TriggerStartFailed, stopRequest{cause: failure})
	}
	if r.running && r.startProcesses() {
		return nil
	}
	r.endStart() // the stop waits for it; endStart is idempotent
	return r.launchError()
}

// startProcesses is the start of state Running: it starts the processes,
// emits AppRunning and delivers the transitions. It reports whether Launch
// succeeds: not if a callback failed meanwhile. A stop requested meanwhile
// (a process that did its job and called Stop) stops the App as from
// Running: Launch has succeeded.
func (r *run) startProcesses() bool {
	failures := r.callbackFailures()
	r.launchProcesses()
	r.sentRunning = true
	if err := r.emit(r.launchCtx, AppRunning, ""); err != nil {
		r.failCallback(err)
	}
	r.deliver() // after the event: an OnTransition func that calls Goexit must not lose it
	return r.callbackFailures() == failures
}

// echoesStop reports whether a start-up failure only echoes the stop that
// interrupted it. A step that did not return in time does not: the stop
// names it.
func (r *run) echoesStop(err error) bool {
	var te *TimeoutError
	if errors.As(err, &te) {
		return false
	}
	return safeIs(err, context.Canceled) || safeIs(err, context.Cause(r.startCtx))
}

// startUp is states Startup and HookStart. It returns the first failure,
// or nil when it fired Started (r.running is then set) or a stop was
// requested meanwhile.
func (r *run) startUp() error {
	if err := r.emit(r.launchCtx, AppStartup, ""); err != nil {
		return err
	}
	r.deliver()
	// The clock starts once the AppStartup callback returned: callbacks are
	// the user's own time.
	began := time.Now()
	deadline := began.Add(r.cfg.startupTimeout)
	if r.launchCtx.Err() != nil {
		return wrap("lu: Launch context already done", context.Cause(r.launchCtx))
	}
	if r.cfg.processFile != "" {
		pf, err := acquireProcessFile(r.cfg.processFile)
		if err != nil {
			return err
		}
		r.pidFile = pf
	}
	if !r.advance(TriggerRunHooks, StateHookStart) {
		return nil
	}
	r.hooksBegan = true
	r.deliver()
	if err := r.runStartHooks(deadline); err != nil {
		return err
	}
	if err := r.takeProcesses(); err != nil {
		return err
	}
	if err := r.runStartFuncs(deadline); err != nil {
		return err
	}
	if now := time.Now(); now.After(deadline.Add(r.startCbTime)) {
		return &TimeoutError{State: StateHookStart, Running: now.Sub(began) - r.startCbTime}
	}
	r.running = r.advance(TriggerStarted, StateRunning)
	return nil
}

// advance fires an internal trigger of the start-up and reports whether
// it moved the App into state want (it did not if a stop came first).
func (r *run) advance(t Trigger, want State) bool {
	r.mu.Lock()
	_, to, err := r.fireLocked(t)
	r.mu.Unlock()
	if err != nil {
		r.bug(fmt.Errorf("lu: internal trigger refused: %w", err))
	}
	return to == want
}

// runStartHooks runs the start hooks, which it takes from the App.
func (r *run) runStartHooks(deadline time.Time) error {
	hooks := r.app.takeHooks(false)
	recs := make([]hookRecord, len(hooks))
	for i, h := range hooks {
		recs[i].h = h
	}
	r.mu.Lock()
	r.journal.start = recs
	r.mu.Unlock()
	return r.runStarts(r.startCtx, phaseStart, recs, deadline)
}

// takeProcesses takes the processes from the App.
func (r *run) takeProcesses() error {
	ps, err := r.app.takeProcesses()
	if err != nil {
		return err
	}
	procs := make([]proc, len(ps))
	for i := range ps {
		procs[i].Process = &ps[i]
	}
	r.mu.Lock()
	r.procs = procs
	r.mu.Unlock()
	return nil
}

// runStartFuncs calls the processes' Start funcs, in order, as it would
// start hooks, without events.
func (r *run) runStartFuncs(deadline time.Time) error {
	var recs []hookRecord
	var of []*proc
	for i := range r.procs {
		if p := &r.procs[i]; p.Start != nil {
			recs = append(recs, hookRecord{h: &hook{Name: p.Name, start: p.Start}})
			of = append(of, p)
		}
	}
	r.mu.Lock()
	r.journal.starts = recs
	r.mu.Unlock()
	err := r.runStarts(r.startCtx, phaseProcessStart, recs, deadline)
	r.mu.Lock() // an abandoned Start func's runner may still record its end
	for i := range recs {
		of[i].due = recs[i].succeeded()
	}
	r.mu.Unlock()
	return err
}

// endStart ends the start-up stretch: the stop, and processes waiting to
// report their end, may go on. It runs as Launch returns, or as its
// goroutine ends because a callback called runtime.Goexit (the callback's
// failure then requested the stop).
func (r *run) endStart() {
	select {
	case <-r.startEnded:
		return
	default:
	}
	defer close(r.startEnded) // even if a callback below calls runtime.Goexit
	defer r.cancelStart(errStartupDone)
	r.app.closeStart()
	if p := r.starting; p != nil { // its ProcessStart callback called runtime.Goexit
		r.starting = nil
		r.eg.Go(func() error { return r.runProcess(p) })
	}
	if r.running && !r.sentRunning {
		r.sentRunning = true
		_ = r.emit(r.launchCtx, AppRunning, "") // a failure was recorded by the callback that ended Launch
	}
}

// launchError waits for the stop of a start-up that did not succeed, and
// returns what Launch returns.
func (r *run) launchError() error {
	<-r.done
	if r.startErr != nil {
		return r.result // the start-up's failure first, then the clean-up's
	}
	cause := r.stopReq.cause
	if r.result != nil && safeIs(r.result, cause) {
		return fmt.Errorf("lu: start-up interrupted: %w", r.result)
	}
	return errors.Join(fmt.Errorf("lu: start-up interrupted: %w", cause), r.result)
}

// stopRequested reports whether the App has begun to stop.
func (r *run) stopRequested() bool {
	select {
	case <-r.stopping:
		return true
	default:
		return false
	}
}

// State returns the run's state.
func (r *run) State() State { return State(r.state.Load()) }

// contextDone stops the App when the Launch context is done. A context
// that ended by its deadline is a failure that Shutdown returns; one that
// was cancelled (as by a signal) is a stop as asked.
func (r *run) contextDone() {
	cause := context.Cause(r.launchCtx)
	req := stopRequest{cause: wrap("lu: Launch context done", cause)}
	if r.launchCtx.Err() == context.DeadlineExceeded {
		req.report = true
		if !safeIs(cause, context.DeadlineExceeded) {
			req.cause = wrap("lu: Launch context done: "+context.DeadlineExceeded.Error(), errors.Join(context.DeadlineExceeded, cause))
		}
	}
	r.requestStop(TriggerContextDone, req)
}
