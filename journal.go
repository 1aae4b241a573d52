package lu

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// Journal is what an App records of its lifecycle: every transition, and
// every hook and process with when it started and ended and how it ended.
// [App.Journal] returns a copy.
type Journal struct {
	// Transitions lists every transition so far, in order.
	Transitions []JournalTransition `json:"transitions"`
	// StartHooks lists the start hooks in running order, those not run yet
	// included, once they have begun; nil until then.
	StartHooks []JournalEntry `json:"start_hooks"`
	// StartFuncs lists the processes' Start funcs in the order they are
	// called, named by their process, once they have begun; nil until then.
	StartFuncs []JournalEntry `json:"start_funcs,omitempty"`
	// ShutdownFuncs lists the processes' Shutdown funcs, named by their
	// process, once the stop has called them; nil until then.
	ShutdownFuncs []JournalEntry `json:"shutdown_funcs,omitempty"`
	// StopHooks lists the stop hooks that run in this stop, in running
	// order, once they have begun; nil until then.
	StopHooks []JournalEntry `json:"stop_hooks"`
	// Processes lists the processes whose Run has been called, in the
	// order they were added. A process without a Run func is not listed.
	Processes []JournalEntry `json:"processes"`
}

// JournalTransition is one transition of the App.
type JournalTransition struct {
	// From is the state the App left.
	From State `json:"from"`
	// Trigger is what moved it.
	Trigger Trigger `json:"trigger"`
	// To is the state the App entered.
	To State `json:"to"`
	// At is when it entered To, from the monotonic clock.
	At time.Time `json:"at"`
	// Duration is how long the App had been in From.
	Duration time.Duration `json:"duration"`
}

// JournalEntry is one hook or process: when it started and ended, and its
// error. A hook that never ran has a zero Started; one still running (or
// abandoned at a deadline) has Running set and a zero Ended. Times come
// from the monotonic clock.
type JournalEntry struct {
	// Name is the hook's or process's name (a hook without one is named by
	// its registration number, such as "#3").
	Name string `json:"name"`
	// Priority is a hook's priority; zero for a process.
	Priority HookPriority `json:"priority,omitempty"`
	// Started is when it was called; zero if it never was.
	Started time.Time `json:"started,omitzero"`
	// Ended is when it returned; zero while it runs.
	Ended time.Time `json:"ended,omitzero"`
	// Duration is how long it ran, or has been running for.
	Duration time.Duration `json:"duration"`
	// Running is set while it runs, whether the App waits for it or has
	// given up on it.
	Running bool `json:"running,omitempty"`
	// Abandoned is set when the App gave up waiting for it at its deadline
	// (its Err is then a *TimeoutError): it ran on, or runs on, unwaited
	// for. A service manager's watchdog should not be fed while an
	// abandoned hook or process still runs.
	Abandoned bool `json:"abandoned,omitempty"`
	// Err is the error it failed with, if any.
	Err error `json:"-"`
	// Error is Err's text, for JSON.
	Error string `json:"error,omitempty"`
}

// MarshalJSON writes the duration as text, such as "1.5s".
func (t JournalTransition) MarshalJSON() ([]byte, error) {
	type plain JournalTransition
	return json.Marshal(struct {
		plain
		Duration string `json:"duration"`
	}{plain(t), t.Duration.String()})
}

// MarshalJSON writes the duration as text, such as "1.5s".
func (e JournalEntry) MarshalJSON() ([]byte, error) {
	type plain JournalEntry
	return json.Marshal(struct {
		plain
		Duration string `json:"duration"`
	}{plain(e), e.Duration.String()})
}

// MarshalJSON writes the state's name.
func (s State) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalJSON writes the trigger's name.
func (t Trigger) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// stamp is a moment as an offset on the monotonic clock from the run's
// epoch; zero means "not yet".
type stamp int64

// journal is what a run records. Its fields are guarded by the run's mutex,
// save epoch, which is read-only.
type journal struct {
	epoch       time.Time
	entered     stamp // when the current state was entered
	transitions []JournalTransition
	delivered   int          // deliveries of transitions done; see run.deliver
	start, stop []hookRecord // the start and stop hooks, in running order, once they begin
	starts      []hookRecord // the processes' Start funcs, once they begin
	shutdowns   []hookRecord // the processes' Shutdown funcs, once the stop calls them
}

// hookRecord is one hook's run: the journal's record, and the runner's
// progress, so that a runner that takes over neither repeats nor skips a
// step. Guarded by the run's mutex.
type hookRecord struct {
	h              *hook
	started, ended stamp
	err            error
	eventErrs      []error   // failures of a stop hook's event callbacks
	abandoned      bool      // the App gave up waiting for it
	deadline       time.Time // when the App gives up on it
	cancel         context.CancelFunc
	step           int // the last step a runner claimed; see stepNone
}

