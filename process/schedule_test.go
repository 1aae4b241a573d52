package process_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
	_ "time/tzdata" // real zones for the daylight-saving tests, on any machine

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

func zone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func mustCron(t *testing.T, spec string) process.Schedule {
	s, err := process.ParseCron(spec)
	require.NoError(t, err)
	return s
}

func TestScheduleNext(t *testing.T) {
	ny := zone(t, "America/New_York")
	london := zone(t, "Europe/London")
	tokyo := zone(t, "Asia/Tokyo")
	utc := func(s string) time.Time {
		v, err := time.Parse(time.DateTime, s)
		require.NoError(t, err)
		return v
	}
	in := func(loc *time.Location, s string) time.Time {
		v, err := time.ParseInLocation(time.DateTime, s, loc)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name string
		s    process.Schedule
		from time.Time
		want time.Time
	}{
		// Midnight and month ends.
		{"hourly across midnight", process.Every(time.Hour), utc("2026-01-31 23:59:59"), utc("2026-02-01 00:00:00")},
		{"hourly on the hour moves on", process.Every(time.Hour), utc("2026-01-31 23:00:00"), utc("2026-02-01 00:00:00")},
		{"daily at midnight UTC", process.Every(24 * time.Hour), utc("2026-02-28 12:00:00"), utc("2026-03-01 00:00:00")},
		{"offset across a month end", process.Every(time.Hour, process.WithOffset(30*time.Minute)), utc("2026-04-30 23:45:00"), utc("2026-05-01 00:30:00")},
		{"time of day before it", process.TimeOfDay(0, 0), utc("2026-01-31 23:59:00"), utc("2026-02-01 00:00:00")},
		{"time of day at it moves to tomorrow", process.TimeOfDay(0, 0), utc("2026-02-01 00:00:00"), utc("2026-02-02 00:00:00")},
		{"time of day across a leap day", process.TimeOfDay(6, 15), utc("2028-02-28 07:00:00"), utc("2028-02-29 06:15:00")},
		{"time of day across the year end", process.TimeOfDay(1, 0), utc("2026-12-31 01:00:00"), utc("2027-01-01 01:00:00")},
		{"cron first of the month", mustCron(t, "0 0 1 * *"), utc("2026-01-31 10:00:00"), utc("2026-02-01 00:00:00")},
		{"cron on the 31st skips short months", mustCron(t, "0 12 31 * *"), utc("2026-01-31 13:00:00"), utc("2026-03-31 12:00:00")},
		{"cron every 15 minutes across midnight", mustCron(t, "*/15 * * * *"), utc("2026-06-30 23:50:00"), utc("2026-07-01 00:00:00")},
		{"cron @daily", mustCron(t, "@daily"), utc("2026-06-30 23:50:00"), utc("2026-07-01 00:00:00")},

		// Daylight saving in New York: 2026-03-08 02:00 EST -> 03:00 EDT,
		// 2026-11-01 02:00 EDT -> 01:00 EST.
		{"hourly is absolute across spring forward", process.Every(time.Hour), in(ny, "2026-03-08 01:30:00"), in(ny, "2026-03-08 03:00:00")},
		{"hourly is absolute across fall back", process.Every(time.Hour), in(ny, "2026-11-01 01:30:00").Add(time.Hour), in(ny, "2026-11-01 02:00:00")},
		{"a skipped wall time runs at the jump", process.TimeOfDay(2, 30), in(ny, "2026-03-08 00:00:00"), in(ny, "2026-03-08 03:00:00")},
		{"the day after the jump is normal", process.TimeOfDay(2, 30), in(ny, "2026-03-08 03:00:00"), in(ny, "2026-03-09 02:30:00")},
		{"a repeated wall time runs at the first", process.TimeOfDay(1, 30), in(ny, "2026-11-01 00:00:00"), time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)},
		{"and not at the second", process.TimeOfDay(1, 30), time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC).In(ny), in(ny, "2026-11-02 01:30:00")},
		{"cron at 02:30 on the spring-forward day", mustCron(t, "30 2 * * *"), in(ny, "2026-03-08 00:00:00"), in(ny, "2026-03-09 02:30:00")},
		{"daily at 09:00 London across its clock change", process.ToTimezone(process.TimeOfDay(9, 0), london), utc("2026-03-28 10:00:00"), utc("2026-03-29 08:00:00")},

		// Time zones.
		{"time of day in Tokyo from a UTC clock", process.ToTimezone(process.TimeOfDay(9, 0), tokyo), utc("2026-01-01 01:00:00"), utc("2026-01-02 00:00:00")},
		{"cron in New York from a UTC clock", process.ToTimezone(mustCron(t, "0 9 * * *"), ny), utc("2026-07-01 14:00:00"), utc("2026-07-02 13:00:00")},
		{"poll", process.Poll(90 * time.Second), utc("2026-01-01 00:00:00"), utc("2026-01-01 00:01:30")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.s.Next(tt.from)
			assert.True(t, tt.want.Equal(got), "Next(%v) = %v, want %v", tt.from, got, tt.want)
			assert.Equal(t, tt.from.Location(), got.Location(), "in the location given")
		})
	}
}

