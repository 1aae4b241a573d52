package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

var (
	errShutdownCalled = fmt.Errorf("lu: Shutdown called: %w", context.Canceled)
	errStopCalled     = fmt.Errorf("lu: Stop called: %w", context.Canceled)
)

// Shutdown stops the App and returns once it has terminated:
//  1. every process's Shutdown func is called, all at once;
//  2. the processes' context is cancelled and the processes are awaited;
//  3. the stop hooks run in order, each even if an earlier one failed;
//  4. the process file is released, and AppTerminated is emitted.
//
// ShutdownTimeout bounds the whole, from the moment the stop begins (after
// DrainDelay; callbacks' time is not counted): the processes get half of it
// when stop hooks will run, so that a process that will not stop cannot
// starve them, and each stop hook gets its share of what is left (or its
// own WithHookTimeout), so that a stuck hook cannot starve the next. Once
// it is spent, the Shutdown funcs, the processes and the stop hooks that
// start then each still get a last 10 ms, and the stop hooks that would
// start later never do (they are named). What is still running
// when its time is up is abandoned and named in a *[TimeoutError]
// (wrapping context.DeadlineExceeded); RunningProcesses lists abandoned
// processes.
//
// Shutdown returns every error, joined: a failed start-up's, from Shutdown
// funcs, processes (the one that made the App stop included), stop hooks
// and callbacks, the cause given to Stop, and a deadline of Launch's
// context. It may be called from many goroutines at once and again later:
// the App stops once and every call returns the same result. Called during
// start-up, it makes Launch fail and returns the clean-up's result. Called
// before Launch, it returns an error wrapping [ErrIllegalTransition].
//
// Shutdown waits for the App to stop, so called from code the App waits
// for it waits for itself: from a hook or a process until their deadline,
// from an OnEvent callback or an OnTransition func, which have none, for
// ever. Call [App.Stop] there instead.
func (a *App) Shutdown() error {
	r := a.launched()
	if r == nil {
		return lifecycle.Fire(TriggerShutdown) // refused: the App is Idle
	}
	if err := r.requestStop(TriggerShutdown, stopRequest{cause: errShutdownCalled}); err != nil {
		return err
	}
	<-r.done
	return r.result
}

// Stop asks the App to stop and returns at once; [App.Shutdown] or
// WaitForShutdown tell when it has. It may be called from anywhere, a
// process, a hook or an OnEvent callback included, any number of times:
// only the first request counts. A nil cause is a clean stop (Shutdown
// returns nil, Run exits 0); a non-nil cause becomes the cause of the
// processes' context and is returned by Shutdown (errors.Is finds it), so
// Run exits 1 unless OnShutdownErr clears it. Stop during start-up makes
// Launch fail; before Launch, and after the App began to stop, it does
// nothing.
func (a *App) Stop(cause error) {
	r := a.launched()
	if r == nil {
		return
	}
	req := stopRequest{cause: errStopCalled}
	if cause != nil {
		req = stopRequest{cause: cause, report: true}
	}
	_ = r.requestStop(TriggerStop, req) // refused only before Launch
}

// requestStop fires t, one of the triggers that begin the stop, with req.
// The one request that moves the App into the Stopping superstate owns the
// stop and hands it to a goroutine of its own: whoever asked returns at
// once (a process cannot wait for the stop, which waits for it), and a
// callback that calls runtime.Goexit during the stop ends that goroutine,
// never the caller's. Shutdown, which waits anyway, runs the stop itself
// when there is no such callback (see config.callbacks): that spares a
// goroutine whose stack must grow, 18% of a launch and shutdown of one
// process (BenchmarkLaunch, N=1).
func (r *run) requestStop(t Trigger, req stopRequest) error {
	r.mu.Lock()
	from, to, err := r.fireLocked(t, req)
	r.mu.Unlock()
	if !from.stopping() && to.stopping() {
		r.cancelStart(req.cause) // the start-up, if under way, stops
		if t == TriggerShutdown && !r.cfg.callbacks() {
			r.stop()
		} else {
			go r.stop()
		}
	}
	return err
}

