package lu

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZeroValue(t *testing.T) {
	t.Run("launches and shuts down", func(t *testing.T) {
		var a App
		require.NoError(t, a.Launch(context.Background()))
		assert.Equal(t, StateRunning, a.State())
		require.NoError(t, a.Shutdown())
		assert.Equal(t, StateTerminated, a.State())
		assert.Equal(t, 15*time.Second, a.StartupTimeout)
		assert.Equal(t, 15*time.Second, a.ShutdownTimeout)
	})
	t.Run("shutdown timeout defaults to 15s", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			var a App
			a.OnShutdown(func(context.Context) error { <-release; return nil }, WithHookName("stuck"))
			require.NoError(t, a.Launch(context.Background()))
			start := time.Now()
			err := a.Shutdown()
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, 15*time.Second, time.Since(start))
		})
	})
	t.Run("startup timeout defaults to 15s", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			var a App
			a.OnStartUp(func(context.Context) error { <-release; return nil }, WithHookName("stuck"))
			start := time.Now()
			err := a.Launch(context.Background())
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, 15*time.Second, time.Since(start))
		})
	})
}

func TestEventsOfANormalRun(t *testing.T) {
	var rec recorder
	a := &App{OnEvent: rec.OnEvent}
	a.OnStartUp(nop, WithHookName("s1"))
	a.OnStartUp(nop, WithHookName("s2"))
	a.OnShutdown(nop, WithHookName("x1"))
	a.OnShutdown(nop, WithHookName("x2"))
	a.AddProcess(Process{Name: "p1", Run: blocker}, Process{Name: "p2", Run: blocker})
	require.NoError(t, a.Launch(context.Background()))
	require.NoError(t, a.Shutdown())

	got := rec.Events()
	require.Len(t, got, 16)
	assert.Equal(t, []string{
		"AppStartup",
		"PreHookStart:s1", "PostHookStart:s1", "PreHookStart:s2", "PostHookStart:s2",
		"ProcessStart:p1", "ProcessStart:p2",
		"AppRunning",
		"AppTerminating",
	}, got[:9])
	assert.ElementsMatch(t, []string{"ProcessEnd:p1", "ProcessEnd:p2"}, got[9:11])
	assert.Equal(t, []string{
		"PreHookStop:x1", "PostHookStop:x1", "PreHookStop:x2", "PostHookStop:x2",
		"AppTerminated",
	}, got[11:])
}

