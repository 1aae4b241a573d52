package lu

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests with errors whose own methods panic or call
// runtime.Goexit: wherever the App examines an error it did not make (a
// hook's, a process's, a context's cause, a Stop cause), such a method
// does not take the lifecycle down.

// isBomb is an error whose Is method panics (a typed nil, a buggy
// comparison).
type isBomb struct{}

func (isBomb) Error() string        { return "isBomb" }
func (isBomb) Is(target error) bool { panic("isBomb.Is") }

// errorBomb is an error whose Error method panics.
type errorBomb struct{}

func (errorBomb) Error() string { panic("errorBomb.Error") }

// callNoPanic calls f and returns what it panicked with, if it did.
func callNoPanic(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// A start hook that, once the stop was requested, returns an error whose
// Is method panics: Launch, which asks whether the failure only echoes the
// stop, returns.
func TestHostileIsPanicInAnInterruptedStartHook(t *testing.T) {
	entered := make(chan struct{})
	a := &App{}
	a.OnStartUp(func(ctx context.Context) error {
		close(entered)
		<-ctx.Done()
		return fmt.Errorf("dial aborted: %w", isBomb{})
	}, WithHookName("dial"))
	launched := make(chan any, 1)
	var err error
	go func() {
		launched <- callNoPanic(func() { err = a.Launch(context.Background()) })
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- a.Shutdown() }()
	select {
	case v := <-launched:
		require.Nil(t, v, "Launch panicked with %v: the panic of an error's Is method must be contained", v)
		assert.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Launch did not return")
	}
	<-shut
}

// Stop(nil) during a start hook, and a stop hook that fails with an error
// whose Is method panics: Launch, which looks for the stop's cause in the
// result, returns.
func TestHostileIsPanicInAStopHookAfterAnInterruptedLaunch(t *testing.T) {
	a := &App{}
	a.OnStartUp(func(ctx context.Context) error {
		a.Stop(nil)
		return nil
	}, WithHookName("stopper"))
	a.OnShutdown(func(context.Context) error { return isBomb{} }, WithHookName("flush"))
	var err error
	v := callNoPanic(func() { err = a.Launch(context.Background()) })
	require.Nil(t, v, "Launch panicked with %v: the panic of an error's Is method must be contained", v)
	assert.Error(t, err)
	assert.Equal(t, StateTerminated, a.State())
}

// A Launch context that ends by its deadline, with a cause (as
// context.WithDeadlineCause gives) whose Is method panics, does not crash
// the binary: the App stops, as for any deadline. Run in a child process,
// so that a crash fails the test instead of ending it.
func TestHostileIsPanicInTheLaunchContextCause(t *testing.T) {
	if os.Getenv("LU_ATTACK_CHILD") == "cause" {
		ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now().Add(20*time.Millisecond), isBomb{})
		defer cancel()
		a := &App{}
		a.AddProcess(Process{Name: "p", Run: blocker})
		if err := a.Launch(ctx); err != nil {
			fmt.Println("launch:", err)
		}
		<-a.WaitForShutdown()
		fmt.Println("shutdown:", a.Shutdown())
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileIsPanicInTheLaunchContextCause$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LU_ATTACK_CHILD=cause")
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "the child crashed:\n%s", out)
	assert.Contains(t, string(out), "shutdown:")
}

// Run logs why the App stops with the cause's text: a Stop cause whose
// Error method panics does not crash Run.
func TestHostileErrorPanicInAStopCause(t *testing.T) {
	a := &App{}
	a.AddProcess(Process{Name: "job", Run: func(ctx context.Context) error {
		a.Stop(errorBomb{})
		<-ctx.Done()
		return nil
	}})
	code := -1
	v := callNoPanic(func() { code = a.Run() })
	_ = a.Shutdown()
	require.Nil(t, v, "Run panicked with %v", v)
	assert.Equal(t, 1, code)
}

// isGoexit is an error whose Is method calls runtime.Goexit, as a test
// helper's t.FailNow does; errorGoexit's Error method does.
type isGoexit struct{}

func (isGoexit) Error() string { return "isGoexit" }
func (isGoexit) Is(error) bool { runtime.Goexit(); return false }

type errorGoexit struct{}

func (errorGoexit) Error() string { runtime.Goexit(); return "" }

// A process that, once stopped, returns an error whose Is method calls
// runtime.Goexit: its end is still recorded and delivered, and the Goexit
// reported.
func TestHostileGoexitInAStoppedProcessError(t *testing.T) {
	var rec recorder
	a := &App{OnEvent: rec.OnEvent}
	a.AddProcess(Process{Name: "p", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return isGoexit{}
	}})
	require.NoError(t, a.Launch(context.Background()))
	err := a.Shutdown()
	assert.ErrorIs(t, err, ErrGoexit, "the Goexit in the error's method is reported as a *PanicError")
	assert.Contains(t, rec.Events(), "ProcessEnd:p", "every ProcessStart has its ProcessEnd")
	assert.Empty(t, a.RunningProcesses(), "nothing runs after Shutdown")
	j := a.Journal()
	require.Len(t, j.Processes, 1)
	assert.False(t, j.Processes[0].Running, "the journal shows the process ended")
}

// The same while the App runs: a process fails with an error whose Error
// method calls runtime.Goexit (wrapping it calls it): the failure stops
// the App.
func TestHostileGoexitInAFailingProcessError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &App{}
		a.AddProcess(Process{Name: "p", Run: func(context.Context) error { return errorGoexit{} }},
			Process{Name: "server", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		select {
		case <-a.WaitForShutdown():
		case <-time.After(time.Hour): // fake time: a watchdog
			t.Error("a process that failed (its error's method called runtime.Goexit) did not stop the App")
		}
		assert.NotContains(t, a.RunningProcesses(), "p", "the process returned")
		err := a.Shutdown()
		assert.ErrorIs(t, err, ErrGoexit)
	})
}
