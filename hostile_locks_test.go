package lu

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Hostile tests: no lock is held while user code runs, the Launch
// context's own code included.

// hookedContext is a Launch context with an AfterFunc method, as a
// context of some framework may have (the context package calls it to
// watch the parent, and calls the stop func it returns when the child is
// cancelled). Its funcs call back into the App.
type hookedContext struct {
	context.Context
	a     *App
	onReg func(a *App)
	onEnd func(a *App)
}

// Value hides the inner context's values, as a context that does not wrap
// a context of the standard library would have none of them; this makes
// the context package use AfterFunc.
func (c hookedContext) Value(any) any { return nil }

func (c hookedContext) AfterFunc(f func()) func() bool {
	if c.onReg != nil {
		c.onReg(c.a)
	}
	stop := context.AfterFunc(c.Context, f)
	return func() bool {
		if c.onEnd != nil {
			c.onEnd(c.a)
		}
		return stop()
	}
}

// Deriving the start-up's context from the Launch context calls the
// Launch context's AfterFunc, user code that may read the App: Launch does
// it without holding the App's lock.
func TestHostileLaunchContextCodeRunsWithoutTheAppLock(t *testing.T) {
	a := &App{}
	inner, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx := hookedContext{Context: inner, a: a, onReg: func(a *App) { _ = a.State() }}
	done := make(chan error, 1)
	go func() { done <- a.Launch(ctx) }()
	select {
	case err := <-done:
		assert.NoError(t, err)
		_ = a.Shutdown()
	case <-time.After(5 * time.Second):
		t.Fatal("Launch deadlocked: the Launch context's AfterFunc ran under App.mu")
	}
}

// Cancelling the start-up's context calls the stop func of the Launch
// context's AfterFunc, user code that may read the journal: the stop does
// it without holding the run's lock.
func TestHostileStopRunsLaunchContextCodeWithoutTheRunLock(t *testing.T) {
	a := &App{}
	inner, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx := hookedContext{Context: inner, a: a, onEnd: func(a *App) { _ = a.Journal() }}
	inHook := make(chan struct{})
	a.OnStartUp(func(ctx context.Context) error { close(inHook); <-ctx.Done(); return ctx.Err() })
	launched := make(chan error, 1)
	go func() { launched <- a.Launch(ctx) }()
	<-inHook
	done := make(chan error, 1)
	go func() { done <- a.Shutdown() }()
	select {
	case err := <-done:
		assert.NoError(t, err)
		<-launched
	case <-time.After(5 * time.Second):
		t.Fatalf("the stop deadlocked in state %s: the Launch context's stop func ran under run.mu", a.State())
	}
}
