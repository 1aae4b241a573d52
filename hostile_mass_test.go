package lu

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Thousands of processes failing at once, with a drain, while Shutdown is
// called from many goroutines: every failure is reported once, nothing is
// stuck, every Shutdown returns the same result.
func TestHostileThousandsOfProcessesFailAtOnce(t *testing.T) {
	const n = 5000
	var rec recorder
	a := &App{OnEvent: rec.OnEvent, DrainDelay: 5 * time.Millisecond, ShutdownTimeout: time.Minute}
	gate := make(chan struct{})
	for i := range n {
		a.AddProcess(Process{Name: fmt.Sprint("p", i), Run: func(ctx context.Context) error {
			<-gate
			return fmt.Errorf("failure %d", i)
		}})
	}
	require.NoError(t, a.Launch(context.Background()))
	results := make(chan error, 8)
	for range 8 {
		go func() { results <- a.Shutdown() }()
	}
	close(gate)
	first := <-results
	for range 7 {
		assert.True(t, first == <-results)
	}
	var te *TimeoutError
	assert.False(t, errors.As(first, &te))
	got := 0
	for _, e := range unwrapAll(first) {
		if e != nil && len(e.Error()) > 0 {
			got++
		}
	}
	assert.Equal(t, n, got, "each failure once")
	ev := rec.Events()
	requireEndsOnce(t, ev)
	checkEvents(t, ev)
}
