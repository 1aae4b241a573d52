package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file each try to break one promise with a hostile
// caller: callbacks that panic or call runtime.Goexit, hooks that ignore
// their context, processes that stop the App they run in.

func goexit(context.Context) error {
	runtime.Goexit()
	return nil
}

// requireGoexit checks that err reports a runtime.Goexit in where.
func requireGoexit(t *testing.T, err error, where string) {
	t.Helper()
	require.ErrorIs(t, err, ErrGoexit)
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, where, pe.Where)
	assert.Contains(t, err.Error(), "lu: "+where+" called runtime.Goexit")
}

// requireEndsOnce checks that AppTerminated is the last event, once.
func requireEndsOnce(t *testing.T, events []string) {
	t.Helper()
	require.NotEmpty(t, events)
	assert.Equal(t, "AppTerminated", events[len(events)-1], "events: %v", events)
	n := 0
	for _, e := range events {
		if e == "AppTerminated" {
			n++
		}
	}
	assert.Equal(t, 1, n, "AppTerminated once: %v", events)
}

func TestGoexitIsAFailure(t *testing.T) {
	t.Run("in a start hook it fails Launch, and later start hooks do not run", func(t *testing.T) {
		var rec recorder
		var later atomic.Bool
		a := &App{OnEvent: rec.OnEvent}
		a.OnStartUp(goexit, WithHookName("fails the test"))
		a.OnStartUp(func(context.Context) error { later.Store(true); return nil }, WithHookName("later"))
		err := a.Launch(context.Background())
		requireGoexit(t, err, `start hook "fails the test"`)
		assert.False(t, later.Load())
		assert.Equal(t, StateTerminated, a.State())
		j := a.Journal()
		require.Len(t, j.StartHooks, 2)
		assert.False(t, j.StartHooks[0].Running, "the journal shows it ended")
		assert.False(t, j.StartHooks[0].Ended.IsZero())
		assert.ErrorIs(t, j.StartHooks[0].Err, ErrGoexit)
		assert.True(t, j.StartHooks[1].Started.IsZero(), "never started")
		requireEndsOnce(t, rec.Events())
	})
	t.Run("in a stop hook it is returned by Shutdown, and later stop hooks run", func(t *testing.T) {
		var rec recorder
		var later atomic.Bool
		a := &App{OnEvent: rec.OnEvent}
		a.OnShutdown(goexit, WithHookName("fails the test"))
		a.OnShutdown(func(context.Context) error { later.Store(true); return nil }, WithHookName("later"))
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		requireGoexit(t, err, `stop hook "fails the test"`)
		assert.True(t, later.Load())
		j := a.Journal()
		require.Len(t, j.StopHooks, 2)
		assert.False(t, j.StopHooks[0].Running)
		assert.ErrorIs(t, j.StopHooks[0].Err, ErrGoexit)
		assert.Contains(t, rec.Events(), "PostHookStop:later")
		requireEndsOnce(t, rec.Events())
	})
	t.Run("in a process it stops the App and is returned by Shutdown", func(t *testing.T) {
		a := &App{}
		a.AddProcess(Process{Name: "fails the test", Run: goexit}, Process{Name: "other", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		select {
		case <-a.WaitForShutdown():
		case <-time.After(10 * time.Second):
			t.Fatal("a process that called runtime.Goexit did not stop the App")
		}
		err := a.Shutdown()
		requireGoexit(t, err, `process "fails the test"`)
		j := a.Journal()
		require.Len(t, j.Processes, 2)
		assert.False(t, j.Processes[0].Running)
		assert.ErrorIs(t, j.Processes[0].Err, ErrGoexit)
	})
	t.Run("in a Shutdown func it is returned by Shutdown", func(t *testing.T) {
		a := &App{}
		a.AddProcess(Process{Name: "p", Run: blocker, Shutdown: goexit})
		require.NoError(t, a.Launch(context.Background()))
		requireGoexit(t, a.Shutdown(), `Shutdown of process "p"`)
	})
}

// callbackEvents are the events that an OnEvent callback can fail in, and
// where a failure then surfaces: in Launch's result or in Shutdown's.
var callbackEvents = []struct {
	ev        string
	inLaunch  bool
	eventType EventType
}{
	{"AppStartup", true, AppStartup},
	{"PreHookStart:h", true, PreHookStart},
	{"PostHookStart:h", true, PostHookStart},
	{"ProcessStart:p", true, ProcessStart},
	{"AppRunning", true, AppRunning},
	{"ProcessEnd:p", false, ProcessEnd},
	{"AppTerminating", false, AppTerminating},
	{"PreHookStop:x", false, PreHookStop},
	{"PostHookStop:x", false, PostHookStop},
	{"AppTerminated", false, AppTerminated},
}

// TestFailingCallbacks makes the OnEvent callback panic, or call
// runtime.Goexit, at each event in turn: the failure is contained, reported
// by Launch or Shutdown as a *PanicError, and the lifecycle carries on to
// Terminated with AppTerminated last and once.
func TestFailingCallbacks(t *testing.T) {
	for _, how := range []string{"panic", "Goexit"} {
		for _, tt := range callbackEvents {
			t.Run(how+" in "+tt.ev, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					testFailingCallback(t, how, tt.ev, tt.inLaunch)
				})
			})
		}
	}
}

