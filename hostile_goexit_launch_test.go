package lu

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests: runtime.Goexit in an OnTransition func on the Launch
// goroutine. It ends that goroutine (the caller's), but the App's events
// are emitted before its transitions are delivered, so AppStartup and
// AppRunning are never lost.

func TestHostileGoexitInOnTransitionKeepsAppStartup(t *testing.T) {
	var rec recorder
	var fired atomic.Bool
	a := &App{OnEvent: rec.OnEvent}
	a.OnTransition(func(tr JournalTransition) {
		if tr.To == StateStartup && fired.CompareAndSwap(false, true) {
			runtime.Goexit()
		}
	})
	a.OnShutdown(nop, WithHookName("x"))
	go func() { _ = a.Launch(context.Background()) }()
	requireStopping(t, a)
	err := a.Shutdown()
	requireGoexit(t, err, "an OnTransition func")
	ev := rec.Events()
	requireEndsOnce(t, ev)
	assert.Equal(t, "AppStartup", ev[0], "AppStartup first: %v", ev)
}

func TestHostileGoexitInOnTransitionKeepsAppRunning(t *testing.T) {
	var rec recorder
	var fired atomic.Bool
	a := &App{OnEvent: rec.OnEvent}
	a.OnTransition(func(tr JournalTransition) {
		if tr.To == StateRunning && fired.CompareAndSwap(false, true) {
			runtime.Goexit()
		}
	})
	a.AddProcess(Process{Name: "p", Run: blocker})
	go func() { _ = a.Launch(context.Background()) }()
	requireStopping(t, a)
	err := a.Shutdown()
	requireGoexit(t, err, "an OnTransition func")
	ev := rec.Events()
	requireEndsOnce(t, ev)
	var states []State
	for _, tr := range a.Journal().Transitions {
		states = append(states, tr.To)
	}
	require.Contains(t, states, StateRunning, "the App was Running")
	assert.Contains(t, ev, "AppRunning", "the App went Running and ran its processes, but AppRunning was never emitted: %v", ev)
}

// requireStopping waits (watchdog) for the App to begin to stop.
func requireStopping(t *testing.T, a *App) {
	t.Helper()
	select {
	case <-a.WaitForShutdown():
	case <-time.After(10 * time.Second):
		t.Fatal("the App did not begin to stop")
	}
}
