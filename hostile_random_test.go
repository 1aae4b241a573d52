package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

type randHandler struct{}

func (randHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h randHandler) Handle(context.Context, slog.Record) error {
	switch rand.IntN(40) {
	case 0:
		runtime.Goexit()
	case 1:
		panic("log")
	}
	return nil
}
func (h randHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h randHandler) WithGroup(string) slog.Handler      { return h }

// TestHostileRandomFailures: random panics and runtime.Goexit in every
// callback, the Logger's handler, hooks, processes and Shutdown funcs,
// stuck hooks and processes with tiny budgets, Stop from callbacks, racing
// Shutdowns. It checks only that the App ends Terminated, in bounded time,
// with no data race.
func TestHostileRandomFailures(t *testing.T) {
	for i := range 400 {
		hostileOnce(t, i)
	}
}

func hostileOnce(t *testing.T, i int) {
	release := make(chan struct{})
	defer close(release)
	hostile := func() {
		switch rand.IntN(30) {
		case 0:
			runtime.Goexit()
		case 1:
			panic("cb")
		}
	}
	a := &App{ShutdownTimeout: 20 * time.Millisecond, StartupTimeout: 50 * time.Millisecond}
	if rand.IntN(2) == 0 {
		a.Logger = slog.New(randHandler{})
	}
	a.OnEvent = func(ctx context.Context, e Event) {
		_ = a.Journal()
		_ = a.RunningProcesses()
		if rand.IntN(20) == 0 {
			a.Stop(nil)
		}
		hostile()
	}
	a.OnTransition(func(JournalTransition) { _ = a.Journal(); hostile() })
	for j := range rand.IntN(3) {
		a.OnStartUp(func(ctx context.Context) error {
			switch rand.IntN(10) {
			case 0:
				<-release
			case 1:
				runtime.Goexit()
			case 2:
				return errors.New("x")
			case 3:
				a.Stop(nil)
			}
			return nil
		}, WithHookName(fmt.Sprint("s", j)))
	}
	for j := range rand.IntN(3) {
		a.OnShutdown(func(ctx context.Context) error {
			switch rand.IntN(8) {
			case 0:
				<-release
			case 1:
				runtime.Goexit()
			case 2:
				panic("stop")
			}
			return nil
		}, WithHookName(fmt.Sprint("x", j)), WithHookTimeout(time.Duration(rand.IntN(3))*time.Millisecond))
	}
	for j := range rand.IntN(6) {
		a.AddProcess(Process{Name: fmt.Sprint("p", j), Run: func(ctx context.Context) error {
			switch rand.IntN(8) {
			case 0:
				<-release
				return nil
			case 1:
				runtime.Goexit()
			case 2:
				panic("p")
			case 3:
				return errors.New("p")
			}
			<-ctx.Done()
			return nil
		}, Shutdown: func(context.Context) error {
			if rand.IntN(8) == 0 {
				<-release
			}
			return nil
		}})
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Launch(context.Background()) })
	for range 2 {
		wg.Go(func() {
			time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
			for a.State() == StateIdle {
				runtime.Gosched()
			}
			_ = a.Shutdown()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("iteration %d stuck in %s", i, a.State())
	}
	if a.State() != StateTerminated {
		t.Fatalf("iteration %d ended %s", i, a.State())
	}
}
