package process_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

// closedListenerApp is an App serving on ln, closed already, beside an
// idle process.
func closedListenerApp(t *testing.T, ln net.Listener) *lu.App {
	require.NoError(t, ln.Close())
	srv := process.NewHTTPServer("api", &http.Server{Handler: http.NotFoundHandler()}, process.WithListener(ln))
	a := &lu.App{ShutdownTimeout: 2 * time.Second}
	a.AddProcess(srv.Process(), lu.Process{Name: "idle", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	}})
	return a
}

// WithListener with a listener closed already (as after a failed hand-over
// from a supervisor) fails Launch: the App never reports ready for a
// server that cannot serve.
func TestHostileClosedListenerFailsLaunch(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := closedListenerApp(t, ln)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	launchErr := a.Launch(ctx)
	rec := httptest.NewRecorder()
	a.ReadinessHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ready", nil))
	readiness := rec.Code
	if launchErr == nil {
		_ = a.Shutdown()
	}
	assert.Error(t, launchErr, "Launch succeeded with a closed listener")
	assert.NotEqual(t, http.StatusOK, readiness, "readiness was 200 for a server that cannot serve")
}

// A closed listener that hides its file descriptor (tls.NewListener)
// cannot be checked at Start; it fails when Run serves on it, and that
// failure stops the App and is returned by Shutdown, never lost.
func TestHostileClosedWrappedListenerFailsTheApp(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := closedListenerApp(t, tls.NewListener(inner, &tls.Config{}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, a.Launch(ctx))
	select {
	case <-a.WaitForShutdown():
	case <-time.After(5 * time.Second):
		t.Fatal("the App did not stop on its server's failure")
	}
	err = a.Shutdown()
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.ErrorContains(t, err, "api")
}
