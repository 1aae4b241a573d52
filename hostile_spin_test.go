//go:build linux

package lu

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests: the owner of a hook phase sleeps while a callback runs,
// whatever deadlines have passed. (A test of this shape cannot run under
// testing/synctest, whose fake time would never advance past a spinning
// goroutine; it measures the CPU used instead.)

// cpuTime returns the process's user+system CPU time.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// burnsCPU runs f (which mostly sleeps in a callback for about 1s) and
// fails if the process used more than 300ms of CPU meanwhile.
func requireNoSpin(t *testing.T, f func()) {
	t.Helper()
	before := cpuTime(t)
	wall := time.Now()
	f()
	used := cpuTime(t) - before
	t.Logf("CPU %v over %v of wall time", used, time.Since(wall))
	assert.Less(t, used, 300*time.Millisecond, "the App's owner goroutine spins while a callback sleeps")
}

func TestHostileOwnerSleepsWhileACallbackRuns(t *testing.T) {
	t.Run("start phase, callback past StartupTimeout", func(t *testing.T) {
		a := &App{StartupTimeout: 50 * time.Millisecond}
		a.OnEvent = func(_ context.Context, e Event) {
			if e.Type == PostHookStart && e.Name == "first" {
				time.Sleep(time.Second) // the user's own time
			}
		}
		a.OnStartUp(nop, WithHookName("first"))
		a.OnStartUp(nop, WithHookName("second"))
		requireNoSpin(t, func() {
			err := a.Launch(context.Background())
			t.Logf("Launch: %v", err)
		})
		_ = a.Shutdown()
	})
	t.Run("start phase, stop requested during a slow Pre callback", func(t *testing.T) {
		a := &App{ShutdownTimeout: 50 * time.Millisecond}
		a.OnEvent = func(_ context.Context, e Event) {
			if e.Type == PreHookStart && e.Name == "second" {
				a.Stop(nil)
				time.Sleep(time.Second)
			}
		}
		a.OnStartUp(nop, WithHookName("first"))
		a.OnStartUp(nop, WithHookName("second"))
		requireNoSpin(t, func() { _ = a.Launch(context.Background()) })
	})
	t.Run("stop phase, a hook with WithHookTimeout(1ns)", func(t *testing.T) {
		a := &App{}
		a.OnEvent = func(_ context.Context, e Event) {
			if e.Type == PreHookStop && e.Name == "second" {
				time.Sleep(time.Second)
			}
		}
		a.OnShutdown(nop, WithHookName("first"), WithHookTimeout(time.Nanosecond))
		a.OnShutdown(nop, WithHookName("second"))
		require.NoError(t, a.Launch(context.Background()))
		requireNoSpin(t, func() { _ = a.Shutdown() })
	})
}

// When a stop is requested while a start hook's Pre callback runs, that
// hook is not called afterwards.
func TestHostileNoStartHookCalledAfterTheStop(t *testing.T) {
	a := &App{ShutdownTimeout: 50 * time.Millisecond}
	a.OnEvent = func(_ context.Context, e Event) {
		if e.Type == PreHookStart && e.Name == "second" {
			a.Stop(nil)
			time.Sleep(100 * time.Millisecond)
		}
	}
	release := make(chan struct{})
	defer close(release)
	called := make(chan struct{}, 1)
	a.OnStartUp(nop, WithHookName("first"))
	a.OnStartUp(func(context.Context) error { called <- struct{}{}; <-release; return nil }, WithHookName("second"))
	err := a.Launch(context.Background())
	require.Error(t, err)
	select {
	case <-called:
		t.Errorf("a start hook was called after the stop was requested")
	default:
	}
	var te *TimeoutError
	assert.False(t, errors.As(err, &te), "no hook overran anything: %v", err)
}
