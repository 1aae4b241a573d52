package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/pprof"
	"sync/atomic"
	"time"
)

// ProcessFunc is the body of a process or hook. See [Process.Run].
type ProcessFunc func(ctx context.Context) error

// Process is a long-running part of the application which, if it fails,
// brings the application down with it.
//
// The contract: Run blocks until its context ends (or its work is done)
// and then returns; it starts no goroutine that it does not wait for.
type Process struct {
	// Name is used in events, errors, logs and pprof labels.
	Name string
	// Run does the process's work, on a goroutine of its own. Its context is
	// cancelled when the App stops, with a cause (see context.Cause) that
	// says why; Run should then return as soon as possible. Returning nil
	// ends the process quietly and the App keeps running; returning an
	// error, panicking or calling runtime.Goexit stops the App, and
	// Shutdown returns the failure. Returning context.Canceled or the
	// context's cause once the App stops is not a failure.
	//
	// Run may be nil for a process that only needs a synchronous stop: it
	// gets no goroutine, and its Shutdown func is called when the App stops.
	Run ProcessFunc
	// Start, if set, is called during start-up, after the start hooks and
	// before any process's Run, with the start-up context (bounded by
	// StartupTimeout): bind a listener, dial a dependency. An error fails
	// Launch. A process whose Start succeeded has its Shutdown func called
	// when the App stops, even if its Run never started.
	Start func(ctx context.Context) error
	// Shutdown, if set, is called when the App stops, before Run's context
	// is cancelled, for processes that must be stopped in a particular way
	// (an HTTP server's graceful Shutdown, say). All Shutdown funcs run at
	// the same time. An error is returned by [App.Shutdown].
	Shutdown func(ctx context.Context) error
}

// The life of one process's Run. Its goroutine moves it from procRunning
// to procReturned to procEnded; the stop, at its deadline, moves it from
// procRunning to procAbandoned, or from procReturned to procAwaited, each
// with a compare-and-swap, so that exactly one of the two decides.
const (
	procIdle      int32 = iota // not started
	procRunning                // Run has been called and has not returned
	procReturned               // Run returned; its end is being logged and emitted
	procEnded                  // Run returned and its end was delivered
	procAbandoned              // still running when the stop gave up on it
	procAwaited                // returned, and the stop waits on run.awaited for its end's delivery
)

// proc is the run's record of one process.
type proc struct {
	*Process              // as registered, read-only: the App's list is closed once taken
	started  stamp        // written by the launcher before state becomes procRunning
	ended    atomic.Int64 // a stamp, stored once Run has returned
	err      error        // the failure, written before ended is stored
	state    atomic.Int32 // a proc* constant
	// due is set when the process's Shutdown func must be called in the
	// stop: its Start succeeded, or the launcher reached it. Owned by the
	// Launch goroutine until start-up ends, then read-only.
	due bool
}

// running reports whether p's Run has been called and the App has not seen
// it end: it has not returned, or its ProcessEnd event is being delivered.
func (p *proc) running() bool {
	switch p.state.Load() {
	case procRunning, procReturned, procAwaited:
		return true
	case procAbandoned:
		return p.ended.Load() == 0
	}
	return false
}

func (p *proc) journal(j *journal) JournalEntry {
	ended := stamp(p.ended.Load())
	var err error
	if ended != 0 {
		err = p.err
	}
	e := j.entry(p.Name, p.started, ended, err)
	e.Abandoned = p.state.Load() == procAbandoned
	return e
}

// runningProcesses returns the names of the processes running, in order.
func (r *run) runningProcesses() []string {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for i := range r.procs {
		if p := &r.procs[i]; p.running() {
			names = append(names, p.Name)
		}
	}
	return names
}

// launchProcesses starts every process under the run's errgroup, in
// order, unless a stop is requested meanwhile. It runs on the Launch
// goroutine, as the App enters Running. A ProcessStart callback that fails
// stops the App, but its process has been announced and is started.
func (r *run) launchProcesses() {
	for i := range r.procs {
		p := &r.procs[i]
		if r.stopRequested() {
			return
		}
		p.due = true
		if p.Run == nil {
			continue // a process with only a Shutdown func
		}
		p.started = r.journal.now()
		p.state.Store(procRunning)
		if r.cfg.callbacks() {
			r.announce(p)
		}
		r.eg.Go(func() error { return r.runProcess(p) })
	}
}

// announce logs and emits that p starts. If a callback calls
// runtime.Goexit meanwhile, endStart starts p.
func (r *run) announce(p *proc) {
	r.starting = p
	if err := r.emit(r.procCtx, ProcessStart, p.Name); err != nil {
		r.failCallback(err)
	}
	if r.cfg.log != nil { // after the event: a handler's Goexit must not lose it
		r.log(slog.LevelInfo, "lu: process started", "process", p.Name)
	}
	r.starting = nil
}

