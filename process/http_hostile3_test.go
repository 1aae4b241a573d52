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

// Promise (WithListener's doc, unconditional): "A listener closed already
// fails Start, naming its address." checkListener can tell only for a
// listener that is a syscall.Conn; a wrapped one (tls.NewListener,
// netutil.LimitListener, a supervisor's own type) closed already passes
// Start: Launch succeeds and readiness says 200 for a server that cannot
// serve. The check's own comment admits the limit; the user-facing doc
// does not.
func TestHostile3ClosedWrappedListenerIsReady(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := tls.NewListener(inner, &tls.Config{})
	require.NoError(t, ln.Close())

	srv := process.NewHTTPServer("api", &http.Server{Handler: http.NotFoundHandler()}, process.WithListener(ln))
	a := &lu.App{ShutdownTimeout: 2 * time.Second}
	a.AddProcess(srv.Process(), lu.Process{Name: "idle", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	launchErr := a.Launch(ctx)
	rec := httptest.NewRecorder()
	a.ReadinessHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ready", nil))
	if launchErr == nil {
		_ = a.Shutdown()
	}
	assert.Error(t, launchErr, "Launch succeeded with a closed (TLS-wrapped) listener")
	assert.NotEqual(t, http.StatusOK, rec.Code, "readiness 200 for a server that cannot serve")
}
