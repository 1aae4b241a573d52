package lu

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// next returns the table's answer for (s, t): the destination and whether
// the pair is listed.
func next(s State, t Trigger) (State, bool) {
	for _, tr := range Transitions() {
		if tr.From == s && tr.On == t {
			return tr.To, true
		}
	}
	return s, false
}

// testRun returns a run in state s, as Launch would build it, for firing
// the machine directly.
func testRun(s State) *run {
	r := &run{stopping: make(chan struct{}), cancelStart: func(error) {}}
	r.fctx = fireContext{Context: context.Background(), r: r}
	r.journal.epoch = time.Now()
	r.state.Store(int32(s))
	return r
}

func TestTransitionTable(t *testing.T) {
	t.Run("rows are unique and move only forward", func(t *testing.T) {
		seen := map[[2]int]bool{}
		for _, tr := range Transitions() {
			key := [2]int{int(tr.From), int(tr.On)}
			assert.False(t, seen[key], "duplicate row %v %v", tr.From, tr.On)
			seen[key] = true
			assert.GreaterOrEqual(t, tr.To, tr.From, "row %v --%v--> %v goes backwards", tr.From, tr.On, tr.To)
		}
	})
	t.Run("every state but Terminated has a way forward", func(t *testing.T) {
		for s := State(0); s < numStates; s++ {
			forward := false
			for _, tr := range Transitions() {
				forward = forward || (tr.From == s && tr.To > s)
			}
			assert.Equal(t, s != StateTerminated, forward, "state %v", s)
		}
	})
	t.Run("Transitions lists only states an App can be in", func(t *testing.T) {
		for _, tr := range Transitions() {
			assert.Less(t, tr.From, State(numStates), "row %v", tr)
			assert.Less(t, tr.To, State(numStates), "row %v", tr)
		}
	})
	t.Run("Transitions returns a copy", func(t *testing.T) {
		tt := Transitions()
		tt[0].To = StateTerminated
		assert.Equal(t, StateStartup, Transitions()[0].To)
	})
	t.Run("every superstate row answers for each substate", func(t *testing.T) {
		for _, tr := range transitions {
			for _, ss := range superstates {
				if ss.Super != tr.From {
					continue
				}
				to, listed := next(ss.Sub, tr.On)
				assert.True(t, listed, "%v %v", ss.Sub, tr.On)
				if tr.To == tr.From {
					assert.Equal(t, ss.Sub, to, "ignored in %v", ss.Sub)
				} else {
					assert.Equal(t, tr.To, to)
				}
			}
		}
	})
}

// TestMachineFiresEveryPair fires every trigger in every state on the real
// machine and checks the result against the table: listed pairs move (or are
// ignored), unlisted ones are refused with ErrIllegalTransition and change
// nothing. Nothing panics.
func TestMachineFiresEveryPair(t *testing.T) {
	for s := State(0); s < numStates; s++ {
		for tr := Trigger(0); tr < numTriggers; tr++ {
			want, listed := next(s, tr)
			name := fmt.Sprintf("%v/%v", s, tr)
			if listed {
				name += "->" + want.String()
			} else {
				name += " refused"
			}
			t.Run(name, func(t *testing.T) {
				a := testRun(s)
				a.mu.Lock()
				from, to, err := a.fireLocked(tr, stopRequest{cause: errShutdownCalled})
				a.mu.Unlock()
				moved := from != to
				if !listed {
					require.Error(t, err)
					assert.ErrorIs(t, err, ErrIllegalTransition)
					assert.Equal(t, fmt.Sprintf("lu: %v in state %v", tr, s), err.Error())
					var te *TransitionError
					require.ErrorAs(t, err, &te)
					assert.Equal(t, s, te.State)
					assert.Equal(t, tr, te.Trigger)
					assert.False(t, moved)
					assert.Equal(t, s, a.State(), "a refused trigger changes nothing")
					return
				}
				require.NoError(t, err)
				assert.Equal(t, want, a.State())
				assert.Equal(t, want != s, moved)
				if want.stopping() && !s.stopping() {
					select {
					case <-a.stopping:
					default:
						t.Error("entering a stopping state must close WaitForShutdown's channel")
					}
					assert.Equal(t, errShutdownCalled, a.stopReq.cause, "the cause travels with the trigger")
					assert.Equal(t, s, a.stopFrom)
					assert.Equal(t, tr, a.stopTrigger)
				}
				if moved {
					j := a.journal.transitions
					require.Len(t, j, 1)
					assert.Equal(t, JournalTransition{From: s, Trigger: tr, To: want, At: j[0].At, Duration: j[0].Duration}, j[0])
				}
			})
		}
	}
}

