package lu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func probe(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func TestHealthHandlersFollowTheState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &App{DrainDelay: 10 * time.Second}
		a.AddProcess(Process{Name: "p", Run: blocker})
		check := func(state string, live, ready int) {
			t.Helper()
			code, body := probe(t, a.LivenessHandler())
			assert.Equal(t, live, code, "liveness in %s", state)
			assert.Equal(t, `{"state":"`+state+`"}`, body)
			code, body = probe(t, a.ReadinessHandler())
			assert.Equal(t, ready, code, "readiness in %s", state)
			assert.Equal(t, `{"state":"`+state+`"}`, body, "the state name and nothing else")
		}
		check("Idle", 503, 503)
		require.NoError(t, a.Launch(context.Background()))
		check("Running", 200, 200)
		done := make(chan error)
		go func() { done <- a.Shutdown() }()
		synctest.Wait()
		check("Draining", 200, 503)
		require.NoError(t, <-done)
		check("Terminated", 503, 503)
	})
}

func TestDrainDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		cancelled := make(chan time.Time, 1)
		a := &App{DrainDelay: 5 * time.Second, OnEvent: rec.OnEvent}
		a.AddProcess(Process{Name: "server", Run: func(ctx context.Context) error {
			<-ctx.Done()
			cancelled <- time.Now()
			return nil
		}})
		require.NoError(t, a.Launch(context.Background()))
		start := time.Now()
		done := make(chan error)
		go func() { done <- a.Shutdown() }()
		synctest.Wait()
		assert.Equal(t, StateDraining, a.State())
		select {
		case <-a.WaitForShutdown():
		default:
			t.Error("WaitForShutdown must close when the drain begins")
		}
		assert.NotContains(t, rec.Events(), "AppTerminating", "processes are not stopped while draining")
		assert.Equal(t, []string{"server"}, a.RunningProcesses())
		require.NoError(t, <-done)
		assert.Equal(t, 5*time.Second, (<-cancelled).Sub(start), "processes stop after the drain")
		var path []State
		for _, tr := range a.Journal().Transitions {
			path = append(path, tr.To)
		}
		assert.Equal(t, []State{StateStartup, StateHookStart, StateRunning, StateDraining, StateTerminating,
			StateHookStop, StateTerminated}, path)
	})
	t.Run("zero passes straight through", func(t *testing.T) {
		a := &App{}
		require.NoError(t, a.Launch(context.Background()))
		require.NoError(t, a.Shutdown())
		tr := a.Journal().Transitions
		require.Len(t, tr, 7)
		assert.Equal(t, StateDraining, tr[3].To)
	})
	t.Run("negative is a configuration error", func(t *testing.T) {
		a := &App{DrainDelay: -time.Second}
		assert.ErrorContains(t, a.Launch(context.Background()), "negative DrainDelay")
	})
}

func TestLogging(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, nil))
	a := &App{Logger: logger}
	a.OnStartUp(nop, WithHookName("db"))
	a.OnShutdown(func(context.Context) error { return errors.New("close failed") }, WithHookName("close"))
	a.AddProcess(Process{Name: "worker", Run: blocker})
	require.NoError(t, a.Launch(context.Background()))
	require.Error(t, a.Shutdown())

	mu.Lock()
	defer mu.Unlock()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines = append(lines, m)
	}
	var transitions []string
	msgs := map[string]map[string]any{}
	for _, m := range lines {
		msg := m["msg"].(string)
		if msg == "lu: transition" {
			transitions = append(transitions, m["from"].(string)+"->"+m["to"].(string))
			assert.Contains(t, m, "after", "with how long the state lasted")
			continue
		}
		msgs[msg] = m
	}
	assert.Equal(t, []string{"Idle->Startup", "Startup->HookStart", "HookStart->Running", "Running->Draining",
		"Draining->Terminating", "Terminating->HookStop", "HookStop->Terminated"}, transitions)
	for _, msg := range []string{"lu: start hook started", "lu: start hook done", "lu: process started",
		"lu: process ended", "lu: stop hook started", "lu: stop hook failed"} {
		assert.Contains(t, msgs, msg)
	}
	assert.Contains(t, msgs["lu: start hook done"], "duration")
	assert.Contains(t, msgs["lu: process ended"], "duration")
	assert.Equal(t, "worker", msgs["lu: process ended"]["process"])
	assert.Contains(t, msgs["lu: stop hook failed"]["error"], "close failed")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestNothingIsLoggedWithoutALogger(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil)))
	defer slog.SetDefault(old)
	a := &App{}
	a.OnShutdown(func(context.Context) error { return errors.New("x") })
	a.AddProcess(Process{Name: "p", Run: func(context.Context) error { return errors.New("fail") }})
	require.NoError(t, a.Launch(context.Background()))
	<-a.WaitForShutdown()
	require.Error(t, a.Shutdown())
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, buf.String())
}

