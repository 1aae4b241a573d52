package lu

import (
	"context"
	"errors"
	"fmt"
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
	// Shutdown, if set, is called when the App stops, before Run's context
	// is cancelled, for processes that must be stopped in a particular way
	// (an HTTP server's graceful Shutdown, say). All Shutdown funcs run at
	// the same time. An error is returned by [App.Shutdown].
	Shutdown func(ctx context.Context) error
}

// The life of one process, as seen by RunningProcesses and by the stop.
const (
	procNotStarted int32 = iota
	procRunning
	procEnding    // returned; its ProcessEnd event is being delivered
	procEnded     // returned
	procAbandoned // still running after the shutdown deadline
)

// procRun is the App's record of one launched process.
type procRun struct {
	*Process // in a.processes, which no longer changes once frozen
	state    atomic.Int32
	started  stamp        // set before the goroutine starts
	ended    atomic.Int64 // a stamp, set when Run returned
	err      error        // set before ended
}

// journal returns the process's journal entry.
func (p *procRun) journal(a *App) JournalEntry {
	ended := stamp(p.ended.Load())
	var err error
	if ended != 0 {
		err = p.err
	}
	return a.entry(p.Name, p.started, ended, err)
}

// startProcesses starts every process under the App's errgroup. It stops
// early if the App began stopping meanwhile. It runs on the Launch
// goroutine, in state HookStart.
func (a *App) startProcesses() {
	for i := range a.procs {
		if State(a.state.Load()) != StateHookStart {
			return
		}
		p := &a.procs[i]
		p.started = a.now()
		p.state.Store(procRunning)
		if l := a.logger(); l != nil {
			l.Info("lu: process started", "process", p.Name)
		}
		a.emit(a.procCtx, ProcessStart, p.Name)
		a.eg.Go(func() error {
			a.runProcess(p)
			return nil
		})
	}
}

// runProcess runs one process on its own goroutine.
func (a *App) runProcess(p *procRun) {
	ctx := a.procCtx
	if p.Name != "" {
		ctx = pprof.WithLabels(ctx, pprof.Labels("lu_process", p.Name))
		pprof.SetGoroutineLabels(ctx)
	}
	err := callProcess(ctx, p)
	if err != nil && a.procCtx.Err() != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.Cause(a.procCtx)) {
			err = nil // stopped, as asked
		}
	}
	if err != nil {
		if _, panicked := err.(*PanicError); !panicked {
			err = fmt.Errorf("lu: process %q: %w", p.Name, err)
		}
		a.mu.Lock()
		a.procErrs = append(a.procErrs, err)
		a.mu.Unlock()
	}
	if err != nil {
		p.err = err
	}
	ended := a.now()
	p.ended.Store(int64(ended))
	if l := a.logger(); l != nil {
		if err != nil {
			l.Error("lu: process failed", "process", p.Name, "duration", time.Duration(ended-p.started), "error", err)
		} else {
			l.Info("lu: process ended", "process", p.Name, "duration", time.Duration(ended-p.started))
		}
	}
	a.waitStarted() // ProcessEnd never precedes AppRunning
	if p.state.CompareAndSwap(procRunning, procEnding) {
		a.emit(ctx, ProcessEnd, p.Name)
	}
	p.state.Store(procEnded)
	if err != nil {
		a.processFailed(err)
	}
}

// callProcess runs p.Run, turning a panic into a *PanicError. The error is
// wrapped by the caller, and only if it is a failure.
func callProcess(ctx context.Context, p *procRun) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Where: "process " + quoteList([]string{p.Name}), Value: v, Stack: debug.Stack()}
		}
	}()
	return p.Run(ctx)
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
