//go:build unix

package systemd

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lu-go/lu"
)

// TestOnSchedule checks the rule that decides whether the watchdog is
// pinged, on journals built by hand.
func TestOnSchedule(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// path returns the transitions into each state, at the given offsets.
	path := func(steps ...any) []lu.JournalTransition {
		var trs []lu.JournalTransition
		from := lu.StateIdle
		for i := 0; i < len(steps); i += 2 {
			to := steps[i].(lu.State)
			d, ok := steps[i+1].(time.Duration) // or an untyped 0
			if !ok {
				d = time.Duration(steps[i+1].(int))
			}
			trs = append(trs, lu.JournalTransition{From: from, To: to, At: at(d)})
			from = to
		}
		return trs
	}
	running := lu.JournalEntry{Name: "stuck", Started: at(time.Second), Running: true, Duration: time.Minute}
	abandoned := running
	abandoned.Abandoned = true
	returned := abandoned
	returned.Running, returned.Ended = false, at(time.Minute)
	ended := lu.JournalEntry{Name: "done", Started: at(time.Second), Ended: at(2 * time.Second), Duration: time.Second}
	next := lu.JournalEntry{Name: "next", Started: at(3 * time.Second), Running: true, Duration: time.Second}
	notYet := lu.JournalEntry{Name: "next"}
	b := budgets{startup: 15 * time.Second, drain: 5 * time.Second, shutdown: 15 * time.Second}
	s := time.Second

	for _, tc := range []struct {
		name string
		j    lu.Journal
		now  time.Duration
		want string // a part of the reason; "" for on schedule
	}{
		{name: "not launched", now: time.Hour},
		{name: "running, however long", j: lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, s, lu.StateRunning, 2*s)}, now: 100 * time.Hour},
		{name: "terminated", j: lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateTerminating, s, lu.StateHookStop, s, lu.StateTerminated, s)}, now: 2 * s, want: whyTerminated},

		{name: "starting, within StartupTimeout", j: lu.Journal{Transitions: path(lu.StateStartup, 0)}, now: 15 * s},
		{name: "starting, within the slack", j: lu.Journal{Transitions: path(lu.StateStartup, 0)}, now: 15*s + overrunSlack},
		{name: "starting, past StartupTimeout", j: lu.Journal{Transitions: path(lu.StateStartup, 0)}, now: 15*s + overrunSlack + time.Millisecond,
			want: "state Startup: the start-up has taken 15.101s, over StartupTimeout (15s)"},
		{name: "the start hooks' budget counts from Launch, not from HookStart",
			j: lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 10*s)}, now: 16 * s, want: "over StartupTimeout"},

		{name: "draining, within DrainDelay", j: lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateRunning, 0, lu.StateDraining, 20*s)}, now: 25 * s},
		{name: "draining, past DrainDelay", j: lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateRunning, 0, lu.StateDraining, 20*s)}, now: 26 * s,
			want: "state Draining: the drain has taken 6s, over DrainDelay (5s)"},

		{name: "stopping, within ShutdownTimeout from Terminating, not from HookStop",
			j:   lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateRunning, 0, lu.StateDraining, 0, lu.StateTerminating, 10*s, lu.StateHookStop, 20*s)},
			now: 25 * s},
		{name: "stopping, past ShutdownTimeout",
			j:   lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateRunning, 0, lu.StateDraining, 0, lu.StateTerminating, 10*s, lu.StateHookStop, 20*s)},
			now: 26 * s, want: "state HookStop: the stop has taken 16s, over ShutdownTimeout (15s)"},
		{name: "a start-up interrupted: the stop's budget",
			j:   lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateTerminating, 10*s)},
			now: 24 * s},

		{name: "a start hook running while the start-up, stopped, still waits for it",
			j:   lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateTerminating, 2*s), StartHooks: []lu.JournalEntry{running}},
			now: 3 * s},
		{name: "a start hook given up on",
			j:   lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateTerminating, 2*s), StartHooks: []lu.JournalEntry{abandoned, notYet}},
			now: 3 * s, want: `start hook "stuck" is still running, 1m0s after it started, though the App gave up on it`},
		{name: "a stop hook running, the App still waiting for it",
			j:   lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateRunning, 0, lu.StateDraining, 0, lu.StateTerminating, 0, lu.StateHookStop, 0), StopHooks: []lu.JournalEntry{ended, running, notYet}},
			now: 3 * s},
		{name: "a stop hook given up on",
			j:   lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateRunning, 0, lu.StateDraining, 0, lu.StateTerminating, 0, lu.StateHookStop, 0), StopHooks: []lu.JournalEntry{ended, abandoned, next}},
			now: 3 * s, want: `stop hook "stuck" is still running`},
		{name: "a process given up on",
			j:   lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateRunning, 0, lu.StateDraining, 0, lu.StateTerminating, 0, lu.StateHookStop, 0), Processes: []lu.JournalEntry{abandoned}},
			now: 3 * s, want: `process "stuck" is still running`},
		{name: "an abandoned hook that has returned since is no wedge",
			j:   lu.Journal{Transitions: path(lu.StateStartup, 0, lu.StateHookStart, 0, lu.StateRunning, 0, lu.StateDraining, 0, lu.StateTerminating, 0, lu.StateHookStop, 0), StopHooks: []lu.JournalEntry{returned, next}},
			now: 3 * s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := b.check(tc.j, at(tc.now))
			if tc.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tc.want)
			}
		})
	}
}