func TestEventTypeString(t *testing.T) {
	tests := []struct {
		t    EventType
		want string
	}{
		{Unknown, "Unknown"}, {AppStartup, "AppStartup"}, {PreHookStart, "PreHookStart"},
		{PostHookStart, "PostHookStart"}, {AppRunning, "AppRunning"}, {ProcessStart, "ProcessStart"},
		{ProcessEnd, "ProcessEnd"}, {AppTerminating, "AppTerminating"}, {PreHookStop, "PreHookStop"},
		{PostHookStop, "PostHookStop"}, {AppTerminated, "AppTerminated"}, {EventType(99), "EventType(99)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.t.String())
	}
}

func TestHookOrder(t *testing.T) {
	tests := []struct {
		name  string
		hooks []HookPriority // registration order; the name is the index
		want  []string
	}{
		{"registration order", []HookPriority{0, 0, 0}, []string{"0", "1", "2"}},
		{"lower priority first", []HookPriority{HookPriorityLast, 0, HookPriorityFirst}, []string{"2", "1", "0"}},
		{"ties keep registration order", []HookPriority{5, -5, 5, -5, 0}, []string{"1", "3", "4", "0", "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var ran []string
			a := &App{}
			for i, p := range tt.hooks {
				name := fmt.Sprint(i)
				f := func(context.Context) error {
					mu.Lock()
					defer mu.Unlock()
					ran = append(ran, name)
					return nil
				}
				a.OnStartUp(f, WithHookName(name), WithHookPriority(p))
				a.OnShutdown(f, WithHookPriority(p), WithHookName(name))
			}
			require.NoError(t, a.Launch(context.Background()))
			require.NoError(t, a.Shutdown())
			assert.Equal(t, append(slices.Clone(tt.want), tt.want...), ran)
		})
	}
}

func TestWithHookPriorityRange(t *testing.T) {
	for _, p := range []HookPriority{HookPriorityFirst, -1, HookPriorityDefault, 1, HookPriorityLast} {
		assert.NotPanics(t, func() { WithHookPriority(p) }, "priority %d", p)
	}
	for _, p := range []HookPriority{HookPriorityFirst - 1, HookPriorityLast + 1, -1000, 1000} {
		assert.PanicsWithValue(t,
			fmt.Sprintf("lu: hook priority %d outside [HookPriorityFirst, HookPriorityLast] = [-100, 100]", p),
			func() { WithHookPriority(p) })
	}
}

func TestPprofLabels(t *testing.T) {
	labels := make(chan string, 3)
	label := func(ctx context.Context, key string) {
		v, _ := pprof.Label(ctx, key)
		labels <- key + "=" + v
	}
	a := &App{}
	a.OnStartUp(func(ctx context.Context) error { label(ctx, "lu_hook"); return nil }, WithHookName("db"))
	a.OnShutdown(func(ctx context.Context) error { label(ctx, "lu_hook"); return nil }, WithHookName("close"))
	a.AddProcess(Process{Name: "worker", Run: func(ctx context.Context) error {
		label(ctx, "lu_process")
		return blocker(ctx)
	}})
	require.NoError(t, a.Launch(context.Background()))
	require.NoError(t, a.Shutdown())
	close(labels)
	var got []string
	for l := range labels {
		got = append(got, l)
	}
	assert.Equal(t, []string{"lu_hook=db", "lu_process=worker", "lu_hook=close"}, got)
}

func TestProcessEnd(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		run     ProcessFunc
		check   func(t *testing.T, err error)
		stopped bool
	}{
		{"an error stops the app and is returned", func(context.Context) error { return boom },
			func(t *testing.T, err error) { assert.ErrorIs(t, err, boom) }, true},
		{"a panic stops the app and is returned with its stack", func(context.Context) error { panic(boom) },
			func(t *testing.T, err error) {
				var pe *PanicError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, boom, pe.Value)
				assert.Contains(t, string(pe.Stack), "TestProcessEnd")
				assert.ErrorIs(t, err, boom)
				assert.Contains(t, err.Error(), `process "p"`)
			}, true},
		{"a panic with a non-error value", func(context.Context) error { panic("oops") },
			func(t *testing.T, err error) {
				var pe *PanicError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, "oops", pe.Value)
			}, true},
		{"nil ends quietly and the app keeps running", func(context.Context) error { return nil },
			func(t *testing.T, err error) { assert.NoError(t, err) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			a := &App{OnEvent: rec.OnEvent}
			a.AddProcess(Process{Name: "p", Run: tt.run}, Process{Name: "other", Run: blocker})
			require.NoError(t, a.Launch(context.Background()))
			if tt.stopped {
				select {
				case <-a.WaitForShutdown():
				case <-time.After(10 * time.Second):
					t.Fatal("WaitForShutdown did not close")
				}
			} else {
				require.Eventually(t, func() bool { return slices.Contains(rec.Events(), "ProcessEnd:p") },
					10*time.Second, time.Millisecond)
				select {
				case <-a.WaitForShutdown():
					t.Fatal("a process returning nil stopped the app")
				default:
				}
				assert.Equal(t, StateRunning, a.State())
				assert.Equal(t, []string{"other"}, a.RunningProcesses())
			}
			err := a.Shutdown()
			tt.check(t, err)
			assert.Equal(t, err, a.Shutdown(), "every call returns the same result")
			assert.Equal(t, "AppTerminated", rec.Events()[len(rec.Events())-1])
		})
	}
}

