// Command service is an example lu service, ready for Kubernetes:
//
//   - an HTTP server (default 127.0.0.1:8080) with /healthz (liveness),
//     /readyz (readiness) and /work, which does some (simulated) work and
//     answers in JSON; it binds its port during start-up, and logs
//     "serving" with the bound address once the App runs;
//   - a process.Loop that reports how much work was done, every -every;
//   - a process.Scheduled job, "minutely-report", every -schedule (a
//     minute by default), whose cursor is a file in the state directory,
//     so a restart never repeats a run;
//   - structured logs on stderr.
//
// The state directory is -state-dir, by default lu-example-service in
// the user's cache directory (os.UserCacheDir: $XDG_CACHE_HOME or
// ~/.cache on Linux), which survives restarts. It is created if missing
// and logged at start, with the cursor's last run. The service holds the
// process file service.pid in it while it runs (lu's UseProcessFile), so
// a second instance on the same directory fails at once, naming the
// holder: give each instance its own -state-dir. In a container, point
// -state-dir at a volume: the container's cache directory goes away with
// the container.
//
// Ctrl-C (SIGINT) or SIGTERM stops it gracefully: readiness turns 503,
// the service drains for -drain, then stops serving and runs its stop
// hooks; Run logs "lu: stopping" with the signal. SIGQUIT does the same,
// then logs "waiting for SIGTERM" and waits for it (or SIGINT), as under
// a preStop hook; a second SIGTERM during a slow shutdown exits at once.
// -graph prints the service's own lifecycle diagram (Graphviz DOT) and
// exits, touching no file.
//
// Run by systemd as a Type=notify unit ($NOTIFY_SOCKET set), it reports
// its state, READY=1 once it serves, STOPPING=1 as it begins to stop, and
// the watchdog's pings (see docs/systemd.md for a unit file). The HTTP
// listener is bound during start-up, so that ready means serving.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
	"github.com/lu-go/lu/systemd"
)

// reportName names the scheduled job, and its cursor's file.
const reportName = "minutely-report"

func main() {
	os.Exit(run(os.Args[1:]))
}

// flags are the command line's settings.
type flags struct {
	addr      string
	stateDir  string
	drain     time.Duration
	every     time.Duration
	schedule  time.Duration
	stopDelay time.Duration
	graph     bool
}

func parseFlags(args []string) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to serve HTTP on (port 0 picks a free port)")
	fs.StringVar(&f.stateDir, "state-dir", "", "directory for the schedule cursor and the process file (default: lu-example-service in the user's cache directory)")
	fs.DurationVar(&f.drain, "drain", 2*time.Second, "how long to stay up, not ready, before stopping")
	fs.DurationVar(&f.every, "every", 10*time.Second, "how often the reporter loop reports")
	fs.DurationVar(&f.schedule, "schedule", time.Minute, "period of the scheduled report")
	fs.DurationVar(&f.stopDelay, "stop-delay", 0, "extra time the stop hook takes (to try a slow shutdown)")
	fs.BoolVar(&f.graph, "graph", false, "print the service's lifecycle diagram in DOT and exit")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"every", f.every}, {"schedule", f.schedule}} {
		if d.v <= 0 {
			err := fmt.Errorf("-%s %v: the period must be positive", d.name, d.v)
			fmt.Fprintln(fs.Output(), err)
			return f, err
		}
	}
	return f, nil
}

func run(args []string) int {
	f, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0 // -h: the usage is printed
	}
	if err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s := &service{log: log, cursor: new(stateCursor)}
	a := s.newApp(f)
	if f.graph {
		fmt.Print(a.Graph())
		return 0
	}

	if s.stateDir, err = stateDir(f.stateDir); err != nil {
		log.Error("state directory", "error", err)
		return 1
	}
	log.Info("state directory", "dir", s.stateDir)
	// One instance per state directory: the cursor's files are not to be
	// shared. The App holds the file from Launch until it terminates.
	a.UseProcessFile = true
	a.ProcessFile = filepath.Join(s.stateDir, "service.pid")

	if err := systemd.Attach(a); err != nil { // does nothing unless run by systemd
		log.Error("systemd", "error", err)
		return 1
	}
	defer s.notice.stop()
	return a.Run()
}

