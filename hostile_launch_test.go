package lu

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

// panicOnMsgHandler is a slog handler that panics on the records whose
// message is msg.
type panicOnMsgHandler struct{ msg string }

func (panicOnMsgHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h panicOnMsgHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		panic("log")
	}
	return nil
}
func (h panicOnMsgHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicOnMsgHandler) WithGroup(string) slog.Handler      { return h }

// Processes start once the App is Running, so their failures, and their
// failing callbacks (ProcessEnd, or the Logger's handler on their end,
// which wait for Launch to end), stop a running App: Launch has
// succeeded, however the scheduler orders things.
func TestHostileLoggerPanicOnAProcessEndDoesNotFailLaunch(t *testing.T) {
	const n = 200
	failures := 0
	for range n {
		a := &App{Logger: slog.New(panicOnMsgHandler{"lu: process ended"})}
		a.AddProcess(Process{Name: "job", Run: nop}) // done at once
		for range 20 {
			a.AddProcess(Process{Name: "server", Run: blocker})
		}
		if err := a.Launch(context.Background()); err != nil {
			failures++
		}
		_ = a.Shutdown()
	}
	assert.Zero(t, failures, "Launch failed %d times in %d: a failure of a running process's callback is not a start-up's", failures, n)
}
