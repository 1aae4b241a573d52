package lu

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// Hostile tests of details: what the docs lead one to expect.

// A start hook that calls runtime.Goexit is logged as failed, as one that
// panics is.
func TestHostileGoexitInAStartHookIsLogged(t *testing.T) {
	var buf bytes.Buffer
	a := &App{Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &buf}, nil))}
	a.OnStartUp(goexit, WithHookName("db"))
	err := a.Launch(context.Background())
	requireGoexit(t, err, `start hook "db"`)
	assert.Contains(t, buf.String(), "lu: start hook failed", "the Logger has a record of every hook's end")
}

// Launch and Shutdown on a nil App return errors, Stop does nothing, the
// read-only methods work, and Run exits 1.
func TestHostileRunOnANilApp(t *testing.T) {
	v := callNoPanic(func() { _ = NoApp().Run() })
	assert.Nil(t, v, "Run on a nil App panicked: %v", v)
}

// An interrupted Start func that uses the whole budget leaves the
// processes' Shutdown funcs the last share: the Shutdown func of a
// process whose Start succeeded, which returns at once, is not named
// stuck.
func TestHostileShutdownFuncsGetTheLastShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		shutdownCtxErr := make(chan error, 1)
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.AddProcess(
			Process{Name: "cache", Run: blocker, Start: nop,
				Shutdown: func(ctx context.Context) error { shutdownCtxErr <- ctx.Err(); return nil }},
			Process{Name: "db", Run: blocker, Start: func(context.Context) error { <-release; return nil }},
		)
		launched := make(chan error, 1)
		go func() { launched <- a.Launch(context.Background()) }()
		synctest.Wait()
		err := a.Shutdown()
		<-launched
		close(release)
		var names []string
		for _, e := range unwrapAll(err) {
			if te, ok := e.(*TimeoutError); ok {
				names = append(names, te.Processes...)
			}
		}
		assert.NotContains(t, names, "cache", "the Shutdown func of cache returned at once: %v", err)
		assert.NoError(t, <-shutdownCtxErr, "cache's Shutdown func gets a live context")
	})
}

// syncWriter serialises writes.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
