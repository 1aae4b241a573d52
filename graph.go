package lu

import (
	"fmt"
	"strconv"
	"strings"
)

// Graph returns this App's lifecycle in Graphviz DOT: the states and
// transitions of the machine, with the App's start hooks (in the order they
// run, with their priorities) hanging off HookStart, its processes off
// Running and its stop hooks off HookStop, so a team can see its service's
// start-up and shutdown order. The output depends only on the App's
// configuration.
func (a *App) Graph() string {
	var start, stop []*hook
	var names []string
	if a != nil {
		a.mu.Lock()
		start = sortedHooks(a.reg.hooks, false)
		stop = sortedHooks(a.reg.hooks, true)
		for _, p := range a.reg.procs {
			names = append(names, p.Name)
		}
		a.mu.Unlock()
	}

	var b strings.Builder
	b.WriteString("digraph lifecycle {\n\trankdir=LR;\n\tnode [shape=Mrecord];\n\n")
	for s := State(0); s < numStates; s++ {
		fmt.Fprintf(&b, "\t%s;\n", s)
	}
	b.WriteString("\n")
	for _, t := range Transitions() {
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
			strconv.Quote(fmt.Sprintf("%d. %s (priority %d)", i+1, h.name(), h.prio)))
	}
	for i := 1; i < len(hooks); i++ {
		fmt.Fprintf(b, "\t\t%s_%d -> %s_%d;\n", id, i-1, id, i)
	}
	b.WriteString("\t}\n")
	if len(hooks) > 0 {
		fmt.Fprintf(b, "\t%s -> %s_0 [style=dotted, arrowhead=none];\n", from, id)
	}
}
