package process_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

// calls returns a func for a loop that reports each call and returns what
// the test sends.
func calls() (chan chan error, lu.ProcessFunc) {
	ch := make(chan chan error)
	return ch, func(ctx context.Context) error {
		result := make(chan error)
		select {
		case ch <- result:
		case <-ctx.Done():
			return ctx.Err()
		}
		return <-result
	}
}

func nextCall(t *testing.T, ch chan chan error) chan error {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the loop's func was not called")
		return nil
	}
}

func noNextCall(t *testing.T, ch chan chan error) {
	t.Helper()
	select {
	case <-ch:
		t.Fatal("the loop's func was called before its sleep ended")
	case <-time.After(20 * time.Millisecond):
	}
}

var quiet = process.WithLogger(slog.New(slog.DiscardHandler))

// TestNilOptionsAreTheDefaults gives each option a nil value, as Luno's lu
// accepted: it is the default.
func TestNilOptionsAreTheDefaults(t *testing.T) {
	t.Run("WithSleepFunc(nil) is no sleep after a success", func(t *testing.T) {
		ch, f := calls()
		fake := lutest.NewClock()
		_, _ = start(t, process.Loop(f, process.WithClock(fake), process.WithSleep(time.Hour), process.WithSleepFunc(nil), quiet))
		nextCall(t, ch) <- nil
		nextCall(t, ch) <- nil // without stepping the clock
	})
	t.Run("WithErrorSleepFunc(nil) is 10s after an error", func(t *testing.T) {
		ch, f := calls()
		fake := lutest.NewClock()
		_, _ = start(t, process.Loop(f, process.WithClock(fake), process.WithErrorSleep(time.Hour), process.WithErrorSleepFunc(nil), quiet))
		nextCall(t, ch) <- errors.New("boom")
		lutest.Step(t, fake, 10*time.Second-time.Nanosecond)
		noNextCall(t, ch)
		fake.Step(time.Nanosecond)
		nextCall(t, ch) <- nil
	})
	t.Run("WithErrorSleepFunc(nil) is 10s for a schedule too", func(t *testing.T) {
		fake := lutest.NewClock()
		calls, _ := runScheduled(t, fake, process.NewMemoryCursor(), process.Every(time.Hour), process.WithErrorSleepFunc(nil))
		lutest.Step(t, fake, time.Hour)
		r := next(t, calls)
		r.result <- errors.New("boom")
		lutest.Step(t, fake, 10*time.Second-time.Nanosecond)
		noCall(t, calls)
		fake.Step(time.Nanosecond)
		again := next(t, calls)
		assert.Equal(t, r.runID, again.runID)
		again.result <- nil
	})
	t.Run("WithClock(nil) is the real clock", func(t *testing.T) {
		ch, f := calls()
		_, _ = start(t, process.Loop(f, process.WithClock(nil), process.WithSleep(time.Millisecond), quiet))
		nextCall(t, ch) <- nil
		nextCall(t, ch) <- nil // a real millisecond later
	})
	t.Run("WithMetrics(nil) and WithLogger(nil) report nowhere and to slog.Default", func(t *testing.T) {
		p := process.Loop(func(context.Context) error { return errors.New("boom") },
			process.WithMetrics(nil), process.WithLogger(nil), process.WithErrorSleep(0), process.WithMaxErrors(1))
		defer slog.SetDefault(slog.Default())
		var logs syncBuffer
		slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
		assert.Error(t, p.Run(context.Background()))
		assert.Contains(t, logs.String(), "error=boom")
	})
}

