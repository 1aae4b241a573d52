package lutest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lu-go/lu"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeT records failures instead of failing the test.
type fakeT struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.fatal = true
}

func TestAssertEvents(t *testing.T) {
	a, b, c := lu.Event{Type: lu.ProcessEnd, Name: "a"}, lu.Event{Type: lu.ProcessEnd, Name: "b"}, Ev(lu.AppTerminated)
	events := []lu.Event{lu.Event(Ev(lu.AppTerminating)), b, a, lu.Event(c)}
	tests := []struct {
		name string
		cs   []Constraint
		ok   bool
	}{
		{"exact", []Constraint{Ev(lu.AppTerminating), Ev(lu.ProcessEnd, "b"), Ev(lu.ProcessEnd, "a"), c}, true},
		{"any order group", []Constraint{Ev(lu.AppTerminating), AnyOrder(a, b), c}, true},
		{"nested in order", []Constraint{InOrder(Ev(lu.AppTerminating), AnyOrder(b, a)), c}, true},
		{"wrong order", []Constraint{Ev(lu.AppTerminating), Ev(lu.ProcessEnd, "a"), Ev(lu.ProcessEnd, "b"), c}, false},
		{"missing event", []Constraint{Ev(lu.AppTerminating), AnyOrder(a, b), c, c}, false},
		{"extra event", []Constraint{Ev(lu.AppTerminating), AnyOrder(a, b)}, false},
		{"any order with a stranger", []Constraint{Ev(lu.AppTerminating), AnyOrder(a, lu.Event(c)), c}, false},
		{"any order too short", []Constraint{Ev(lu.AppTerminating), Ev(lu.ProcessEnd, "b"), Ev(lu.ProcessEnd, "a"), AnyOrder(lu.Event(c), lu.Event(c))}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeT{TB: t}
			assert.Equal(t, tt.ok, AssertEvents(ft, events, tt.cs...))
			assert.Equal(t, tt.ok, len(ft.errors) == 0)
		})
	}
}

// TestEventTypesCompose: wherever one event is asked for, what Ev returns
// and a lu.Event are both accepted, side by side.
func TestEventTypesCompose(t *testing.T) {
	var rec Recorder
	a := &lu.App{OnEvent: rec.OnEvent}
	for _, name := range []string{"a", "b"} {
		a.AddProcess(lu.Process{Name: name, Run: func(ctx context.Context) error { <-ctx.Done(); return nil }})
	}
	require.NoError(t, a.Launch(context.Background()))
	rec.WaitFor(t, Ev(lu.AppRunning), 10*time.Second)
	rec.WaitFor(t, lu.Event{Type: lu.ProcessStart, Name: "b"}, 10*time.Second)
	require.NoError(t, a.Shutdown())

	ends := []Constraint{
		AnyOrder(Ev(lu.ProcessEnd, "a"), Ev(lu.ProcessEnd, "b")),
		AnyOrder(lu.Event{Type: lu.ProcessEnd, Name: "b"}, lu.Event{Type: lu.ProcessEnd, Name: "a"}),
		AnyOrder(Ev(lu.ProcessEnd, "b"), lu.Event{Type: lu.ProcessEnd, Name: "a"}),
	}
	for i, end := range ends {
		ok := rec.Assert(t, Ev(lu.AppStartup), AnyOrder(Ev(lu.ProcessStart, "a"), Ev(lu.ProcessStart, "b")), Ev(lu.AppRunning),
			Ev(lu.AppTerminating), end, Ev(lu.AppTerminated))
		assert.True(t, ok, "constraint %d", i)
	}

	ft := &fakeT{TB: t}
	assert.False(t, rec.Assert(ft, Ev(lu.AppStartup), AnyOrder(Ev(lu.ProcessStart, "a"), Ev(lu.ProcessEnd, "b"))))
	require.Len(t, ft.errors, 1)
	assert.Contains(t, ft.errors[0], "want any of [ProcessEnd(b)], got ProcessStart(b)")

	assert.Equal(t, "ProcessEnd(a)", Format(Ev(lu.ProcessEnd, "a")))
	assert.Equal(t, "AppRunning", Format(lu.Event{Type: lu.AppRunning}))
}

func TestRecorderAndLaunch(t *testing.T) {
	var rec Recorder
	a := &lu.App{OnEvent: rec.OnEvent}
	a.AddProcess(lu.Process{Name: "p", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }})
	t.Run("launched for the length of a subtest", func(t *testing.T) {
		Launch(t, a)
		rec.WaitFor(t, lu.Event{Type: lu.AppRunning}, 10*time.Second)
		assert.Equal(t, lu.StateRunning, a.State())
	})
	assert.Equal(t, lu.StateTerminated, a.State(), "shut down by the subtest's cleanup")
	rec.Assert(t, Ev(lu.AppStartup), Ev(lu.ProcessStart, "p"), Ev(lu.AppRunning),
		Ev(lu.AppTerminating), Ev(lu.ProcessEnd, "p"), Ev(lu.AppTerminated))
	rec.Reset()
	assert.Empty(t, rec.Events())
}

func TestLaunchReportsErrors(t *testing.T) {
	ft := &fakeT{TB: t}
	a := &lu.App{}
	a.OnStartUp(func(context.Context) error { return errors.New("no db") })
	Launch(ft, a)
	assert.True(t, ft.fatal)
}

func TestWaitForTimesOut(t *testing.T) {
	ft := &fakeT{TB: t}
	var rec Recorder
	rec.OnEvent(context.Background(), lu.Event{Type: lu.AppStartup})
	rec.WaitFor(ft, Ev(lu.AppRunning), 10*time.Millisecond)
	assert.True(t, ft.fatal)
	assert.Equal(t, []string{"lutest: no AppRunning event after 10ms; recorded: [AppStartup]"}, ft.errors)
}

func TestWaitForAnEventRecordedLater(t *testing.T) {
	var rec Recorder
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec.WaitFor(t, Ev(lu.ProcessEnd, "p"), 10*time.Second)
	}()
	rec.OnEvent(context.Background(), lu.Event{Type: lu.ProcessEnd, Name: "q"})
	rec.OnEvent(context.Background(), lu.Event{Type: lu.ProcessEnd, Name: "p"})
	<-done
}

func TestStep(t *testing.T) {
	c := NewClock()
	done := make(chan error)
	go func() { done <- lu.Wait(context.Background(), c, time.Minute) }()
	Step(t, c, time.Minute)
	require.NoError(t, <-done)
	assert.Equal(t, Epoch.Add(time.Minute), c.Now())
}
