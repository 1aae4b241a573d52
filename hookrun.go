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
// end, and the budget is overrun by at most this much per such hook. It is
// also how long the owner of a phase sleeps at most while it does not know
// the deadline of the hook that runs next.
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

// hookRun is one phase's hooks, run in order on a runner goroutine while
// the phase's owner (the Launch goroutine, or the stop goroutine) waits.
// The owner wakes only when the hook running may have overrun its
// deadline, so a thousand quick hooks cost it nothing; it gives up on a
// hook that has overrun, and for stop hooks a new runner carries on with
// the next one. A hook or a callback that calls runtime.Goexit ends its
// runner the same way: another one takes over where the records say.
type hookRun struct {
	r    *run
	ph   hookPhase
	ctx  context.Context // the phase's context
	end  time.Time       // the phase's deadline
	poll time.Duration   // the longest the owner may sleep without knowing a deadline
	recs []hookRecord    // the phase's hooks, in running order
	done chan struct{}   // closed once the phase is over

	// Guarded by r.mu, as recs are.
	gen    int   // the current runner's; older runners were given up on and touch nothing
	cur    int   // the hook the current runner is on
	over   bool  // the phase is over and done is closed
	failed error // why a start phase failed
}

func (r *run) newHookRun(ctx context.Context, ph hookPhase, recs []hookRecord, end time.Time) *hookRun {
	h := &hookRun{r: r, ph: ph, ctx: ctx, end: end, poll: minHookWait, recs: recs, done: make(chan struct{})}
	for i := range recs {
		if t := recs[i].h.timeout; t > 0 && t < h.poll {
			h.poll = t
		}
	}
	if len(recs) == 0 {
		h.over = true
		close(h.done)
	}
	return h
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
	h := r.newHookRun(ctx, ph, recs, deadline)
	go h.runner(0)
	return h.wait()
}

// stopHookDeadline returns when the App stops waiting for a stop hook
// started at now: once it has used its fair share of the budget left, or
// its own WithHookTimeout within that budget, but never sooner than
// minHookWait.
func stopHookDeadline(now, deadline time.Time, left int, h *hook) time.Time {
	budget := deadline.Sub(now)
	wait := budget / time.Duration(left)
	if h.timeout > 0 {
		wait = min(h.timeout, budget)
	}
	return now.Add(max(wait, minHookWait))
}

// runner runs the hooks from the current one on. Its generation is gen.
func (h *hookRun) runner(gen int) {
	inCall, returned := false, false
	defer func() {
		if !returned {
			h.carryOn(gen, inCall)
		}
	}()
	for h.runOne(gen, &inCall) {
	}
	returned = true
}

// runOne runs the current hook: its Pre event, the call, its Post event
// (for a start hook, only if it succeeded), each step unless done already.
// It reports whether the runner goes on with the next hook.
func (h *hookRun) runOne(gen int, inCall *bool) bool {
	r := h.r
	rec, ok := h.current(gen)
	if !ok {
		return false
	}
	pre, post := h.ph.events()
	if h.claim(gen, &rec.preSent) {
		if r.cfg.log != nil {
			h.logStart(rec)
		}
		if err := h.emit(pre, rec); !h.eventDone(gen, rec, err) {
			return false
		}
	}
	if ctx, ok := h.claimCall(gen, rec); ok {
		*inCall = true
		err := h.call(ctx, rec)
		*inCall = false
		if !h.ended(gen, rec, err) {
			return false
		}
	}
	if h.claim(gen, &rec.postSent) {
		h.logEnd(rec)
		var err error
		if rec.err == nil || h.ph == phaseStop {
			err = h.emit(post, rec)
		}
		if !h.eventDone(gen, rec, err) {
			return false
		}
	}
	return h.next(gen, rec)
}

// current returns the hook the runner is on, unless the runner is stale or
// the phase is over. A start phase is over when a stop has been requested.
func (h *hookRun) current(gen int) (*hookRecord, bool) {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	if gen != h.gen || h.over {
		return nil, false
	}
	if h.ph != phaseStop && h.r.stopRequested() {
		h.finishLocked(nil)
		return nil, false
	}
	return &h.recs[h.cur], true
}