func TestJournal(t *testing.T) {
	errStop := errors.New("stop failed")
	a := &App{}
	a.OnStartUp(nop, WithHookName("open"), WithHookPriority(-5))
	a.OnShutdown(func(context.Context) error { return errStop }, WithHookName("close"))
	a.AddProcess(Process{Name: "worker", Run: blocker})
	before := time.Now()
	require.NoError(t, a.Launch(context.Background()))
	j := a.Journal()
	require.Len(t, j.Processes, 1)
	assert.True(t, j.Processes[0].Running)
	require.Error(t, a.Shutdown())
	j = a.Journal()

	require.Len(t, j.Transitions, 7)
	first := j.Transitions[0]
	assert.Equal(t, JournalTransition{From: StateIdle, Trigger: TriggerLaunch, To: StateStartup, At: first.At, Duration: first.Duration}, first)
	assert.False(t, first.At.Before(before))
	for i := 1; i < len(j.Transitions); i++ {
		assert.Equal(t, j.Transitions[i-1].To, j.Transitions[i].From)
		assert.False(t, j.Transitions[i].At.Before(j.Transitions[i-1].At))
	}
	require.Len(t, j.StartHooks, 1)
	assert.Equal(t, "open", j.StartHooks[0].Name)
	assert.Equal(t, HookPriority(-5), j.StartHooks[0].Priority)
	assert.False(t, j.StartHooks[0].Started.IsZero())
	assert.False(t, j.StartHooks[0].Ended.Before(j.StartHooks[0].Started))
	require.Len(t, j.StopHooks, 1)
	assert.ErrorIs(t, j.StopHooks[0].Err, errStop)
	assert.Contains(t, j.StopHooks[0].Error, "stop failed")
	require.Len(t, j.Processes, 1)
	p := j.Processes[0]
	assert.Equal(t, "worker", p.Name)
	assert.False(t, p.Running)
	assert.Equal(t, p.Ended.Sub(p.Started), p.Duration)
	assert.NoError(t, p.Err, "stopped as asked is no error")

	j.Transitions[0].To = StateTerminated
	assert.Equal(t, StateStartup, a.Journal().Transitions[0].To, "a copy")

	rec := httptest.NewRecorder()
	a.JournalHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &decoded))
	assert.Equal(t, "Idle", decoded["transitions"].([]any)[0].(map[string]any)["from"])
	assert.Contains(t, rec.Body.String(), `"error": "lu: stop hook \"close\": stop failed"`)
}

func TestHookTimeout(t *testing.T) {
	t.Run("a stop hook past its timeout is abandoned and the next runs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			ran := false
			a := &App{ShutdownTimeout: time.Minute}
			a.OnShutdown(func(context.Context) error { <-release; return nil }, WithHookName("flush"), WithHookTimeout(2*time.Second))
			a.OnShutdown(func(context.Context) error { ran = true; return nil }, WithHookName("close"))
			require.NoError(t, a.Launch(context.Background()))
			start := time.Now()
			err := a.Shutdown()
			assert.Equal(t, 2*time.Second, time.Since(start))
			assert.True(t, ran)
			var te *TimeoutError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "flush", te.Hook)
			assert.Equal(t, 2*time.Second, te.Running)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		})
	})
	t.Run("the hook's context ends at its timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := &App{}
			a.OnStartUp(func(ctx context.Context) error {
				d, ok := ctx.Deadline()
				assert.True(t, ok)
				assert.Equal(t, time.Second, time.Until(d))
				<-ctx.Done()
				return ctx.Err()
			}, WithHookName("dial"), WithHookTimeout(time.Second))
			err := a.Launch(context.Background())
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, StateTerminated, a.State())
		})
	})
	t.Run("negative is a configuration error", func(t *testing.T) {
		a := &App{}
		a.OnStartUp(nop, WithHookName("x"), WithHookTimeout(-time.Second))
		err := a.Launch(context.Background())
		assert.ErrorContains(t, err, `negative WithHookTimeout -1s`)
		assert.Equal(t, StateIdle, a.State())
	})
}

// TestGraph checks an App's own diagram against diagrams/example-app.dot.
func TestGraph(t *testing.T) {
	a := &App{}
	a.OnStartUp(nop, WithHookName("open db"), WithHookPriority(HookPriorityFirst))
	a.OnStartUp(nop, WithHookName("warm cache"))
	a.OnStartUp(nop, WithHookName("load config"), WithHookPriority(-10))
	a.AddProcess(Process{Name: "http api", Run: blocker}, Process{Name: "consumer", Run: blocker})
	a.OnShutdown(nop, WithHookName("close db"), WithHookPriority(HookPriorityLast))
	a.OnShutdown(nop, WithHookName("flush metrics"))
	got := a.Graph()
	assert.Equal(t, got, a.Graph(), "deterministic")
	path := filepath.Join("diagrams", "example-app.dot")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got, "%s is out of date: run go test -run Graph -update", path)
	order := []string{`"1. open db (priority -100)"`, `"2. load config (priority -10)"`, `"3. warm cache (priority 0)"`}
	last := -1
	for _, o := range order {
		i := strings.Index(got, o)
		require.Greater(t, i, last, "start hooks in running order")
		last = i
	}
	assert.Contains(t, got, `"1. flush metrics (priority 0)"`)
	assert.Contains(t, got, `"2. close db (priority 100)"`)
	assert.Contains(t, got, `label="consumer"`)
}