func TestShutdownOrder(t *testing.T) {
	var mu sync.Mutex
	var log []string
	note := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, s)
	}
	errShutA, errRun, errHook1, errHook2 := errors.New("shut a"), errors.New("run b"), errors.New("hook 1"), errors.New("hook 2")

	// Each Shutdown func waits for the other to have started: they can only
	// both return if they run at the same time.
	var both sync.WaitGroup
	both.Add(2)
	procs := func(name string, shutErr, runErr error) Process {
		ctxs := make(chan context.Context, 1)
		return Process{
			Name: name,
			Run: func(ctx context.Context) error {
				ctxs <- ctx
				<-ctx.Done()
				note("return " + name)
				if runErr != nil {
					return runErr
				}
				return ctx.Err()
			},
			Shutdown: func(context.Context) error {
				ctx := <-ctxs
				both.Done()
				both.Wait()
				assert.NoError(t, ctx.Err(), "Run's context is cancelled only after Shutdown funcs returned")
				note("shutdown " + name)
				return shutErr
			},
		}
	}
	a := &App{}
	a.AddProcess(procs("a", errShutA, nil), procs("b", nil, errRun))
	a.OnShutdown(func(context.Context) error { note("hook 1"); return errHook1 })
	a.OnShutdown(func(context.Context) error { note("hook 2"); return errHook2 })
	require.NoError(t, a.Launch(context.Background()))
	err := a.Shutdown()
	for _, want := range []error{errShutA, errRun, errHook1, errHook2} {
		assert.ErrorIs(t, err, want)
	}
	require.Len(t, log, 6)
	assert.ElementsMatch(t, []string{"shutdown a", "shutdown b"}, log[0:2])
	assert.ElementsMatch(t, []string{"return a", "return b"}, log[2:4])
	assert.Equal(t, []string{"hook 1", "hook 2"}, log[4:])
}

func TestShutdownTimeout(t *testing.T) {
	t.Run("a process that will not stop", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			var rec recorder
			a := &App{OnEvent: rec.OnEvent, ShutdownTimeout: 10 * time.Second}
			a.AddProcess(Process{Name: "stubborn", Run: func(context.Context) error { <-release; return nil }})
			a.AddProcess(Process{Name: "polite", Run: blocker})
			var hookLeft time.Duration
			a.OnShutdown(func(ctx context.Context) error {
				d, ok := ctx.Deadline()
				require.True(t, ok)
				hookLeft = time.Until(d)
				return ctx.Err()
			}, WithHookName("release db"))
			require.NoError(t, a.Launch(context.Background()))
			start := time.Now()
			err := a.Shutdown()
			assert.LessOrEqual(t, time.Since(start), 10*time.Second)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			var te *TimeoutError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, StateTerminating, te.State)
			assert.Equal(t, []string{"stubborn"}, te.Processes)
			assert.Contains(t, err.Error(), `"stubborn"`)
			assert.Contains(t, err.Error(), "Terminating")
			assert.Equal(t, 5*time.Second, hookLeft, "stop hooks keep half the budget")
			assert.Equal(t, []string{"stubborn"}, a.RunningProcesses())
			assert.Equal(t, StateTerminated, a.State())
			ev := rec.Events()
			assert.Equal(t, "AppTerminated", ev[len(ev)-1])
			assert.NotContains(t, ev, "ProcessEnd:stubborn")
			assert.Contains(t, ev, "PostHookStop:release db")
		})
	})
	t.Run("a stop hook that will not stop", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			defer free()
			var rec recorder
			a := &App{OnEvent: rec.OnEvent, ShutdownTimeout: 4 * time.Second}
			a.OnShutdown(func(context.Context) error { <-release; return nil }, WithHookName("stuck"))
			a.OnShutdown(nop, WithHookName("after"))
			require.NoError(t, a.Launch(context.Background()))
			start := time.Now()
			err := a.Shutdown()
			assert.Equal(t, 2*time.Second, time.Since(start), "the stuck hook had its share, half of the budget")
			var te *TimeoutError
			require.ErrorAs(t, err, &te)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, StateHookStop, te.State)
			assert.Equal(t, "stuck", te.Hook)
			assert.Equal(t, 2*time.Second, te.Running)
			assert.Contains(t, err.Error(), `hook "stuck" still running after 2s`)
			assert.Equal(t, StateTerminated, a.State())
			assert.Equal(t, []string{"AppStartup", "AppRunning", "AppTerminating", "PreHookStop:stuck",
				"PreHookStop:after", "PostHookStop:after", "AppTerminated"}, rec.Events())
			free()
			synctest.Wait()
			assert.Equal(t, "AppTerminated", rec.Events()[len(rec.Events())-1], "nothing after AppTerminated")
		})
	})
}