// claim marks a step of the current hook done, and reports whether this
// runner is to do it: it is still the current runner, and the step was not
// done before.
func (h *hookRun) claim(gen int, step *bool) bool {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	if gen != h.gen || *step {
		return false
	}
	*step = true
	return true
}

// claimCall is claim for the call itself: it also records when the hook
// started and when the App will give up on it, and returns its context.
func (h *hookRun) claimCall(gen int, rec *hookRecord) (context.Context, bool) {
	r := h.r
	r.mu.Lock()
	if gen != h.gen || rec.called {
		r.mu.Unlock()
		return nil, false
	}
	rec.called = true
	now := time.Now()
	rec.started = r.journal.now()
	rec.deadline = h.end
	if h.ph == phaseStop {
		rec.deadline = stopHookDeadline(now, h.end, len(h.recs)-h.cur, rec.h)
	} else if own := now.Add(rec.h.timeout); rec.h.timeout > 0 && own.Before(h.end) {
		rec.deadline = own
	}
	r.mu.Unlock()
	if rec.deadline.Equal(h.end) {
		return h.ctx, true
	}
	ctx, cancel := context.WithDeadline(h.ctx, rec.deadline)
	rec.cancel = cancel
	return ctx, true
}

// call calls the hook's func, turning a panic into a *PanicError. A
// runtime.Goexit ends the runner: carryOn reports it.
func (h *hookRun) call(ctx context.Context, rec *hookRecord) (err error) {
	hk := rec.h
	c := call{kind: h.ph.kind(), name: hk.Name, seq: hk.seq, label: "lu_hook", f: hk.start}
	if h.ph == phaseStop {
		c.f = hk.stop
	}
	returned := false
	defer func() {
		if !returned {
			if v := recover(); v != nil {
				err = newPanicError(c.where(), v)
			}
		}
		if rec.cancel != nil {
			rec.cancel()
		}
	}()
	err = c.invoke(ctx)
	returned = true
	return err
}

// ended records how the call ended, and reports whether the runner goes
// on: not if it was given up on meanwhile (the journal then only learns
// when the abandoned hook returned).
func (h *hookRun) ended(gen int, rec *hookRecord, err error) bool {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != h.gen {
		if rec.abandoned && rec.ended == 0 {
			rec.ended = r.journal.now()
		}
		return false
	}
	rec.ended, rec.err = r.journal.now(), err
	return true
}

// emit emits a hook's event, if the phase has events.
func (h *hookRun) emit(t EventType, rec *hookRecord) error {
	if t == Unknown {
		return nil
	}
	return h.r.emit(h.ctx, t, rec.h.Name)
}

// eventDone records a hook event's failing callback: it fails a start
// phase; for a stop hook it is reported, and the hook still runs. It
// reports whether the runner goes on.
func (h *hookRun) eventDone(gen int, rec *hookRecord, err error) bool {
	if err == nil {
		return true
	}
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	if gen != h.gen {
		return false
	}
	if h.ph == phaseStop {
		rec.eventErrs = append(rec.eventErrs, err)
		return true
	}
	h.finishLocked(err)
	return false
}

// next moves on from a hook that is done: a failed start hook ends its
// phase. It reports whether the runner goes on.
func (h *hookRun) next(gen int, rec *hookRecord) bool {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	if gen != h.gen {
		return false
	}
	if rec.err != nil && h.ph != phaseStop {
		h.finishLocked(rec.err)
		return false
	}
	h.cur++
	if h.cur == len(h.recs) {
		h.finishLocked(nil)
		return false
	}
	return true
}

// finishLocked ends the phase. The caller holds r.mu.
func (h *hookRun) finishLocked(failure error) {
	if !h.over {
		h.over, h.failed = true, failure
		close(h.done)
	}
}