func testFailingCallback(t *testing.T, how, at string, inLaunch bool) {
	var rec recorder
	var failed atomic.Bool
	a := &App{}
	a.OnEvent = func(ctx context.Context, e Event) {
		rec.OnEvent(ctx, e)
		if evs(e.Type, e.Name) == at && failed.CompareAndSwap(false, true) {
			if how == "panic" {
				panic("callback at " + at)
			}
			runtime.Goexit()
		}
	}
	a.OnStartUp(nop, WithHookName("h"))
	a.OnShutdown(nop, WithHookName("x"))
	a.AddProcess(Process{Name: "p", Run: blocker})

	launched := make(chan error, 1)
	go func() { launched <- a.Launch(context.Background()) }()
	synctest.Wait()
	var launchErr error
	select {
	case launchErr = <-launched:
	default:
		require.Equal(t, "Goexit", how, "only a Goexit on the Launch goroutine keeps Launch from returning")
		require.True(t, inLaunch)
	}
	shutdownErr := a.Shutdown()
	require.True(t, failed.Load())
	assert.Equal(t, StateTerminated, a.State())
	requireEndsOnce(t, rec.Events())

	err := shutdownErr
	if inLaunch && launchErr != nil {
		err = launchErr
	}
	var pe *PanicError
	require.ErrorAs(t, err, &pe, "Launch: %v; Shutdown: %v", launchErr, shutdownErr)
	assert.Contains(t, pe.Where, "OnEvent")
	if how == "Goexit" {
		assert.ErrorIs(t, err, ErrGoexit)
	} else {
		assert.Equal(t, "callback at "+at, pe.Value)
	}
	if inLaunch && how == "panic" {
		assert.Error(t, launchErr, "a callback failing during start-up fails Launch")
	}
	assert.Empty(t, a.RunningProcesses())
}

// slowHandler is a slog handler that takes its time over every record.
type slowHandler struct{ d time.Duration }

func (h slowHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h slowHandler) Handle(context.Context, slog.Record) error {
	time.Sleep(h.d)
	return nil
}
func (h slowHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h slowHandler) WithGroup(string) slog.Handler      { return h }

func TestSlowLoggerNeverReordersTheEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		a := &App{OnEvent: rec.OnEvent, ShutdownTimeout: 50 * time.Millisecond,
			Logger: slog.New(slowHandler{150 * time.Millisecond})}
		a.AddProcess(Process{Name: "p", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		assert.NoError(t, err, "a process that returned promptly is not stuck")
		ev := rec.Events()
		requireEndsOnce(t, ev)
		assert.Contains(t, ev, "ProcessEnd:p")
		assert.Empty(t, a.RunningProcesses())
		synctest.Wait()
		assert.Equal(t, ev, rec.Events(), "nothing after AppTerminated")
	})
}

func TestShutdownDuringAStuckStartHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		var rec recorder
		a := &App{OnEvent: rec.OnEvent, StartupTimeout: 2 * time.Second, ShutdownTimeout: 100 * time.Millisecond}
		a.OnStartUp(func(context.Context) error { <-release; return nil }, WithHookName("ignores its context"))
		a.OnStartUp(nop, WithHookName("next"))
		launched := make(chan error, 1)
		go func() { launched <- a.Launch(context.Background()) }()
		time.Sleep(time.Second)
		called := time.Now()
		err := a.Shutdown()
		assert.Equal(t, 100*time.Millisecond, time.Since(called), "Shutdown returns within ShutdownTimeout")
		var te *TimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "ignores its context", te.Hook)
		assert.Equal(t, StateHookStart, te.State, "the state the hook was in")
		assert.Equal(t, []string{"next"}, te.NotStarted)
		assert.Contains(t, err.Error(), `state HookStart: hook "ignores its context" still running`)
		launchErr := <-launched
		assert.ErrorIs(t, launchErr, context.Canceled, "Launch says Shutdown interrupted it")
		assert.ErrorAs(t, launchErr, &te)
		assert.Equal(t, StateTerminated, a.State())
		requireEndsOnce(t, rec.Events())
	})
}

func TestAStuckStopHookDoesNotStarveTheNext(t *testing.T) {
	t.Run("each hook has its share of the budget left", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			stuck := func(context.Context) error { <-release; return nil }
			var ran []string
			note := func(name string) ProcessFunc {
				return func(context.Context) error { ran = append(ran, name); return nil }
			}
			a := &App{ShutdownTimeout: 900 * time.Millisecond}
			a.OnShutdown(stuck, WithHookName("first stuck"))
			a.OnShutdown(note("a"), WithHookName("a"))
			a.OnShutdown(stuck, WithHookName("second stuck"))
			a.OnShutdown(note("b"), WithHookName("b"))
			require.NoError(t, a.Launch(context.Background()))
			start := time.Now()
			err := a.Shutdown()
			assert.LessOrEqual(t, time.Since(start), 900*time.Millisecond)
			assert.Equal(t, []string{"a", "b"}, ran)
			var names []string
			for _, e := range unwrapAll(err) {
				var te *TimeoutError
				if errors.As(e, &te) {
					names = append(names, te.Hook)
				}
			}
			assert.Equal(t, []string{"first stuck", "second stuck"}, names)
			var te *TimeoutError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, 225*time.Millisecond, te.Running, "900ms shared by 4")
			assert.True(t, stopHookEntry(t, a, "first stuck").Running, "the journal shows it still runs")
		})
	})
	t.Run("a budget of 1ns still runs every hook and names the stuck one", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			var ran atomic.Int32
			a := &App{ShutdownTimeout: time.Nanosecond}
			a.OnShutdown(func(context.Context) error { <-release; return nil }, WithHookName("stuck"))
			for range 3 {
				a.OnShutdown(func(context.Context) error { ran.Add(1); return nil })
			}
			require.NoError(t, a.Launch(context.Background()))
			err := a.Shutdown()
			assert.Equal(t, int32(3), ran.Load())
			var te *TimeoutError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "stuck", te.Hook)
			assert.Equal(t, StateHookStop, te.State)
		})
	})
}

// unwrapAll returns the errors joined in err, or err itself.
func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func stopHookEntry(t *testing.T, a *App, name string) JournalEntry {
	t.Helper()
	for _, e := range a.Journal().StopHooks {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no stop hook %q in the journal", name)
	return JournalEntry{}
}

func TestStop(t *testing.T) {
	t.Run("a process ends the App when its job is done", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := &App{ShutdownTimeout: time.Minute}
			a.AddProcess(Process{Name: "job", Run: func(context.Context) error {
				a.Stop(nil) // returns at once: the stop waits for this process
				return nil
			}}, Process{Name: "server", Run: blocker})
			require.NoError(t, a.Launch(context.Background()))
			<-a.WaitForShutdown()
			start := time.Now()
			assert.NoError(t, a.Shutdown(), "a nil cause is a clean stop")
			assert.Zero(t, time.Since(start), "nothing waited for a deadline")
		})
	})
	t.Run("a cause is returned by Shutdown and seen by the processes", func(t *testing.T) {
		errDone := errors.New("job done badly")
		causes := make(chan error, 1)
		a := &App{}
		a.AddProcess(Process{Name: "p", Run: func(ctx context.Context) error {
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return context.Cause(ctx)
		}})
		require.NoError(t, a.Launch(context.Background()))
		a.Stop(errDone)
		a.Stop(errors.New("second")) // only the first counts
		err := a.Shutdown()
		require.ErrorIs(t, err, errDone)
		assert.NotContains(t, err.Error(), "second")
		assert.ErrorIs(t, <-causes, errDone)
	})
	t.Run("from an OnEvent callback and from hooks", func(t *testing.T) {
		a := &App{}
		a.OnEvent = func(_ context.Context, e Event) {
			if e.Type == AppRunning {
				a.Stop(nil)
			}
		}
		a.OnShutdown(func(context.Context) error { a.Stop(errors.New("ignored")); return nil })
		require.NoError(t, a.Launch(context.Background()))
		<-a.WaitForShutdown()
		assert.NoError(t, a.Shutdown())
	})
	t.Run("from a start hook it makes Launch fail", func(t *testing.T) {
		a := &App{}
		a.OnStartUp(func(context.Context) error { a.Stop(nil); return nil })
		a.OnStartUp(func(context.Context) error { t.Error("ran after Stop"); return nil })
		err := a.Launch(context.Background())
		assert.ErrorIs(t, err, errStopCalled)
		assert.NoError(t, a.Shutdown())
	})
	t.Run("before Launch and on a nil App it does nothing", func(t *testing.T) {
		a := &App{}
		a.Stop(errors.New("early"))
		NoApp().Stop(nil)
		require.NoError(t, a.Launch(context.Background()))
		assert.Equal(t, StateRunning, a.State())
		require.NoError(t, a.Shutdown())
	})
}

