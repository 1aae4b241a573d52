package lu

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests of Run's report of a forced exit, which logs the hooks and
// processes that have not finished: a process whose Shutdown func is
// stuck (the usual case: an HTTP server's graceful Shutdown waiting for a
// long request) is named, also when its Run is nil or has returned.
func TestHostileForcedExitReportNamesAStuckShutdownFunc(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	a := &App{}
	a.AddProcess(Process{Name: "http", Shutdown: func(context.Context) error {
		close(entered)
		<-release
		return nil
	}})
	require.NoError(t, a.Launch(context.Background()))
	shut := make(chan error, 1)
	go func() { shut <- a.Shutdown() }()
	<-entered
	var out strings.Builder
	a.reportUnfinished(slog.New(slog.NewTextHandler(&out, nil)))
	close(release)
	require.NoError(t, <-shut)
	t.Log(out.String())
	assert.Contains(t, out.String(), "http", "the forced exit names the stuck Shutdown of process http")
}
