package process_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func TestHTTPCompletesAnInFlightRequest(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	addr := freeAddr(t)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a := &lu.App{ShutdownTimeout: 10 * time.Second}
	p := process.HTTP("api", srv)
	assert.Equal(t, "http api", p.Name)
	a.AddProcess(p)
	require.NoError(t, a.Launch(context.Background()))

	var resp *http.Response
	var reqErr error
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		require.Eventually(t, func() bool {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return err == nil
		}, 10*time.Second, 5*time.Millisecond)
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

func TestHTTPListenFailureStopsTheApp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	a := &lu.App{}
	a.AddProcess(process.HTTP("taken", &http.Server{Addr: ln.Addr().String(), ReadHeaderTimeout: time.Second}))
	require.NoError(t, a.Launch(context.Background()))
	<-a.WaitForShutdown()
	assert.ErrorContains(t, a.Shutdown(), "address already in use")
}

func TestSecureHTTPBadCertificate(t *testing.T) {
	a := &lu.App{}
	p := process.SecureHTTP("tls", &http.Server{Addr: freeAddr(t), ReadHeaderTimeout: time.Second}, "missing.crt", "missing.key")
	assert.Equal(t, "https tls", p.Name)
	a.AddProcess(p)
	require.NoError(t, a.Launch(context.Background()))
	<-a.WaitForShutdown()
	assert.ErrorContains(t, a.Shutdown(), "missing.crt")
}