// runProcess is the body of a process's goroutine: it calls Run, then
// reports how the process ended. Failures reach the App through
// endProcess, never through the errgroup.
func (r *run) runProcess(p *proc) error {
	ctx := r.procCtx
	if p.Name != "" {
		ctx = pprof.WithLabels(ctx, pprof.Labels("lu_process", p.Name))
		pprof.SetGoroutineLabels(ctx)
	}
	returned := false
	defer func() {
		if !returned { // a panic, or runtime.Goexit
			v := recover()
			if v == nil {
				v = ErrGoexit
			}
			r.endProcess(ctx, p, newPanicError(fmt.Sprintf("process %q", p.Name), v))
		}
	}()
	err := p.Run(ctx)
	returned = true
	r.endProcess(ctx, p, err)
	return nil
}

// endProcess records that p's Run returned err, delivers its end and, if
// it failed, stops the App. A process the stop has given up on reports
// nothing more: the App may have terminated. Its state moves with a
// compare-and-swap, which decides against the stop's.
func (r *run) endProcess(ctx context.Context, p *proc, err error) {
	p.err = r.processFailure(ctx, p, err) // read once ended is stored, or once the state is procEnded
	p.ended.Store(int64(r.journal.now()))
	if !r.cfg.callbacks() { // nothing to deliver: the return is the end
		if p.state.CompareAndSwap(procRunning, procEnded) && p.err != nil {
			r.processFailed(p)
		}
		return
	}
	if !p.state.CompareAndSwap(procRunning, procReturned) {
		return // abandoned
	}
	// What follows calls the user's callbacks, which may call
	// runtime.Goexit: the bookkeeping is deferred so that it happens anyway,
	// and ProcessEnd, an event, is emitted before the log. Both wait for
	// Launch to finish: ProcessEnd never precedes AppRunning, and a
	// process's callbacks are not the start-up's.
	defer r.processEnded(p)
	<-r.startEnded
	if r.cfg.onEvent != nil {
		if err := r.emit(ctx, ProcessEnd, p.Name); err != nil {
			r.failCallback(err)
		}
	}
	if r.cfg.log != nil {
		r.logProcessEnd(p)
	}
}

// processEnded finishes the end of a process whose end was delivered: it
// tells the stop if it waits for this end, and stops the App if the
// process failed.
func (r *run) processEnded(p *proc) {
	if !p.state.CompareAndSwap(procReturned, procEnded) {
		// procAwaited: the stop's deadline passed while the end was being
		// delivered.
		p.state.Store(procEnded)
		r.awaited <- struct{}{}
	}
	if p.err != nil {
		r.processFailed(p)
	}
}

// processFailed stops the App for p's failure, once Launch has finished.
func (r *run) processFailed(p *proc) {
	<-r.startEnded
	r.requestStop(TriggerProcessFailed, stopRequest{cause: p.err})
}

func (r *run) logProcessEnd(p *proc) {
	d := time.Duration(stamp(p.ended.Load()) - p.started)
	if p.err != nil {
		r.log(slog.LevelError, "lu: process failed", "process", p.Name, "duration", d, "error", p.err)
	} else {
		r.log(slog.LevelInfo, "lu: process ended", "process", p.Name, "duration", d)
	}
}

// processFailure returns nil if err only says that the process was stopped
// as asked, or else the failure, naming the process. Telling the two apart
// calls err's own methods (errors.Is), which may panic or call
// runtime.Goexit: that is a failure too, and a Goexit ends the process's
// end here, as its goroutine ends.
func (r *run) processFailure(ctx context.Context, p *proc, err error) (failure error) {
	if err == nil {
		return nil
	}
	if _, panicked := err.(*PanicError); panicked {
		return err
	}
	returned := false
	defer func() {
		if !returned {
			v := recover()
			if v == nil {
				r.endProcess(ctx, p, newPanicError(fmt.Sprintf("the error of process %q", p.Name), ErrGoexit))
				return
			}
			failure = newPanicError(fmt.Sprintf("the error of process %q", p.Name), v)
		}
	}()
	failure = r.classify(p, err)
	returned = true
	return failure
}

// classify is processFailure's own work, which calls err's methods.
func (r *run) classify(p *proc, err error) error {
	if r.procCtx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.Cause(r.procCtx))) {
		return nil // stopped, as asked
	}
	return fmt.Errorf("lu: process %q: %w", p.Name, err)
}

// Processable is a func that [WrapProcessFunc] can turn into a ProcessFunc.
type Processable interface {
	func() | func(ctx context.Context) | func() error
}

// WrapProcessFunc returns a ProcessFunc that calls p, for funcs that take no
// context or return no error.
func WrapProcessFunc[P Processable](p P) ProcessFunc {
	switch f := any(p).(type) {
	case func():
		return func(context.Context) error { f(); return nil }
	case func(context.Context):
		return func(ctx context.Context) error { f(ctx); return nil }
	case func() error:
		return func(context.Context) error { return f() }
	}
	panic("lu: WrapProcessFunc: unreachable") // the type set has three members
}
