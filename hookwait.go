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
		if next, ok := h.check(time.Now(), grace); ok {
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
// grace, if set), and returns when to check again; false if no deadline is
// known, and the runner is to tell the owner one.
func (h *hookRun) check(now, grace time.Time) (time.Time, bool) {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if h.over {
		return time.Time{}, false
	}
	rec := &h.recs[h.cur]
	if rec.step >= stepCall && rec.ended == 0 {
		deadline := rec.deadline
		if !grace.IsZero() && grace.Before(deadline) {
			deadline = grace
		}
		if now.Before(deadline) {
			return deadline, true
		}
		h.giveUpLocked(rec)
	}
	h.waiting = true
	select {
	case <-h.changed: // a signal for a hook already seen
	default:
	}
	return time.Time{}, false
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
	go h.runner(h.gen)
}
