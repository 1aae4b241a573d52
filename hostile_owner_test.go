package lu

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests of the owner's sleep (hookwait.go): a hook that returns
// early may hand over to a next hook whose deadline is earlier than the
// one the owner sleeps until; the runner tells the owner, which wakes for
// it.

// quickHook returns after 1ms: long enough for the owner to see it
// running and set its timer to its deadline.
func quickHook(context.Context) error {
	time.Sleep(time.Millisecond)
	return nil
}

// A start hook with WithHookTimeout(10ms) that ignores its context, after a
// quick start hook: Launch should fail after 10 ms naming it, not after the
// whole StartupTimeout.
func TestHostileOwnerWakesForAStartHookTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		a := &App{StartupTimeout: 10 * time.Second}
		a.OnStartUp(quickHook, WithHookName("quick"))
		a.OnStartUp(func(context.Context) error { <-release; return nil },
			WithHookName("stuck"), WithHookTimeout(10*time.Millisecond))
		a.AddProcess(Process{Name: "p", Run: blocker})
		start := time.Now()
		err := a.Launch(context.Background())
		took := time.Since(start)
		var te *TimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "stuck", te.Hook)
		assert.LessOrEqual(t, took, 11*time.Millisecond,
			"WithHookTimeout(10ms): the App stops waiting for the hook 10ms after it started (1ms in); Launch took %v: %v", took, err)
	})
}

// The same among stop hooks: the first gets its fair share (half of 1s),
// returns at once, and the second, bounded to 10 ms, is waited for until
// the first one's deadline.
func TestHostileOwnerWakesForAStopHookTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		a := &App{ShutdownTimeout: time.Second}
		a.OnShutdown(quickHook, WithHookName("quick"))
		a.OnShutdown(func(context.Context) error { <-release; return nil },
			WithHookName("stuck"), WithHookTimeout(10*time.Millisecond))
		require.NoError(t, a.Launch(context.Background()))
		start := time.Now()
		err := a.Shutdown()
		took := time.Since(start)
		var te *TimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "stuck", te.Hook)
		assert.LessOrEqual(t, took, 11*time.Millisecond,
			"WithHookTimeout(10ms): the App stops waiting for the hook 10ms after it started (1ms in); Shutdown took %v: %v", took, err)
	})
}

// The oversleep also robs the hooks after the stuck one of their share:
// the third stop hook should get half of what is left after 10 ms.
func TestHostileOwnerKeepsLaterStopHooksTheirShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		a := &App{ShutdownTimeout: 900 * time.Millisecond}
		a.OnShutdown(quickHook, WithHookName("quick"))
		a.OnShutdown(func(context.Context) error { <-release; return nil },
			WithHookName("stuck"), WithHookTimeout(10*time.Millisecond))
		var left time.Duration
		a.OnShutdown(func(ctx context.Context) error {
			dl, _ := ctx.Deadline()
			left = time.Until(dl)
			return nil
		}, WithHookName("last"))
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		var te *TimeoutError
		require.True(t, errors.As(err, &te), "%v", err)
		assert.GreaterOrEqual(t, left, 889*time.Millisecond,
			"the last hook's share is all that is left after the stuck one's 10ms; got %v", left)
	})
}