func TestParseCronErrors(t *testing.T) {
	for _, spec := range []string{"", "* * *", "61 * * * *", "* * * * * *", "every day"} {
		_, err := process.ParseCron(spec)
		require.Error(t, err, spec)
		assert.Contains(t, err.Error(), fmt.Sprintf("process: bad cron spec %q", spec))
	}
}

// newScheduled runs a Scheduled process on a fake clock whose func reports
// each call and returns what the test sends.
type scheduledRun struct {
	runTime, last time.Time
	runID         string
	result        chan error
}

func runScheduled(t *testing.T, clock *clocktesting.FakeClock, cursor process.Cursor, when process.Schedule, opts ...process.Option) (chan scheduledRun, func() error) {
	calls := make(chan scheduledRun)
	f := func(ctx context.Context, last, runTime time.Time, runID string) error {
		r := scheduledRun{runTime: runTime, last: last, runID: runID, result: make(chan error)}
		select {
		case calls <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
		return <-r.result
	}
	opts = append([]process.Option{process.WithClock(clock), process.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	p := process.Scheduled(process.ActiveContext(), cursor, "job", when, f, opts...)
	stop, _ := start(t, p)
	return calls, stop
}

func next(t *testing.T, calls chan scheduledRun) scheduledRun {
	t.Helper()
	select {
	case r := <-calls:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the scheduled func was not called")
		return scheduledRun{}
	}
}

func noCall(t *testing.T, calls chan scheduledRun) {
	t.Helper()
	select {
	case r := <-calls:
		t.Fatalf("unexpected run %s", r.runID)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestScheduled(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)

	t.Run("runs each firing once, with its run ID and the last run", func(t *testing.T) {
		clock := clocktesting.NewFakeClock(t0)
		calls, stop := runScheduled(t, clock, process.NewMemoryCursor(), process.Every(time.Minute))
		lutest.Step(t, clock, 30*time.Second)
		r := next(t, calls)
		assert.Equal(t, "job_1767225660", r.runID)
		assert.True(t, r.runTime.Equal(t0.Add(30*time.Second)))
		assert.True(t, r.last.IsZero())
		r.result <- nil
		lutest.Step(t, clock, time.Minute)
		r2 := next(t, calls)
		assert.True(t, r2.last.Equal(r.runTime), "lastRunTime is the previous firing")
		assert.True(t, r2.runTime.Equal(r.runTime.Add(time.Minute)))
		r2.result <- nil
		assert.NoError(t, ignoreCanceled(stop()))
	})

	t.Run("after downtime only the most recent missed firing runs", func(t *testing.T) {
		clock := clocktesting.NewFakeClock(t0)
		cursor := process.NewMemoryCursor()
		require.NoError(t, cursor.Set(context.Background(), "job", fmt.Sprint(t0.Add(-10*time.Minute).Truncate(time.Minute).Unix())))
		metrics := newMetrics()
		calls, stop := runScheduled(t, clock, cursor, process.Every(time.Minute), process.WithMetrics(metrics))
		r := next(t, calls) // at once
		assert.True(t, r.runTime.Equal(t0.Truncate(time.Minute)), "got %v", r.runTime)
		metrics.mu.Lock()
		assert.Equal(t, 10*time.Minute, metrics.lags["job"])
		metrics.mu.Unlock()
		r.result <- nil
		noCall(t, calls)
		assert.NoError(t, ignoreCanceled(stop()))
	})

	t.Run("a schedule that does not know its previous firing catches up once too", func(t *testing.T) {
		clock := clocktesting.NewFakeClock(t0)
		cursor := process.NewMemoryCursor()
		require.NoError(t, cursor.Set(context.Background(), "job", fmt.Sprint(t0.Add(-time.Hour).Unix())))
		calls, stop := runScheduled(t, clock, cursor, plainSchedule{time.Minute})
		r := next(t, calls)
		assert.True(t, r.runTime.Equal(t0.Add(-30*time.Second)), "the latest missed firing, got %v", r.runTime)
		r.result <- nil
		noCall(t, calls)
		assert.NoError(t, ignoreCanceled(stop()))
	})

	t.Run("an error retries the same firing after the error sleep", func(t *testing.T) {
		clock := clocktesting.NewFakeClock(t0)
		metrics := newMetrics()
		calls, stop := runScheduled(t, clock, process.NewMemoryCursor(), process.Every(time.Hour), process.WithMetrics(metrics))
		lutest.Step(t, clock, time.Hour)
		r := next(t, calls)
		r.result <- errors.New("flaky")
		lutest.AwaitWaiters(t, clock, 10*time.Second)
		clock.Step(10*time.Minute - time.Second) // the default error sleep is 10 minutes
		noCall(t, calls)
		clock.Step(time.Second)
		again := next(t, calls)
		assert.Equal(t, r.runID, again.runID)
		again.result <- nil
		assert.Equal(t, 1, metrics.errorCount("job"))
		assert.NoError(t, ignoreCanceled(stop()))
	})

	t.Run("WithMaxErrors skips the firing", func(t *testing.T) {
		clock := clocktesting.NewFakeClock(t0)
		calls, stop := runScheduled(t, clock, process.NewMemoryCursor(), process.Every(time.Hour),
			process.WithMaxErrors(2), process.WithErrorSleep(time.Second))
		lutest.Step(t, clock, time.Hour)
		r := next(t, calls)
		r.result <- errors.New("1")
		lutest.Step(t, clock, time.Second)
		r2 := next(t, calls)
		require.Equal(t, r.runID, r2.runID)
		r2.result <- errors.New("2")
		lutest.Step(t, clock, time.Second) // skipped: the cursor moves on
		noCall(t, calls)
		lutest.Step(t, clock, time.Hour)
		r3 := next(t, calls)
		assert.True(t, r3.runTime.Equal(r.runTime.Add(time.Hour)), "the next firing, got %v", r3.runTime)
		assert.True(t, r3.last.Equal(r.runTime), "the skipped firing counts as done")
		r3.result <- nil
		assert.NoError(t, ignoreCanceled(stop()))
	})
}

// plainSchedule fires every d, and does not know its previous firing.
type plainSchedule struct{ d time.Duration }

func (p plainSchedule) Next(t time.Time) time.Time { return t.Truncate(p.d).Add(p.d) }

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func TestScheduledRestartOnAFileCursor(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	clock := clocktesting.NewFakeClock(t0)
	var ran []string

	cursor, err := process.NewFileCursor(dir)
	require.NoError(t, err)
	calls, stop := runScheduled(t, clock, cursor, process.Every(time.Minute))
	lutest.Step(t, clock, 30*time.Second)
	r := next(t, calls)
	ran = append(ran, r.runID)
	r.result <- nil
	lutest.AwaitWaiters(t, clock, 10*time.Second)
	require.NoError(t, ignoreCanceled(stop()))

	clock.Step(3*time.Minute + 30*time.Second) // down past three firings: 00:02, 00:03, 00:04

	cursor2, err := process.NewFileCursor(dir) // as after a restart
	require.NoError(t, err)
	calls2, stop2 := runScheduled(t, clock, cursor2, process.Every(time.Minute))
	r = next(t, calls2)
	ran = append(ran, r.runID)
	r.result <- nil
	noCall(t, calls2)
	require.NoError(t, ignoreCanceled(stop2()))

	assert.Equal(t, []string{"job_1767225660", "job_1767225840"}, ran, "one run, then exactly one catch-up run for 00:04")
	v, err := cursor2.Get(context.Background(), "job")
	require.NoError(t, err)
	assert.Equal(t, "1767225840", v)
}

func TestFileCursor(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "cursors")
	c, err := process.NewFileCursor(dir)
	require.NoError(t, err)

	v, err := c.Get(ctx, "nightly/report")
	require.NoError(t, err)
	assert.Empty(t, v, "no value yet")
	require.NoError(t, c.Set(ctx, "nightly/report", "1767225600"))
	require.NoError(t, c.Set(ctx, "other", "1"))
	require.NoError(t, c.Set(ctx, "nightly/report", "1767225660"))

	c2, err := process.NewFileCursor(dir)
	require.NoError(t, err)
	v, err = c2.Get(ctx, "nightly/report")
	require.NoError(t, err)
	assert.Equal(t, "1767225660", v, "survives a new instance")

	// A crash in the middle of a write leaves a temporary file behind and
	// the last value intact.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".nightly%2Freport.cursor.123"), []byte("17672"), 0o644))
	v, err = c2.Get(ctx, "nightly/report")
	require.NoError(t, err)
	assert.Equal(t, "1767225660", v)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "one file per name plus the simulated leftover, nothing else")

	assert.Error(t, c.Set(ctx, "", "x"), "an empty name")
	_, err = process.NewFileCursor("")
	assert.Error(t, err)
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = process.NewFileCursor(file)
	assert.ErrorContains(t, err, "not a directory")
}

func TestMemoryCursor(t *testing.T) {
	ctx := context.Background()
	c := process.NewMemoryCursor()
	v, err := c.Get(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, v)
	require.NoError(t, c.Set(ctx, "a", "1"))
	v, _ = c.Get(ctx, "a")
	assert.Equal(t, "1", v)
}

func TestSchedulePrevious(t *testing.T) {
	type previousAware interface{ Previous(time.Time) time.Time }
	ny := zone(t, "America/New_York")
	at := time.Date(2026, 3, 1, 0, 10, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    process.Schedule
		now  time.Time
		want time.Time
	}{
		{"every hour", process.Every(time.Hour), at, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"every hour at a firing", process.Every(time.Hour), at.Truncate(time.Hour), at.Truncate(time.Hour)},
		{"offset in the previous day", process.Every(time.Hour, process.WithOffset(30*time.Minute)), at, time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC)},
		{"time of day yesterday", process.TimeOfDay(6, 0), at, time.Date(2026, 2, 28, 6, 0, 0, 0, time.UTC)},
		{"cron across a month end", mustCron(t, "0 12 31 * *"), at, time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)},
		{"cron yearly", mustCron(t, "@yearly"), at, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"in a zone", process.ToTimezone(process.TimeOfDay(9, 0), ny).(process.Schedule), at, time.Date(2026, 2, 28, 14, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := tt.s.(previousAware)
			require.True(t, ok)
			got := p.Previous(tt.now)
			assert.True(t, tt.want.Equal(got), "Previous(%v) = %v, want %v", tt.now, got, tt.want)
		})
	}
}

func TestScheduledAwaitsItsRole(t *testing.T) {
	for _, tt := range []struct {
		opts []process.Option
		want string
	}{
		{nil, "job"},
		{[]process.Option{process.WithRole("reports-leader")}, "reports-leader"},
	} {
		asked := make(chan string, 1)
		await := func(role string) process.ContextFunc {
			asked <- role
			return func(ctx context.Context) (context.Context, context.CancelFunc, error) {
				<-ctx.Done() // never granted: the test only checks which role is awaited
				return nil, nil, ctx.Err()
			}
		}
		p := process.Scheduled(await, process.NewMemoryCursor(), "job", process.Every(time.Hour), nopRun, tt.opts...)
		stop, _ := start(t, p)
		assert.Equal(t, tt.want, <-asked)
		assert.ErrorIs(t, stop(), context.Canceled)
	}
}
