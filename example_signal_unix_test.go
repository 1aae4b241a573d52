//go:build unix

package lu_test

import (
	"context"
	"fmt"
	"syscall"

	"github.com/lu-go/lu"
)

// On Kubernetes, a preStop hook sends SIGQUIT: that stops the App
// (AppContext ends) and leaves the binary running until SIGTERM ends
// TerminationContext. The example signals itself.
func ExampleAppContext() {
	ac := lu.NewAppContext(context.Background())
	defer ac.Stop()

	_ = syscall.Kill(syscall.Getpid(), syscall.SIGQUIT) // the preStop hook
	<-ac.AppContext.Done()
	fmt.Println("app:", context.Cause(ac.AppContext))
	fmt.Println("binary still running:", ac.TerminationContext.Err() == nil)

	_ = syscall.Kill(syscall.Getpid(), syscall.SIGTERM) // the hook returned
	<-ac.TerminationContext.Done()
	fmt.Println("binary:", context.Cause(ac.TerminationContext))
	// Output:
	// app: lu: received signal quit: context canceled
	// binary still running: true
	// binary: lu: received signal terminated: context canceled
}

// What App.Run does, by hand: launch the App on AppContext, so that a
// signal stops it, shut it down, and wait for TerminationContext before
// exiting. The example signals itself.
func ExampleNewAppContext() {
	ac := lu.NewAppContext(context.Background())
	defer ac.Stop() // signals are handled as before once it returns

	var a lu.App
	a.AddProcess(lu.Process{Name: "worker", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }})
	if err := a.Launch(ac.AppContext); err != nil {
		fmt.Println(err)
		return
	}

	_ = syscall.Kill(syscall.Getpid(), syscall.SIGTERM) // kill <pid>, or Ctrl-C's SIGINT
	<-a.WaitForShutdown()
	fmt.Println("shutdown:", a.Shutdown())
	<-ac.TerminationContext.Done() // SIGTERM ended both contexts
	fmt.Println("exit")
	// Output:
	// shutdown: <nil>
	// exit
}