func TestShutdownOnlyProcesses(t *testing.T) {
	var rec recorder
	var closed atomic.Int32
	a := &App{OnEvent: rec.OnEvent}
	a.AddProcess(Process{Name: "pool", Shutdown: func(context.Context) error { closed.Add(1); return nil }})
	a.AddProcess(Process{Name: "worker", Run: blocker})
	before := runtime.NumGoroutine()
	require.NoError(t, a.Launch(context.Background()))
	assert.Equal(t, []string{"worker"}, a.RunningProcesses())
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+1, "no goroutine for a process without Run")
	require.NoError(t, a.Shutdown())
	assert.Equal(t, int32(1), closed.Load())
	assert.NotContains(t, rec.Events(), "ProcessStart:pool")
	assert.NotContains(t, rec.Events(), "ProcessEnd:pool")
	assert.Len(t, a.GetProcesses(), 2)
}

func TestLaunchContextDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		a := &App{}
		a.AddProcess(Process{Name: "p", Run: blocker})
		require.NoError(t, a.Launch(ctx))
		<-a.WaitForShutdown()
		err := a.Shutdown()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "a deadline is not a clean stop")
	})
	t.Run("a cancelled context is a clean stop", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		a := &App{}
		a.AddProcess(Process{Name: "p", Run: blocker})
		require.NoError(t, a.Launch(ctx))
		cancel()
		<-a.WaitForShutdown()
		assert.NoError(t, a.Shutdown())
	})
}

func TestStopHooksRunOnlyIfTheStartHooksBegan(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, a *App) context.Context
		stopOK bool
	}{
		{"the process file is held by a live process", func(t *testing.T, a *App) context.Context {
			a.UseProcessFile, a.ProcessFile = true, t.TempDir()+"/held.pid"
			holder := &App{UseProcessFile: true, ProcessFile: a.ProcessFile}
			require.NoError(t, holder.Launch(context.Background()))
			t.Cleanup(func() { _ = holder.Shutdown() })
			return context.Background()
		}, false},
		{"the Launch context is already done", func(t *testing.T, a *App) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, false},
		{"Shutdown from the AppStartup callback", func(t *testing.T, a *App) context.Context {
			a.OnEvent = func(_ context.Context, e Event) {
				if e.Type == AppStartup {
					a.Stop(nil)
				}
			}
			return context.Background()
		}, false},
		{"a start hook failed", func(t *testing.T, a *App) context.Context {
			a.OnStartUp(func(context.Context) error { return errors.New("no") })
			return context.Background()
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var started, stopped atomic.Bool
			a := &App{}
			ctx := tt.setup(t, a)
			a.OnStartUp(func(context.Context) error { started.Store(true); return nil })
			a.OnShutdown(func(context.Context) error { stopped.Store(true); return nil })
			require.Error(t, a.Launch(ctx))
			assert.False(t, started.Load(), "no start hook ran")
			assert.Equal(t, tt.stopOK, stopped.Load(), "stop hooks ran")
			assert.Equal(t, StateTerminated, a.State())
		})
	}
}