func TestFailedLaunch(t *testing.T) {
	errHook, errStop := errors.New("start hook failed"), errors.New("stop hook failed")
	tests := []struct {
		name  string
		setup func(a *App)
		ctx   func() context.Context
		want  []error
	}{
		{"a start hook error", func(a *App) {
			a.OnStartUp(func(context.Context) error { return errHook }, WithHookName("h"))
		}, context.Background, []error{errHook}},
		{"a start hook panic", func(a *App) {
			a.OnStartUp(func(context.Context) error { panic(errHook) }, WithHookName("h"))
		}, context.Background, []error{errHook}},
		{"the start-up deadline", func(a *App) {
			a.StartupTimeout = time.Millisecond
			a.OnStartUp(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, WithHookName("h"))
		}, context.Background, []error{context.DeadlineExceeded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			var ran, stopped atomic.Bool
			a := &App{OnEvent: rec.OnEvent}
			a.AddProcess(Process{Name: "p", Run: func(ctx context.Context) error { ran.Store(true); return blocker(ctx) }})
			a.OnShutdown(func(context.Context) error { stopped.Store(true); return errStop })
			tt.setup(a)
			err := a.Launch(tt.ctx())
			for _, w := range append(tt.want, errStop) {
				assert.ErrorIs(t, err, w)
			}
			assert.False(t, ran.Load(), "no process started")
			assert.True(t, stopped.Load(), "stop hooks ran")
			assert.Equal(t, StateTerminated, a.State())
			ev := rec.Events()
			assert.Equal(t, "AppTerminated", ev[len(ev)-1])
			assert.NotContains(t, ev, "AppRunning")
			assert.NotContains(t, ev, "ProcessStart:p")
			assert.Empty(t, a.RunningProcesses())
		})
	}
}

func TestStartupTimeoutWithStuckHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		a := &App{StartupTimeout: 3 * time.Second}
		a.OnStartUp(func(context.Context) error { <-release; return nil }, WithHookName("dial"))
		start := time.Now()
		err := a.Launch(context.Background())
		assert.Equal(t, 3*time.Second, time.Since(start))
		var te *TimeoutError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, "dial", te.Hook)
		assert.Equal(t, StateHookStart, te.State)
		assert.Equal(t, StateTerminated, a.State())
	})
}

func TestConcurrentShutdown(t *testing.T) {
	var rec recorder
	var stops atomic.Int32
	errStop := errors.New("stop")
	a := &App{OnEvent: rec.OnEvent}
	a.AddProcess(Process{Name: "p", Run: blocker})
	a.OnShutdown(func(context.Context) error { stops.Add(1); return errStop })
	require.NoError(t, a.Launch(context.Background()))

	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = a.Shutdown() })
	}
	wg.Wait()
	assert.Equal(t, int32(1), stops.Load())
	for _, err := range errs {
		require.ErrorIs(t, err, errStop)
		assert.Same(t, errs[0], err)
	}
	terminated := 0
	for _, e := range rec.Events() {
		if e == "AppTerminated" {
			terminated++
		}
	}
	assert.Equal(t, 1, terminated)
	assert.Same(t, errs[0], a.Shutdown(), "and again later")
}