// TestIllegalCalls drives real Apps into each state and makes the calls the
// state does not allow: each is refused, and changes nothing.
func TestIllegalCalls(t *testing.T) {
	launched := func(t *testing.T, rec *recorder) *App {
		a := &App{OnEvent: rec.OnEvent}
		a.AddProcess(Process{Name: "p", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		t.Cleanup(func() { _ = a.Shutdown() })
		return a
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, rec *recorder) *App
		call  func(a *App) error
		want  string
	}{
		{"Shutdown before Launch", func(_ *testing.T, rec *recorder) *App { return &App{OnEvent: rec.OnEvent} },
			(*App).Shutdown, "lu: Shutdown in state Idle"},
		{"Launch twice", launched,
			func(a *App) error { return a.Launch(context.Background()) }, "lu: Launch in state Running"},
		{"Launch after termination", func(t *testing.T, rec *recorder) *App {
			a := launched(t, rec)
			require.NoError(t, a.Shutdown())
			return a
		}, func(a *App) error { return a.Launch(context.Background()) }, "lu: Launch in state Terminated"},
		{"Launch after a failed Launch", func(t *testing.T, rec *recorder) *App {
			a := &App{OnEvent: rec.OnEvent}
			a.OnStartUp(func(context.Context) error { return errors.New("no") })
			require.Error(t, a.Launch(context.Background()))
			return a
		}, func(a *App) error { return a.Launch(context.Background()) }, "lu: Launch in state Terminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			a := tt.setup(t, &rec)
			before, events := a.State(), len(rec.Events())
			err := tt.call(a)
			require.ErrorIs(t, err, ErrIllegalTransition)
			assert.EqualError(t, err, tt.want)
			assert.Equal(t, before, a.State(), "state unchanged")
			assert.Len(t, rec.Events(), events, "no events")
		})
	}
}

func TestStateAndTriggerNames(t *testing.T) {
	want := []string{"Idle", "Startup", "HookStart", "Running", "Draining", "Terminating", "HookStop", "Terminated",
		"Starting", "Stopping"}
	for i, w := range want {
		assert.Equal(t, w, State(i).String())
	}
	assert.Equal(t, int(numAllStates), len(want))
	assert.Equal(t, "State(42)", State(42).String())
	seen := map[string]bool{}
	for tr := Trigger(0); tr < numTriggers; tr++ {
		n := tr.String()
		assert.NotContains(t, n, "Trigger(", "trigger %d has no name", int(tr))
		assert.False(t, seen[n])
		seen[n] = true
	}
	assert.Equal(t, "Trigger(-1)", Trigger(-1).String())
}

// TestDiagram checks diagrams/lifecycle.dot against the machine. Run
// `go test -run Diagram -update` to rewrite it after changing the table.
func TestDiagram(t *testing.T) {
	got := LifecycleDOT()
	for i := 0; i < 20; i++ {
		require.Equal(t, got, LifecycleDOT(), "the diagram must be deterministic")
	}
	path := filepath.Join("diagrams", "lifecycle.dot")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got, "%s is out of date: run go test -run Diagram -update", path)
	assert.Contains(t, got, "init -> Idle", "drawn from a machine that has not fired")
	for _, tr := range transitions {
		assert.Contains(t, got, tr.From.String()+" -> "+tr.To.String())
	}

	// The SVG is rendered from the DOT file by Graphviz, which the tests do
	// not need; check at least that it shows every state and trigger.
	svg, err := os.ReadFile(filepath.Join("diagrams", "lifecycle.svg"))
	require.NoError(t, err)
	for s := State(0); s < numAllStates; s++ {
		assert.True(t, strings.Contains(string(svg), ">"+s.String()+"<"),
			"lifecycle.svg does not show state %v: render it from lifecycle.dot", s)
	}
	for tr := Trigger(0); tr < numTriggers; tr++ {
		assert.True(t, strings.Contains(string(svg), ">"+tr.String()+"<"),
			"lifecycle.svg does not show trigger %v: render it from lifecycle.dot", tr)
	}
}
