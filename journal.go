package lu

import (
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
	Transitions []JournalTransition `json:"transitions"`
	StartHooks  []JournalEntry      `json:"start_hooks"`
	StopHooks   []JournalEntry      `json:"stop_hooks"`
	Processes   []JournalEntry      `json:"processes"`
}

// JournalTransition is one transition of the App.
type JournalTransition struct {
	From    State     `json:"from"`
	Trigger Trigger   `json:"trigger"`
	To      State     `json:"to"`
	At      time.Time `json:"at"`
	// Duration is how long the App had been in From.
	Duration time.Duration `json:"duration"`
}

// JournalEntry is one hook or process: when it started and ended, and its
// error. A hook that never ran has a zero Started; one still running (or
// abandoned at a deadline) has Running set and a zero Ended.
//
// Times come from the monotonic clock. A process's times are read so that
// starting or stopping thousands of processes does not wait on thousands of
// clock readings: a start time may be early by the few microseconds it
// takes to start 31 other processes, and the end time of a process that
// returns while the App stops it may be early by about a millisecond.
type JournalEntry struct {
	Name     string        `json:"name"`
	Priority HookPriority  `json:"priority,omitempty"` // hooks only
	Started  time.Time     `json:"started,omitzero"`
	Ended    time.Time     `json:"ended,omitzero"`
	Duration time.Duration `json:"duration"`
	Running  bool          `json:"running,omitempty"`
	Err      error         `json:"-"`
	Error    string        `json:"error,omitempty"` // Err's text, for JSON
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

// MarshalJSON writes states and triggers by name.
func (s State) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalJSON writes the trigger's name.
func (t Trigger) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// stamp is a moment as an offset on the monotonic clock from the App's
// epoch; zero means "not yet".
type stamp int64

func (a *App) now() stamp { return stamp(time.Since(a.epoch)) + 1 }

func (a *App) at(s stamp) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return a.epoch.Add(time.Duration(s - 1))
}

// entry builds a JournalEntry from two stamps.
func (a *App) entry(name string, started, ended stamp, err error) JournalEntry {
	e := JournalEntry{Name: name, Started: a.at(started), Ended: a.at(ended), Err: err}
	switch {
	case started == 0:
	case ended == 0:
		e.Running = true
		e.Duration = time.Duration(a.now() - started)
	default:
		e.Duration = time.Duration(ended - started)
	}
	if err != nil {
		e.Error = err.Error()
	}
	return e
}

// recordTransition journals a transition. The caller holds a.mu.
func (a *App) recordTransition(from State, t Trigger, to State) {
	if a.epoch.IsZero() {
		return // not launched: a test firing the bare machine
	}
	now := a.now()
	a.transitions = append(a.transitions, JournalTransition{
		From: from, Trigger: t, To: to, At: a.at(now), Duration: time.Duration(now - a.entered),
	})
	a.entered = now
}

// Journal returns a copy of what the App has recorded so far. It is safe to
// call at any time, from any goroutine.
func (a *App) Journal() Journal {
	if a == nil {
		return Journal{}
	}
	a.mu.Lock()
	j := Journal{Transitions: slices.Clone(a.transitions)}
	runs := [2]*hookRun{a.startRun, a.stopRun}
	for _, p := range a.procs.all {
		if p.state.Load() != procNotStarted {
			j.Processes = append(j.Processes, p.journal(a))
		}
	}
	a.mu.Unlock()
	for i, r := range runs {
		if r == nil {
			continue
		}
		entries := r.journal()
		if i == 0 {
			j.StartHooks = entries
		} else {
			j.StopHooks = entries
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

// flushLog logs the transitions recorded since the last call. It is called
// with no lock held, after each transition.
func (a *App) flushLog() {
	l := a.log.Load()
	if l == nil {
		return
	}
	a.mu.Lock()
	todo := slices.Clone(a.transitions[a.logged:])
	a.logged = len(a.transitions)
	a.mu.Unlock()
	for _, t := range todo {
		l.Info("lu: transition", "from", t.From.String(), "trigger", t.Trigger.String(), "to", t.To.String(),
			"after", t.Duration)
	}
}

// logger returns the App's logger, or nil.
func (a *App) logger() *slog.Logger { return a.log.Load() }