// stopIsFailure reports whether the stop began with a failure rather
// than as asked (by Shutdown, Stop(nil) or a cancelled Launch context).
func (r *run) stopIsFailure() bool {
	switch r.stopTrigger {
	case TriggerProcessFailed, TriggerStartFailed:
		return true
	case TriggerStop:
		return r.stopReq.cause != errStopCalled
	}
	return r.stopReq.report
}

// stopProgress is the stop goroutine's own. A callback that calls
// runtime.Goexit ends that goroutine; another one takes over and, from
// these fields and the machine's state, carries on without repeating or
// skipping a step.
type stopProgress struct {
	finished        bool          // done is closed
	drainEnd        time.Time     // when the drain ends
	sentTerminating bool          // AppTerminating was emitted
	began           time.Time     // when the shutdown clock started
	procsStopped    bool          // the processes were stopped
	hooksRun        bool          // the stop hooks have run
	userTime        time.Duration // callbacks' time the stop waited for, which moves the hooks' deadline
	sentTerminated  bool          // AppTerminated was emitted
	errs            []error
}

// stop runs the stop: states Draining, Terminating and HookStop, and ends
// Terminated. Its goroutine is started by the request that began the stop;
// each state's step fires the trigger that leads to the next.
func (r *run) stop() {
	defer r.carryOn()
	<-r.startEnded
	if r.unwatch != nil {
		r.unwatch()
	}
	for !r.st.finished {
		switch r.State() {
		case StateDraining:
			r.drain()
		case StateTerminating:
			r.terminate()
		case StateHookStop:
			r.stopHooks()
		case StateTerminated:
			r.finish()
		}
	}
}

// carryOn starts another stop goroutine if a callback ended this one with
// runtime.Goexit before the stop finished.
func (r *run) carryOn() {
	if !r.st.finished {
		go r.stop()
	}
}

// drain is state Draining: the lame-duck pause.
func (r *run) drain() {
	r.deliver()
	if r.st.drainEnd.IsZero() {
		r.st.drainEnd = time.Now().Add(r.cfg.drainDelay)
	}
	if d := time.Until(r.st.drainEnd); d > 0 {
		t := time.NewTimer(d)
		<-t.C
	}
	r.fire(TriggerDrained)
}

// terminate is state Terminating: AppTerminating, then the processes are
// stopped.
func (r *run) terminate() {
	r.deliver()
	if !r.st.sentTerminating {
		r.st.sentTerminating = true
		if err := r.emit(r.procCtx, AppTerminating, ""); err != nil {
			r.st.errs = append(r.st.errs, err)
		}
	}
	if r.st.began.IsZero() {
		// The clock starts once the AppTerminating callback returned (and
		// any other callback the stop waited for), less the time an
		// interrupted start-up already waited for its hooks.
		r.st.began = time.Now().Add(-r.hookWait)
	}
	if !r.st.procsStopped {
		r.st.procsStopped = true
		errs, userTime := r.stopProcesses(r.st.began.Add(r.workShare()))
		r.st.errs = append(r.st.errs, errs...)
		r.st.userTime += userTime
	}
	r.fire(TriggerProcessesStopped)
}

// workShare is how long the processes, and a start-up interrupted by the
// stop, may take to stop: ShutdownTimeout, or half of it if stop hooks
// will run after them. It is called by the Launch goroutine while it waits
// for start hooks, and by the stop goroutine.
func (r *run) workShare() time.Duration {
	if len(r.eligibleStopHooks(r.app.peekStopHooks())) > 0 {
		return r.cfg.shutdownTimeout / 2
	}
	return r.cfg.shutdownTimeout
}

