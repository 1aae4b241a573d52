package lutest

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"
)

// Server is a server that a process binds and then serves on, such as
// *process.HTTPServer (from process.NewHTTPServer). WaitServing waits
// until it serves and returns its address, or returns an error saying why
// it never will (it could not bind, or it has stopped), or why it stopped
// waiting: it must return once ctx ends.
type Server interface {
	WaitServing(ctx context.Context) (net.Addr, error)
}

// WaitServing waits, up to timeout, until srv serves, and returns the
// address it is bound to: for a server listening on ":0", the port chosen.
// It fails t at once, with the reason, if srv could not bind (a port in
// use, a bad certificate) or has stopped, and fails t after timeout if it
// is still not serving (the App was not launched, or is still starting).
//
// The App may be launched before or after the call, from another
// goroutine:
//
//	srv := process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", Handler: h})
//	app.AddProcess(srv.Process())
//	lutest.Launch(t, app)
//	url := "http://" + lutest.WaitServing(t, srv, 5*time.Second).String()
func WaitServing(t testing.TB, srv Server, timeout time.Duration) net.Addr {
	t.Helper()
	if srv == nil {
		t.Fatalf("lutest: WaitServing: nil Server")
		return nil
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), timeout,
		fmt.Errorf("gave up after %v", timeout))
	defer cancel()
	addr, err := srv.WaitServing(ctx)
	if err == nil && addr == nil {
		err = fmt.Errorf("%T.WaitServing returned no address and no error", srv)
	}
	if err != nil {
		t.Fatalf("lutest: WaitServing: %v", err)
		return nil
	}
	return addr
}
