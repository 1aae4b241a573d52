package lu

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Huge numbers of stuck stop hooks with a tiny budget: once even the last
// share is spent, the hooks left never start (they are named), so
// Shutdown overruns ShutdownTimeout by little more than the last share.
// Real time, so the margin is generous: 100 ms.
func TestHostileThousandsOfStuckStopHooksKeepTheLastShare(t *testing.T) {
	const n = 20000
	release := make(chan struct{})
	defer close(release)
	a := &App{ShutdownTimeout: 20 * time.Millisecond}
	for range n {
		a.OnShutdown(func(context.Context) error { <-release; return nil })
	}
	require.NoError(t, a.Launch(context.Background()))
	start := time.Now()
	err := a.Shutdown()
	took := time.Since(start)
	require.Error(t, err)
	assert.LessOrEqual(t, took, 20*time.Millisecond+lastShare+100*time.Millisecond,
		"Shutdown took %v for %d stuck stop hooks and a 20ms budget", took, n)
}
