package lu_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/lu-go/lu"
)

// A service's main: Run launches the App, waits for SIGINT or SIGTERM (or
// for a process to fail), shuts the App down and returns the exit code.
func ExampleApp_Run() {
	a := &lu.App{Logger: slog.Default()}
	a.OnStartUp(func(context.Context) error { return nil }, lu.WithHookName("open db"))
	a.OnShutdown(func(context.Context) error { return nil }, lu.WithHookName("close db"))
	a.AddProcess(lu.Process{
		Name: "consumer",
		Run: func(ctx context.Context) error {
			<-ctx.Done() // consume until the App stops
			return nil
		},
	})
	os.Exit(a.Run())
}

// Launch and Shutdown by hand, for a program that manages its own signals
// or a test. The end of Launch's context stops the App, as Shutdown does.
func ExampleApp_Launch() {
	var a lu.App
	a.AddProcess(lu.Process{
		Name: "worker",
		Run: func(ctx context.Context) error {
			<-ctx.Done()
			fmt.Println("worker stopping:", context.Cause(ctx))
			return nil
		},
	})

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if err := a.Launch(ctx); err != nil {
		fmt.Println("launch failed:", err)
		return
	}
	fmt.Println("launched:", a.State())

	cancel(errors.New("operator asked"))
	<-a.WaitForShutdown() // closed as soon as the App begins to stop
	fmt.Println("shutdown:", a.Shutdown())
	fmt.Println("state:", a.State())
	// Output:
	// launched: Running
	// worker stopping: lu: Launch context done: operator asked
	// shutdown: <nil>
	// state: Terminated
}

// Stop asks the App to stop without waiting, from anywhere: here a process
// that has finished the App's work. A nil cause is a clean stop; a cause is
// what Shutdown returns.
func ExampleApp_Stop() {
	var a lu.App
	a.AddProcess(lu.Process{
		Name: "migrate",
		Run: func(ctx context.Context) error {
			fmt.Println("migrating")
			a.Stop(nil) // done: stop the App cleanly
			<-ctx.Done()
			return nil
		},
	})
	_ = a.Launch(context.Background())
	<-a.WaitForShutdown()
	fmt.Println("clean stop:", a.Shutdown())

	errQuota := errors.New("quota exhausted")
	var b lu.App
	b.AddProcess(lu.Process{
		Name: "crawler",
		Run: func(ctx context.Context) error {
			b.Stop(errQuota) // stop the App, and say why
			<-ctx.Done()
			fmt.Println("crawler stopping:", context.Cause(ctx))
			return nil
		},
	})
	_ = b.Launch(context.Background())
	<-b.WaitForShutdown()
	err := b.Shutdown()
	fmt.Println("stop with a cause:", err, errors.Is(err, errQuota))
	// Output:
	// migrating
	// clean stop: <nil>
	// crawler stopping: quota exhausted
	// stop with a cause: quota exhausted true
}

// AddHook pairs a start func with the stop func that undoes it: the stop
// func runs only if its start func succeeded, so it never releases what
// was not acquired.
func ExampleApp_AddHook() {
	var a lu.App
	a.AddHook(lu.Hook{
		Name:  "db",
		Start: func(context.Context) error { fmt.Println("connect to the db"); return nil },
		Stop:  func(context.Context) error { fmt.Println("disconnect from the db"); return nil },
	})
	a.AddHook(lu.Hook{
		Name:  "registry",
		Start: func(context.Context) error { return errors.New("registry unreachable") },
		Stop:  func(context.Context) error { fmt.Println("deregister (never printed)"); return nil },
	})
	err := a.Launch(context.Background()) // the second Start fails: the first pair's Stop runs
	fmt.Println(err)
	fmt.Println(a.State())
	// Output:
	// connect to the db
	// disconnect from the db
	// lu: start hook "registry": registry unreachable
	// Terminated
}
