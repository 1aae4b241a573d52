package lu

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests of the start-up.

// A start hook (or a process's Start func) that calls runtime.Goexit once
// a stop has been requested (as t.FailNow does in a test helper that
// notices the cancelled context) is reported by Launch or Shutdown, as a
// panic at the same point is.
func TestHostileGoexitInAStartHookAfterAStopIsReported(t *testing.T) {
	for _, where := range []string{"start hook", "Start of process"} {
		t.Run(where, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := &App{}
				f := func(ctx context.Context) error {
					<-ctx.Done()
					runtime.Goexit()
					return nil
				}
				if where == "start hook" {
					a.OnStartUp(f, WithHookName("h"))
				} else {
					a.AddProcess(Process{Name: "h", Start: f, Run: blocker})
				}
				launched := make(chan error, 1)
				go func() { launched <- a.Launch(context.Background()) }()
				synctest.Wait()
				shutdownErr := a.Shutdown()
				launchErr := <-launched
				all := errors.Join(launchErr, shutdownErr)
				t.Logf("Launch: %v\nShutdown: %v", launchErr, shutdownErr)
				assert.ErrorIs(t, all, ErrGoexit, "the Goexit is reported by Launch or Shutdown")
				assert.ErrorContains(t, all, where+` "h" called runtime.Goexit`)
			})
		})
	}
	t.Run("a panic at the same point is reported", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := &App{}
			a.OnStartUp(func(ctx context.Context) error { <-ctx.Done(); panic("late") }, WithHookName("h"))
			launched := make(chan error, 1)
			go func() { launched <- a.Launch(context.Background()) }()
			synctest.Wait()
			shutdownErr := a.Shutdown()
			var pe *PanicError
			assert.ErrorAs(t, errors.Join(<-launched, shutdownErr), &pe)
		})
	})
}

// Callbacks are the user's own time: a start-up whose hooks were quick but
// whose callbacks were slow does not run out of StartupTimeout.
func TestHostileStartupCallbacksAreNotCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &App{StartupTimeout: 100 * time.Millisecond}
		a.OnEvent = func(_ context.Context, e Event) {
			if e.Type == PostHookStart {
				time.Sleep(200 * time.Millisecond)
			}
		}
		a.OnStartUp(nop)
		a.OnStartUp(func(ctx context.Context) error {
			dl, _ := ctx.Deadline()
			assert.Greater(t, time.Until(dl), 50*time.Millisecond, "the hook after a slow callback has its time")
			return nil
		})
		a.AddProcess(Process{Name: "p", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		require.NoError(t, a.Shutdown())
	})
}

// A stuck process Start func is named as the Start of that process.
func TestHostileStuckStartFuncIsNamedAsSuch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		a := &App{StartupTimeout: 100 * time.Millisecond}
		a.AddProcess(Process{Name: "db", Start: func(context.Context) error { <-release; return nil }, Run: blocker})
		err := a.Launch(context.Background())
		close(release)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `Start of process "db" still running after 100ms`)
	})
}

// An OnTransition registered during start-up is too late, and fails
// Launch; registered once the App runs, Shutdown returns the error.
func TestHostileLateOnTransitionFailsTheStartUp(t *testing.T) {
	a := &App{}
	a.OnStartUp(func(context.Context) error { a.OnTransition(func(JournalTransition) {}); return nil })
	a.AddProcess(Process{Name: "p", Run: blocker})
	err := a.Launch(context.Background())
	assert.ErrorIs(t, err, ErrIllegalTransition)
	assert.ErrorContains(t, err, "OnTransition in state HookStart")
	assert.Equal(t, StateTerminated, a.State())
}

// The budget is halved only for stop hooks that will run: a stop during a
// slow paired start hook, whose stop half is the only stop hook and will
// not run unless the start half succeeds, gives that start hook the whole
// of ShutdownTimeout.
func TestHostileInterruptedPairGetsTheWholeBudgetWhenNoStopHookWillRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.AddHook(Hook{Name: "slow pair",
			Start: func(context.Context) error { time.Sleep(80 * time.Millisecond); return errors.New("gave up") },
			Stop:  nop})
		launched := make(chan error, 1)
		go func() { launched <- a.Launch(context.Background()) }()
		synctest.Wait()
		err := a.Shutdown()
		<-launched
		var te *TimeoutError
		assert.False(t, errors.As(err, &te), "the start hook returned within ShutdownTimeout of the stop: %v", err)
		time.Sleep(100 * time.Millisecond) // let the abandoned hook return
	})
}

// Process Start funcs are in the journal, so the report of a forced exit
// (a second SIGTERM) names a stuck one.
func TestHostileStuckStartFuncIsInTheJournal(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	a := &App{}
	a.AddProcess(Process{Name: "db", Start: func(context.Context) error { close(started); <-release; return nil }, Run: blocker})
	launched := make(chan error, 1)
	go func() { launched <- a.Launch(context.Background()) }()
	<-started
	var out strings.Builder
	a.reportUnfinished(slog.New(slog.NewTextHandler(&out, nil)))
	close(release)
	require.NoError(t, <-launched)
	require.NoError(t, a.Shutdown())
	t.Log(out.String())
	assert.Contains(t, out.String(), "db", "the forced exit names the stuck Start of process db")
}
