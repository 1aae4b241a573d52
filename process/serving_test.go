package process_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

// patience bounds every wait far beyond what any case needs: a case that
// should return at once fails if it waited for it.
const patience = 30 * time.Second

func waitServing(t *testing.T, srv *process.HTTPServer) (net.Addr, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	addr, err := srv.WaitServing(ctx)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "WaitServing waited for its deadline")
	return addr, err
}

func newServer(opts ...process.HTTPOption) *process.HTTPServer {
	return process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", Handler: hello(), ReadHeaderTimeout: time.Second}, opts...)
}

func TestHTTPWaitServing(t *testing.T) {
	t.Run("returns the bound address once the App serves, to a call made before Launch", func(t *testing.T) {
		srv := newServer()
		type result struct {
			addr net.Addr
			err  error
		}
		waiters := make(chan result, 2)
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		for range cap(waiters) {
			go func() {
				addr, err := srv.WaitServing(ctx)
				waiters <- result{addr, err}
			}()
		}
		a := &lu.App{}
		a.AddProcess(srv.Process())
		require.NoError(t, a.Launch(context.Background()))
		for range cap(waiters) {
			r := <-waiters
			require.NoError(t, r.err)
			assert.Equal(t, srv.Addr(), r.addr)
			assert.NotZero(t, r.addr.(*net.TCPAddr).Port)
		}
		addr, err := waitServing(t, srv)
		require.NoError(t, err)
		assert.Equal(t, "hello", get(t, "http://"+addr.String()+"/"))

		require.NoError(t, a.Shutdown())
		_, err = waitServing(t, srv)
		assert.EqualError(t, err, "process: http api has stopped")
	})

	t.Run("a port in use fails at once, naming the cause", func(t *testing.T) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer taken.Close()
		srv := process.NewHTTPServer("api", &http.Server{Addr: taken.Addr().String(), ReadHeaderTimeout: time.Second})
		a := &lu.App{}
		a.AddProcess(srv.Process())
		require.Error(t, a.Launch(context.Background()))
		_, err = waitServing(t, srv)
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.EADDRINUSE)
		assert.Contains(t, err.Error(), "process: http api could not start: listen tcp "+taken.Addr().String())
	})

	t.Run("a missing certificate fails at once", func(t *testing.T) {
		srv := newServer(process.WithTLS("missing.crt", "missing.key"))
		a := &lu.App{}
		a.AddProcess(srv.Process())
		require.Error(t, a.Launch(context.Background()))
		_, err := waitServing(t, srv)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.ErrorContains(t, err, "process: https api could not start")
	})

	t.Run("a server stopped before it served fails at once", func(t *testing.T) {
		srv := newServer()
		a := &lu.App{}
		a.AddProcess(srv.Process(), lu.Process{
			Name:  "db",
			Start: func(context.Context) error { return errors.New("connection refused") },
			Run:   func(ctx context.Context) error { <-ctx.Done(); return nil },
		})
		require.Error(t, a.Launch(context.Background()))
		require.NotNil(t, srv.Addr(), "the server had bound its port")
		_, err := waitServing(t, srv)
		assert.EqualError(t, err, "process: http api has stopped")
	})

	t.Run("the end of the context ends the wait, with its cause", func(t *testing.T) {
		srv := newServer()
		ctx, cancel := context.WithCancelCause(context.Background())
		errGaveUp := errors.New("gave up")
		cancel(errGaveUp)
		_, err := srv.WaitServing(ctx)
		assert.ErrorIs(t, err, errGaveUp)
		assert.EqualError(t, err, "process: http api not serving yet: gave up")
	})

	t.Run("a process run without an App", func(t *testing.T) {
		srv := newServer()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- srv.Process().Run(ctx) }()
		addr, err := waitServing(t, srv)
		require.NoError(t, err)
		assert.Equal(t, "hello", get(t, "http://"+addr.String()+"/"))
		cancel()
		require.NoError(t, <-done)
		_, err = waitServing(t, srv)
		assert.EqualError(t, err, "process: http api has stopped", "Run returned")
	})

	t.Run("a nil server is an error", func(t *testing.T) {
		var srv *process.HTTPServer
		_, err := srv.WaitServing(context.Background())
		assert.EqualError(t, err, "process: WaitServing on a nil *HTTPServer")
	})
}
