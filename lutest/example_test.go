package lutest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

func ExampleAssertEvents() {
	var rec lutest.Recorder
	a := &lu.App{OnEvent: rec.OnEvent}
	a.AddProcess(
		lu.Process{Name: "a", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }},
		lu.Process{Name: "b", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }},
	)
	_ = a.Launch(context.Background())
	_ = a.Shutdown()

	t := &testing.T{} // in a test, the test's own t
	ok := lutest.AssertEvents(t, rec.Events(),
		lutest.Ev(lu.AppStartup),
		lutest.Ev(lu.ProcessStart, "a"),
		lutest.Ev(lu.ProcessStart, "b"),
		lutest.Ev(lu.AppRunning),
		lutest.Ev(lu.AppTerminating),
		lutest.AnyOrder(lutest.Ev(lu.ProcessEnd, "a"), lutest.Ev(lu.ProcessEnd, "b")), // in either order
		lutest.Ev(lu.AppTerminated),
	)
	fmt.Println(ok)
	fmt.Println(lutest.FormatAll(rec.Events()[:3]))
	// Output:
	// true
	// [AppStartup ProcessStart(a) ProcessStart(b)]
}

func ExampleStep() {
	t := &testing.T{} // in a test, the test's own t
	clock := lutest.NewClock()
	done := make(chan error)
	go func() { done <- lu.Wait(context.Background(), clock, time.Hour) }()
	lutest.Step(t, clock, time.Hour) // waits for lu.Wait to start waiting
	fmt.Println(<-done)
	// Output:
	// <nil>
}

// Launch launches the App for the length of the test, and shuts it down in
// t.Cleanup, failing the test if either returns an error.
func ExampleLaunch() {
	t := &testing.T{} // in a test, the test's own t
	var rec lutest.Recorder
	app := &lu.App{OnEvent: rec.OnEvent}
	app.AddProcess(lu.Process{Name: "worker", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }})
	lutest.Launch(t, app)
	fmt.Println(app.State()) // exercise the service here

	_ = app.Shutdown() // in a test, t.Cleanup does it once the test ends
	ok := rec.Assert(t,
		lutest.Ev(lu.AppStartup), lutest.Ev(lu.ProcessStart, "worker"), lutest.Ev(lu.AppRunning),
		lutest.Ev(lu.AppTerminating), lutest.Ev(lu.ProcessEnd, "worker"), lutest.Ev(lu.AppTerminated))
	fmt.Println(app.State(), ok)
	// Output:
	// Running
	// Terminated true
}

// WaitFor waits until the App has emitted an event: here the end of a
// process that finishes on its own.
func ExampleRecorder_WaitFor() {
	t := &testing.T{} // in a test, the test's own t
	var rec lutest.Recorder
	app := &lu.App{OnEvent: rec.OnEvent}
	app.AddProcess(lu.Process{Name: "warm cache", Run: func(context.Context) error { return nil }})
	_ = app.Launch(context.Background())

	rec.WaitFor(t, lutest.Ev(lu.ProcessEnd, "warm cache"), 10*time.Second)
	fmt.Println("cache warm; state:", app.State())
	_ = app.Shutdown()
	// Output:
	// cache warm; state: Running
}

// AnyOrder matches events that may come in any order, such as the ends of
// processes stopped together; it takes what Ev returns, or lu.Events.
func ExampleAnyOrder() {
	t := &testing.T{} // in a test, the test's own t
	events := []lu.Event{
		{Type: lu.AppTerminating},
		{Type: lu.ProcessEnd, Name: "b"},
		{Type: lu.ProcessEnd, Name: "a"},
		{Type: lu.AppTerminated},
	}
	ok := lutest.AssertEvents(t, events,
		lutest.Ev(lu.AppTerminating),
		lutest.AnyOrder(lutest.Ev(lu.ProcessEnd, "a"), lutest.Ev(lu.ProcessEnd, "b")),
		lutest.Ev(lu.AppTerminated),
	)
	fmt.Println(ok)
	// Output:
	// true
}

// WaitServing waits until an HTTP process serves and returns its address:
// the port chosen for ":0" here.
func ExampleWaitServing() {
	t := &testing.T{} // in a test, the test's own t
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "pong") })
	api := process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", Handler: mux, ReadHeaderTimeout: time.Second})
	app := &lu.App{}
	app.AddProcess(api.Process())
	lutest.Launch(t, app)

	addr := lutest.WaitServing(t, api, 10*time.Second)
	resp, err := http.Get("http://" + addr.String() + "/ping")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	_ = app.Shutdown() // in a test, t.Cleanup does it
	// Output:
	// pong
}
