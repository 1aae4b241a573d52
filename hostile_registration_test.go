package lu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests of registration and configuration.

// After a start-up that failed before the processes were taken, a process
// added (by a stop hook, say) is too late to run: an error that Shutdown
// returns, never a process silently accepted.
func TestHostileAddProcessAfterAFailedStartIsAnError(t *testing.T) {
	t.Run("from a stop hook after a start hook failed", func(t *testing.T) {
		a := &App{}
		a.OnStartUp(func(context.Context) error { return errors.New("no database") })
		a.OnShutdown(func(context.Context) error {
			a.AddProcess(Process{Name: "late", Run: blocker})
			return nil
		})
		launchErr := a.Launch(context.Background())
		require.ErrorContains(t, launchErr, "no database")
		all := errors.Join(launchErr, a.Shutdown())
		assert.ErrorContains(t, all, `"late"`, "a process added too late to run is an error")
		t.Logf("GetProcesses lists it: %d process(es)", len(a.GetProcesses()))
	})
	t.Run("after a Launch whose context was already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		a := &App{}
		require.Error(t, a.Launch(ctx))
		require.Equal(t, StateTerminated, a.State())
		a.AddProcess(Process{Name: "after the end", Run: blocker})
		a.OnShutdown(nop, WithHookName("after the end"))
		a.mu.Lock()
		errs := len(a.reg.errs)
		a.mu.Unlock()
		assert.Equal(t, 2, errs, "both registrations on a Terminated App are recorded as errors, not only the hook")
	})
}

// A Launch refused for a configuration error leaves the App as it was:
// launching again fails the same way.
func TestHostileRelaunchAfterAConfigurationErrorFailsAgain(t *testing.T) {
	a := &App{}
	a.OnStartUp(nil, WithHookName("nil"))
	a.OnShutdown(nop, WithHookName("negative"), WithHookTimeout(-time.Second))
	err := a.Launch(context.Background())
	require.ErrorContains(t, err, "nil func")
	require.Equal(t, StateIdle, a.State())
	err = a.Launch(context.Background())
	assert.Error(t, err, "the configuration is as wrong as before")
	if err == nil {
		_ = a.Shutdown()
	}
}

// Nil arguments are errors that name the problem, never panics: a nil
// HookOption is reported by Launch; registrations on a nil App are
// dropped, as NoApp documents.
func TestHostileNilArguments(t *testing.T) {
	a := &App{}
	assert.NotPanics(t, func() { a.OnStartUp(nop, nil) })
	assert.NotPanics(t, func() { a.OnShutdown(nop, WithHookName("x"), nil) })
	// Registration on a nil App does nothing, AddProcess included.
	assert.NotPanics(t, func() { NoApp().OnStartUp(nop) })
	assert.NotPanics(t, func() { NoApp().AddProcess(Process{Name: "p", Run: blocker}) }, "as OnStartUp on a nil App")
}

// A process whose Run returns, once stopped, an error whose own Is method
// panics (a typed nil pointer) does not crash the binary: telling whether
// it stopped as asked calls that method, and its panic is contained as a
// *PanicError, as the same error from a stop hook is returned.
type isErr struct{ code int }

func (e *isErr) Error() string        { return "isErr" }
func (e *isErr) Is(target error) bool { return e.code == 1 } // nil receiver: panics

func TestHostileErrorMethodPanicInAStoppedProcess(t *testing.T) {
	if os.Getenv("LU_hostile caller_CHILD") == "1" {
		a := &App{}
		a.AddProcess(Process{Name: "p", Run: func(ctx context.Context) error {
			<-ctx.Done()
			var err *isErr
			return err
		}})
		if err := a.Launch(context.Background()); err != nil {
			os.Exit(3)
		}
		_ = a.Shutdown()
		os.Exit(0)
	}
	t.Run("stop hook: returned", func(t *testing.T) {
		a := &App{}
		a.OnShutdown(func(context.Context) error { var err *isErr; return err }, WithHookName("h"))
		require.NoError(t, a.Launch(context.Background()))
		assert.Error(t, a.Shutdown())
	})
	t.Run("process: crashes the binary", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHostileErrorMethodPanicInAStoppedProcess$")
		cmd.Env = append(os.Environ(), "LU_hostile caller_CHILD=1")
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "the App contains the failure; the child said:\n%.1200s", out)
	})
}
