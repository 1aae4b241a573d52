package lu

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// LivenessHandler reports whether the App is alive: 200 from Startup until
// it is Terminated, 503 before and after. The JSON body names the state and
// nothing else, such as {"state":"Running"}.
func (a *App) LivenessHandler() http.Handler {
	return stateHandler(a, func(s State) bool { return s >= StateStartup && s < StateTerminated })
}

// ReadinessHandler reports whether the App should receive traffic: 200
// only while it is Running and no stop has been requested, 503 otherwise
// (during start-up, while Draining and after). The JSON body names the
// state and nothing else.
func (a *App) ReadinessHandler() http.Handler {
	return stateHandler(a, func(s State) bool { return s == StateRunning })
}

func stateHandler(a *App, ok func(State) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s := a.State()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if ok(s) {
			w.WriteHeader(http.StatusOK)
		} else {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintf(w, "{\"state\":%q}\n", s.String())
	})
}

// Graph returns this App's lifecycle in Graphviz DOT: the states and
// transitions of the machine, with the App's start hooks (in the order they
// run, with their priorities) hanging off HookStart, its processes off
// Running and its stop hooks off HookStop, so a team can see its service's
// start-up and shutdown order. The output depends only on the App's
// configuration.
func (a *App) Graph() string {
	a.mu.Lock()
	start := sortedHooks(a.startHooks)
	stop := sortedHooks(a.stopHooks)
	names := make([]string, 0, a.procs.len())
	for _, p := range a.procs.all {
		names = append(names, p.Name)
	}
	a.mu.Unlock()

	var b strings.Builder
	b.WriteString("digraph lifecycle {\n\trankdir=LR;\n\tnode [shape=Mrecord];\n\n")
	for s := State(0); s < numStates; s++ {
		fmt.Fprintf(&b, "\t%s;\n", s)
	}
	b.WriteString("\n")
	for _, t := range transitions {
		if t.From != t.To {
			fmt.Fprintf(&b, "\t%s -> %s [label=%q];\n", t.From, t.To, t.On.String())
		}
	}
	hookCluster(&b, "start", "start hooks", StateHookStart, start)
	b.WriteString("\n\tsubgraph cluster_processes {\n\t\tlabel=\"processes\";\n\t\tstyle=dashed;\n")
	for i, n := range names {
		fmt.Fprintf(&b, "\t\tprocess_%d [shape=box, label=%s];\n", i, strconv.Quote(orUnnamed(n)))
	}
	b.WriteString("\t}\n")
	for i := range names {
		fmt.Fprintf(&b, "\tRunning -> process_%d [style=dotted, arrowhead=none];\n", i)
	}
	hookCluster(&b, "stop", "stop hooks", StateHookStop, stop)
	b.WriteString("\tinit [label=\"\", shape=point];\n\tinit -> Idle;\n}\n")
	return b.String()
}

// hookCluster draws hooks as a chain in their running order.
func hookCluster(b *strings.Builder, id, label string, from State, hooks []*hook) {
	fmt.Fprintf(b, "\n\tsubgraph cluster_%s {\n\t\tlabel=%q;\n\t\tstyle=dashed;\n", id, label)
	for i := range hooks {
		h := hooks[i]
		fmt.Fprintf(b, "\t\t%s_%d [shape=box, label=%s];\n", id, i,
			strconv.Quote(fmt.Sprintf("%d. %s (priority %d)", i+1, h.name(), h.priority())))
	}
	for i := 1; i < len(hooks); i++ {
		fmt.Fprintf(b, "\t\t%s_%d -> %s_%d;\n", id, i-1, id, i)
	}
	b.WriteString("\t}\n")
	if len(hooks) > 0 {
		fmt.Fprintf(b, "\t%s -> %s_0 [style=dotted, arrowhead=none];\n", from, id)
	}
}

func orUnnamed(n string) string {
	if n == "" {
		return "<unnamed>"
	}
	return n
}