// stopHooks is state HookStop: the stop hooks that may run, run.
func (r *run) stopHooks() {
	delivered := time.Now()
	r.deliver()
	r.st.userTime += time.Since(delivered) // callbacks' time is not the hooks'
	if !r.st.hooksRun {
		r.st.hooksRun = true
		recs := r.eligibleStopHooks(r.app.takeHooks(true))
		r.mu.Lock()
		r.journal.stop = recs
		r.mu.Unlock()
		if len(recs) > 0 {
			end := r.st.began.Add(r.cfg.shutdownTimeout + r.st.userTime)
			h, cancel := r.newHookRun(context.WithoutCancel(r.launchCtx), phaseStop, recs, end)
			r.work.Go(func() { h.runner(0) })
			_ = h.wait() // the owner runs no callback: nothing ends this goroutine meanwhile
			cancel()
		}
	}
	r.mu.Lock()
	for i := range r.journal.stop {
		rec := &r.journal.stop[i]
		r.st.errs = append(r.st.errs, rec.eventErrs...)
		if rec.err != nil {
			r.st.errs = append(r.st.errs, rec.err)
		}
	}
	r.mu.Unlock()
	r.fire(TriggerHooksStopped)
}

// eligibleStopHooks returns records for the stop hooks that may run: after
// a start-up that failed before the start hooks began, none; and a pair's
// stop half only if its start half succeeded.
func (r *run) eligibleStopHooks(hooks []*hook) []hookRecord {
	if !r.hooksBegan || len(hooks) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := map[*hook]bool{}
	for i := range r.journal.start {
		rec := &r.journal.start[i]
		if rec.h.paired() && rec.succeeded() {
			ok[rec.h] = true
		}
	}
	var recs []hookRecord
	for _, h := range hooks {
		if !h.paired() || ok[h] {
			recs = append(recs, hookRecord{h: h})
		}
	}
	return recs
}

// finish is state Terminated: the result is gathered, the process file
// released, AppTerminated emitted, and done closed.
func (r *run) finish() {
	r.deliver()
	if !r.st.sentTerminated {
		r.st.sentTerminated = true
		r.mu.Lock()
		left := r.leftRunning
		r.mu.Unlock()
		switch {
		case r.pidFile == nil:
		case left:
			go r.releaseLater()
		default:
			if err := r.pidFile.release(); err != nil {
				r.st.errs = append(r.st.errs, err)
			}
		}
		if err := r.emit(r.procCtx, AppTerminated, ""); err != nil {
			r.st.errs = append(r.st.errs, err)
		}
	}
	r.result = r.gatherResult()
	r.st.finished = true
	close(r.done)
}

// releaseLater releases the process file once the hooks, processes and
// Shutdown funcs that the App gave up on have returned: until then this
// instance still runs their code, and its lock says so. A failure to
// release is logged (to slog.Default without a Logger), as Shutdown has
// returned.
func (r *run) releaseLater() {
	_ = r.eg.Wait()
	r.work.Wait()
	if err := r.pidFile.release(); err != nil {
		log := r.cfg.log
		if log == nil { // Shutdown has returned: this is the only report
			log = slog.Default()
		}
		log.Error("lu: releasing the process file", "error", errorText(err))
	}
}

// gatherResult joins every error of the run that Shutdown returns.
func (r *run) gatherResult() error {
	var errs []error
	if r.startErr != nil {
		errs = append(errs, r.startErr)
	}
	if r.stopReq.report {
		errs = append(errs, r.stopReq.cause)
	}
	errs = append(errs, r.lateErrs...)
	errs = append(errs, r.st.errs...)
	r.mu.Lock()
	errs = append(errs, r.callbackErrs...)
	errs = append(errs, r.bugs...)
	r.mu.Unlock()
	if err := r.app.lateErrs(); err != nil {
		errs = append(errs, err)
	}
	r.resultErrs = errs
	return errors.Join(errs...)
}
