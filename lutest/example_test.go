package lutest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/lutest"
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
		lutest.AnyOrder( // the processes end in either order
			lu.Event{Type: lu.ProcessEnd, Name: "a"},
			lu.Event{Type: lu.ProcessEnd, Name: "b"},
		),
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
