// Command service is an example lu service: a start hook, a worker process
// that logs a tick every few seconds, and a stop hook. Ctrl-C (SIGINT) or
// SIGTERM stops it gracefully; SIGQUIT stops the App and then waits for
// SIGTERM, as under a Kubernetes preStop hook.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/lu-go/lu"
)

func main() {
	every := flag.Duration("every", 2*time.Second, "how often the worker ticks")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)

	a := &lu.App{
		OnEvent: func(_ context.Context, e lu.Event) {
			log.Info("lifecycle", "event", e.Type.String(), "name", e.Name)
		},
	}
	a.OnStartUp(func(context.Context) error {
		log.Info("connecting to the (imaginary) database")
		return nil
	}, lu.WithHookName("open db"))
	a.OnShutdown(func(context.Context) error {
		log.Info("closing the (imaginary) database")
		return nil
	}, lu.WithHookName("close db"))
	a.AddProcess(lu.Process{
		Name: "ticker",
		Run: func(ctx context.Context) error {
			t := time.NewTicker(*every)
			defer t.Stop()
			for n := 1; ; n++ {
				select {
				case <-ctx.Done():
					log.Info("ticker stopping", "cause", context.Cause(ctx))
					return nil
				case <-t.C:
					log.Info("tick", "n", n)
				}
			}
		},
	})
	log.Info("service running: press Ctrl-C to stop")
	os.Exit(a.Run())
}
