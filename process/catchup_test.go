package process_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

// countingSchedule counts the calls to Next of the schedule it wraps.
type countingSchedule struct {
	process.Schedule
	n *atomic.Int64
}

func (c countingSchedule) Next(t time.Time) time.Time {
	c.n.Add(1)
	return c.Schedule.Next(t)
}

func TestCatchUpAfterLongDowntimeRunsOnceInBoundedTime(t *testing.T) {
	t0 := time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		s        process.Schedule
		downtime time.Duration
		want     time.Time // the run at once
		nextAt   time.Time // the run after it
	}{
		{"Poll(1s) after ten days", process.Poll(time.Second), 10 * 24 * time.Hour, t0.Add(time.Second), t0.Add(2 * time.Second)},
		{"Poll(24h) runs the latest missed firing of its chain", process.Poll(24 * time.Hour), 36 * time.Hour, t0.Add(-12 * time.Hour), t0.Add(12 * time.Hour)},
		{"Poll(7s) after a year", process.Poll(7 * time.Second), 365 * 24 * time.Hour, t0.Add(time.Second), t0.Add(8 * time.Second)}, // 365 days are 4505142 polls and 6 s
		{"a schedule without Previous after ten years", countingSchedule{plainSchedule{time.Minute}, nil}, 10 * 366 * 24 * time.Hour, t0, t0.Add(time.Minute)},
		{"robfig's cron schedule in a zone after a year", countingSchedule{process.ToTimezone(mustRobfig(t, "*/5 * * * *"), time.UTC), nil}, 366 * 24 * time.Hour, t0, t0.Add(5 * time.Minute)},
		{"cron after two years", countingSchedule{mustCron(t, "0 * * * *"), nil}, 2 * 366 * 24 * time.Hour, t0, t0.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0.Add(1500 * time.Millisecond)
			fake := clocktesting.NewFakeClock(now)
			cursor := process.NewMemoryCursor()
			require.NoError(t, cursor.Set(context.Background(), "job", fmt.Sprint(t0.Add(-tt.downtime).Unix())))
			var n atomic.Int64
			if c, ok := tt.s.(countingSchedule); ok {
				c.n = &n
				tt.s = c
			}
			calls, stop := runScheduled(t, fake, cursor, tt.s)
			r := next(t, calls)
			assert.Equal(t, tt.want, r.runTime, "the most recent missed firing")
			assert.Less(t, n.Load(), int64(2000), "calls to Next")
			r.result <- nil
			noCall(t, calls)
			lutest.AwaitWaiters(t, fake, 10*time.Second)
			fake.SetTime(tt.nextAt.Add(-time.Nanosecond))
			noCall(t, calls)
			fake.SetTime(tt.nextAt)
			r = next(t, calls)
			assert.Equal(t, tt.nextAt, r.runTime)
			r.result <- nil
			assert.NoError(t, ignoreCanceled(stop()))
		})
	}
}

func mustRobfig(t *testing.T, spec string) cron.Schedule {
	s, err := cron.ParseStandard(spec)
	require.NoError(t, err)
	return s
}

// neverSchedule never fires, as robfig's schedules for "0 0 30 2 *".
type neverSchedule struct{ n *atomic.Int64 }

func (s neverSchedule) Next(time.Time) time.Time { s.n.Add(1); return time.Time{} }

