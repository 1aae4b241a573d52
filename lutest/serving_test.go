package lutest

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

func helloServer(addr string) *process.HTTPServer {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })
	return process.NewHTTPServer("api", &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: time.Second})
}

func TestWaitServing(t *testing.T) {
	t.Run("returns the address once the App serves", func(t *testing.T) {
		srv := helloServer("127.0.0.1:0")
		a := &lu.App{}
		a.AddProcess(srv.Process())
		served := make(chan net.Addr, 1)
		go func() { served <- WaitServing(t, srv, time.Minute) }() // before Launch
		Launch(t, a)
		addr := <-served
		require.NotNil(t, addr)
		assert.Equal(t, srv.Addr(), addr)
		resp, err := http.Get("http://" + addr.String() + "/")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "hello", string(body))
	})

	t.Run("a port in use fails the test at once, with the reason", func(t *testing.T) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer taken.Close()
		srv := helloServer(taken.Addr().String())
		a := &lu.App{}
		a.AddProcess(srv.Process())
		require.Error(t, a.Launch(context.Background()))

		ft := &fakeT{TB: t}
		start := time.Now()
		assert.Nil(t, WaitServing(ft, srv, time.Minute))
		assert.Less(t, time.Since(start), 30*time.Second, "it did not wait for its timeout")
		assert.True(t, ft.fatal)
		require.Len(t, ft.errors, 1)
		assert.Contains(t, ft.errors[0], "lutest: WaitServing: process: http api could not start: listen tcp "+taken.Addr().String())
		assert.Contains(t, ft.errors[0], "address already in use")
	})

	t.Run("a server that never starts fails the test at the timeout", func(t *testing.T) {
		ft := &fakeT{TB: t}
		assert.Nil(t, WaitServing(ft, helloServer("127.0.0.1:0"), 10*time.Millisecond))
		assert.True(t, ft.fatal)
		assert.Equal(t, []string{"lutest: WaitServing: process: http api not serving yet: gave up after 10ms"}, ft.errors)
	})

	t.Run("a server that has stopped fails the test", func(t *testing.T) {
		srv := helloServer("127.0.0.1:0")
		a := &lu.App{}
		a.AddProcess(srv.Process())
		require.NoError(t, a.Launch(context.Background()))
		require.NoError(t, a.Shutdown())
		ft := &fakeT{TB: t}
		WaitServing(ft, srv, time.Minute)
		assert.Equal(t, []string{"lutest: WaitServing: process: http api has stopped"}, ft.errors)
	})

	t.Run("a nil server fails the test", func(t *testing.T) {
		ft := &fakeT{TB: t}
		WaitServing(ft, nil, time.Minute)
		assert.Equal(t, []string{"lutest: WaitServing: nil Server"}, ft.errors)
	})

	t.Run("a server that returns neither an address nor an error fails the test", func(t *testing.T) {
		ft := &fakeT{TB: t}
		WaitServing(ft, silentServer{}, time.Minute)
		assert.Equal(t, []string{"lutest: WaitServing: lutest.silentServer.WaitServing returned no address and no error"}, ft.errors)
	})
}

type silentServer struct{}

func (silentServer) WaitServing(context.Context) (net.Addr, error) { return nil, nil }
