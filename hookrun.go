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

// lastShare is what each stage of the stop still gets once the shutdown
// budget is spent: the Shutdown funcs, the processes (to return as asked),
// and the stop hooks that start then, which share it; so that what returns
// at once still ends as it should. Stop hooks that would start once even
// that is spent never start, and are named. Shutdown overruns
// ShutdownTimeout by about three times this at most.
const lastShare = 10 * time.Millisecond

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
// the phase's owner (the Launch goroutine, or the stop goroutine) waits
// (see hookwait.go). The owner wakes only when the hook running may have
// overrun its deadline, so a thousand quick hooks cost it nothing; it gives
// up on a hook that has overrun, and for stop hooks a new runner carries on
// with the next one. A hook or a callback that calls runtime.Goexit ends
// its runner the same way: another one takes over where the records say.
type hookRun struct {
	r       *run
	ph      hookPhase
	ctx     context.Context // the phase's context, which ends at end
	base    context.Context // ctx without its deadline, for hooks' own deadlines
	end     time.Time       // the phase's deadline, callbacks' time not counted
	recs    []hookRecord    // the phase's hooks, in running order
	done    chan struct{}   // closed once the phase is over
	changed chan struct{}   // tells the owner that a hook's deadline is sooner than it sleeps

	// Guarded by r.mu, as recs are.
	gen    int   // the current runner's; older runners were given up on and touch nothing
	cur    int   // the hook the current runner is on
	over   bool  // the phase is over and done is closed
	failed error // why the phase failed
	// wakeAt is when the owner looks again; zero while it waits for the
	// runner to tell it a deadline.
	wakeAt time.Time
	// cbTime is the time callbacks took in the phase, which moves every
	// deadline to come; cbAfterStop, the part of it since a stop was asked
	// for, moves the grace of an interrupted start-up.
	cbTime, cbAfterStop time.Duration
}

// The steps of one hook, in order. A record's step is the last one a
// runner claimed: each is done at most once, even across runners.
const (
	stepNone = iota
	stepLogStart
	stepPre // its Pre event
	stepCall
	stepLogEnd
	stepPost // its Post event
)

// newHookRun makes the run of a phase's hooks; base is their context, and
// end the phase's deadline. The caller calls cancel once the phase is over.
func (r *run) newHookRun(base context.Context, ph hookPhase, recs []hookRecord, end time.Time) (*hookRun, context.CancelFunc) {
	ctx, cancel := context.WithDeadline(base, end)
	h := &hookRun{r: r, ph: ph, ctx: ctx, base: base, end: end, recs: recs,
		done: make(chan struct{}), changed: make(chan struct{}, 1)}
	if len(recs) == 0 {
		h.over = true
		close(h.done)
	}
	return h, cancel
}

// runStarts runs the start hooks (or the processes' Start funcs) in order,
// until one fails or a stop is requested; deadline bounds them all. It
// returns the first failure.
func (r *run) runStarts(ctx context.Context, ph hookPhase, recs []hookRecord, deadline time.Time) error {
	if len(recs) == 0 {
		return nil
	}
	h, cancel := r.newHookRun(ctx, ph, recs, deadline)
	defer cancel()
	r.work.Go(func() { h.runner(0) })
	began := time.Now()
	err := h.wait()
	r.mu.Lock()
	cbTime, cbAfterStop := h.cbTime, h.cbAfterStop
	r.mu.Unlock()
	r.startCbTime += cbTime
	if r.stopRequested() { // the stop's budget ran while the start-up waited, save in callbacks
		r.hookWait += time.Since(later(began, r.stopAt)) - cbAfterStop
	}
	return err
}

// runner runs the hooks from the current one on. Its generation is gen.
func (h *hookRun) runner(gen int) {
	var calling *hookRecord // the hook whose func runs, if any
	returned := false
	defer func() {
		if !returned {
			h.carryOn(gen, calling)
		}
	}()
	for h.runOne(gen, &calling) {
	}
	returned = true
}

// runOne runs the current hook's steps that are not done yet: its log,
// its Pre event, the call, its log, its Post event (for a start hook, only
// if it succeeded). It reports whether the runner goes on with the next
// hook.
func (h *hookRun) runOne(gen int, calling **hookRecord) bool {
	rec, ok := h.current(gen)
	if !ok {
		return false
	}
	pre, post := h.ph.events()
	if h.claim(gen, rec, stepLogStart) {
		t := h.callbackBegins()
		h.logStart(rec)
		h.callbackEnded(t)
	}
	if h.claim(gen, rec, stepPre) && !h.eventDone(gen, rec, h.emit(pre, rec)) {
		return false
	}
	if ctx, ok := h.claimCall(gen, rec); ok {
		*calling = rec
		err := h.call(ctx, rec)
		*calling = nil
		if !h.ended(gen, rec, err) {
			return false
		}
	}
	if h.claim(gen, rec, stepLogEnd) {
		t := h.callbackBegins()
		h.logEnd(rec)
		h.callbackEnded(t)
	}
	if h.claim(gen, rec, stepPost) && (rec.err == nil || h.ph == phaseStop) &&
		!h.eventDone(gen, rec, h.emit(post, rec)) {
		return false
	}
	return h.next(gen, rec)
}

