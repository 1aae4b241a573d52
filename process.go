package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
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
	// Run does the process's work. Its context is cancelled when the App
	// stops, with a cause (see context.Cause) that says why; Run should then
	// return as soon as possible. Returning nil ends the process quietly and
	// the App keeps running; returning an error, or panicking, stops the App
	// and the error is returned by Shutdown. An error wrapping
	// context.Canceled after the App began stopping is not a failure.
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

// The life of one process, as seen by RunningProcesses and by the stop.
const (
	procNotStarted int32 = iota
	procRunning          // started; returned once ended is set
	procEnding           // returned; its ProcessEnd event is being delivered
	procEnded            // returned, ProcessEnd delivered
	procAbandoned        // still running after the shutdown deadline, until ended is set
)

// procRun is the App's record of one process, from AddProcess on.
//
// It is 64 bytes, a cache line: records sit side by side in a chunk, and
// the goroutines of neighbouring processes should not share lines more than
// they must.
type procRun struct {
	Process
	state   atomic.Int32
	started stamp        // set before the goroutine starts
	ended   atomic.Int64 // a stamp, set when Run returned
	err     *error       // the failure, if any; set before ended
}

// running reports whether p was started and has not returned, or has
// returned and its ProcessEnd event is still being delivered.
func (p *procRun) running() bool {
	switch p.state.Load() {
	case procEnding:
		return true
	case procRunning, procAbandoned:
		return p.ended.Load() == 0
	}
	return false
}

// journal returns the process's journal entry.
func (p *procRun) journal(a *App) JournalEntry {
	ended := stamp(p.ended.Load())
	var err error
	if ended != 0 && p.err != nil {
		err = *p.err
	}
	return a.entry(p.Name, p.started, ended, err)
}

// startProcesses starts every process under the App's errgroup. It stops
// early if the App began stopping meanwhile. It runs on the Launch
// goroutine, in state HookStart.
//
// Every goroutine runs the same func, made by runNext, which takes the
// next process in order: one func value for all the processes rather than
// a closure for each.
func (a *App) startProcesses() {
	run := a.runNext()
	var now stamp
	for i, p := range a.procs.all {
		if State(a.state.Load()) != StateHookStart {
			return
		}
		if i%startStampEvery == 0 {
			now = a.now()
		}
		p.started = now
		p.state.Store(procRunning)
		if l := a.logger(); l != nil {
			l.Info("lu: process started", "process", p.Name)
		}
		a.emit(a.procCtx, ProcessStart, p.Name)
		a.eg.Go(run)
	}
}

// startStampEvery is how often startProcesses reads the clock: a start
// time may be early by the time it takes to start that many processes, a
// few microseconds, and starting thousands does not wait for thousands of
// clock readings.
const startStampEvery = 32

// endStamp is the time at which a process returned. While the processes
// are being stopped, when thousands may return at once, it is the stop's
// clock, which stopProcesses advances every stopClockTick; otherwise the
// clock itself.
func (a *App) endStamp() stamp {
	if s := a.stopClock.Load(); s != 0 {
		return stamp(s)
	}
	return a.now()
}

// runNext returns the func that runs, on the goroutine started for it, the
// next process not yet taken. Its stack is kept shallow and its frame small
// (the rare work is in other funcs): when thousands of processes wake up at
// once to return, every frame between a process's Run and the goroutine's
// end is memory that is no longer in any cache. It is a closure rather than
// a method value, whose wrapper would be one more frame.
func (a *App) runNext() func() error {
	return func() (err error) {
		p := a.procs.at(int(a.taken.Add(1) - 1))
		ctx := a.procCtx
		if p.Name != "" {
			ctx = labelGoroutine(ctx, p.Name)
		}
		defer func() {
			if v := recover(); v != nil {
				err = &PanicError{Where: "process " + quoteList([]string{p.Name}), Value: v, Stack: debug.Stack()}
			}
			a.endProcess(ctx, p, err)
			err = nil // failures stop the App through a.processFailed, not the errgroup
		}()
		return p.Run(ctx)
	}
}

// labelGoroutine labels the goroutine with the process's name for pprof.
func labelGoroutine(ctx context.Context, name string) context.Context {
	ctx = pprof.WithLabels(ctx, pprof.Labels("lu_process", name))
	pprof.SetGoroutineLabels(ctx)
	return ctx
}

// endProcess records that p's Run returned err (a *PanicError if it
// panicked) and stops the App if that is a failure.
func (a *App) endProcess(ctx context.Context, p *procRun, err error) {
	if err != nil {
		err = a.processError(p, err)
	}
	ended := a.endStamp()
	events := a.onEvent != nil
	// With events, p is running until its ProcessEnd event has been
	// delivered, unless the stop gave up on it; without, one store ends it.
	ending := events && p.state.CompareAndSwap(procRunning, procEnding)
	p.ended.Store(int64(ended))
	if l := a.logger(); l != nil {
		logProcessEnd(l, p, ended, err)
	}
	if events {
		if ending {
			a.waitStarted() // ProcessEnd never precedes AppRunning
			a.emit(ctx, ProcessEnd, p.Name)
		}
		p.state.Store(procEnded)
	}
	if err != nil {
		// A failure takes effect once Launch has finished: Launch itself
		// succeeds, and the App then stops.
		a.waitStarted()
		a.processFailed(err)
	}
}

// processError returns nil if err only says that the process was stopped
// as asked, or else the failure, wrapped and recorded.
func (a *App) processError(p *procRun, err error) error {
	if a.procCtx.Err() != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.Cause(a.procCtx)) {
			return nil // stopped, as asked
		}
	}
	if _, panicked := err.(*PanicError); !panicked {
		err = fmt.Errorf("lu: process %q: %w", p.Name, err)
	}
	a.mu.Lock()
	a.procErrs = append(a.procErrs, err)
	a.mu.Unlock()
	p.err = &err
	return err
}

func logProcessEnd(l *slog.Logger, p *procRun, ended stamp, err error) {
	if err != nil {
		l.Error("lu: process failed", "process", p.Name, "duration", time.Duration(ended-p.started), "error", err)
	} else {
		l.Info("lu: process ended", "process", p.Name, "duration", time.Duration(ended-p.started))
	}
}

// callShutdown runs p.Shutdown, turning a panic into a *PanicError.
func callShutdown(ctx context.Context, p *procRun) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Where: "Shutdown of process " + quoteList([]string{p.Name}), Value: v, Stack: debug.Stack()}
		}
	}()
	if err := p.Shutdown(ctx); err != nil {
		return fmt.Errorf("lu: Shutdown of process %q: %w", p.Name, err)
	}
	return nil
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
