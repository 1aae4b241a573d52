// Package test is the test helpers of Luno's lu, with the same API, for
// services whose tests import them: record an App's events in a channel
// and check them against a sequence of constraints. It is a thin layer over
// [lutest], whose Recorder and AssertEvents are the richer choice for new
// tests.
//
// Only for tests: do not import it into a service's binary.
package test

import (
	"context"
	"testing"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/lutest"
)

// EventLog records an App's events in a channel: set its Append method as
// the App's OnEvent. Append blocks while the channel is full, so make it
// with room for every event the test expects.
type EventLog chan lu.Event

// Append sends e to the channel.
func (l EventLog) Append(_ context.Context, e lu.Event) {
	l <- e
}

// EventConstraint checks the events of an App one at a time. CheckMore
// reports a mismatch on t, and returns true while it expects more events.
type EventConstraint interface {
	CheckMore(t *testing.T, e lu.Event) bool
}

// Event is the constraint that the next event equals it, then no more.
type Event lu.Event

// CheckMore reports on t (without stopping the test) if got differs from
// e, and returns false.
func (e Event) CheckMore(t *testing.T, got lu.Event) bool {
	t.Helper()
	if _, err := lutest.Event(e).Match([]lu.Event{got}); err != nil {
		t.Errorf("lu/test: %v", err)
	}
	return false
}

// ConstraintFunc is an EventConstraint made of a func.
type ConstraintFunc func(t *testing.T, e lu.Event) bool

// CheckMore calls f.
func (f ConstraintFunc) CheckMore(t *testing.T, got lu.Event) bool {
	t.Helper()
	return f(t, got)
}

// AnyOrder is the constraint that the next events are these, in any order,
// each as many times as it is listed. An event not among them stops the
// test; one more time than listed is reported without stopping it.
func AnyOrder(events ...Event) EventConstraint {
	left := make(map[lu.Event]int)
	for _, e := range events {
		left[lu.Event(e)]++
	}
	return ConstraintFunc(func(t *testing.T, got lu.Event) bool {
		t.Helper()
		n, ok := left[got]
		if !ok {
			t.Fatalf("lu/test: unexpected event %s, want one of %s", lutest.Format(got), formatLeft(left))
		}
		if n <= 0 {
			t.Errorf("lu/test: already got %s", lutest.Format(got))
		}
		left[got] = n - 1
		for _, n := range left {
			if n > 0 {
				return true
			}
		}
		return false
	})
}

// formatLeft lists the events an AnyOrder still expects.
func formatLeft(left map[lu.Event]int) string {
	var events []lu.Event
	for e, n := range left {
		for range n {
			events = append(events, e)
		}
	}
	return lutest.FormatAll(events)
}

// AssertEvents checks the events buffered in the channel when it is called
// (it does not wait for more) against the constraints, in order, and
// consumes them. An event after the last constraint is satisfied stops the
// test; a constraint left expecting events fails it.
func AssertEvents(t *testing.T, events chan lu.Event, constraints ...EventConstraint) {
	t.Helper()
	i := 0
	for range len(events) {
		e, ok := <-events
		if !ok {
			break
		}
		t.Logf("lu/test: checking event %s", lutest.Format(e))
		if i >= len(constraints) {
			t.Fatalf("lu/test: additional unexpected event %s", lutest.Format(e))
		}
		if constraints[i] == nil {
			t.Fatalf("lu/test: constraint %d is nil", i+1)
		}
		if !constraints[i].CheckMore(t, e) {
			i++
		}
	}
	if i < len(constraints) {
		t.Errorf("lu/test: expected more events: %d of %d constraints satisfied", i, len(constraints))
	}
}
