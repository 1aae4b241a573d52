package process_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

// runRecorder records the runTimes a ScheduledFunc is called with.
type runRecorder struct {
	mu    sync.Mutex
	times []time.Time
	ids   []string
	more  chan struct{}
}

func newRunRecorder() *runRecorder { return &runRecorder{more: make(chan struct{}, 1000)} }

func (r *runRecorder) run(_ context.Context, _, runTime time.Time, runID string) error {
	r.mu.Lock()
	r.times = append(r.times, runTime)
	r.ids = append(r.ids, runID)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
	return nil
}

func (r *runRecorder) snapshot() ([]time.Time, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.times...), append([]string(nil), r.ids...)
}

// Every with a period that is not a whole number of seconds: a firing
// between whole seconds runs once, and the next one only when it is due
// (the cursor keeps the fraction).
func TestHostileEverySubSecondFiringRunsOnce(t *testing.T) {
	fake := lutest.NewClock()
	rec := newRunRecorder()
	p := process.Scheduled(process.ActiveContext(), process.NewMemoryCursor(), "half",
		process.Every(1500*time.Millisecond), rec.run, process.WithClock(fake), quiet)
	stop, _ := start(t, p)
	defer stop()

	lutest.AwaitWaiters(t, fake, 10*time.Second)
	fake.Step(1500 * time.Millisecond) // reach the first firing, whatever its phase
	select {
	case <-rec.more:
	case <-time.After(10 * time.Second):
		t.Fatal("the first firing never ran")
	}
	// The clock does not move: nothing more may run.
	time.Sleep(200 * time.Millisecond)
	stop()
	times, ids := rec.snapshot()
	require.NotEmpty(t, times)
	assert.Equal(t, 1, len(times), "with the clock standing still, firing %v ran %d times (run IDs %v ...)",
		times[0], len(times), ids[:min(len(ids), 3)])
}

// "@every 1h" after 90 minutes down, with the cursor at 00:00: the missed
// firing run is 01:00, the last of the chain from the cursor, as for
// Poll.
func TestHostileAtEveryCatchUpRunsAFiringOfItsChain(t *testing.T) {
	s, err := process.ParseCron("@every 1h")
	require.NoError(t, err)
	fake := lutest.NewClock()
	cursor := process.NewMemoryCursor()
	require.NoError(t, cursor.Set(context.Background(), "every", strconv.FormatInt(fake.Now().Unix(), 10)))
	fake.Step(90 * time.Minute)
	rec := newRunRecorder()
	p := process.Scheduled(process.ActiveContext(), cursor, "every", s, rec.run, process.WithClock(fake), quiet)
	stop, _ := start(t, p)
	defer stop()
	select {
	case <-rec.more:
	case <-time.After(10 * time.Second):
		t.Fatal("the missed firing never ran")
	}
	stop()
	times, _ := rec.snapshot()
	want := lutest.Epoch.Add(time.Hour)
	assert.True(t, times[0].Equal(want), "after 90 minutes down, @every 1h from %v ran %v, want %v",
		lutest.Epoch, times[0], want)
}
