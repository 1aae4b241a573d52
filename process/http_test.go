package process_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

func hello() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })
}

func TestHTTPCompletesAnInFlightRequest(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	srv := process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", Handler: mux, ReadHeaderTimeout: 10 * time.Second})
	a := &lu.App{ShutdownTimeout: 10 * time.Second}
	p := srv.Process()
	assert.Equal(t, "http api", p.Name)
	a.AddProcess(p)
	require.NoError(t, a.Launch(context.Background()))
	addr := srv.Addr().String()

	var resp *http.Response
	var reqErr error
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		resp, reqErr = http.Get("http://" + addr + "/slow")
	}()
	<-entered

	stopped := make(chan error)
	go func() { stopped <- a.Shutdown() }()
	require.Eventually(t, func() bool { // the server stops accepting
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond)
	select {
	case <-stopped:
		t.Fatal("Shutdown returned with a request in flight")
	default:
	}
	close(release)
	<-answered
	require.NoError(t, reqErr)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "done", string(body))
	assert.NoError(t, <-stopped, "http.ErrServerClosed is success")
}

// TestHTTPBindFailureFailsLaunch: the port is bound during start-up, so a
// port in use fails Launch, naming the address; the App never reports
// ready, and does not wait out its DrainDelay.
func TestHTTPBindFailureFailsLaunch(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	addr := taken.Addr().String()

	var rec lutest.Recorder
	a := &lu.App{DrainDelay: time.Hour, OnEvent: rec.OnEvent}
	ran := make(chan struct{}, 1)
	a.AddProcess(
		lu.Process{Name: "worker", Run: func(ctx context.Context) error { ran <- struct{}{}; <-ctx.Done(); return nil }},
		process.HTTP("api", &http.Server{Addr: addr, ReadHeaderTimeout: time.Second}),
	)
	err = a.Launch(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lu: Start of process "http api": listen tcp `+addr+`: bind: address already in use`)
	assert.Equal(t, lu.StateTerminated, a.State())
	assert.NotContains(t, rec.Events(), lu.Event{Type: lu.AppRunning})
	assert.Empty(t, ran, "no process ran")

	w := httptest.NewRecorder()
	a.ReadinessHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
}

// TestHTTPListenerClosedWhenALaterStartFails: the server bound its port,
// then another process's Start failed: the port is released.
func TestHTTPListenerClosedWhenALaterStartFails(t *testing.T) {
	srv := process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second})
	a := &lu.App{}
	a.AddProcess(srv.Process(), lu.Process{
		Name:  "db",
		Start: func(context.Context) error { return errors.New("connection refused") },
		Run:   func(ctx context.Context) error { <-ctx.Done(); return nil },
	})
	require.ErrorContains(t, a.Launch(context.Background()), "connection refused")
	require.NotNil(t, srv.Addr())
	ln, err := net.Listen("tcp", srv.Addr().String())
	require.NoError(t, err, "the port was released")
	ln.Close()
}

func TestHTTPAddrOfPortZero(t *testing.T) {
	srv := process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", Handler: hello(), ReadHeaderTimeout: time.Second})
	assert.Nil(t, srv.Addr(), "not bound yet")
	a := &lu.App{}
	a.AddProcess(srv.Process())
	lutest.Launch(t, a)
	addr := srv.Addr().(*net.TCPAddr)
	assert.NotZero(t, addr.Port)
	assert.Equal(t, "hello", get(t, "http://"+addr.String()+"/"))
}

func TestHTTPWithListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := process.NewHTTPServer("api", &http.Server{Addr: "ignored:1", Handler: hello(), ReadHeaderTimeout: time.Second},
		process.WithListener(ln))
	assert.Equal(t, ln.Addr(), srv.Addr())
	a := &lu.App{}
	a.AddProcess(srv.Process())
	require.NoError(t, a.Launch(context.Background()))
	assert.Equal(t, "hello", get(t, "http://"+ln.Addr().String()+"/"))
	require.NoError(t, a.Shutdown())
	_, err = ln.Accept()
	assert.ErrorIs(t, err, net.ErrClosed, "the process closed the listener it was given")
}

// TestHTTPClosesWhenTheGracefulPhaseRunsOut: a request that ignores the
// graceful shutdown is cut off before the process returns: its context is
// cancelled and its connection closed.
func TestHTTPClosesWhenTheGracefulPhaseRunsOut(t *testing.T) {
	reqCtx := make(chan context.Context, 1)
	handlerDone := make(chan struct{})
	srv := process.NewHTTPServer("api", &http.Server{
		Addr:              "127.0.0.1:0",
		ReadHeaderTimeout: time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(handlerDone)
			reqCtx <- r.Context()
			<-r.Context().Done()
		}),
	})
	var rec lutest.Recorder
	a := &lu.App{ShutdownTimeout: 300 * time.Millisecond, OnEvent: rec.OnEvent}
	a.AddProcess(srv.Process())
	require.NoError(t, a.Launch(context.Background()))

	clientErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + srv.Addr().String() + "/wait")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		clientErr <- err
	}()
	ctx := <-reqCtx

	err := a.Shutdown()
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, `lu: Shutdown of process "http api": graceful shutdown did not finish in time, server closed`)
	var timeout *lu.TimeoutError
	assert.False(t, errors.As(err, &timeout), "closed within the App's deadline, not abandoned: %v", err)
	select {
	case <-ctx.Done():
	default:
		t.Fatal("the request's context is still live after Shutdown returned")
	}
	assert.Contains(t, rec.Events(), lu.Event{Type: lu.ProcessEnd, Name: "http api"})
	<-handlerDone
	select {
	case err := <-clientErr:
		assert.Error(t, err, "the client's connection was closed")
	case <-time.After(10 * time.Second):
		t.Fatal("the client is still waiting")
	}
}

// TestHTTPShutdownClosesWhenItsDeadlinePasses drives the process's funcs
// as an App does, with a Run context that stays live: Shutdown alone
// closes the server, and Run returns only after it.
func TestHTTPShutdownClosesWhenItsDeadlinePasses(t *testing.T) {
	reqCtx := make(chan context.Context, 1)
	var inFlight atomic.Pointer[context.Context]
	srv := process.NewHTTPServer("api", &http.Server{
		Addr:              "127.0.0.1:0",
		ReadHeaderTimeout: time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			inFlight.Store(&ctx)
			reqCtx <- ctx
			<-ctx.Done()
		}),
	})
	p := srv.Process()
	require.NoError(t, p.Start(context.Background()))
	runDone := make(chan error, 1)
	go func() {
		err := p.Run(context.Background())
		if ctx := inFlight.Load(); ctx == nil || (*ctx).Err() == nil {
			err = errors.New("Run returned while a request was still live")
		}
		runDone <- err
	}()
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		if resp, err := http.Get("http://" + srv.Addr().String() + "/"); err == nil {
			resp.Body.Close()
		}
	}()
	ctx := <-reqCtx

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := p.Shutdown(shutdownCtx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	select {
	case <-ctx.Done():
	default:
		t.Fatal("the request's context is still live after Shutdown returned")
	}
	assert.NoError(t, <-runDone)
	<-clientDone
}

func TestHTTPRunWithoutAnApp(t *testing.T) {
	srv := process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", Handler: hello(), ReadHeaderTimeout: time.Second})
	p := srv.Process()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, func() bool { return srv.Addr() != nil }, 10*time.Second, time.Millisecond)
	assert.Equal(t, "hello", get(t, "http://"+srv.Addr().String()+"/"))
	cancel()
	assert.NoError(t, <-done, "the end of its context closes the server")
}

func TestSecureHTTPBadCertificateFailsLaunch(t *testing.T) {
	a := &lu.App{}
	p := process.SecureHTTP("tls", &http.Server{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second}, "missing.crt", "missing.key")
	assert.Equal(t, "https tls", p.Name)
	a.AddProcess(p)
	err := a.Launch(context.Background())
	assert.EqualError(t, err, `lu: Start of process "https tls": loading the TLS certificate: open missing.crt: no such file or directory`)
}

func TestSecureHTTPServesTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(hello())
	ts.StartTLS() // for its certificate and client
	cert := ts.TLS.Certificates
	client := ts.Client()
	ts.Close()

	server := &http.Server{Addr: "127.0.0.1:0", Handler: hello(), ReadHeaderTimeout: time.Second}
	server.TLSConfig = ts.TLS.Clone()
	server.TLSConfig.Certificates = cert
	srv := process.NewHTTPServer("api", server, process.WithTLS("", ""))
	assert.Equal(t, "https api", srv.Process().Name)
	a := &lu.App{}
	a.AddProcess(srv.Process())
	lutest.Launch(t, a)
	resp, err := client.Get("https://" + srv.Addr().String() + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "hello", string(body))
}
