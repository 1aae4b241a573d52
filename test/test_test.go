package test_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/test"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestAnAppsEvents(t *testing.T) {
	ev := make(test.EventLog, 100)
	a := &lu.App{OnEvent: ev.Append}
	a.OnStartUp(func(context.Context) error { return nil }, lu.WithHookName("start hook"))
	a.OnShutdown(func(context.Context) error { return nil }, lu.WithHookName("stop hook"))
	run := func(ctx context.Context) error { <-ctx.Done(); return nil }
	a.AddProcess(lu.Process{Name: "one", Run: run}, lu.Process{Name: "two", Run: run})
	require.NoError(t, a.Launch(context.Background()))

	test.AssertEvents(t, ev,
		test.Event{Type: lu.AppStartup},
		test.Event{Type: lu.PreHookStart, Name: "start hook"},
		test.Event{Type: lu.PostHookStart, Name: "start hook"},
		test.AnyOrder(
			test.Event{Type: lu.ProcessStart, Name: "one"},
			test.Event{Type: lu.ProcessStart, Name: "two"},
		),
		test.Event{Type: lu.AppRunning},
	)
	assert.Empty(t, ev, "the events checked are consumed")

	require.NoError(t, a.Shutdown())
	close(ev)
	test.AssertEvents(t, ev,
		test.Event{Type: lu.AppTerminating},
		test.AnyOrder(
			test.Event{Type: lu.ProcessEnd, Name: "two"},
			test.Event{Type: lu.ProcessEnd, Name: "one"},
		),
		test.Event{Type: lu.PreHookStop, Name: "stop hook"},
		test.Event{Type: lu.PostHookStop, Name: "stop hook"},
		test.Event{Type: lu.AppTerminated},
	)
}

func TestConstraints(t *testing.T) {
	ev := make(test.EventLog, 10)
	for _, e := range []lu.Event{{Type: lu.ProcessStart, Name: "a"}, {Type: lu.ProcessStart, Name: "a"}, {Type: lu.ProcessStart, Name: "b"}, {Type: lu.AppRunning}, {Type: lu.AppTerminating}} {
		ev.Append(context.Background(), e)
	}
	seen := 0
	test.AssertEvents(t, ev,
		test.AnyOrder(test.Event{Type: lu.ProcessStart, Name: "b"}, test.Event{Type: lu.ProcessStart, Name: "a"}, test.Event{Type: lu.ProcessStart, Name: "a"}),
		test.ConstraintFunc(func(t *testing.T, e lu.Event) bool {
			seen++
			return seen < 2 // two events
		}),
	)
	assert.Equal(t, 2, seen)

	t.Run("only the events buffered when it is called: it does not wait", func(t *testing.T) {
		test.AssertEvents(t, make(chan lu.Event, 1))
		test.AssertEvents(t, nil)
	})
	t.Run("an EventLog is a chan lu.Event", func(t *testing.T) {
		var _ chan lu.Event = make(test.EventLog)
		var _ lu.OnEvent = make(test.EventLog).Append
	})
}

// scenarios fail; TestFailures runs each in a process of its own.
var scenarios = map[string]func(t *testing.T, ev test.EventLog){
	"a different event": func(t *testing.T, ev test.EventLog) {
		test.AssertEvents(t, ev, test.Event{Type: lu.AppRunning}, test.Event{Type: lu.AppTerminating})
	},
	"an extra event": func(t *testing.T, ev test.EventLog) {
		test.AssertEvents(t, ev, test.Event{Type: lu.AppStartup})
	},
	"too few events": func(t *testing.T, ev test.EventLog) {
		test.AssertEvents(t, ev, test.Event{Type: lu.AppStartup}, test.Event{Type: lu.AppRunning}, test.Event{Type: lu.AppTerminating})
	},
	"no events, one constraint": func(t *testing.T, _ test.EventLog) {
		test.AssertEvents(t, make(test.EventLog), test.Event{Type: lu.AppStartup})
	},
	"an event AnyOrder does not list": func(t *testing.T, ev test.EventLog) {
		test.AssertEvents(t, ev, test.AnyOrder(test.Event{Type: lu.AppTerminated}, test.Event{Type: lu.AppRunning}))
	},
	"an event AnyOrder lists once, twice": func(t *testing.T, _ test.EventLog) {
		dup := make(test.EventLog, 2)
		dup <- lu.Event{Type: lu.AppRunning}
		dup <- lu.Event{Type: lu.AppRunning}
		test.AssertEvents(t, dup, test.AnyOrder(test.Event{Type: lu.AppRunning}, test.Event{Type: lu.AppStartup}))
	},
	"a nil constraint": func(t *testing.T, ev test.EventLog) {
		test.AssertEvents(t, ev, nil)
	},
}

func TestScenario(t *testing.T) {
	name := os.Getenv("LU_TEST_SCENARIO")
	if name == "" {
		t.Skip("run by TestFailures")
	}
	ev := make(test.EventLog, 10)
	ev <- lu.Event{Type: lu.AppStartup}
	ev <- lu.Event{Type: lu.AppRunning}
	scenarios[name](t, ev)
	fmt.Println("after AssertEvents")
}

func TestFailures(t *testing.T) {
	tests := []struct {
		scenario string
		message  string
		fatal    bool
	}{
		{"a different event", "lu/test: want AppRunning, got AppStartup", false},
		{"an extra event", "lu/test: additional unexpected event AppRunning", true},
		{"too few events", "lu/test: expected more events: 2 of 3 constraints satisfied", false},
		{"no events, one constraint", "lu/test: expected more events: 0 of 1 constraints satisfied", false},
		{"an event AnyOrder does not list", "lu/test: unexpected event AppStartup, want one of", true},
		{"an event AnyOrder lists once, twice", "lu/test: already got AppRunning", false},
		{"a nil constraint", "lu/test: constraint 1 is nil", true},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestScenario$", "-test.v")
			cmd.Env = append(os.Environ(), "LU_TEST_SCENARIO="+tt.scenario)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the test must fail:\n%s", out)
			assert.Contains(t, string(out), tt.message)
			assert.Contains(t, string(out), "--- FAIL: TestScenario")
			if tt.fatal {
				assert.NotContains(t, string(out), "after AssertEvents", "stops the test")
			} else {
				assert.Contains(t, string(out), "after AssertEvents", "does not stop the test")
			}
		})
	}
	assert.Len(t, scenarios, len(tests))
}
