package lu

import (
	"context"
	"log/slog"
	"time"
)

// hookPhase says which funcs a hook runner calls.
type hookPhase int

const (
	phaseStart        hookPhase = iota // start hooks, on the Launch goroutine
	phaseProcessStart                  // processes' Start funcs, on the Launch goroutine, without events
	phaseStop                          // stop hooks, on the stop goroutine
)

// minHookWait is the least a stop hook is waited for, even when the
// shutdown budget is spent: a hook that returns at once still runs to the
// end, and the budget is overrun by at most this much per such hook.
const minHookWait = 10 * time.Millisecond

func (ph hookPhase) kind() string {
	switch ph {
	case phaseStart:
		return "start hook"
	case phaseProcessStart:
		return "Start of process"
	}
	return "stop hook"
}

// events returns the events emitted around a hook of the phase.
func (ph hookPhase) events() (pre, post EventType) {
	switch ph {
	case phaseStart:
		return PreHookStart, PostHookStart
	case phaseStop:
		return PreHookStop, PostHookStop
	}
	return Unknown, Unknown
}

// state is the state the App is in while the phase runs.
func (ph hookPhase) state() State {
	if ph == phaseStop {
		return StateHookStop
	}
	return StateHookStart
}

// runStarts runs the start hooks (or the processes' Start funcs) in order,
// until one fails or a stop is requested; deadline bounds them all. It
// returns the first failure.
func (r *run) runStarts(ctx context.Context, ph hookPhase, recs []hookRecord, deadline time.Time) error {
	if len(recs) == 0 {
		return nil
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for i := range recs {
		if r.stopRequested() {
			return nil
		}
		if err := r.runHook(ctx, ph, &recs[i], deadline); err != nil {
			if te, ok := err.(*TimeoutError); ok {
				for j := i + 1; j < len(recs); j++ {
					te.NotStarted = append(te.NotStarted, recs[j].h.name())
				}
			}
			return err
		}
	}
	return nil
}

// runStopHooks runs the stop hooks in order, each even if an earlier one
// failed or was given up on, and records their failures. Each may run for
// its share of the budget left before deadline. It may be called again
// after a callback ended the stop goroutine: hooks already done are not
// run twice.
func (r *run) runStopHooks(ctx context.Context, recs []hookRecord, deadline time.Time) {
	for i := range recs {
		rec := &recs[i]
		if rec.postSent {
			continue
		}
		if err := r.runHook(ctx, phaseStop, rec, stopHookDeadline(time.Now(), deadline, len(recs)-i, rec.h)); err != nil {
			r.st.errs = append(r.st.errs, err)
		}
	}
}

// stopHookDeadline returns when the App stops waiting for a stop hook: once
// it has used its fair share of the budget left, or its own WithHookTimeout
// within that budget, but never sooner than minHookWait.
func stopHookDeadline(now, deadline time.Time, left int, h *hook) time.Time {
	budget := deadline.Sub(now)
	wait := budget / time.Duration(left)
	if h.timeout > 0 {
		wait = min(h.timeout, budget)
	}
	return now.Add(max(wait, minHookWait))
}

// runHook runs one hook: its Pre event, the call, its Post event (for a
// start hook, only if it succeeded). It returns the hook's failure: its
// error, a *PanicError, a *TimeoutError if the App gave up waiting, or a
// start hook's failing callback. The record keeps its progress, so that a
// stop resumed after a callback called runtime.Goexit carries on where it
// was.
func (r *run) runHook(ctx context.Context, ph hookPhase, rec *hookRecord, deadline time.Time) error {
	h := rec.h
	pre, post := ph.events()
	if !rec.preSent {
		rec.preSent = true
		if r.cfg.log != nil {
			r.log(slog.LevelInfo, "lu: "+ph.kind()+" started", "hook", h.name(), "priority", int(h.prio))
		}
		if err := r.emitHook(ctx, ph, pre, h); err != nil {
			return err
		}
	}
	if !rec.called {
		rec.called = true
		r.callHook(ctx, ph, rec, deadline)
	}
	if !rec.postSent {
		rec.postSent = true
		r.logHookEnd(ph, rec)
		if rec.err == nil || (ph == phaseStop && !rec.abandoned) {
			if err := r.emitHook(ctx, ph, post, h); err != nil && rec.err == nil {
				return err
			}
		}
	}
	return rec.err
}

// emitHook emits a hook's event. A failing callback fails a start hook; for
// a stop hook it is recorded, and the hook still runs.
func (r *run) emitHook(ctx context.Context, ph hookPhase, t EventType, h *hook) error {
	if t == Unknown {
		return nil
	}
	err := r.emit(ctx, t, h.Name)
	if err != nil && ph == phaseStop {
		r.st.errs = append(r.st.errs, err)
		return nil
	}
	return err
}

func (r *run) logHookEnd(ph hookPhase, rec *hookRecord) {
	if r.cfg.log == nil {
		return
	}
	d := time.Duration(rec.ended - rec.started)
	if rec.err != nil {
		r.log(slog.LevelError, "lu: "+ph.kind()+" failed", "hook", rec.h.name(), "duration", d, "error", rec.err)
	} else {
		r.log(slog.LevelInfo, "lu: "+ph.kind()+" done", "hook", rec.h.name(), "duration", d)
	}
}

// callHook calls the hook's func on a goroutine of its own and waits for
// it until ctx is done: at the phase's deadline, the hook's share of it or
// its own timeout, whichever comes first. During start-up a stop request
// cancels ctx: the hook then has the stop's budget for processes to
// return. The outcome goes into the record.
func (r *run) callHook(ctx context.Context, ph hookPhase, rec *hookRecord, deadline time.Time) {
	h := rec.h
	if h.timeout > 0 || ph == phaseStop {
		if own := time.Now().Add(h.timeout); h.timeout > 0 && own.Before(deadline) {
			deadline = own
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	f := h.start
	if ph == phaseStop {
		f = h.stop
	}
	r.mu.Lock()
	rec.started = r.journal.now()
	r.mu.Unlock()
	done := make(chan outcome, 1) // sized so that an abandoned hook can still finish
	go call{kind: ph.kind(), name: h.Name, seq: h.seq, label: "lu_hook", f: f}.run(ctx, 0, done)

	var o outcome
	finished := true
	select {
	case o = <-done:
	case <-ctx.Done():
		if ph != phaseStop && ctx.Err() == context.Canceled {
			// A stop request, or the end of the Launch context (which the
			// stop may not have heard of yet), interrupted the start-up.
			if !r.stopRequested() {
				r.contextDone()
			}
			o, finished = r.grace(done, deadline)
		} else {
			o, finished = pending(done)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.journal.now()
	if !finished {
		o.err = &TimeoutError{State: ph.state(), Hook: h.name(), Running: time.Duration(now - rec.started)}
	} else {
		rec.ended = now
	}
	rec.err, rec.abandoned = o.err, !finished
}

// grace waits for a start-up step that a stop request cancelled, for the
// stop's budget for processes (but not past deadline).
func (r *run) grace(done <-chan outcome, deadline time.Time) (outcome, bool) {
	if g := r.stopAt.Add(r.workShare()); g.Before(deadline) {
		deadline = g
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case o := <-done:
		return o, true
	case <-t.C:
		return pending(done)
	}
}

// pending returns the outcome if the call has just finished.
func pending(done <-chan outcome) (outcome, bool) {
	select {
	case o := <-done:
		return o, true
	default:
		return outcome{}, false
	}
}