func TestShutdownDuringStartup(t *testing.T) {
	var rec recorder
	var ran, stopped atomic.Bool
	inHook := make(chan struct{})
	a := &App{OnEvent: rec.OnEvent}
	a.OnStartUp(func(ctx context.Context) error {
		close(inHook)
		<-ctx.Done()
		return context.Cause(ctx)
	}, WithHookName("slow"))
	a.AddProcess(Process{Name: "p", Run: func(ctx context.Context) error { ran.Store(true); return blocker(ctx) }})
	a.OnShutdown(func(context.Context) error { stopped.Store(true); return nil })

	shutdown := make(chan error)
	go func() {
		<-inHook
		shutdown <- a.Shutdown()
	}()
	err := a.Launch(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NoError(t, <-shutdown)
	assert.False(t, ran.Load())
	assert.True(t, stopped.Load())
	assert.Equal(t, StateTerminated, a.State())
	assert.Empty(t, a.RunningProcesses())
	ev := rec.Events()
	assert.Equal(t, "AppTerminated", ev[len(ev)-1])
}

func TestCancelledLaunchContextStopsTheApp(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	causes := make(chan error, 1)
	a := &App{}
	a.AddProcess(Process{Name: "p", Run: func(ctx context.Context) error {
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return ctx.Err()
	}})
	require.NoError(t, a.Launch(ctx))
	why := errors.New("deploy")
	cancel(why)
	select {
	case <-a.WaitForShutdown():
	case <-time.After(10 * time.Second):
		t.Fatal("WaitForShutdown did not close")
	}
	require.NoError(t, a.Shutdown())
	assert.ErrorIs(t, <-causes, why, "the process sees why it was stopped")
	assert.Equal(t, StateTerminated, a.State())
}

func TestCallbacksMayCallTheApp(t *testing.T) {
	a := &App{}
	var seen []string
	a.OnEvent = func(_ context.Context, e Event) {
		seen = append(seen, fmt.Sprintf("%v %v %v %d", e.Type, a.State(), a.RunningProcesses(), len(a.GetProcesses())))
	}
	a.AddProcess(Process{Name: "p", Run: blocker})
	require.NoError(t, a.Launch(context.Background()))
	require.NoError(t, a.Shutdown())
	assert.Equal(t, []string{
		"AppStartup Startup [] 1",
		"ProcessStart Running [p] 1",
		"AppRunning Running [p] 1",
		"AppTerminating Terminating [p] 1",
		"ProcessEnd Terminating [p] 1",
		"AppTerminated Terminated [] 1",
	}, seen)
}

func TestQueriesNeverPanic(t *testing.T) {
	for _, a := range []*App{{}, NoApp()} {
		assert.NotPanics(t, func() {
			assert.Equal(t, StateIdle, a.State())
			assert.Empty(t, a.RunningProcesses())
			assert.Empty(t, a.GetProcesses())
			select {
			case <-a.WaitForShutdown():
				t.Error("closed before Launch")
			default:
			}
		})
	}
	assert.ErrorIs(t, NoApp().Shutdown(), ErrIllegalTransition)
}

func TestWaitForShutdownBeforeLaunch(t *testing.T) {
	a := &App{}
	ch := a.WaitForShutdown()
	require.NoError(t, a.Launch(context.Background()))
	go a.Shutdown()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("a channel taken before Launch did not close")
	}
	require.NoError(t, a.Shutdown())
}

func TestBadConfiguration(t *testing.T) {
	tests := []struct {
		name  string
		setup func(a *App)
		want  string
	}{
		{"neither Run nor Shutdown", func(a *App) { a.AddProcess(Process{Name: "worker"}) },
			`process "worker" (number 0) has neither a Run nor a Shutdown func`},
		{"negative StartupTimeout", func(a *App) { a.StartupTimeout = -time.Second }, "negative StartupTimeout -1s"},
		{"negative ShutdownTimeout", func(a *App) { a.ShutdownTimeout = -time.Second }, "negative ShutdownTimeout -1s"},
		{"nil start hook", func(a *App) { a.OnStartUp(nil, WithHookName("db")) }, `OnStartUp: hook "db" has a nil func`},
		{"nil stop hook", func(a *App) { a.OnShutdown(nil) }, `OnShutdown: hook #1 has a nil func`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			a := &App{OnEvent: rec.OnEvent}
			tt.setup(a)
			err := a.Launch(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, StateIdle, a.State(), "nothing ran")
			assert.Empty(t, rec.Events())
		})
	}
	t.Run("nil context", func(t *testing.T) {
		var a App
		//lint:ignore SA1012 testing the nil check
		assert.EqualError(t, a.Launch(nil), "lu: Launch with a nil context") //nolint:staticcheck
	})
}

