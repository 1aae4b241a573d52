package lu

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests of the processes' stop: a process that returned promptly
// is never reported stuck.

// One process's Shutdown func overruns the processes' deadline, so their
// context is cancelled only then: the processes get the last share to
// return as asked, and one that does is neither named stuck nor loses its
// ProcessEnd.
func TestHostileStuckShutdownFuncLeavesAPromptProcessAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var rec recorder
		a := &App{OnEvent: rec.OnEvent, ShutdownTimeout: 100 * time.Millisecond}
		a.AddProcess(
			Process{Name: "server", Shutdown: func(context.Context) error { <-release; return nil }},
			Process{Name: "prompt", Run: blocker},
		)
		require.NoError(t, a.Launch(context.Background()))
		err := a.Shutdown()
		var te *TimeoutError
		require.True(t, errors.As(err, &te), "%v", err)
		assert.Equal(t, []string{"server"}, te.Processes,
			"only the Shutdown func was stuck; the process returned as soon as its context was cancelled")
		assert.Contains(t, rec.Events(), "ProcessEnd:prompt")
		close(release)
		synctest.Wait()
		j := a.Journal()
		require.Len(t, j.Processes, 1)
		assert.False(t, j.Processes[0].Abandoned, "the journal says the prompt process was abandoned")
	})
}
