package systemd

import (
	"fmt"
	"time"

	"github.com/lu-go/lu"
)

// overrunSlack is how far past its budget a stretch of the lifecycle may
// run and still be on schedule: room for the App's own work around its
// deadlines (the callbacks around a transition, the least wait it grants
// each stop hook, the scheduler).
const overrunSlack = 100 * time.Millisecond

// whyTerminated is why a terminated App is not pinged.
const whyTerminated = "the App has terminated"

// budgets are how long each stretch of the lifecycle may take, from the
// App's settings.
type budgets struct {
	startup  time.Duration // StartupTimeout: Startup and HookStart, from Launch
	drain    time.Duration // DrainDelay: Draining
	shutdown time.Duration // ShutdownTimeout: Terminating and HookStop, from the entry into Terminating
}

// check returns why the App whose journal is j is not on schedule at now,
// or "" if it is: the watchdog is pinged only while it is.
func (b budgets) check(j lu.Journal, now time.Time) string {
	if len(j.Transitions) == 0 {
		return "" // not launched
	}
	state := j.Transitions[len(j.Transitions)-1].To
	switch state {
	case lu.StateRunning:
		return ""
	case lu.StateTerminated:
		return whyTerminated
	}
	if why := givenUp(j); why != "" {
		return why
	}
	began, budget, setting := b.stretch(j, state)
	if ran := now.Sub(began); ran > budget+overrunSlack {
		return fmt.Sprintf("state %s: %s has taken %v, over %s (%v)",
			state, stretchName(state), ran.Round(time.Millisecond), setting, budget)
	}
	return ""
}

// stretch returns when the stretch of the lifecycle that state belongs to
// began, its budget and the setting that gives it.
func (b budgets) stretch(j lu.Journal, state lu.State) (time.Time, time.Duration, string) {
	first, budget, setting := lu.StateTerminating, b.shutdown, "ShutdownTimeout"
	switch state {
	case lu.StateStartup, lu.StateHookStart:
		first, budget, setting = lu.StateStartup, b.startup, "StartupTimeout"
	case lu.StateDraining:
		first, budget, setting = lu.StateDraining, b.drain, "DrainDelay"
	}
	for _, t := range j.Transitions {
		if t.To == first {
			return t.At, budget, setting
		}
	}
	last := j.Transitions[len(j.Transitions)-1]
	return last.At, budget, setting // not reached: every path to state passes through first
}

func stretchName(state lu.State) string {
	switch state {
	case lu.StateStartup, lu.StateHookStart:
		return "the start-up"
	case lu.StateDraining:
		return "the drain"
	}
	return "the stop"
}

// givenUp names a hook or process that the App gave up on at its deadline
// and that is still running.
func givenUp(j lu.Journal) string {
	for _, list := range []struct {
		kind    string
		entries []lu.JournalEntry
	}{{"start hook", j.StartHooks}, {"stop hook", j.StopHooks}, {"process", j.Processes}} {
		for _, e := range list.entries {
			if e.Abandoned && e.Running {
				return fmt.Sprintf("%s %q is still running, %v after it started, though the App gave up on it",
					list.kind, e.Name, e.Duration.Round(time.Millisecond))
			}
		}
	}
	return ""
}
