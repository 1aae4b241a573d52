package lu

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests of the stop's budget: callbacks' time is never counted.
// The callbacks the stop waits for after AppTerminating (ProcessEnd,
// PreHookStop, PostHookStop, the Logger) move the stop hooks' deadlines,
// so a stop hook after a slow callback still has its time.

// stopHookProbe records how a stop hook's context looked when it was
// called. It is read once the hook returned (the App may have abandoned
// it, so nothing else orders the reads after the writes).
type stopHookProbe struct {
	errAtCall error
	left      time.Duration
	done      chan struct{}
}

func newProbe() *stopHookProbe { return &stopHookProbe{done: make(chan struct{})} }

func (p *stopHookProbe) hook(ctx context.Context) error {
	defer close(p.done)
	p.errAtCall = ctx.Err()
	dl, _ := ctx.Deadline()
	p.left = time.Until(dl)
	time.Sleep(time.Millisecond) // a little work
	return nil
}

// wait waits for the hook to have returned.
func (p *stopHookProbe) wait() { <-p.done }

// A slow PreHookStop callback (the user's own time) before a stop hook that
// needs 1 ms of its 100 ms budget.
func TestHostileSlowPreHookStopCallbackLeavesTheHookItsTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newProbe()
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.OnEvent = func(_ context.Context, e Event) {
			if e.Type == PreHookStop {
				time.Sleep(300 * time.Millisecond)
			}
		}
		a.OnShutdown(p.hook, WithHookName("flush"))
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		p.wait()
		assert.NoError(t, err, "callback time is never counted: the hook needed 1ms")
		assert.NoError(t, p.errAtCall, "the hook is called with a live context")
		assert.Greater(t, p.left, time.Duration(0), "the hook's deadline is ahead of it")
	})
}

// A slow PostHookStop callback of the first stop hook eats the second's
// share.
func TestHostileSlowPostHookStopCallbackLeavesTheNextHookItsTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newProbe()
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.OnEvent = func(_ context.Context, e Event) {
			if e.Type == PostHookStop && e.Name == "first" {
				time.Sleep(300 * time.Millisecond)
			}
		}
		a.OnShutdown(nop, WithHookName("first"))
		a.OnShutdown(p.hook, WithHookName("second"))
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		p.wait()
		assert.NoError(t, err, "callback time is never counted")
		assert.NoError(t, p.errAtCall, "the second hook is called with a live context")
	})
}

// A prompt process whose ProcessEnd callback is slow: the stop waits for
// the callback (as it should: the process is not stuck), but the time is
// then missing from the stop hooks.
func TestHostileSlowProcessEndCallbackLeavesTheStopHooksTheirTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newProbe()
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.OnEvent = func(_ context.Context, e Event) {
			if e.Type == ProcessEnd {
				time.Sleep(300 * time.Millisecond)
			}
		}
		a.AddProcess(Process{Name: "prompt", Run: blocker})
		a.OnShutdown(p.hook, WithHookName("flush"))
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		p.wait()
		assert.NoError(t, err, "callback time is never counted")
		assert.NoError(t, p.errAtCall, "the stop hook is called with a live context")
	})
}

// The same with a slow Logger handler instead of OnEvent.
func TestHostileSlowLoggerLeavesTheStopHooksTheirTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newProbe()
		a := &App{ShutdownTimeout: 100 * time.Millisecond, Logger: slowLogger("lu: stop hook started", 300*time.Millisecond)}
		a.OnShutdown(p.hook, WithHookName("flush"))
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		p.wait()
		assert.NoError(t, err, "callback time is never counted")
		assert.NoError(t, p.errAtCall, "the stop hook is called with a live context")
	})
}

// A start-up interrupted by a stop: the budget is reduced by the time the
// start-up waited for its hooks after the stop was requested, but not by
// its callbacks' time: here a PreHookStart callback that calls Stop and
// then takes 300 ms leaves the stop hooks their budget.
func TestHostileInterruptedStartUpCountsNoCallbackTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newProbe()
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.OnEvent = func(_ context.Context, e Event) {
			if e.Type == PreHookStart {
				a.Stop(nil)
				time.Sleep(300 * time.Millisecond)
			}
		}
		a.OnStartUp(nop, WithHookName("open"))
		a.OnShutdown(p.hook, WithHookName("close"))
		err := a.Launch(context.Background())
		p.wait()
		require.Error(t, err)
		var te *TimeoutError
		assert.False(t, errors.As(err, &te), "nothing overran: %v", err)
		assert.NoError(t, p.errAtCall, "the stop hook is called with a live context")
		assert.NoError(t, a.Shutdown())
	})
}

// slowLogger returns a Logger whose handler sleeps d on the record msg.
func slowLogger(msg string, d time.Duration) *slog.Logger {
	return slog.New(msgSlowHandler{msg: msg, d: d})
}

type msgSlowHandler struct {
	msg string
	d   time.Duration
}

func (h msgSlowHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h msgSlowHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		time.Sleep(h.d)
	}
	return nil
}
func (h msgSlowHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h msgSlowHandler) WithGroup(string) slog.Handler      { return h }