// current returns the hook the runner is on, unless the runner is stale or
// the phase is over.
func (h *hookRun) current(gen int) (*hookRecord, bool) {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	if gen != h.gen || h.over {
		return nil, false
	}
	return &h.recs[h.cur], true
}

// claim marks step of the current hook done, and reports whether this
// runner is to do it: it is still the current runner, and the step was not
// done before.
func (h *hookRun) claim(gen int, rec *hookRecord, step int) bool {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	if gen != h.gen || h.over || rec.step >= step {
		return false
	}
	rec.step = step
	return true
}

// claimCall is claim for the call itself: it also records when the hook
// started and when the App will give up on it, and returns its context. A
// start phase ends instead once a stop has been requested, and a stop
// phase once even the last share of its budget is spent: the hooks left
// never start.
func (h *hookRun) claimCall(gen int, rec *hookRecord) (context.Context, bool) {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != h.gen || h.over || rec.step >= stepCall {
		return nil, false
	}
	now := time.Now()
	end := h.end.Add(h.cbTime)
	switch {
	case h.ph != phaseStop && r.stopRequested():
		h.finishLocked(nil)
		return nil, false
	case h.ph == phaseStop && !now.Before(end.Add(lastShare)):
		h.neverStartedLocked()
		return nil, false
	}
	rec.step = stepCall
	rec.started = r.journal.now()
	rec.deadline = end
	if h.ph == phaseStop {
		rec.deadline = stopHookDeadline(now, end, len(h.recs)-h.cur, rec.h)
	} else if own := now.Add(rec.h.timeout); rec.h.timeout > 0 && own.Before(end) {
		rec.deadline = own
	}
	if h.wakeAt.IsZero() || rec.deadline.Before(h.wakeAt) {
		h.wakeAt = rec.deadline // the owner looks again then
		select {
		case h.changed <- struct{}{}:
		default: // told already
		}
	}
	if rec.deadline.Equal(h.end) {
		return h.ctx, true // the phase's context has this deadline
	}
	ctx, cancel := context.WithDeadline(h.base, rec.deadline)
	rec.cancel = cancel
	return ctx, true
}

// neverStartedLocked ends a stop phase whose budget is spent, naming the
// hooks that never started. The caller holds r.mu.
func (h *hookRun) neverStartedLocked() {
	te := &TimeoutError{State: StateHookStop}
	for i := h.cur; i < len(h.recs); i++ {
		te.NotStarted = append(te.NotStarted, h.recs[i].h.name())
		h.recs[i].step = stepPost
	}
	h.recs[h.cur].err = te
	h.finishLocked(nil)
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
	if rec.ended == 0 {
		rec.ended = r.journal.now()
	}
	if gen != h.gen {
		return false
	}
	rec.err = err
	return true
}

// emit emits a hook's event, if the phase has events.
func (h *hookRun) emit(t EventType, rec *hookRecord) error {
	if t == Unknown || h.r.cfg.onEvent == nil {
		return nil
	}
	began := h.callbackBegins()
	defer h.callbackEnded(began)
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
	if gen != h.gen || h.over {
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

// carryOn runs as a runner's goroutine ends in runtime.Goexit, called by
// the hook it was calling (which is then reported as failed; a start
// phase fails) or by a callback (which emit has reported): another runner
// takes over.
func (h *hookRun) carryOn(gen int, calling *hookRecord) {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if calling != nil && calling.ended == 0 {
		calling.ended = r.journal.now()
		if gen == h.gen {
			c := call{kind: h.ph.kind(), name: calling.h.Name, seq: calling.h.seq}
			calling.err = newPanicError(c.where(), ErrGoexit)
		}
	}
	if gen != h.gen || h.over {
		return
	}
	r.work.Go(func() { h.runner(gen) }) // it logs the end, and a failed start hook ends the phase
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
	switch {
	case h.r.cfg.log == nil:
	case h.ph == phaseProcessStart:
		h.r.log(slog.LevelInfo, "lu: process Start func started", "process", rec.h.name())
	default:
		h.r.log(slog.LevelInfo, "lu: "+h.ph.kind()+" started", "hook", rec.h.name(), "priority", int(rec.h.prio))
	}
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