// succeeded reports whether the hook's func returned nil in time.
func (rec *hookRecord) succeeded() bool {
	return rec.step >= stepCall && rec.ended != 0 && rec.err == nil
}

func (j *journal) now() stamp { return stamp(time.Since(j.epoch)) + 1 }

func (j *journal) at(s stamp) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return j.epoch.Add(time.Duration(s - 1))
}

// entry builds a JournalEntry from two stamps.
func (j *journal) entry(name string, started, ended stamp, err error) JournalEntry {
	e := JournalEntry{Name: name, Started: j.at(started), Ended: j.at(ended), Err: err}
	switch {
	case started == 0:
	case ended == 0:
		e.Running = true
		e.Duration = time.Duration(j.now() - started)
	default:
		e.Duration = time.Duration(ended - started)
	}
	return e
}

// transition records a transition.
func (j *journal) transition(from State, t Trigger, to State) {
	now := j.now()
	j.transitions = append(j.transitions, JournalTransition{
		From: from, Trigger: t, To: to, At: j.at(now), Duration: time.Duration(now - j.entered),
	})
	j.entered = now
}

func (j *journal) hooks(recs []hookRecord) []JournalEntry {
	if recs == nil {
		return nil
	}
	entries := make([]JournalEntry, len(recs))
	for i := range recs {
		rec := &recs[i] // not a copy
		entries[i] = j.entry(rec.h.name(), rec.started, rec.ended, rec.err)
		entries[i].Priority = rec.h.prio
		entries[i].Abandoned = rec.abandoned
	}
	return entries
}

// Journal returns a copy of what the App has recorded so far. It is safe to
// call at any time, from any goroutine.
func (a *App) Journal() Journal {
	r := a.launched()
	if r == nil {
		return Journal{}
	}
	r.mu.Lock()
	j := Journal{
		Transitions:   slices.Clone(r.journal.transitions),
		StartHooks:    r.journal.hooks(r.journal.start),
		StartFuncs:    r.journal.hooks(r.journal.starts),
		ShutdownFuncs: r.journal.hooks(r.journal.shutdowns),
		StopHooks:     r.journal.hooks(r.journal.stop),
	}
	for i := range r.procs {
		p := &r.procs[i]
		if p.Run != nil && p.state.Load() != procIdle {
			j.Processes = append(j.Processes, p.journal(&r.journal))
		}
	}
	r.mu.Unlock()
	// The errors' texts come from their own methods, user code that may
	// call the App: not under the lock.
	for _, list := range [][]JournalEntry{j.StartHooks, j.StartFuncs, j.ShutdownFuncs, j.StopHooks, j.Processes} {
		for i := range list {
			if list[i].Err != nil {
				list[i].Error = list[i].Err.Error()
			}
		}
	}
	return j
}

// JournalHandler serves the journal as JSON. Nothing serves it unless you
// mount this handler: it names every hook and process and their errors.
func (a *App) JournalHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(a.Journal())
	})
}

// deliver logs the transitions not yet delivered and hands them to the
// OnTransition funcs. Each stretch of the lifecycle delivers its own, on its
// owner's goroutine, so they are delivered in order, once each. The cursor
// counts deliveries (the logger's, then each func's, for each transition)
// and moves before each: a callback that ends its goroutine with
// runtime.Goexit misses nothing but its own, and the owner that takes over
// carries on after it.
func (r *run) deliver() {
	sinks := 1 + len(r.cfg.observers)
	if r.cfg.log == nil && sinks == 1 {
		return
	}
	for {
		r.mu.Lock()
		k := r.journal.delivered
		if k == len(r.journal.transitions)*sinks {
			r.mu.Unlock()
			return
		}
		t := r.journal.transitions[k/sinks]
		r.journal.delivered++
		r.mu.Unlock()
		switch sink := k % sinks; {
		case sink > 0:
			r.observe(r.cfg.observers[sink-1], t)
		case r.cfg.log != nil:
			r.log(slog.LevelInfo, "lu: transition", "from", t.From.String(), "trigger", t.Trigger.String(),
				"to", t.To.String(), "after", t.Duration)
		}
	}
}

// observe hands a transition to an OnTransition func, containing a panic
// (or runtime.Goexit) as a failing callback.
func (r *run) observe(f func(JournalTransition), t JournalTransition) {
	returned := false
	defer func() {
		if !returned {
			r.callbackFailed("an OnTransition func", recover(), true)
		}
	}()
	f(t)
	returned = true
}