func TestPairedHooks(t *testing.T) {
	var log []string
	note := func(s string, err error) ProcessFunc {
		return func(context.Context) error { log = append(log, s); return err }
	}
	a := &App{}
	a.AddHook(Hook{Name: "db", Start: note("open db", nil), Stop: note("close db", nil)},
		WithHookPriority(HookPriorityFirst))
	a.AddHook(Hook{Name: "cache", Start: note("open cache", errors.New("no cache")), Stop: note("close cache", nil)})
	a.AddHook(Hook{Name: "queue", Start: note("open queue", nil), Stop: note("close queue", nil)},
		WithHookPriority(HookPriorityLast))
	a.OnShutdown(note("flush", nil), WithHookPriority(-50))
	err := a.Launch(context.Background())
	require.ErrorContains(t, err, "no cache")
	assert.Equal(t, []string{"open db", "open cache", "close db", "flush"}, log,
		"a stop half runs only if its start half succeeded, in priority order")

	t.Run("a nil half is an error", func(t *testing.T) {
		a := &App{}
		a.AddHook(Hook{Name: "half", Start: nop})
		assert.ErrorContains(t, a.Launch(context.Background()), `AddHook: hook "half" has a nil func`)
	})
	t.Run("too late once the start hooks began", func(t *testing.T) {
		a := &App{}
		a.OnStartUp(func(context.Context) error { a.AddHook(Hook{Name: "late", Start: nop, Stop: nop}); return nil })
		assert.ErrorContains(t, a.Launch(context.Background()), `hook "late" will never run`)
	})
}

func TestReadOnlyMethodsAcceptANilApp(t *testing.T) {
	a := NoApp()
	assert.NotPanics(t, func() {
		assert.Equal(t, StateIdle, a.State())
		assert.Nil(t, a.RunningProcesses())
		assert.Nil(t, a.GetProcesses())
		assert.Nil(t, a.WaitForShutdown())
		assert.Equal(t, Journal{}, a.Journal())
		assert.Contains(t, a.Graph(), "Idle -> Startup")
		code, _ := probe(t, a.LivenessHandler())
		assert.Equal(t, 503, code)
		code, _ = probe(t, a.ReadinessHandler())
		assert.Equal(t, 503, code)
		a.Stop(nil)
	})
	assert.ErrorIs(t, a.Shutdown(), ErrIllegalTransition)
	assert.EqualError(t, a.Launch(context.Background()), "lu: Launch on a nil App")
}

func TestPanicErrorIsOneLine(t *testing.T) {
	a := &App{}
	a.AddProcess(Process{Name: "p", Run: func(context.Context) error { panic("boom") }})
	require.NoError(t, a.Launch(context.Background()))
	<-a.WaitForShutdown()
	err := a.Shutdown()
	assert.Equal(t, `lu: panic in process "p": boom`, err.Error())
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, string(pe.Stack), "TestPanicErrorIsOneLine")
	assert.Contains(t, fmt.Sprintf("%+v", pe), "TestPanicErrorIsOneLine", "%+v prints the stack")
	assert.NotContains(t, fmt.Sprintf("%v", pe), "\n")

	multi := &PanicError{Where: `process "p"`, Value: "line one\nline two"}
	assert.Equal(t, `lu: panic in process "p": line one\nline two`, multi.Error())
}

func TestTheJournalShowsWhatWasAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		a := &App{ShutdownTimeout: time.Second}
		a.OnShutdown(func(context.Context) error { <-release; return nil }, WithHookName("stuck hook"))
		a.AddProcess(Process{Name: "stuck process", Run: func(context.Context) error { <-release; return nil }})
		require.NoError(t, a.Launch(context.Background()))
		require.ErrorIs(t, a.Shutdown(), context.DeadlineExceeded)
		j := a.Journal()
		require.Len(t, j.StopHooks, 1)
		require.Len(t, j.Processes, 1)
		for _, e := range []JournalEntry{j.StopHooks[0], j.Processes[0]} {
			assert.True(t, e.Abandoned, e.Name)
			assert.True(t, e.Running, "%s still runs", e.Name)
		}
		close(release)
		synctest.Wait()
		j = a.Journal()
		for _, e := range []JournalEntry{j.StopHooks[0], j.Processes[0]} {
			assert.True(t, e.Abandoned, e.Name)
			assert.False(t, e.Running, "%s has returned since", e.Name)
			assert.False(t, e.Ended.IsZero(), e.Name)
		}
	})
}
