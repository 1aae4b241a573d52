package lu

import (
	"time"
)

// wait is the owner's side of a hookRun: it waits for the phase to be
// over, giving up on a hook that overruns its deadline. While the runner is
// between hooks, in a callback or in a hook's log, no deadline is known and
// the owner sleeps until the runner tells it one (changed). During
// start-up, a stop request shortens every deadline to the stop's budget
// for processes. It returns why a start phase failed.
func (h *hookRun) wait() error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var stopping <-chan struct{}
	if h.ph != phaseStop {
		stopping = h.r.stopping
	}
	var grace time.Time
	for {
		if next := h.check(time.Now(), grace); !next.IsZero() {
			timer.Reset(time.Until(next))
		} else {
			timer.Stop()
		}
		select {
		case <-h.done:
			h.r.mu.Lock()
			defer h.r.mu.Unlock()
			return h.failed
		case <-stopping:
			stopping = nil
			grace = h.r.stopAt.Add(h.r.workShare())
		case <-h.changed:
		case <-timer.C:
		}
	}
}

// check gives up on the current hook if it has overrun its deadline (or
// grace, if set: moved by the callbacks' time since the stop), and returns
// when to look again: zero if no deadline is known, and the runner is to
// tell the owner one. A runner tells it too of a deadline sooner than that.
func (h *hookRun) check(now, grace time.Time) time.Time {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	h.wakeAt = time.Time{}
	select {
	case <-h.changed: // what it told is about to be read
	default:
	}
	if h.over {
		return time.Time{}
	}
	rec := &h.recs[h.cur]
	if rec.step >= stepCall && rec.ended == 0 {
		deadline := rec.deadline
		if g := grace.Add(h.cbAfterStop); !grace.IsZero() && g.Before(deadline) {
			deadline = g
		}
		if now.Before(deadline) {
			h.wakeAt = deadline
			return deadline
		}
		h.giveUpLocked(rec)
	}
	return time.Time{}
}

// giveUpLocked abandons the current hook: its runner becomes stale, and a
// stop phase goes on with the next hook on a new runner. The caller holds
// r.mu.
func (h *hookRun) giveUpLocked(rec *hookRecord) {
	r := h.r
	te := &TimeoutError{State: h.ph.state(), Running: time.Duration(r.journal.now() - rec.started)}
	if h.ph == phaseProcessStart {
		te.Processes = []string{rec.h.name()}
	} else {
		te.Hook = rec.h.name()
	}
	rec.err, rec.abandoned, rec.step = te, true, stepPost
	r.leftRunning = true
	if rec.cancel != nil {
		rec.cancel() // its context ends as it is given up on
	}
	h.gen++
	if h.ph != phaseStop {
		for _, later := range h.recs[h.cur+1:] {
			te.NotStarted = append(te.NotStarted, later.h.name())
		}
		h.finishLocked(te)
		return
	}
	h.cur++
	if h.cur == len(h.recs) {
		h.finishLocked(nil)
		return
	}
	gen := h.gen
	r.work.Go(func() { h.runner(gen) })
}

// stopHookDeadline returns when the App stops waiting for a stop hook
// started at now, with left hooks to run before the phase's end: once it
// has used its fair share of the budget left, or its own WithHookTimeout
// within that budget. Once the budget is spent, the hooks left share
// lastShare.
func stopHookDeadline(now, end time.Time, left int, h *hook) time.Time {
	if !now.Before(end) {
		end = end.Add(lastShare)
	}
	budget := end.Sub(now)
	if h.timeout > 0 {
		return now.Add(min(h.timeout, budget))
	}
	return now.Add(budget / time.Duration(left))
}

// callbackBegins and callbackEnded time a callback, whose time is the
// user's: no deadline to come counts it.
func (h *hookRun) callbackBegins() time.Time {
	if !h.r.cfg.callbacks() {
		return time.Time{}
	}
	return time.Now()
}

func (h *hookRun) callbackEnded(began time.Time) {
	if began.IsZero() {
		return
	}
	d := time.Since(began)
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	h.cbTime += d
	if h.r.stopRequested() {
		h.cbAfterStop += d
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
