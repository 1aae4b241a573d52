package lu_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/lu-go/lu"
)

// probe asks h what a Kubernetes probe would, and returns the answer.
func probe(h http.Handler, path string) string {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return fmt.Sprint(w.Code, " ", strings.TrimSpace(w.Body.String()))
}

// With DrainDelay, a requested stop first moves the App to Draining: the
// readiness handler turns 503, so that load balancers and Kubernetes stop
// sending traffic, while the liveness handler stays 200 and the processes
// keep serving; after the delay the processes are stopped.
func ExampleApp_ReadinessHandler() {
	a := &lu.App{DrainDelay: 10 * time.Millisecond} // in production, a few seconds
	mux := http.NewServeMux()
	mux.Handle("/healthz", a.LivenessHandler())
	mux.Handle("/readyz", a.ReadinessHandler())
	a.AddProcess(lu.Process{Name: "api", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }})

	// What the probes see while the App drains. OnTransition runs before the
	// drain's delay begins, so the output does not depend on timing.
	a.OnTransition(func(t lu.JournalTransition) {
		if t.To == lu.StateDraining {
			fmt.Println("draining: readyz", probe(mux, "/readyz"), "| healthz", probe(mux, "/healthz"))
		}
	})

	fmt.Println("before launch: readyz", probe(mux, "/readyz"))
	_ = a.Launch(context.Background())
	fmt.Println("running: readyz", probe(mux, "/readyz"))
	_ = a.Shutdown() // drains for DrainDelay, then stops
	fmt.Println("terminated: readyz", probe(mux, "/readyz"), "| healthz", probe(mux, "/healthz"))
	// Output:
	// before launch: readyz 503 {"state":"Idle"}
	// running: readyz 200 {"state":"Running"}
	// draining: readyz 503 {"state":"Draining"} | healthz 200 {"state":"Draining"}
	// terminated: readyz 503 {"state":"Terminated"} | healthz 503 {"state":"Terminated"}
}

// During a slow start-up the App is alive but not ready: a liveness probe
// leaves it be, and no traffic is sent to it yet.
func ExampleApp_LivenessHandler() {
	var a lu.App
	live, ready := a.LivenessHandler(), a.ReadinessHandler()
	a.OnStartUp(func(context.Context) error {
		fmt.Println("warming up: healthz", probe(live, "/healthz"), "| readyz", probe(ready, "/readyz"))
		return nil
	}, lu.WithHookName("warm cache"))
	_ = a.Launch(context.Background())
	fmt.Println("running: healthz", probe(live, "/healthz"), "| readyz", probe(ready, "/readyz"))
	_ = a.Shutdown()
	// Output:
	// warming up: healthz 200 {"state":"HookStart"} | readyz 503 {"state":"HookStart"}
	// running: healthz 200 {"state":"Running"} | readyz 200 {"state":"Running"}
}

// The journal says what the App did: its transitions, and how each hook
// and process ended. Times and durations are in it too.
func ExampleApp_Journal() {
	var a lu.App
	a.OnStartUp(func(context.Context) error { return nil }, lu.WithHookName("open db"))
	a.OnShutdown(func(context.Context) error { return nil }, lu.WithHookName("close db"))
	a.AddProcess(lu.Process{Name: "writer", Run: func(context.Context) error { return errors.New("disk full") }})
	_ = a.Launch(context.Background())
	<-a.WaitForShutdown() // the process failed
	_ = a.Shutdown()

	j := a.Journal()
	for _, t := range j.Transitions {
		fmt.Printf("%v --%v--> %v\n", t.From, t.Trigger, t.To)
	}
	for _, e := range j.StartHooks {
		fmt.Printf("start hook %q, error %v\n", e.Name, e.Err)
	}
	for _, e := range j.Processes {
		fmt.Printf("process %q, error %v\n", e.Name, e.Err)
	}
	for _, e := range j.StopHooks {
		fmt.Printf("stop hook %q, error %v\n", e.Name, e.Err)
	}
	// Output:
	// Idle --Launch--> Startup
	// Startup --RunHooks--> HookStart
	// HookStart --Started--> Running
	// Running --ProcessFailed--> Draining
	// Draining --Drained--> Terminating
	// Terminating --ProcessesStopped--> HookStop
	// HookStop --HooksStopped--> Terminated
	// start hook "open db", error <nil>
	// process "writer", error lu: process "writer": disk full
	// stop hook "close db", error <nil>
}

// JournalHandler serves the journal as JSON, where you mount it: it names
// every hook and process and their errors, so keep it off public ports.
func ExampleApp_JournalHandler() {
	var a lu.App
	a.AddProcess(lu.Process{Name: "worker", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }})
	_ = a.Launch(context.Background())
	_ = a.Shutdown()

	admin := http.NewServeMux()
	admin.Handle("/debug/lifecycle", a.JournalHandler())
	w := httptest.NewRecorder()
	admin.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/debug/lifecycle", nil))
	fmt.Println(w.Header().Get("Content-Type"))

	var journal struct {
		Transitions []struct{ From, Trigger, To, Duration string }
		Processes   []struct{ Name, Started, Ended, Duration string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &journal); err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range journal.Transitions {
		fmt.Printf("%s --%s--> %s\n", t.From, t.Trigger, t.To)
	}
	for _, p := range journal.Processes {
		_, err := time.ParseDuration(p.Duration)
		fmt.Println(p.Name, "started", p.Started != "", "ended", p.Ended != "", "duration parses", err == nil)
	}
	// Output:
	// application/json
	// Idle --Launch--> Startup
	// Startup --RunHooks--> HookStart
	// HookStart --Started--> Running
	// Running --Shutdown--> Draining
	// Draining --Drained--> Terminating
	// Terminating --ProcessesStopped--> HookStop
	// HookStop --HooksStopped--> Terminated
	// worker started true ended true duration parses true
}

// Graph draws this App's lifecycle in Graphviz DOT: the states and
// transitions of the machine, and the App's own hooks, in the order they
// run, and processes. The example prints only the App's own nodes.
func ExampleApp_Graph() {
	var a lu.App
	a.OnStartUp(func(context.Context) error { return nil }, lu.WithHookName("load config"), lu.WithHookPriority(lu.HookPriorityFirst))
	a.AddHook(lu.Hook{
		Name:  "db",
		Start: func(context.Context) error { return nil },
		Stop:  func(context.Context) error { return nil },
	})
	a.AddProcess(lu.Process{Name: "api", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }})
	dot := a.Graph()
	fmt.Println(strings.SplitN(dot, "\n", 2)[0])
	for line := range strings.Lines(dot) {
		if strings.Contains(line, "shape=box") { // a hook or a process
			fmt.Print(strings.TrimSpace(line), "\n")
		}
	}
	// Output:
	// digraph lifecycle {
	// start_0 [shape=box, label="1. load config (priority -100)"];
	// start_1 [shape=box, label="2. db (priority 0)"];
	// process_0 [shape=box, label="api"];
	// stop_0 [shape=box, label="1. db (priority 0)"];
}