// newApp builds the App: its hooks, its processes, and what it logs as
// its lifecycle goes.
func (s *service) newApp(f flags) *lu.App {
	a := &lu.App{DrainDelay: f.drain, Logger: s.log}

	mux := http.NewServeMux()
	mux.Handle("/healthz", a.LivenessHandler())
	mux.Handle("/readyz", a.ReadinessHandler())
	mux.HandleFunc("/work", s.work)
	api := process.NewHTTPServer("api", &http.Server{Addr: f.addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second})

	a.OnStartUp(func(context.Context) error {
		s.log.Info("warming up (an imaginary cache)")
		return nil
	}, lu.WithHookName("warm cache"))
	a.OnStartUp(s.openState, lu.WithHookName("open state"))
	a.OnShutdown(func(ctx context.Context) error {
		s.log.Info("flushing work counters", "done", s.done.Load())
		return lu.Wait(ctx, clock.RealClock{}, f.stopDelay)
	}, lu.WithHookName("flush counters"))
	a.AddProcess(
		api.Process(),
		process.Loop(s.tick, process.WithName("reporter"), process.WithSleep(f.every), process.WithLogger(s.log)),
		process.Scheduled(process.ActiveContext(), s.cursor, reportName,
			process.Every(f.schedule), s.report, process.WithLogger(s.log)),
	)

	s.notice = &waitNotice{log: s.log, terminated: make(chan struct{}), done: make(chan struct{})}
	a.OnTransition(func(t lu.JournalTransition) {
		if t.To == lu.StateRunning {
			// Every process's Start has returned: the port is bound.
			s.log.Info("serving", "addr", api.Addr().String())
		}
		s.notice.observe(t)
	})
	return a
}

// stateDir returns the state directory, absolute, after creating it if
// needed: dir, or by default lu-example-service in the user's cache
// directory.
func stateDir(dir string) (string, error) {
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no default (%w): give one with -state-dir", err)
		}
		dir = filepath.Join(cache, "lu-example-service")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// stateCursor is the schedule's cursor: a FileCursor in the state
// directory, set by the "open state" start hook, which runs once the App
// holds the directory's process file (so no other instance writes
// there), and before the scheduled process starts.
type stateCursor struct{ *process.FileCursor }

// openState opens the schedule's cursor, and logs its last run.
func (s *service) openState(ctx context.Context) error {
	fc, err := process.NewFileCursor(s.stateDir)
	if err != nil {
		return err
	}
	v, err := fc.Get(ctx, reportName)
	if err != nil {
		return err
	}
	s.cursor.FileCursor = fc
	s.log.Info("schedule cursor", "file", fc.Path(reportName), "last_run", describeCursor(v))
	return nil
}

// describeCursor renders a cursor's value for the log: the time it holds,
// "none", or the value itself if it is not a unix time (the scheduled
// process reports that as an error).
func describeCursor(v string) any {
	if v == "" {
		return "none"
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return strconv.Quote(v)
	}
	return time.Unix(sec, 0)
}

// waitNotice logs "waiting for SIGTERM" when Run, having stopped the App
// after a SIGQUIT (a Kubernetes preStop hook), waits for SIGTERM or SIGINT
// before it returns. Run's AppContext is its own, so waitNotice listens
// to the signals too, with an AppContext made as the App launches and
// stopped once Run has returned: Run listens for the whole of that, so no
// signal that Run must heed reaches this one alone.
type waitNotice struct {
	log        *slog.Logger
	sig        lu.AppContext
	terminated chan struct{} // closed when the App is Terminated
	done       chan struct{} // closed by stop
	wg         sync.WaitGroup
}

// observe is called with every transition of the App.
func (w *waitNotice) observe(t lu.JournalTransition) {
	switch t.To {
	case lu.StateStartup:
		w.sig = lu.NewAppContext(context.Background())
		w.wg.Go(w.await)
	case lu.StateTerminated:
		close(w.terminated)
	}
}

// await logs once the App has terminated and SIGQUIT has come, if no
// SIGTERM or SIGINT has come too: that is when Run waits.
func (w *waitNotice) await() {
	for _, ch := range []<-chan struct{}{w.terminated, w.sig.AppContext.Done()} {
		select {
		case <-ch:
		case <-w.done:
			return
		}
	}
	if w.sig.TerminationContext.Err() == nil {
		w.log.Info("waiting for SIGTERM")
	}
}

// stop ends the listening, once Run has returned.
func (w *waitNotice) stop() {
	close(w.done)
	w.wg.Wait()
	w.sig.Stop()
}

// service is the example's state.
type service struct {
	log      *slog.Logger
	stateDir string       // set before Launch
	cursor   *stateCursor // opened by the "open state" hook
	notice   *waitNotice
	done     atomic.Int64
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
