package lu

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests of the stop: deadlines, stuck work, what is named.

// A Shutdown func that overruns the processes' deadline does not hide a
// process that ignores its context: both are named, the process is
// abandoned, and its late end emits nothing after AppTerminated.
func TestHostileStuckShutdownFuncAndStuckProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		releaseShutdown := make(chan struct{})
		releaseRun := make(chan struct{})
		var rec recorder
		a := &App{OnEvent: rec.OnEvent, ShutdownTimeout: 100 * time.Millisecond}
		a.AddProcess(
			Process{Name: "slow shutdown", Run: blocker,
				Shutdown: func(context.Context) error { <-releaseShutdown; return nil }},
			Process{Name: "ignores its context", Run: func(context.Context) error { <-releaseRun; return nil }},
		)
		require.NoError(t, a.Launch(context.Background()))
		start := time.Now()
		err := a.Shutdown()
		assert.Equal(t, 100*time.Millisecond+lastShare, time.Since(start),
			"the budget, then the last share for the processes to return as asked")
		var te *TimeoutError
		require.ErrorAs(t, err, &te)
		assert.Contains(t, te.Processes, "slow shutdown")
		assert.Contains(t, te.Processes, "ignores its context",
			"a process still running at the deadline must be named: %v", err)
		synctest.Wait()
		assert.Equal(t, []string{"ignores its context"}, a.RunningProcesses())

		// The abandoned process now ends, after AppTerminated: silently.
		close(releaseRun)
		synctest.Wait()
		ev := rec.Events()
		assert.Equal(t, "AppTerminated", ev[len(ev)-1], "nothing is emitted after AppTerminated: %v", ev)
		close(releaseShutdown)
	})
}

// The same with stop hooks, where the processes get half the budget.
func TestHostileStuckShutdownFuncAndStuckProcessWithStopHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		releaseShutdown := make(chan struct{})
		releaseRun := make(chan struct{})
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.OnShutdown(nop, WithHookName("flush"))
		a.AddProcess(
			Process{Name: "slow shutdown", Run: blocker,
				Shutdown: func(context.Context) error { <-releaseShutdown; return nil }},
			Process{Name: "ignores its context", Run: func(context.Context) error { <-releaseRun; return nil }},
		)
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		var names []string
		for _, e := range unwrapAll(err) {
			var te *TimeoutError
			if errors.As(e, &te) {
				names = append(names, te.Processes...)
			}
		}
		assert.Contains(t, names, "ignores its context", "every process still running is named: %v", err)
		close(releaseRun)
		close(releaseShutdown)
	})
}

// Callbacks are the user's own time: a slow ProcessStart callback after a
// stop request does not spend the processes' budget, and processes that
// return as soon as their context is cancelled are never reported stuck.
// A Stop while the processes start is a stop of a running App: Launch has
// succeeded.
func TestHostileSlowCallbackDuringStartUpLeavesPromptProcessesAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.OnEvent = func(ctx context.Context, e Event) {
			rec.OnEvent(ctx, e)
			if e.Type == ProcessStart && e.Name == "second" {
				a.Stop(nil)                        // a stop during start-up, from anywhere
				time.Sleep(200 * time.Millisecond) // the user's own time
			}
		}
		a.AddProcess(Process{Name: "first", Run: blocker}, Process{Name: "second", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		assert.NoError(t, err, "both processes returned as soon as they were asked to stop")
		var te *TimeoutError
		if errors.As(err, &te) {
			t.Logf("reported stuck: %v", te.Processes)
		}
		synctest.Wait()
		assert.Contains(t, rec.Events(), "ProcessEnd:first", "a prompt process has its ProcessEnd")
	})
}

