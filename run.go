package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// Run launches the App, waits until it begins to stop, shuts it down and
// returns an exit code: 0 after a clean stop, 1 after a failed launch or
// shutdown. SIGINT and SIGTERM stop the App; SIGQUIT stops it too, but
// then Run waits for SIGINT or SIGTERM before returning, as a Kubernetes
// preStop hook expects (see [AppContext]), during start-up as later. A stop
// that a signal requested during start-up is a clean stop. A second SIGINT
// or SIGTERM while the App stops logs the hooks and processes that have not
// finished and exits the binary at once with code 2. Run logs why the App
// stops, and any failure, to the App's Logger or to slog.Default.
func (a *App) Run() int {
	if a == nil {
		slog.Error("lu: Run on a nil App")
		return 1
	}
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
		return a.launchFailed(ac, log, err)
	}
	<-a.WaitForShutdown()
	a.launched().logStop(log)
	code := a.logShutdown(ac, log, a.Shutdown())
	if ac.AppContext.Err() != nil {
		// Stopped by a signal: wait for the one that ends the binary.
		<-ac.TerminationContext.Done()
	}
	return code
}

// logShutdown returns Run's exit code for Shutdown's result err, as
// OnShutdownErr leaves it, and logs the failures that logStop has not
// named already: the stop's cause is logged once.
func (a *App) logShutdown(ac AppContext, log *slog.Logger, err error) int {
	if err == nil {
		return 0
	}
	if a.OnShutdownErr != nil {
		kept := a.OnShutdownErr(ac.TerminationContext, err)
		if kept == nil {
			return 0
		}
		if !sameError(kept, err) { // the user's own verdict: logged as it is
			log.Error("lu: shutdown failed", "error", errorText(kept))
			return 1
		}
	}
	if rest := a.launched().beyondCause(); rest != nil {
		log.Error("lu: shutdown failed", "error", errorText(rest))
	}
	return 1
}

// beyondCause returns the run's failures but the stop's cause, which
// logStop has named: those that are the cause, or read as it does. It
// calls the errors' methods, on Run's goroutine.
func (r *run) beyondCause() error {
	cause := r.stopReq.cause
	if cause == nil {
		return errors.Join(r.resultErrs...)
	}
	causeText := errorText(cause)
	var rest []error
	for _, err := range r.resultErrs {
		if !sameError(err, cause) && errorText(err) != causeText {
			rest = append(rest, err)
		}
	}
	return errors.Join(rest...)
}

// launchFailed reports a failed Launch and returns Run's exit code. A
// start-up that a signal interrupted follows the signals' contract, and is
// a clean stop if nothing else failed.
func (a *App) launchFailed(ac AppContext, log *slog.Logger, err error) int {
	r := a.launched()
	if r == nil || ac.AppContext.Err() == nil {
		log.Error("lu: launch failed", "error", errorText(err))
		return 1
	}
	code := 0
	if r.startErr != nil || r.result != nil {
		log.Error("lu: launch failed", "error", errorText(err))
		code = 1
	} else {
		r.logStop(log)
	}
	<-ac.TerminationContext.Done()
	return code
}

// logStop logs why the App stops, once the stop has begun: at Info for a
// stop that was asked for, at Error for a failure.
func (r *run) logStop(log *slog.Logger) {
	args := []any{"reason", errorText(r.stopReq.cause)}
	var sig *SignalError
	if safeAs(r.stopReq.cause, &sig) {
		args = append(args, "signal", sig.Signal.String())
	}
	if r.stopIsFailure() {
		log.Error("lu: stopping", args...)
	} else {
		log.Info("lu: stopping", args...)
	}
}

// exit ends the binary; a variable so that tests can see it called.
var exit = os.Exit