// TestSleepsOfZeroOrLessAreNoSleep: no sleep, no panic.
func TestSleepsOfZeroOrLessAreNoSleep(t *testing.T) {
	noErrorSleep, noSleep := process.WithErrorSleep(0), process.WithSleep(0)
	for name, opts := range map[string][]process.Option{
		"WithSleep(-1s)":                        {process.WithSleep(-time.Second), noErrorSleep},
		"WithSleepFunc(SleepFor(-1ns))":         {process.WithSleepFunc(process.SleepFor(-1)), noErrorSleep},
		"WithErrorSleep(-1s)":                   {process.WithErrorSleep(-time.Second), noSleep},
		"WithErrorSleepFunc(ErrorSleepFor(-1))": {process.WithErrorSleepFunc(process.ErrorSleepFor(-1))},
		"MakeErrorSleepFunc(0, -1s, backoff)":   {process.WithErrorSleepFunc(process.MakeErrorSleepFunc(0, -time.Second, process.DefaultBackoff))},
	} {
		t.Run(name, func(t *testing.T) {
			ch, f := calls()
			fake := lutest.NewClock() // never stepped: any sleep would hang
			_, _ = start(t, process.Loop(f, append(opts, process.WithClock(fake), quiet)...))
			nextCall(t, ch) <- nil
			nextCall(t, ch) <- errors.New("boom")
			nextCall(t, ch) <- errors.New("boom")
			nextCall(t, ch) <- nil
			assert.False(t, fake.HasWaiters())
		})
	}
}

func TestMakeErrorSleepFuncSaturates(t *testing.T) {
	f := process.MakeErrorSleepFunc(0, math.MaxInt64/2, []uint{1, 3, math.MaxUint})
	assert.Equal(t, time.Duration(math.MaxInt64/2), f(1, nil))
	assert.Equal(t, time.Duration(math.MaxInt64), f(2, nil), "no overflow to a short or negative sleep")
	assert.Equal(t, time.Duration(math.MaxInt64), f(3, nil))
	assert.Equal(t, time.Duration(math.MaxInt64), f(1000, nil))
	day := process.MakeErrorSleepFunc(0, 24*time.Hour, []uint{1 << 40})
	assert.Equal(t, time.Duration(math.MaxInt64), day(1, nil))
	neg := process.MakeErrorSleepFunc(0, -time.Hour, []uint{1 << 40})
	assert.LessOrEqual(t, neg(1, nil), time.Duration(0), "a negative sleep stays no sleep")
}

func TestEveryOffsets(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.DateTime, s)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name       string
		s          process.Schedule
		from, want string
	}{
		{"daily, two hours before midnight", process.Every(24*time.Hour, process.WithOffset(-2*time.Hour)), "2026-03-01 12:00:00", "2026-03-01 22:00:00"},
		{"daily at 22:00, from 23:00", process.Every(24*time.Hour, process.WithOffset(-2*time.Hour)), "2026-03-01 23:00:00", "2026-03-02 22:00:00"},
		{"daily at 22:00, from 22:00", process.Every(24*time.Hour, process.WithOffset(-2*time.Hour)), "2026-03-01 22:00:00", "2026-03-02 22:00:00"},
		{"hourly offset 90m is :30", process.Every(time.Hour, process.WithOffset(90*time.Minute)), "2026-03-01 12:10:00", "2026-03-01 12:30:00"},
		{"hourly offset 90m from :40", process.Every(time.Hour, process.WithOffset(90*time.Minute)), "2026-03-01 12:40:00", "2026-03-01 13:30:00"},
		{"hourly offset -15m is :45", process.Every(time.Hour, process.WithOffset(-15*time.Minute)), "2026-03-01 12:50:00", "2026-03-01 13:45:00"},
		{"an offset of whole periods is none", process.Every(time.Hour, process.WithOffset(-3*time.Hour)), "2026-03-01 12:50:00", "2026-03-01 13:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.s.Next(utc(tt.from))
			assert.Equal(t, utc(tt.want), got)
			// Every firing is on the grid, whatever the starting point.
			for range 48 {
				n := tt.s.Next(got)
				assert.True(t, n.After(got))
				got = n
			}
		})
	}
}