func TestACronThatNeverFires(t *testing.T) {
	for _, spec := range []string{"0 0 30 2 *", "0 0 31 4 *", "0 12 31 11 *"} {
		_, err := process.ParseCron(spec)
		assert.EqualError(t, err, fmt.Sprintf("process: cron spec %q never fires", spec))
	}
	_, err := process.ParseCron("0 0 29 2 *")
	assert.NoError(t, err, "leap days fire")

	for _, tt := range []struct {
		name   string
		cursor string
		s      func(*atomic.Int64) process.Schedule
	}{
		{"empty cursor", "", func(n *atomic.Int64) process.Schedule { return neverSchedule{n} }},
		{"with a cursor", "1767225600", func(n *atomic.Int64) process.Schedule { return neverSchedule{n} }},
		{"robfig's schedule in a zone, with a cursor", "1767225600", func(n *atomic.Int64) process.Schedule {
			return countingSchedule{process.ToTimezone(mustRobfig(t, "0 0 30 2 *"), time.UTC), n}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			var n atomic.Int64
			cursor := process.NewMemoryCursor()
			require.NoError(t, cursor.Set(context.Background(), "job", tt.cursor))
			ran := make(chan struct{}, 1)
			p := process.Scheduled(process.ActiveContext(), cursor, "job", tt.s(&n),
				func(context.Context, time.Time, time.Time, string) error {
					select {
					case ran <- struct{}{}:
					default:
					}
					return nil
				},
				process.WithClock(lutest.NewClock()), process.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			stop, _ := start(t, p)
			require.Eventually(t, func() bool { return strings.Contains(logs.String(), "no next firing") }, 10*time.Second, time.Millisecond)
			calls := n.Load()
			assert.Less(t, calls, int64(10))
			assert.ErrorIs(t, stop(), context.Canceled, "stops at once when asked")
			assert.Equal(t, calls, n.Load(), "no more calls while it waited")
			assert.Empty(t, ran, "never runs")
			assert.NotContains(t, logs.String(), "level=ERROR")
		})
	}
}

func TestACorruptCursorFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	cursor, err := process.NewFileCursor(dir)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cursor.Path("job"), []byte("17672\x00garbage\n"), 0o644))

	t0 := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	fake := clocktesting.NewFakeClock(t0)
	metrics := newMetrics()
	var logs syncBuffer
	calls := make(chan scheduledRun, 1)
	p := process.Scheduled(process.ActiveContext(), cursor, "job", process.Every(time.Minute),
		func(_ context.Context, last, runTime time.Time, runID string) error {
			calls <- scheduledRun{runTime: runTime, last: last, runID: runID}
			return nil
		},
		process.WithClock(fake), process.WithMetrics(metrics), process.WithMaxErrors(3), process.WithErrorSleep(time.Second),
		process.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	stop, _ := start(t, p)

	for i := 1; i <= 3; i++ {
		lutest.AwaitWaiters(t, fake, 10*time.Second)
		assert.Equal(t, i, metrics.errorCount("job"), "counted")
		fake.Step(time.Second)
	}
	lutest.AwaitWaiters(t, fake, 10*time.Second) // cleared, waiting for the next firing
	out := logs.String()
	assert.Contains(t, out, "level=ERROR")
	assert.Contains(t, out, "cursor file "+cursor.Path("job"), "names the file")
	assert.Contains(t, out, `holds \"17672\\x00garbage\", not a unix time`, "names the content")
	assert.Contains(t, out, "clearing an unreadable cursor", "WithMaxErrors applies")

	// Cleared: the schedule goes on from its next firing.
	fake.Step(time.Minute)
	r := <-calls
	assert.True(t, r.last.IsZero())
	assert.Equal(t, t0.Truncate(time.Minute).Add(time.Minute), r.runTime)
	assert.NoError(t, ignoreCanceled(stop()))
	v, err := cursor.Get(context.Background(), "job")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(r.runTime.Unix()), v)
}

func TestAnUnreadableCursorWithoutMaxErrorsKeepsFailingLoudly(t *testing.T) {
	fake := lutest.NewClock()
	metrics := newMetrics()
	cursor := process.NewMemoryCursor()
	require.NoError(t, cursor.Set(context.Background(), "job", "yesterday"))
	p := process.Scheduled(process.ActiveContext(), cursor, "job", process.Every(time.Minute), nopRun,
		process.WithClock(fake), process.WithMetrics(metrics), process.WithErrorSleep(time.Second), quiet)
	stop, _ := start(t, p)
	for i := 1; i <= 5; i++ {
		lutest.AwaitWaiters(t, fake, 10*time.Second)
		assert.Equal(t, i, metrics.errorCount("job"))
		fake.Step(time.Second)
	}
	assert.NoError(t, ignoreCanceled(stop()))
	v, _ := cursor.Get(context.Background(), "job")
	assert.Equal(t, "yesterday", v, "left as it is")
}

func TestNextRunKeepsTheClocksZone(t *testing.T) {
	tokyo := zone(t, "Asia/Tokyo")
	saved := time.Local
	time.Local = zone(t, "America/New_York")
	t.Cleanup(func() { time.Local = saved })

	now := time.Date(2026, 3, 1, 10, 0, 0, 0, tokyo) // 09:00 today has run
	fake := clocktesting.NewFakeClock(now)
	cursor := process.NewMemoryCursor()
	lastRun := time.Date(2026, 3, 1, 9, 0, 0, 0, tokyo)
	require.NoError(t, cursor.Set(context.Background(), "job", fmt.Sprint(lastRun.Unix())))
	calls, stop := runScheduled(t, fake, cursor, process.TimeOfDay(9, 0))
	lutest.Step(t, fake, 23*time.Hour)
	r := next(t, calls)
	assert.Equal(t, time.Date(2026, 3, 2, 9, 0, 0, 0, tokyo), r.runTime, "09:00 in the clock's zone, not the local one")
	assert.Equal(t, tokyo, r.runTime.Location())
	assert.Equal(t, tokyo, r.last.Location())
	assert.True(t, r.last.Equal(lastRun))
	r.result <- nil
	assert.NoError(t, ignoreCanceled(stop()))
}

func TestScheduledStopsQuietlyWhileWaitingForItsRole(t *testing.T) {
	var logs syncBuffer
	why := errors.New("lu: process \"other\": boom")
	ctx, cancel := context.WithCancelCause(context.Background())
	asked := make(chan struct{})
	await := func(string) process.ContextFunc {
		return func(ctx context.Context) (context.Context, context.CancelFunc, error) {
			close(asked)
			<-ctx.Done()
			return nil, nil, context.Cause(ctx)
		}
	}
	metrics := newMetrics()
	p := process.Scheduled(await, process.NewMemoryCursor(), "job", process.Every(time.Hour), nopRun,
		process.WithMetrics(metrics), process.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	<-asked
	cancel(why)
	assert.ErrorIs(t, <-done, why)
	assert.Empty(t, logs.String())
	assert.Zero(t, metrics.errorCount("job"))
}
