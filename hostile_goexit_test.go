package lu

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests: runtime.Goexit in the Logger's handler and in
// OnTransition funcs, which the lifecycle's owners survive by starting a
// new goroutine that carries on from what the records say. Each callback
// is a step of its own, so a Goexit skips nothing but itself.

// goexitHandler is a slog handler that calls runtime.Goexit, once, on the
// first record whose message is msg (and whose attrs contain attr, if set).
type goexitHandler struct {
	msg, attr string
	done      *atomic.Bool
}

func (h goexitHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h goexitHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message != h.msg {
		return nil
	}
	if h.attr != "" {
		found := false
		r.Attrs(func(a slog.Attr) bool {
			if strings.Contains(a.Value.String(), h.attr) {
				found = true
			}
			return true
		})
		if !found {
			return nil
		}
	}
	if h.done.CompareAndSwap(false, true) {
		runtime.Goexit()
	}
	return nil
}
func (h goexitHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h goexitHandler) WithGroup(string) slog.Handler      { return h }

func goexitLogger(msg, attr string) (*slog.Logger, *atomic.Bool) {
	var done atomic.Bool
	return slog.New(goexitHandler{msg: msg, attr: attr, done: &done}), &done
}

// A Goexit while logging "stop hook started" ends the runner; the runner
// that takes over still emits PreHookStop before the hook runs.
func TestHostileLoggerGoexitKeepsPreHookStop(t *testing.T) {
	var rec recorder
	log, fired := goexitLogger("lu: stop hook started", "")
	a := &App{OnEvent: rec.OnEvent, Logger: log}
	var ran atomic.Bool
	a.OnShutdown(func(context.Context) error { ran.Store(true); return nil }, WithHookName("x"))
	require.NoError(t, a.Launch(context.Background()))
	err := a.Shutdown()
	require.True(t, fired.Load())
	requireGoexit(t, err, "the Logger's handler")
	assert.True(t, ran.Load())
	ev := rec.Events()
	if slices.Contains(ev, "PostHookStop:x") {
		assert.Contains(t, ev, "PreHookStop:x", "no Post hook event without its Pre: %v", ev)
	}
}

// The same on the way out: a Goexit while logging "stop hook done" keeps
// PostHookStop.
func TestHostileLoggerGoexitKeepsPostHookStop(t *testing.T) {
	var rec recorder
	log, fired := goexitLogger("lu: stop hook done", "")
	a := &App{OnEvent: rec.OnEvent, Logger: log}
	a.OnShutdown(nop, WithHookName("x"))
	require.NoError(t, a.Launch(context.Background()))
	_ = a.Shutdown()
	require.True(t, fired.Load())
	ev := rec.Events()
	assert.Contains(t, ev, "PreHookStop:x")
	assert.Contains(t, ev, "PostHookStop:x", "a stop hook that returned has its PostHookStop: %v", ev)
}

// A Goexit in the Logger's handler as a process ends keeps its
// ProcessEnd: every ProcessStart has its ProcessEnd.
func TestHostileLoggerGoexitKeepsProcessEnd(t *testing.T) {
	var rec recorder
	log, fired := goexitLogger("lu: process ended", "")
	a := &App{OnEvent: rec.OnEvent, Logger: log}
	a.AddProcess(Process{Name: "p", Run: blocker})
	require.NoError(t, a.Launch(context.Background()))
	err := a.Shutdown()
	require.True(t, fired.Load())
	requireGoexit(t, err, "the Logger's handler")
	ev := rec.Events()
	assert.Contains(t, ev, "ProcessStart:p")
	assert.Contains(t, ev, "ProcessEnd:p", "every ProcessStart has its ProcessEnd: %v", ev)
	requireEndsOnce(t, ev)
}

// A Goexit in the Logger's handler, or in one OnTransition func, keeps the
// funcs after it from nothing: each gets every transition, in order, once.
func TestHostileGoexitInOneObserverKeepsTheOthers(t *testing.T) {
	t.Run("in an OnTransition func", func(t *testing.T) {
		var mu sync.Mutex
		var seen []JournalTransition
		var fired atomic.Bool
		a := &App{}
		a.OnTransition(func(tr JournalTransition) {
			if tr.To == StateDraining && fired.CompareAndSwap(false, true) {
				runtime.Goexit()
			}
		})
		a.OnTransition(func(tr JournalTransition) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, tr)
		})
		a.AddProcess(Process{Name: "p", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		requireGoexit(t, err, "an OnTransition func")
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, transitionsOf(a.Journal().Transitions), transitionsOf(seen),
			"the second OnTransition func sees every transition")
	})
	t.Run("in the Logger's handler", func(t *testing.T) {
		var mu sync.Mutex
		var seen []JournalTransition
		log, fired := goexitLogger("lu: transition", "Draining")
		a := &App{Logger: log}
		a.OnTransition(func(tr JournalTransition) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, tr)
		})
		a.AddProcess(Process{Name: "p", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		_ = a.Shutdown()
		require.True(t, fired.Load())
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, transitionsOf(a.Journal().Transitions), transitionsOf(seen),
			"an OnTransition func sees every transition, whatever the Logger does")
	})
}

func transitionsOf(ts []JournalTransition) []string {
	var s []string
	for _, t := range ts {
		s = append(s, t.From.String()+"-"+t.Trigger.String()+"->"+t.To.String())
	}
	return s
}
