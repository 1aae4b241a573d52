// Command runapp is a service used by the tests of App.Run: it runs one
// process, prints a line at each lifecycle event on stdout, and exits with
// Run's code. LU_MODE=fail makes its process fail, LU_MODE=failstart its
// start hook; LU_SLOW_STOP makes its stop hook take that long.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lu-go/lu"
)

func main() {
	a := &lu.App{
		OnEvent: func(_ context.Context, e lu.Event) { fmt.Println(e.Type) },
	}
	a.AddProcess(lu.Process{Name: "worker", Run: func(ctx context.Context) error {
		if os.Getenv("LU_MODE") == "fail" {
			return errors.New("worker failed")
		}
		<-ctx.Done()
		return nil
	}})
	a.OnStartUp(func(context.Context) error {
		if os.Getenv("LU_MODE") == "failstart" {
			return errors.New("start hook failed")
		}
		return nil
	})
	a.OnShutdown(func(ctx context.Context) error {
		if d, err := time.ParseDuration(os.Getenv("LU_SLOW_STOP")); err == nil {
			time.Sleep(d)
		}
		return nil
	}, lu.WithHookName("slow stop"))
	os.Exit(a.Run())
}
