package lu

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests of the events: a runtime.Goexit in the Logger's handler
// is contained, and no event is lost.

// A Goexit in the Logger's handler on "process started" ends the Launch
// goroutine after ProcessStart was emitted: the process still starts, and
// its ProcessEnd has its ProcessStart.
func TestHostileLoggerGoexitKeepsProcessStart(t *testing.T) {
	var rec recorder
	log, fired := goexitLogger("lu: process started", "")
	a := &App{OnEvent: rec.OnEvent, Logger: log}
	a.AddProcess(Process{Name: "p", Run: blocker})
	go func() { _ = a.Launch(context.Background()) }() // its goroutine ends in the Goexit
	select {
	case <-a.WaitForShutdown():
	case <-time.After(10 * time.Second):
		t.Fatal("the App did not stop")
	}
	err := a.Shutdown()
	require.True(t, fired.Load())
	requireGoexit(t, err, "the Logger's handler")
	ev := rec.Events()
	assert.Contains(t, ev, "ProcessEnd:p", "the process ran")
	assert.Contains(t, ev, "ProcessStart:p", "no event is lost: %v", ev)
	requireEndsOnce(t, ev)
}
