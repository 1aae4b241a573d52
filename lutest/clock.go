package lutest

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// Epoch is the time NewClock starts at: a fixed instant, so that tests print
// the same times on every run.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// NewClock returns a fake clock set to Epoch, for [lu.Wait] and the
// processes that take a clock.
func NewClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(Epoch)
}

// AwaitWaiters waits (in real time, up to timeout) until something waits on
// c: a timer, a ticker or a sleep. Step a fake clock only once the code
// under test waits on it, or the step happens before the wait and is lost.
func AwaitWaiters(t testing.TB, c *clocktesting.FakeClock, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !c.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatalf("lutest: nothing waited on the fake clock within %v", timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// Step waits until something waits on c, then moves c forward by d.
func Step(t testing.TB, c *clocktesting.FakeClock, d time.Duration) {
	t.Helper()
	AwaitWaiters(t, c, 10*time.Second)
	c.Step(d)
}