func TestRegistrationDuringLifecycle(t *testing.T) {
	t.Run("a start hook may add processes and stop hooks", func(t *testing.T) {
		var rec recorder
		a := &App{OnEvent: rec.OnEvent}
		a.OnStartUp(func(context.Context) error {
			a.AddProcess(Process{Name: "late", Run: blocker})
			a.OnShutdown(nop, WithHookName("late"))
			return nil
		})
		require.NoError(t, a.Launch(context.Background()))
		assert.Equal(t, []string{"late"}, a.RunningProcesses())
		require.NoError(t, a.Shutdown())
		assert.Contains(t, rec.Events(), "PostHookStop:late")
	})
	t.Run("too late is an error Shutdown returns", func(t *testing.T) {
		a := &App{}
		require.NoError(t, a.Launch(context.Background()))
		a.AddProcess(Process{Name: "never", Run: blocker})
		a.OnStartUp(nop, WithHookName("never"))
		err := a.Shutdown()
		assert.ErrorIs(t, err, ErrIllegalTransition)
		assert.Contains(t, err.Error(), `process "never" will never run`)
		assert.Contains(t, err.Error(), `hook "never" will never run`)
	})
}

func TestWrapProcessFunc(t *testing.T) {
	var calls []string
	errF := errors.New("f")
	fs := []ProcessFunc{
		WrapProcessFunc(func() { calls = append(calls, "func()") }),
		WrapProcessFunc(func(ctx context.Context) { calls = append(calls, "func(ctx)") }),
		WrapProcessFunc(func() error { calls = append(calls, "func() error"); return errF }),
	}
	assert.NoError(t, fs[0](context.Background()))
	assert.NoError(t, fs[1](context.Background()))
	assert.ErrorIs(t, fs[2](context.Background()), errF)
	assert.Equal(t, []string{"func()", "func(ctx)", "func() error"}, calls)
}

func TestEventDispatchAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var n int
	r := &run{cfg: config{onEvent: func(context.Context, Event) { n++ }}}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		_ = r.emit(ctx, ProcessEnd, "worker")
		_ = r.emit(ctx, AppRunning, "")
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 2002, n)
}

func TestSortedHooksMatchesAStableSort(t *testing.T) {
	hooks := make([]*hook, 5000)
	for i := range hooks {
		hooks[i] = &hook{prio: HookPriority((i*7919)%201 - 100), seq: i, start: nop}
		if i%3 == 0 {
			hooks[i].stop, hooks[i].start = nop, nil
		}
	}
	for _, stop := range []bool{false, true} {
		var want []*hook
		for _, h := range hooks {
			if has(h, stop) {
				want = append(want, h)
			}
		}
		slices.SortStableFunc(want, func(x, y *hook) int { return int(x.prio) - int(y.prio) })
		got := sortedHooks(hooks, stop)
		require.Len(t, got, len(want))
		for i := range want {
			require.Equal(t, want[i].seq, got[i].seq, "position %d", i)
		}
	}
	assert.Nil(t, sortedHooks(nil, false))
}

// TestProcessFailingAtOnceFailsAfterLaunch: a process that fails as soon as
// it starts does not fail Launch; the App stops and Shutdown returns the
// error. Repeated, because the failure races with the end of Launch.
func TestProcessFailingAtOnceFailsAfterLaunch(t *testing.T) {
	errBoom := errors.New("boom")
	for range 200 {
		a := &App{}
		a.AddProcess(Process{Name: "fails", Run: func(context.Context) error { return errBoom }})
		for range 10 {
			a.AddProcess(Process{Run: blocker})
		}
		require.NoError(t, a.Launch(context.Background()))
		<-a.WaitForShutdown()
		require.ErrorIs(t, a.Shutdown(), errBoom)
	}
}