// The same with a slow AppTerminating callback, which the budget does not
// count either.
func TestHostileSlowAppTerminatingAfterAStopDuringStartUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.OnEvent = func(_ context.Context, e Event) {
			switch {
			case e.Type == ProcessStart && e.Name == "second":
				a.Stop(nil)
			case e.Type == AppTerminating:
				time.Sleep(200 * time.Millisecond)
			}
		}
		a.AddProcess(Process{Name: "first", Run: blocker}, Process{Name: "second", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		assert.NoError(t, a.Shutdown(), "processes that return at once are not stuck")
	})
}

// Shutdown from a process waits for itself only until the deadline, as
// documented, and names itself.
func TestHostileShutdownFromAProcessWaitsOnlyUntilTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		done := make(chan error, 1)
		a.AddProcess(Process{Name: "p", Run: func(ctx context.Context) error {
			done <- a.Shutdown()
			return nil
		}})
		require.NoError(t, a.Launch(context.Background()))
		err := <-done
		var te *TimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, []string{"p"}, te.Processes)
		assert.True(t, slices.Equal(te.Processes, []string{"p"}))
	})
}

// A stop hook that starts once the budget is spent (here by a stuck hook
// whose WithHookTimeout is longer than it) is called with a live context,
// which has the last share.
func TestHostileStopHookAfterTheBudgetGetsALiveContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.OnShutdown(func(context.Context) error { <-release; return nil },
			WithHookName("stuck"), WithHookTimeout(time.Hour))
		var left time.Duration
		var errAtCall error
		a.OnShutdown(func(ctx context.Context) error {
			errAtCall = ctx.Err()
			dl, _ := ctx.Deadline()
			left = time.Until(dl)
			return nil
		}, WithHookName("flush"))
		require.NoError(t, a.Launch(context.Background()))
		_ = a.Shutdown()
		assert.NoError(t, errAtCall, "the next hook is called with a live context")
		assert.Equal(t, lastShare, left, "the hooks left share the last 10 ms")
		close(release)
	})
}

// WithHookTimeout(d): a stop hook's context ends after d, however short.
func TestHostileStopHookTimeoutIsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var left time.Duration
		a := &App{}
		a.OnShutdown(func(ctx context.Context) error {
			dl, _ := ctx.Deadline()
			left = time.Until(dl)
			return nil
		}, WithHookTimeout(time.Millisecond))
		require.NoError(t, a.Launch(context.Background()))
		require.NoError(t, a.Shutdown())
		assert.Equal(t, time.Millisecond, left, "the hook's context ends after d")
	})
}

// A process that calls Stop as soon as it runs (a one-shot job that is
// done) does not fail Launch: the processes start once the App is Running.
// Repeated, because the stop races the end of Launch.
func TestHostileProcessStopDoesNotFailLaunch(t *testing.T) {
	failures := 0
	const n = 300
	for range n {
		a := &App{}
		a.AddProcess(Process{Name: "job", Run: func(context.Context) error {
			a.Stop(nil) // done
			return nil
		}}, Process{Name: "server", Run: blocker})
		if err := a.Launch(context.Background()); err != nil {
			failures++
		}
		_ = a.Shutdown()
	}
	assert.Zero(t, failures, "Launch failed %d times in %d because a started process called Stop", failures, n)
}

// Once the budget is spent (here by a stuck hook whose WithHookTimeout is
// longer than it), the stop hooks left share one last 10 ms: 50 stuck
// hooks overrun ShutdownTimeout by no more than that.
func TestHostileLastShareBoundsShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		stuck := func(context.Context) error { <-release; return nil }
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.OnShutdown(stuck, WithHookName("first"), WithHookTimeout(time.Hour))
		for i := range 50 {
			a.OnShutdown(stuck, WithHookName(fmt.Sprint("stuck", i)))
		}
		require.NoError(t, a.Launch(context.Background()))
		start := time.Now()
		_ = a.Shutdown()
		took := time.Since(start)
		close(release)
		assert.LessOrEqual(t, took, 100*time.Millisecond+lastShare, "ShutdownTimeout bounds Shutdown, give or take the last share")
	})
}