// TestJournalTimesAreExact: the journal's times are read from the clock
// when each thing happens, so in fake time they are exact.
func TestJournalTimesAreExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sleep := func(d time.Duration) ProcessFunc {
			return func(context.Context) error { time.Sleep(d); return nil }
		}
		a := &App{}
		a.OnStartUp(sleep(10*time.Millisecond), WithHookName("slow"))
		for range 100 {
			a.OnStartUp(nop)
		}
		a.OnStartUp(sleep(3*time.Millisecond), WithHookName("slower"))
		a.OnShutdown(sleep(7*time.Millisecond), WithHookName("flush"))
		const n = 128
		lag := func(i int) time.Duration { return time.Duration(i%5) * time.Millisecond }
		for i := range n {
			a.AddProcess(Process{Name: fmt.Sprint(i), Run: func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(lag(i)) // returns a while after being asked to stop
				return nil
			}})
		}
		start := time.Now()
		require.NoError(t, a.Launch(context.Background()))
		launched := time.Now()
		time.Sleep(time.Second)
		stopped := time.Now()
		require.NoError(t, a.Shutdown())
		j := a.Journal()

		require.Len(t, j.StartHooks, 102)
		assert.Equal(t, 10*time.Millisecond, j.StartHooks[0].Duration, "slow")
		assert.Equal(t, start, j.StartHooks[0].Started)
		for _, h := range j.StartHooks[1:101] {
			assert.Zero(t, h.Duration, "a quick hook")
		}
		assert.Equal(t, 3*time.Millisecond, j.StartHooks[101].Duration, "slower")
		assert.Equal(t, launched, j.StartHooks[101].Ended)
		require.Len(t, j.StopHooks, 1)
		assert.Equal(t, 7*time.Millisecond, j.StopHooks[0].Duration, "flush")

		require.Len(t, j.Processes, n)
		for i, p := range j.Processes {
			assert.Equal(t, launched, p.Started, "process %d", i)
			assert.Equal(t, stopped.Add(lag(i)), p.Ended, "process %d", i)
		}
	})
}

func TestOnTransition(t *testing.T) {
	paths := []struct {
		name string
		run  func(t *testing.T, a *App)
	}{
		{"a normal run", func(t *testing.T, a *App) {
			require.NoError(t, a.Launch(context.Background()))
			require.NoError(t, a.Shutdown())
		}},
		{"a failed start-up", func(t *testing.T, a *App) {
			a.OnStartUp(func(context.Context) error { return errors.New("no") })
			require.Error(t, a.Launch(context.Background()))
		}},
		{"a failing process", func(t *testing.T, a *App) {
			a.AddProcess(Process{Name: "p", Run: func(context.Context) error { return errors.New("boom") }})
			require.NoError(t, a.Launch(context.Background()))
			<-a.WaitForShutdown()
			require.Error(t, a.Shutdown())
		}},
	}
	for _, tt := range paths {
		t.Run(tt.name+" delivers every transition in order, once", func(t *testing.T) {
			var mu sync.Mutex
			var got [2][]JournalTransition
			a := &App{}
			for i := range got {
				a.OnTransition(func(tr JournalTransition) {
					mu.Lock()
					defer mu.Unlock()
					got[i] = append(got[i], tr)
				})
			}
			tt.run(t, a)
			want := a.Journal().Transitions
			require.NotEmpty(t, want)
			assert.Equal(t, StateTerminated, want[len(want)-1].To)
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, want, got[0])
			assert.Equal(t, want, got[1])
		})
	}
	t.Run("a panic is contained and reported", func(t *testing.T) {
		a := &App{}
		a.OnTransition(func(tr JournalTransition) {
			if tr.To == StateRunning {
				panic("observer")
			}
		})
		err := a.Launch(context.Background())
		var pe *PanicError
		require.ErrorAs(t, err, &pe, "a callback failing as the App starts fails Launch")
		assert.Equal(t, "observer", pe.Value)
		assert.Equal(t, StateTerminated, a.State())
		assert.ErrorAs(t, a.Shutdown(), &pe)
	})
	t.Run("nil, and after Launch, are errors", func(t *testing.T) {
		a := &App{}
		a.OnTransition(nil)
		assert.ErrorContains(t, a.Launch(context.Background()), "OnTransition with a nil func")
		b := &App{}
		require.NoError(t, b.Launch(context.Background()))
		b.OnTransition(func(JournalTransition) {})
		assert.ErrorContains(t, b.Shutdown(), "OnTransition in state Running")
	})
}
