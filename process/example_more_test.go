package process_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

// discardLogs keeps the examples' logs out of their output.
var discardLogs = process.WithLogger(slog.New(slog.DiscardHandler))

// A Loop calls its func until its context ends (the App stops), sleeping
// between runs. The end of the context is not the loop's failure.
func ExampleLoop() {
	ctx, stop := context.WithCancel(context.Background())
	polls := 0
	poll := process.Loop(func(ctx context.Context) error {
		polls++
		fmt.Println("poll", polls)
		if polls == 3 {
			stop() // as the App does when it stops
		}
		return nil
	},
		process.WithName("poll"),
		process.WithSleep(time.Millisecond), // after a run that succeeded
		process.WithErrorSleep(time.Second), // after an error
		discardLogs,
	)
	fmt.Println(poll.Name, "returned:", poll.Run(ctx)) // an App calls Run itself
	// Output:
	// poll 1
	// poll 2
	// poll 3
	// poll returned: context canceled
}

// With WithBreakableLoop, the func ends the loop, and its process, cleanly
// by returning ErrBreakContextLoop: the App keeps running.
func ExampleWithBreakableLoop() {
	batches := []string{"a", "b", "c"}
	drain := process.Loop(func(ctx context.Context) error {
		if len(batches) == 0 {
			return process.ErrBreakContextLoop // nothing left to do
		}
		fmt.Println("batch", batches[0])
		batches = batches[1:]
		return nil
	}, process.WithName("drain"), process.WithBreakableLoop(), discardLogs)
	fmt.Println(drain.Name, "returned:", drain.Run(context.Background()))
	// Output:
	// batch a
	// batch b
	// batch c
	// drain returned: <nil>
}

// A ContextLoop asks its ContextFunc for each run's context. In a service
// the func blocks until this replica holds a role, and its context ends
// when the role is lost; here the role is lost after the second run, and
// won again.
func ExampleContextLoop() {
	var role context.Context
	var lose context.CancelCauseFunc
	term := 0
	awaitRole := func(ctx context.Context) (context.Context, context.CancelFunc, error) {
		if role == nil || role.Err() != nil { // not held: win it (a real one waits here)
			term++
			fmt.Println("role won, term", term)
			role, lose = context.WithCancelCause(ctx)
		}
		runCtx, release := context.WithCancel(role)
		return runCtx, release, nil
	}

	ctx, stop := context.WithCancel(context.Background())
	runs := 0
	leader := process.ContextLoop(awaitRole, func(ctx context.Context) error {
		runs++
		fmt.Println("run", runs, "in term", term)
		switch runs {
		case 2:
			lose(errors.New("lease expired")) // the next run awaits the role again
		case 4:
			stop()
		}
		return nil
	}, process.WithName("leader"), discardLogs)
	fmt.Println(leader.Run(ctx))
	// Output:
	// role won, term 1
	// run 1 in term 1
	// run 2 in term 1
	// role won, term 2
	// run 3 in term 2
	// run 4 in term 2
	// context canceled
}

// A FileCursor keeps a schedule's last run on disk, so that a restart
// neither runs a completed firing again nor forgets a missed one.
func ExampleNewFileCursor() {
	dir, err := os.MkdirTemp("", "cursors") // in a service, a directory that survives restarts
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	cursor, err := process.NewFileCursor(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	last, err := cursor.Get(ctx, "report")
	fmt.Printf("never run: %q, %v\n", last, err) // a missing value is "", not an error
	if err := cursor.Set(ctx, "report", "1767258000"); err != nil {
		fmt.Println(err)
		return
	}

	restarted, err := process.NewFileCursor(dir) // as after a restart
	if err != nil {
		fmt.Println(err)
		return
	}
	last, err = restarted.Get(ctx, "report")
	fmt.Printf("after a restart: %q, %v\n", last, err)
	fmt.Println("stored in", filepath.Base(restarted.Path("report")))

	// A schedule gives its cursor to Scheduled, which stores the last
	// completed firing under the process's name.
	var a lu.App
	a.AddProcess(process.Scheduled(process.ActiveContext(), restarted, "report", process.TimeOfDay(9, 0),
		func(ctx context.Context, lastRun, runTime time.Time, runID string) error { return nil }))
	// Output:
	// never run: "", <nil>
	// after a restart: "1767258000", <nil>
	// stored in report.cursor
}

// ExponentialBackoff doubles the error sleep with every consecutive error,
// up to a limit; jitter takes a random part of it away, so that replicas
// failing together do not retry in step.
func ExampleExponentialBackoff() {
	exact := process.ExponentialBackoff(time.Second, 10*time.Second, 0)
	var sleeps []time.Duration
	for errCount := uint(1); errCount <= 6; errCount++ {
		sleeps = append(sleeps, exact(errCount, nil))
	}
	fmt.Println(sleeps)

	jittered := process.ExponentialBackoff(time.Second, 10*time.Second, 0.5)
	d := jittered(3, nil) // 4s, less up to half of it
	fmt.Println(d >= 2*time.Second && d <= 4*time.Second)

	// Give it to a process with WithErrorSleepFunc.
	_ = process.Loop(func(context.Context) error { return nil }, process.WithErrorSleepFunc(jittered))
	// Output:
	// [1s 2s 4s 8s 10s 10s]
	// true
}

// ParseCron reads a standard five-field cron spec; the schedule fires in
// the location of the time it is given (see ToTimezone). A spec that never
// fires is an error, caught at start-up.
func ExampleParseCron() {
	weekdays, err := process.ParseCron("30 9 * * 1-5") // 09:30, Monday to Friday
	if err != nil {
		fmt.Println(err)
		return
	}
	t := time.Date(2026, time.January, 2, 12, 0, 0, 0, time.UTC) // a Friday, noon
	for range 3 {
		t = weekdays.Next(t)
		fmt.Println(t.Format("Mon 2 Jan 15:04 MST"))
	}

	_, err = process.ParseCron("0 0 30 2 *") // 30 February
	fmt.Println(err)
	// Output:
	// Mon 5 Jan 09:30 UTC
	// Tue 6 Jan 09:30 UTC
	// Wed 7 Jan 09:30 UTC
	// process: cron spec "0 0 30 2 *" never fires
}

// WaitServing waits until the server serves, and returns where: here the
// port chosen for ":0". It may be called before the App launches.
func ExampleHTTPServer_WaitServing() {
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "pong") })
	api := process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", Handler: mux, ReadHeaderTimeout: time.Second})

	var a lu.App
	a.AddProcess(api.Process())
	launched := make(chan error, 1)
	go func() { launched <- a.Launch(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := api.WaitServing(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.Get("http://" + addr.String() + "/ping")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	fmt.Println("launch:", <-launched)
	fmt.Println("shutdown:", a.Shutdown())
	// Output:
	// pong
	// launch: <nil>
	// shutdown: <nil>
}