func TestTimeOfDayNormalises(t *testing.T) {
	from := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		hour, minute int
		want         time.Time
	}{
		{24, 0, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{9, 90, time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)},
		{-1, 0, time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)},
		{0, -30, time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)},
		{48 + 11, 0, time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)},
		{math.MaxInt, math.MinInt, process.TimeOfDay(math.MaxInt, math.MinInt).Next(from)}, // no overflow panic
	}
	for _, tt := range tests {
		got := process.TimeOfDay(tt.hour, tt.minute).Next(from)
		assert.Equal(t, tt.want, got, "TimeOfDay(%d, %d)", tt.hour, tt.minute)
		assert.True(t, got.After(from))
		// as time.Date normalises it
		d := time.Date(2026, 3, 1, tt.hour, tt.minute, 0, 0, time.UTC)
		if tt.hour < 1000 && tt.hour > -1000 {
			assert.Equal(t, d.Hour()*60+d.Minute(), got.Hour()*60+got.Minute())
		}
	}
}

func TestPollZeroRunsBackToBack(t *testing.T) {
	for _, wait := range []time.Duration{0, -time.Second} {
		fake := lutest.NewClock() // never stepped
		calls, _ := runScheduled(t, fake, process.NewMemoryCursor(), process.Poll(wait))
		for range 5 {
			next(t, calls).result <- nil
		}
	}
}

// TestPanicsOnlyForValuesWithoutMeaning: what is left panics at
// construction, with a message that names the call and the value.
func TestPanicsOnlyForValuesWithoutMeaning(t *testing.T) {
	f := func(context.Context) error { return nil }
	tests := map[string]func(){
		"process: Loop: nil func":               func() { process.Loop(nil) },
		"process: Retry: nil func":              func() { process.Retry(nil) },
		"process: ContextLoop: nil ContextFunc": func() { process.ContextLoop(nil, f) },
		"process: ContextRetry: nil func":       func() { process.ContextRetry(process.ActiveContext()("r"), nil) },
		"process: Loop: nil Option (option 2)":  func() { process.Loop(f, quiet, nil) },
		"process: Scheduled: nil Cursor":        func() { process.Scheduled(process.ActiveContext(), nil, "s", process.Every(time.Hour), nopRun) },
		"process: Scheduled: nil AwaitRoleFunc": func() { process.Scheduled(nil, process.NewMemoryCursor(), "s", process.Every(time.Hour), nopRun) },
		"process: Scheduled: nil Schedule":      func() { process.Scheduled(process.ActiveContext(), process.NewMemoryCursor(), "s", nil, nopRun) },
		"process: Scheduled: nil func": func() {
			process.Scheduled(process.ActiveContext(), process.NewMemoryCursor(), "s", process.Every(time.Hour), nil)
		},
		"process: Every: period 0s is not positive":      func() { process.Every(0) },
		"process: Every: period -1h0m0s is not positive": func() { process.Every(-time.Hour) },
		"process: ToTimezone: nil schedule":              func() { process.ToTimezone(nil, time.UTC) },
		"process: ToTimezone: nil location":              func() { process.ToTimezone(process.Every(time.Hour), nil) },
		"process: HTTP: nil server":                      func() { process.HTTP("x", nil) },
		"process: SecureHTTP: nil server":                func() { process.SecureHTTP("x", nil, "c", "k") },
		"process: NewHTTPServer: nil HTTPOption (option 1)": func() {
			process.NewHTTPServer("x", &http.Server{}, nil)
		},
	}
	for want, f := range tests {
		assert.PanicsWithValue(t, want, f)
	}
	// What Luno's lu accepted does not panic.
	assert.NotPanics(t, func() {
		process.WithSleep(-time.Second)
		process.WithErrorSleep(-time.Second)
		process.SleepFor(-1)
		process.ErrorSleepFor(-1)
		process.MakeErrorSleepFunc(1, -time.Second, nil)
		process.WithClock(nil)
		process.WithSleepFunc(nil)
		process.WithErrorSleepFunc(nil)
		process.Every(time.Hour, process.WithOffset(2*time.Hour))
		process.Every(time.Hour, process.WithOffset(-2*time.Hour))
		process.TimeOfDay(24, 0)
		process.Poll(0)
		process.Poll(-time.Second)
		process.Scheduled(process.ActiveContext(), process.NewMemoryCursor(), "", process.Every(time.Hour), nopRun)
	})
}
