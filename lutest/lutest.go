// Package lutest helps test services built on lu: it records an App's
// lifecycle events, checks them against an expected sequence with in-order
// and any-order groups, launches an App for the length of a test, waits
// for an HTTP process to serve, and drives fake clocks.
//
// Where a single event is asked for ([Recorder.WaitFor], [AnyOrder],
// [Format]), a [lu.Event] and what [Ev] returns are both accepted: see
// [EventFields].
package lutest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lu-go/lu"
)

// Recorder records lifecycle events. Its zero value is ready to use, and
// its OnEvent method can be set as [lu.App.OnEvent]; it is safe for
// concurrent use.
type Recorder struct {
	mu      sync.Mutex
	events  []lu.Event
	changed chan struct{} // closed and replaced on every event
}

// OnEvent records e. Set it as the App's OnEvent: app.OnEvent = rec.OnEvent.
func (r *Recorder) OnEvent(_ context.Context, e lu.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// Events returns a copy of the events recorded so far, in order.
func (r *Recorder) Events() []lu.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Reset forgets the events recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
}

// WaitFor blocks until an event equal to e has been recorded, since the
// Recorder was made or last Reset, or fails t after timeout. e may be a
// [lu.Event] or an [Event]: rec.WaitFor(t, lutest.Ev(lu.AppRunning),
// time.Second).
func (r *Recorder) WaitFor(t testing.TB, e EventFields, timeout time.Duration) {
	t.Helper()
	want := lu.Event(e)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		found := slices.Contains(r.events, want)
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		changed := r.changed
		r.mu.Unlock()
		if found {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("lutest: no %v event after %v; recorded: %s", Format(want), timeout, FormatAll(r.Events()))
			return
		}
	}
}

// Assert checks the events recorded so far against the constraints; see
// [AssertEvents].
func (r *Recorder) Assert(t testing.TB, constraints ...Constraint) bool {
	t.Helper()
	return AssertEvents(t, r.Events(), constraints...)
}

// Constraint matches the start of a sequence of events.
type Constraint interface {
	// Match reports how many events at the start of events it consumes, or
	// why they do not match.
	Match(events []lu.Event) (int, error)
}

// EventFields is the struct type of [lu.Event] and of [Event], unnamed:
// a value of either type may be passed where EventFields is asked for,
// without a conversion, so lu.Event{Type: lu.AppRunning} and
// Ev(lu.AppRunning) are both accepted, even side by side in one call.
type EventFields = struct {
	Type lu.EventType // as lu.Event's
	Name string       // as lu.Event's
}

// Both event types must stay assignable to EventFields: if lu.Event
// changes shape, this stops compiling.
var (
	_ EventFields = lu.Event{}
	_ EventFields = Event{}
)

// Event matches one event, equal to it. [Ev] builds one.
type Event lu.Event

// Match consumes one event equal to e.
func (e Event) Match(events []lu.Event) (int, error) {
	if len(events) == 0 {
		return 0, fmt.Errorf("want %s, got no more events", Format(e))
	}
	if events[0] != lu.Event(e) {
		return 0, fmt.Errorf("want %s, got %s", Format(e), Format(events[0]))
	}
	return 1, nil
}

// Ev returns the constraint for one event of type t, named by the optional
// name.
func Ev(t lu.EventType, name ...string) Event {
	return Event{Type: t, Name: strings.Join(name, "")}
}

type anyOrder []lu.Event

// AnyOrder matches exactly these events, in any order: the next len(events)
// events must be a permutation of them. Each may be a [lu.Event] or an
// [Event]: AnyOrder(Ev(lu.ProcessEnd, "a"), Ev(lu.ProcessEnd, "b")).
func AnyOrder(events ...EventFields) Constraint {
	want := make(anyOrder, len(events))
	for i, e := range events {
		want[i] = lu.Event(e)
	}
	return want
}

// Match consumes the next len(want) events if they are a permutation of
// want.
func (want anyOrder) Match(events []lu.Event) (int, error) {
	if len(events) < len(want) {
		return 0, fmt.Errorf("want %d events in any order %s, got only %s", len(want), FormatAll(want), FormatAll(events))
	}
	left := slices.Clone([]lu.Event(want))
	for _, got := range events[:len(want)] {
		i := slices.Index(left, got)
		if i < 0 {
			return 0, fmt.Errorf("want any of %s, got %s", FormatAll(left), Format(got))
		}
		left = slices.Delete(left, i, i+1)
	}
	return len(want), nil
}

type inOrder []Constraint

// InOrder matches its constraints one after the other. AssertEvents takes
// its constraints in order already; InOrder groups them, inside AnyOrder's
// siblings or to reuse a sequence.
func InOrder(constraints ...Constraint) Constraint { return inOrder(constraints) }

// Match consumes what each constraint matches, one after the other.
func (cs inOrder) Match(events []lu.Event) (int, error) {
	n := 0
	for _, c := range cs {
		m, err := c.Match(events[n:])
		if err != nil {
			return 0, fmt.Errorf("after %d events: %w", n, err)
		}
		n += m
	}
	return n, nil
}

// AssertEvents checks that events are exactly the sequence the constraints
// describe, in order, with nothing left over. It reports a mismatch on t,
// with every event, and returns whether all matched.
func AssertEvents(t testing.TB, events []lu.Event, constraints ...Constraint) bool {
	t.Helper()
	n, err := inOrder(constraints).Match(events)
	if err == nil && n < len(events) {
		err = fmt.Errorf("unexpected events after the last constraint: %s", FormatAll(events[n:]))
	}
	if err != nil {
		t.Errorf("lutest: events do not match: %v\nall events: %s", err, FormatAll(events))
		return false
	}
	return true
}

// Format writes an event, a [lu.Event] or an [Event], as "Type" or
// "Type(name)".
func Format(e EventFields) string {
	if e.Name == "" {
		return e.Type.String()
	}
	return e.Type.String() + "(" + e.Name + ")"
}

// FormatAll writes events as "[A B(x) C]".
func FormatAll(events []lu.Event) string {
	s := make([]string, len(events))
	for i, e := range events {
		s[i] = Format(e)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// Launch launches a with the test's context and registers its shutdown
// with t.Cleanup: the test fails if Launch or Shutdown returns an error. It
// returns a. The App's context carries the values of t.Context() but is
// not cancelled with it, so the App keeps running until the cleanup shuts
// it down.
func Launch(t testing.TB, a *lu.App) *lu.App {
	t.Helper()
	ctx := context.Background()
	if tc := t.Context(); tc != nil { // nil for a T made outside go test
		ctx = context.WithoutCancel(tc)
	}
	if err := a.Launch(ctx); err != nil {
		t.Fatalf("lutest: Launch: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Shutdown(); err != nil {
			t.Errorf("lutest: Shutdown: %v", err)
		}
	})
	return a
}
