package promprocess_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/lu-go/lu/process"
	"github.com/lu-go/lu/process/promprocess"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestScrape(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := promprocess.New(reg)
	require.NoError(t, err)

	// A loop that fails twice and then gives up.
	p := process.Loop(func(context.Context) error { return errors.New("down") },
		process.WithName("consumer"), process.WithMaxErrors(2), process.WithErrorSleep(0),
		process.WithMetrics(m), process.WithLogger(slog.New(slog.DiscardHandler)))
	require.Error(t, p.Run(context.Background()))

	// A schedule five minutes behind.
	t0 := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	cursor := process.NewMemoryCursor()
	require.NoError(t, cursor.Set(context.Background(), "report", fmt.Sprint(t0.Add(-5*time.Minute).Truncate(time.Minute).Unix())))
	ran := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	s := process.Scheduled(process.ActiveContext(), cursor, "report", process.Every(time.Minute),
		func(context.Context, time.Time, time.Time, string) error { close(ran); cancel(); return nil },
		process.WithClock(clocktesting.NewFakeClock(t0)), process.WithMetrics(m))
	_ = s.Run(ctx)
	<-ran

	want := `
# HELP lu_process_error_count Errors returned by lu processes.
# TYPE lu_process_error_count counter
lu_process_error_count{process_name="consumer"} 2
# HELP lu_process_schedule_cursor_lag_seconds How far a scheduled process's cursor lags behind the firing that is due.
# TYPE lu_process_schedule_cursor_lag_seconds gauge
lu_process_schedule_cursor_lag_seconds{process_name="report"} 300
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want)))

	_, err = promprocess.New(reg)
	assert.Error(t, err, "registering twice on one registry is an error")
}
