// Command runapp is a service used by the tests of App.Run: it runs one
// process, prints a line at each lifecycle event on stdout, and exits with
// Run's code. LU_MODE=fail makes its process fail, LU_MODE=failstart its
// start hook, LU_MODE=stop and stopclean make its process call Stop with and
// without a cause; LU_SLOW_START and LU_SLOW_STOP make its start and stop
// hooks take that long (the start hook ends early if its context does).
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
		switch os.Getenv("LU_MODE") {
		case "fail":
			return errors.New("worker failed")
		case "stop":
			a.Stop(errors.New("job done badly"))
		case "stopclean":
			a.Stop(nil)
		}
		<-ctx.Done()
		return nil
	}})
	a.OnStartUp(func(ctx context.Context) error {
		if os.Getenv("LU_MODE") == "failstart" {
			return errors.New("start hook failed")
		}
		if d, err := time.ParseDuration(os.Getenv("LU_SLOW_START")); err == nil {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
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
