// Command service is an example lu service, ready for Kubernetes:
//
//   - an HTTP server (default 127.0.0.1:8080) with /healthz (liveness),
//     /readyz (readiness) and /work, which does some (simulated) work and
//     answers in JSON; it binds its port during start-up, and logs
//     "serving" with the bound address once the App runs;
//   - a process.Loop that reports how much work was done, every -every;
//   - a process.Scheduled job, every minute, whose cursor is a file in
//     -state-dir (a temporary directory by default), so a restart with the
//     same directory never repeats a run;
//   - structured logs on stderr.
//
// Ctrl-C (SIGINT) or SIGTERM stops it gracefully: readiness turns 503,
// the service drains for -drain, then stops serving and runs its stop
// hooks. SIGQUIT does the same and then waits for SIGTERM, as under a
// preStop hook; a second SIGTERM during a slow shutdown exits at once.
// -graph prints the service's own lifecycle diagram (Graphviz DOT) and
// exits.
//
// Run by systemd as a Type=notify unit ($NOTIFY_SOCKET set), it reports
// its state, READY=1 once it serves, STOPPING=1 as it begins to stop, and
// the watchdog's pings (see docs/systemd.md for a unit file). The HTTP
// listener is bound during start-up, so that ready means serving.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
	"github.com/lu-go/lu/systemd"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to serve HTTP on (port 0 picks a free port)")
	stateDir := fs.String("state-dir", "", "directory for the schedule cursor (default: a new temporary directory)")
	drain := fs.Duration("drain", 2*time.Second, "how long to stay up, not ready, before stopping")
	every := fs.Duration("every", 10*time.Second, "how often the reporter loop reports")
	stopDelay := fs.Duration("stop-delay", 0, "extra time the stop hook takes (to try a slow shutdown)")
	graph := fs.Bool("graph", false, "print the service's lifecycle diagram in DOT and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s := &service{log: log}
	a := &lu.App{DrainDelay: *drain, Logger: log}

	mux := http.NewServeMux()
	mux.Handle("/healthz", a.LivenessHandler())
	mux.Handle("/readyz", a.ReadinessHandler())
	mux.HandleFunc("/work", s.work)
	api := process.NewHTTPServer("api", &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second})

	var cursor process.Cursor = process.NewMemoryCursor() // for -graph: no files
	if !*graph {
		dir := *stateDir
		if dir == "" {
			d, err := os.MkdirTemp("", "lu-example-")
			if err != nil {
				log.Error("state directory", "error", err)
				return 1
			}
			dir = d
		}
		fc, err := process.NewFileCursor(dir)
		if err != nil {
			log.Error("state directory", "error", err)
			return 1
		}
		log.Info("schedule cursor", "dir", dir)
		cursor = fc
	}

	a.OnStartUp(func(context.Context) error {
		log.Info("warming up (an imaginary cache)")
		return nil
	}, lu.WithHookName("warm cache"))
	a.OnShutdown(func(ctx context.Context) error {
		log.Info("flushing work counters", "done", s.done.Load())
		return lu.Wait(ctx, clock.RealClock{}, *stopDelay)
	}, lu.WithHookName("flush counters"))
	a.AddProcess(
		api.Process(),
		process.Loop(s.tick, process.WithName("reporter"), process.WithSleep(*every), process.WithLogger(log)),
		process.Scheduled(process.ActiveContext(), cursor, "minutely-report",
			process.Every(time.Minute), s.report, process.WithLogger(log)),
	)

	a.OnTransition(func(t lu.JournalTransition) {
		if t.To == lu.StateRunning {
			// Every process's Start has returned: the port is bound.
			log.Info("serving", "addr", api.Addr().String())
		}
	})

	if *graph {
		fmt.Print(a.Graph())
		return 0
	}
	if err := systemd.Attach(a); err != nil { // does nothing unless run by systemd
		log.Error("systemd", "error", err)
		return 1
	}
	return a.Run()
}

// service is the example's state.
type service struct {
	log  *slog.Logger
	done atomic.Int64
}

// work simulates ?ms= milliseconds of work (default 100) and answers.
func (s *service) work(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || ms > 60000 {
		ms = 100
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	n := s.done.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"worked_ms": ms, "total": n})
}

func (s *service) tick(context.Context) error {
	s.log.Info("work done so far", "requests", s.done.Load())
	return nil
}

func (s *service) report(_ context.Context, last, runTime time.Time, runID string) error {
	s.log.Info("scheduled report", "run_id", runID, "run_time", runTime, "last_run", last, "requests", s.done.Load())
	return nil
}