// carryOn runs as a runner's goroutine ends in runtime.Goexit, called by a
// hook (which is then reported as failed) or by a callback (which emit has
// reported): another runner takes over.
func (h *hookRun) carryOn(gen int, inCall bool) {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != h.gen || h.over {
		return
	}
	if inCall {
		rec := &h.recs[h.cur]
		c := call{kind: h.ph.kind(), name: rec.h.Name, seq: rec.h.seq}
		rec.ended, rec.err = r.journal.now(), newPanicError(c.where(), ErrGoexit)
		if rec.cancel != nil {
			rec.cancel()
		}
	}
	go h.runner(gen)
}

func (h *hookRun) logEnd(rec *hookRecord) {
	r := h.r
	if r.cfg.log == nil {
		return
	}
	r.mu.Lock()
	d, err := time.Duration(rec.ended-rec.started), rec.err
	r.mu.Unlock()
	if err != nil {
		r.log(slog.LevelError, "lu: "+h.ph.logName()+" failed", h.ph.logKey(), rec.h.name(), "duration", d, "error", err)
	} else {
		r.log(slog.LevelInfo, "lu: "+h.ph.logName()+" done", h.ph.logKey(), rec.h.name(), "duration", d)
	}
}

func (h *hookRun) logStart(rec *hookRecord) {
	if h.ph == phaseProcessStart {
		h.r.log(slog.LevelInfo, "lu: process Start func started", "process", rec.h.name())
		return
	}
	h.r.log(slog.LevelInfo, "lu: "+h.ph.kind()+" started", "hook", rec.h.name(), "priority", int(rec.h.prio))
}

// logName and logKey name the phase's step and what it belongs to in logs.
func (ph hookPhase) logName() string {
	if ph == phaseProcessStart {
		return "process Start func"
	}
	return ph.kind()
}

func (ph hookPhase) logKey() string {
	if ph == phaseProcessStart {
		return "process"
	}
	return "hook"
}

// wait is the owner's side: it waits for the phase to be over, giving up on
// a hook that overruns its deadline. During start-up, a stop request
// shortens every deadline to the stop's budget for processes. It returns
// why a start phase failed.
func (h *hookRun) wait() error {
	timer := time.NewTimer(time.Until(h.wake(time.Now(), time.Time{})))
	defer timer.Stop()
	var stopping <-chan struct{}
	if h.ph != phaseStop {
		stopping = h.r.stopping
	}
	var grace time.Time
	for {
		select {
		case <-h.done:
			h.r.mu.Lock()
			defer h.r.mu.Unlock()
			return h.failed
		case <-stopping:
			stopping = nil
			grace = h.r.stopAt.Add(h.r.workShare())
		case <-timer.C:
		}
		timer.Reset(time.Until(h.check(time.Now(), grace)))
	}
}

// check gives up on the current hook if it has overrun its deadline (or
// grace, if set), and returns when to check again.
func (h *hookRun) check(now, grace time.Time) time.Time {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if h.over {
		return now.Add(time.Hour) // done is closed
	}
	rec := &h.recs[h.cur]
	if !rec.called || rec.ended != 0 {
		return h.wake(now, grace)
	}
	deadline := rec.deadline
	if !grace.IsZero() && grace.Before(deadline) {
		deadline = grace
	}
	if now.Before(deadline) {
		return deadline
	}
	h.giveUpLocked(rec)
	return h.wake(now, grace)
}

// wake returns when the owner must look again while it does not know the
// deadline of the hook that will run: no hook's can come sooner.
func (h *hookRun) wake(now, grace time.Time) time.Time {
	w := now.Add(h.poll)
	if h.ph != phaseStop && h.end.Before(w) {
		w = h.end
	}
	if !grace.IsZero() && grace.Before(w) {
		w = grace
	}
	return w
}

// giveUpLocked abandons the current hook: its runner becomes stale, and a
// stop phase goes on with the next hook on a new runner. The caller holds
// r.mu.
func (h *hookRun) giveUpLocked(rec *hookRecord) {
	r := h.r
	te := &TimeoutError{State: h.ph.state(), Hook: rec.h.name(), Running: time.Duration(r.journal.now() - rec.started)}
	rec.err, rec.abandoned, rec.postSent = te, true, true
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
