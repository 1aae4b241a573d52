package process_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

func ExampleRetry() {
	attempt := 0
	connect := process.Retry(func(context.Context) error {
		attempt++
		fmt.Println("attempt", attempt)
		if attempt < 3 {
			return errors.New("connection refused")
		}
		return nil
	},
		process.WithName("connect"),
		process.WithErrorSleep(0), // a real service would back off
		process.WithLogger(slog.New(slog.DiscardHandler)),
	)
	fmt.Println(connect.Name, connect.Run(context.Background()))
	// Output:
	// attempt 1
	// attempt 2
	// attempt 3
	// connect <nil>
}

func ExampleScheduled() {
	start := time.Date(2026, 1, 1, 8, 59, 0, 0, time.UTC)
	clock := clocktesting.NewFakeClock(start)
	ctx, cancel := context.WithCancel(context.Background())
	report := process.Scheduled(process.ActiveContext(), process.NewMemoryCursor(), "report",
		process.TimeOfDay(9, 0),
		func(_ context.Context, last, runTime time.Time, runID string) error {
			fmt.Println(runID, runTime.Format(time.DateTime), "last:", last.IsZero())
			cancel() // one run is enough for the example
			return nil
		},
		process.WithClock(clock))

	done := make(chan error)
	go func() { done <- report.Run(ctx) }()
	for !clock.HasWaiters() { // wait for the process to wait for 09:00
		time.Sleep(time.Millisecond)
	}
	clock.Step(time.Minute)
	fmt.Println(<-done)
	// Output:
	// report_1767258000 2026-01-01 09:00:00 last: true
	// context canceled
}

func ExampleHTTP() {
	taken, _ := net.Listen("tcp", "127.0.0.1:0")
	defer taken.Close()

	var a lu.App
	a.AddProcess(process.HTTP("api", &http.Server{Addr: taken.Addr().String(), ReadHeaderTimeout: time.Second}))
	err := a.Launch(context.Background()) // the port is bound during start-up
	fmt.Println(strings.Contains(err.Error(), "bind: address already in use"), a.State())
	// Output:
	// true Terminated
}

func ExampleNewHTTPServer() {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })
	api := process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", Handler: mux, ReadHeaderTimeout: time.Second})

	var a lu.App
	a.AddProcess(api.Process())
	if err := a.Launch(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.Get("http://" + api.Addr().String() + "/hello") // the port chosen for ":0"
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	fmt.Println(a.Shutdown())
	// Output:
	// hello
	// <nil>
}