// reportUnfinished logs what a forced exit leaves unfinished.
func (a *App) reportUnfinished(log *slog.Logger) {
	j := a.Journal()
	var hooks, procs []string
	for _, list := range [][]JournalEntry{j.StartHooks, j.StartFuncs, j.StopHooks} {
		for _, e := range list {
			if e.Running {
				hooks = append(hooks, fmt.Sprintf("%s (running for %v)", e.Name, e.Duration.Round(time.Millisecond)))
			} else if e.Started.IsZero() {
				hooks = append(hooks, e.Name+" (not started)")
			}
		}
	}
	if j.StopHooks == nil { // the stop hooks have not begun
		a.mu.Lock()
		for _, h := range sortedHooks(a.reg.hooks, true) {
			hooks = append(hooks, h.name()+" (not started)")
		}
		a.mu.Unlock()
	}
	for _, e := range j.Processes {
		if e.Running {
			procs = append(procs, fmt.Sprintf("%s (running for %v)", e.Name, e.Duration.Round(time.Millisecond)))
		}
	}
	for _, e := range j.ShutdownFuncs {
		if e.Running {
			procs = append(procs, fmt.Sprintf("%s (its Shutdown func running for %v)", e.Name, e.Duration.Round(time.Millisecond)))
		}
	}
	log.Error("lu: second signal: exiting before the shutdown finished",
		"state", a.State().String(), "unfinished_hooks", hooks, "unfinished_processes", procs)
}

// AppContext manages two contexts for running an App, and cancels one or
// both when the process receives a signal. This allows a graceful shutdown
// on Kubernetes with a preStop hook: the hook sends SIGQUIT, which stops
// the App but leaves the binary running; when the hook returns, Kubernetes
// sends SIGTERM, which ends the binary. Exiting before the hook finished
// would be reported as an error.
//
// SIGINT and SIGTERM cancel both contexts: the App should stop and the
// binary exit. SIGQUIT cancels only AppContext: the App should stop and the
// binary wait for TerminationContext. The cause of each cancellation (see
// context.Cause) names the signal. A second SIGINT or SIGTERM closes the
// channel returned by Forced: [App.Run] then exits at once.
type AppContext struct {
	// AppContext should be used for running the application. When it is
	// cancelled, the application should stop all its processes.
	AppContext context.Context

	// TerminationContext should be used for the execution of the binary.
	// When it is cancelled, the binary should exit. AppContext is cancelled
	// with it.
	TerminationContext context.Context

	m *signalMonitor
}

type signalMonitor struct {
	signals    chan os.Signal
	forced     chan struct{} // closed on the second SIGINT or SIGTERM
	terms      int
	quit       chan struct{}
	done       chan struct{}
	appCancel  context.CancelCauseFunc
	termCancel context.CancelCauseFunc
	once       sync.Once
}

// NewAppContext derives the two contexts from ctx and starts listening for
// SIGINT, SIGTERM and SIGQUIT. Call Stop to stop listening.
func NewAppContext(ctx context.Context) AppContext {
	m := &signalMonitor{
		signals: make(chan os.Signal, 3),
		forced:  make(chan struct{}),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	var c AppContext
	c.TerminationContext, m.termCancel = context.WithCancelCause(ctx)
	c.AppContext, m.appCancel = context.WithCancelCause(c.TerminationContext)
	c.m = m
	signal.Notify(m.signals, syscall.SIGQUIT, syscall.SIGINT, syscall.SIGTERM)
	go m.monitor()
	return c
}

// Stop stops listening for signals and returns once the goroutine that
// listened has returned; signals are then handled as before NewAppContext.
// The contexts are left as they are. Stop may be called more than once.
func (c AppContext) Stop() {
	if c.m == nil {
		return
	}
	c.m.once.Do(func() {
		signal.Stop(c.m.signals)
		close(c.m.quit)
		<-c.m.done
	})
}

// Forced returns a channel closed when a second SIGINT or SIGTERM arrives:
// the operator insists, and the binary should exit without waiting.
func (c AppContext) Forced() <-chan struct{} {
	if c.m == nil {
		return nil
	}
	return c.m.forced
}

func (m *signalMonitor) monitor() {
	defer close(m.done)
	for {
		select {
		case <-m.quit:
			return
		case s := <-m.signals:
			cause := &SignalError{Signal: s}
			switch s {
			case syscall.SIGQUIT:
				m.appCancel(cause)
			default:
				m.termCancel(cause)
				if m.terms++; m.terms == 2 {
					close(m.forced)
				}
			}
		}
	}
}

// SignalError is the cause (see context.Cause) with which an [AppContext]
// cancels its contexts when a signal arrives. It wraps context.Canceled.
type SignalError struct {
	// Signal is the signal that arrived: SIGINT, SIGTERM or SIGQUIT.
	Signal os.Signal
}

// Error reads like "lu: received signal terminated: context canceled".
func (e *SignalError) Error() string {
	return fmt.Sprintf("lu: received signal %v: %v", e.Signal, context.Canceled)
}

// Unwrap returns context.Canceled.
func (e *SignalError) Unwrap() error { return context.Canceled }
