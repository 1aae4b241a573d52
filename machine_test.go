package lu

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// next returns the table's answer for (s, t): the destination and whether
// the pair is listed.
func next(s State, t Trigger) (State, bool) {
	for _, tr := range transitions {
		if tr.From == s && tr.On == t {
			return tr.To, true
		}
	}
	return s, false
}

func TestTransitionTable(t *testing.T) {
	t.Run("rows are unique and move only forward", func(t *testing.T) {
		seen := map[[2]int]bool{}
		for _, tr := range transitions {
			key := [2]int{int(tr.From), int(tr.On)}
			assert.False(t, seen[key], "duplicate row %v %v", tr.From, tr.On)
			seen[key] = true
			assert.GreaterOrEqual(t, tr.To, tr.From, "row %v --%v--> %v goes backwards", tr.From, tr.On, tr.To)
		}
	})
	t.Run("every state but Terminated has a way forward", func(t *testing.T) {
		for s := State(0); s < numStates; s++ {
			forward := false
			for _, tr := range transitions {
				forward = forward || (tr.From == s && tr.To > s)
			}
			assert.Equal(t, s != StateTerminated, forward, "state %v", s)
		}
	})
	t.Run("Transitions returns a copy", func(t *testing.T) {
		tt := Transitions()
		require.Len(t, tt, len(transitions))
		tt[0].To = StateTerminated
		assert.Equal(t, StateStartup, transitions[0].To)
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
				var a App
				a.state.Store(int32(s))
				moved, err := a.fire(tr)
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
				if want == StateTerminating && s != StateTerminating {
					select {
					case <-a.WaitForShutdown():
					default:
						t.Error("entering Terminating must close WaitForShutdown")
					}
				}
			})
		}
	}
}

// TestIllegalCalls drives real Apps into each state and makes the calls the
// state does not allow.
func TestIllegalCalls(t *testing.T) {
	launched := func(t *testing.T) *App {
		a := &App{}
		a.AddProcess(Process{Name: "p", Run: blocker})
		require.NoError(t, a.Launch(context.Background()))
		t.Cleanup(func() { _ = a.Shutdown() })
		return a
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) *App
		call  func(a *App) error
		want  string
	}{
		{"Shutdown before Launch", func(*testing.T) *App { return &App{} },
			(*App).Shutdown, "lu: Shutdown in state Idle"},
		{"Launch twice", launched,
			func(a *App) error { return a.Launch(context.Background()) }, "lu: Launch in state Running"},
		{"Launch after termination", func(t *testing.T) *App {
			a := launched(t)
			require.NoError(t, a.Shutdown())
			return a
		}, func(a *App) error { return a.Launch(context.Background()) }, "lu: Launch in state Terminated"},
		{"Launch after a failed Launch", func(t *testing.T) *App {
			a := &App{}
			a.OnStartUp(func(context.Context) error { return errors.New("no") })
			require.Error(t, a.Launch(context.Background()))
			return a
		}, func(a *App) error { return a.Launch(context.Background()) }, "lu: Launch in state Terminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.setup(t)
			before := a.State()
			var rec recorder
			a.onEvent = rec.OnEvent
			err := tt.call(a)
			require.ErrorIs(t, err, ErrIllegalTransition)
			assert.EqualError(t, err, tt.want)
			assert.Equal(t, before, a.State(), "state unchanged")
			assert.Empty(t, rec.Events(), "no events")
		})
	}
}

func TestStateAndTriggerNames(t *testing.T) {
	want := []string{"Idle", "Startup", "HookStart", "Running", "Draining", "Terminating", "HookStop", "Terminated"}
	for i, w := range want {
		assert.Equal(t, w, State(i).String())
	}
	assert.Equal(t, int(numStates), len(want))
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
	for s := State(0); s < numStates; s++ {
		assert.Contains(t, string(svg), ">"+s.String()+"<", "lifecycle.svg is stale: render it from lifecycle.dot")
	}
	for tr := Trigger(0); tr < numTriggers; tr++ {
		assert.Contains(t, string(svg), ">"+tr.String()+"<", "lifecycle.svg is stale: render it from lifecycle.dot")
	}
}
