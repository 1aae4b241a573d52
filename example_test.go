package lu_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lu-go/lu"
)

func Example() {
	var a lu.App // the zero value is ready to use
	a.OnEvent = func(_ context.Context, e lu.Event) {
		fmt.Println(strings.TrimSpace(e.Type.String() + " " + e.Name))
	}
	a.OnStartUp(func(context.Context) error { return nil }, lu.WithHookName("open db"))
	a.OnShutdown(func(context.Context) error { return nil }, lu.WithHookName("close db"))
	a.AddProcess(lu.Process{
		Name: "worker",
		Run: func(ctx context.Context) error {
			<-ctx.Done() // work until asked to stop
			return nil
		},
	})

	if err := a.Launch(context.Background()); err != nil {
		fmt.Println("launch:", err)
		return
	}
	fmt.Println("state:", a.State())
	if err := a.Shutdown(); err != nil {
		fmt.Println("shutdown:", err)
	}
	fmt.Println("state:", a.State())
	// Output:
	// AppStartup
	// PreHookStart open db
	// PostHookStart open db
	// ProcessStart worker
	// AppRunning
	// state: Running
	// AppTerminating
	// ProcessEnd worker
	// PreHookStop close db
	// PostHookStop close db
	// AppTerminated
	// state: Terminated
}

func ExampleErrIllegalTransition() {
	var a lu.App
	err := a.Shutdown()
	fmt.Println(err)
	fmt.Println(errors.Is(err, lu.ErrIllegalTransition))

	_ = a.Launch(context.Background())
	fmt.Println(a.Launch(context.Background()))
	_ = a.Shutdown()
	fmt.Println(a.Launch(context.Background()))
	// Output:
	// lu: Shutdown in state Idle
	// true
	// lu: Launch in state Running
	// lu: Launch in state Terminated
}

func ExampleApp_Shutdown_processError() {
	var a lu.App
	errDisk := errors.New("disk full")
	a.AddProcess(lu.Process{
		Name: "writer",
		Run:  func(context.Context) error { return errDisk },
	})
	a.OnShutdown(func(context.Context) error {
		fmt.Println("stop hook ran")
		return nil
	})
	_ = a.Launch(context.Background())
	<-a.WaitForShutdown() // closes when the process fails
	err := a.Shutdown()
	fmt.Println(err)
	fmt.Println(errors.Is(err, errDisk))
	// Output:
	// stop hook ran
	// lu: process "writer": disk full
	// true
}

func ExampleTransitions() {
	for _, t := range lu.Transitions() {
		if t.From != t.To { // skip the ignored triggers
			fmt.Printf("%-11v --%v--> %v\n", t.From, t.On, t.To)
		}
	}
	// Output:
	// Idle        --Launch--> Startup
	// Startup     --RunHooks--> HookStart
	// Startup     --StartFailed--> Terminating
	// Startup     --Shutdown--> Terminating
	// Startup     --Stop--> Terminating
	// Startup     --ContextDone--> Terminating
	// HookStart   --Started--> Running
	// HookStart   --StartFailed--> Terminating
	// HookStart   --Shutdown--> Terminating
	// HookStart   --Stop--> Terminating
	// HookStart   --ContextDone--> Terminating
	// Running     --Shutdown--> Draining
	// Running     --Stop--> Draining
	// Running     --ContextDone--> Draining
	// Running     --ProcessFailed--> Draining
	// Draining    --Drained--> Terminating
	// Terminating --ProcessesStopped--> HookStop
	// HookStop    --HooksStopped--> Terminated
}
