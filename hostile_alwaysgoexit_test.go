package lu

import (
	"context"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type alwaysGoexitHandler struct{}

func (alwaysGoexitHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (alwaysGoexitHandler) Handle(context.Context, slog.Record) error { runtime.Goexit(); return nil }
func (h alwaysGoexitHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h alwaysGoexitHandler) WithGroup(string) slog.Handler           { return h }

// Every callback calls runtime.Goexit, every time: the lifecycle still
// ends Terminated, and Shutdown returns.
func TestHostileEveryCallbackAlwaysGoexits(t *testing.T) {
	var events atomic.Int32
	a := &App{ShutdownTimeout: time.Second, Logger: slog.New(alwaysGoexitHandler{})}
	a.OnEvent = func(context.Context, Event) { events.Add(1); runtime.Goexit() }
	a.OnTransition(func(JournalTransition) { runtime.Goexit() })
	a.OnStartUp(nop, WithHookName("s"))
	a.OnShutdown(nop, WithHookName("x"))
	a.AddProcess(Process{Name: "p", Run: blocker, Shutdown: nop})
	go func() { _ = a.Launch(context.Background()) }()
	done := make(chan error, 1)
	go func() {
		for a.State() == StateIdle {
			runtime.Gosched()
		}
		done <- a.Shutdown()
	}()
	select {
	case err := <-done:
		assert.Error(t, err)
		assert.Equal(t, StateTerminated, a.State())
		t.Logf("%d events delivered; Shutdown: %v", events.Load(), err)
	case <-time.After(10 * time.Second):
		t.Fatalf("stuck in state %s", a.State())
	}
}
