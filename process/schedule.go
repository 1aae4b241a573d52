package process

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/lu-go/lu"
)

// Schedule says when a scheduled process runs: Next returns the first
// firing strictly after t, in t's location.
type Schedule cron.Schedule

// ScheduledFunc is the work of a scheduled process. runTime is the firing
// being run, lastRunTime the last one that completed (zero if none), and
// runID is "<name>_<runTime in unix seconds>": the same for every attempt
// at one firing, so the work can be made idempotent with it.
type ScheduledFunc func(ctx context.Context, lastRunTime, runTime time.Time, runID string) error

// previousAware is a Schedule that knows its latest firing at or before
// now, so that catching up after downtime costs one call.
type previousAware interface {
	Previous(now time.Time) time.Time
}

// Scheduled returns a process that runs f at each firing of when, while
// this replica holds the role (see [WithRole]; [ActiveContext] always
// does). The cursor stores the last completed firing (unix seconds) under
// the process's name, so that:
//   - after downtime that missed several firings, only the most recent
//     missed one runs, at once;
//   - a firing never runs again once it completed, also across restarts
//     with a durable cursor such as [NewFileCursor];
//   - an error sleeps the error sleep (default 10 minutes) and retries the
//     same firing; with WithMaxErrors the firing is skipped after that many
//     consecutive failures.
//
// A crash after f succeeded but before the cursor was written runs that
// firing again: f runs at least once per firing, exactly once when it
// completes. Scheduled panics if an argument is nil or name is empty.
func Scheduled(awaitRole AwaitRoleFunc, cursor Cursor, name string, when Schedule, f ScheduledFunc, opts ...Option) lu.Process {
	switch {
	case awaitRole == nil:
		panic("process: Scheduled: nil AwaitRoleFunc")
	case cursor == nil:
		panic("process: Scheduled: nil Cursor")
	case name == "":
		panic("process: Scheduled: empty name")
	case when == nil:
		panic("process: Scheduled: nil Schedule")
	case f == nil:
		panic("process: Scheduled: nil func")
	}
	o := resolve("Scheduled", options{errorSleep: ErrorSleepFor(10 * time.Minute)}, append(opts, WithName(name)))
	s := &scheduled{o: o, awaitRole: awaitRole, cursor: cursor, when: when, f: f}
	return lu.Process{Name: name, Run: s.run}
}

type scheduled struct {
	o         options
	awaitRole AwaitRoleFunc
	cursor    Cursor
	when      Schedule
	f         ScheduledFunc
	errCount  uint
	pending   time.Time // a firing that failed, to retry before any other
}

func (s *scheduled) run(ctx context.Context) error {
	getCtx := s.awaitRole(s.o.role)
	if getCtx == nil {
		return fmt.Errorf("process %q: the AwaitRoleFunc returned a nil ContextFunc for role %q", s.o.name, s.o.role)
	}
	for ctx.Err() == nil {
		sleep := s.once(ctx, getCtx)
		if lu.Wait(ctx, s.o.clock, sleep) != nil {
			break
		}
	}
	return context.Cause(ctx)
}

// once attempts the next firing and returns how long to sleep after it.
func (s *scheduled) once(ctx context.Context, getCtx ContextFunc) time.Duration {
	runCtx, release, err := getCtx(ctx)
	if err == nil {
		err = s.next(runCtx)
		release()
	}
	if err == nil || errors.Is(err, context.Canceled) {
		s.errCount = 0
		return s.o.sleep()
	}
	s.errCount++
	s.o.metrics.ProcessError(s.o.name)
	s.o.logger.Error("scheduled run failed", "error", err, "consecutive_errors", s.errCount)
	return s.o.errorSleep(s.errCount, err)
}

// next waits for the next firing, runs it and records it in the cursor.
func (s *scheduled) next(ctx context.Context) error {
	last, err := s.lastRun(ctx)
	if err != nil {
		return err
	}
	now := s.o.clock.Now()
	runTime, lag := nextRun(now, last, s.when)
	if !s.pending.IsZero() && s.pending.After(last) && s.pending.Before(runTime) {
		runTime = s.pending // retry the firing that failed, not a later one
	}
	s.o.metrics.ScheduleCursorLag(s.o.name, lag)
	if s.o.maxErrors > 0 && s.errCount >= s.o.maxErrors {
		s.o.logger.Warn("skipping a scheduled run after too many errors",
			"run_time", runTime, "consecutive_errors", s.errCount)
		s.pending = time.Time{}
		return s.setLastRun(ctx, runTime)
	}
	if err := lu.WaitUntil(ctx, s.o.clock, runTime); err != nil {
		return err
	}
	runID := s.o.name + "_" + strconv.FormatInt(runTime.Unix(), 10)
	if err := s.f(ctx, last, runTime, runID); err != nil {
		s.pending = runTime
		return fmt.Errorf("run %s: %w", runID, err)
	}
	s.pending = time.Time{}
	// The run is done: record it even if the process is being stopped
	// meanwhile, or the next start would run it again. A cursor that
	// guards its writes with a role still refuses them once the role is
	// lost.
	return s.setLastRun(context.WithoutCancel(ctx), runTime)
}

func (s *scheduled) lastRun(ctx context.Context) (time.Time, error) {
	v, err := s.cursor.Get(ctx, s.o.name)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("process %q: cursor holds %q, not a unix time: %w", s.o.name, v, err)
	}
	return time.Unix(sec, 0), nil
}

func (s *scheduled) setLastRun(ctx context.Context, t time.Time) error {
	return s.cursor.Set(ctx, s.o.name, strconv.FormatInt(t.Unix(), 10))
}

// maxCatchUpSteps bounds the search for the latest missed firing of a
// schedule that does not know its previous firing.
const maxCatchUpSteps = 100000

// nextRun returns the firing to run next, given the last completed one,
// and how far the cursor lags behind the firing that is due. It is always
// after last, so no firing runs twice.
func nextRun(now, last time.Time, s Schedule) (time.Time, time.Duration) {
	fromNow := s.Next(now)
	if last.IsZero() {
		return fromNow, 0
	}
	fromLast := s.Next(last)
	if fromLast.After(now) {
		return fromLast, 0 // up to date
	}
	lag := fromNow.Sub(fromLast)
	if p, ok := s.(previousAware); ok {
		if prev := p.Previous(now); prev.After(last) && !prev.After(now) {
			return prev.In(now.Location()), lag
		}
	}
	// Several firings were missed: run only the latest of them.
	t := fromLast
	for range maxCatchUpSteps {
		n := s.Next(t)
		if n.After(now) || !n.After(t) {
			break
		}
		t = n
	}
	return t.In(now.Location()), lag
}

// ParseCron parses a standard five-field cron spec ("minute hour
// day-of-month month day-of-week", or a descriptor such as "@daily"). The
// schedule fires in the location of the time given to it (see
// [ToTimezone]); a firing whose wall time a daylight-saving change skips
// does not happen that day. A bad spec is an error that quotes it.
func ParseCron(spec string) (Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("process: bad cron spec %q: %w", spec, err)
	}
	return cronSchedule{s}, nil
}

type cronSchedule struct{ cron.Schedule }

// Previous returns the latest firing at or before now, looking back up to
// about three years; zero if there is none.
func (c cronSchedule) Previous(now time.Time) time.Time {
	for back := time.Minute; back < 3*366*24*time.Hour; back *= 2 {
		t := c.Next(now.Add(-back))
		if t.After(now) {
			continue
		}
		for n := c.Next(t); !n.After(now); n = c.Next(t) {
			t = n
		}
		return t
	}
	return time.Time{}
}

// Poll returns a schedule that fires wait after each run completes. It
// panics if wait is not positive.
func Poll(wait time.Duration) Schedule {
	if wait <= 0 {
		panic(fmt.Sprintf("process: Poll: wait %v is not positive", wait))
	}
	return pollSchedule{wait}
}

type pollSchedule struct{ wait time.Duration }

func (p pollSchedule) Next(t time.Time) time.Time { return t.Add(p.wait) }

// EveryOption configures [Every].
type EveryOption func(*everySchedule)

// WithOffset shifts the firings of [Every] by offset into each period.
func WithOffset(offset time.Duration) EveryOption {
	return func(s *everySchedule) { s.offset = offset }
}

// WithDescription describes the schedule, for String.
func WithDescription(desc string) EveryOption {
	return func(s *everySchedule) { s.desc = desc }
}

// Every returns a schedule that fires once per period, on multiples of the
// period since the zero time (so Every(time.Hour) fires on the hour, and
// Every(24*time.Hour) at midnight UTC), shifted by WithOffset. Daylight
// saving does not move it. It panics if period is not positive or the
// offset is outside [0, period).
func Every(period time.Duration, opts ...EveryOption) Schedule {
	s := everySchedule{period: period}
	for _, o := range opts {
		o(&s)
	}
	if period <= 0 {
		panic(fmt.Sprintf("process: Every: period %v is not positive", period))
	}
	if s.offset < 0 || s.offset >= period {
		panic(fmt.Sprintf("process: Every: offset %v outside [0, %v)", s.offset, period))
	}
	return s
}

// FixedInterval is Every, under the name the original lu once used.
//
// Deprecated: use Every.
var FixedInterval = Every

type everySchedule struct {
	period, offset time.Duration
	desc           string
}

func (s everySchedule) Next(t time.Time) time.Time {
	n := t.Truncate(s.period).Add(s.offset)
	if !n.After(t) {
		n = n.Add(s.period)
	}
	return n
}

func (s everySchedule) Previous(now time.Time) time.Time {
	p := now.Truncate(s.period).Add(s.offset)
	if p.After(now) {
		p = p.Add(-s.period)
	}
	return p
}

func (s everySchedule) String() string {
	if s.desc != "" {
		return s.desc
	}
	return fmt.Sprintf("every %v offset %v", s.period, s.offset)
}

// TimeOfDay returns a schedule that fires every day at hour:minute (24-hour
// clock) in the location of the time given to it; see [ToTimezone]. On a
// day when that wall time does not exist (the clocks went forward over it)
// it fires at the moment of the jump; when it exists twice (the clocks went
// back), it fires at the first. It panics on an hour or minute out of
// range.
func TimeOfDay(hour, minute int) Schedule {
	if hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		panic(fmt.Sprintf("process: TimeOfDay: %02d:%02d is not a time of day", hour, minute))
	}
	return timeOfDay{hour, minute}
}

type timeOfDay struct{ hour, minute int }

// on returns the firing days after t's day. When the wall time does not
// exist that day, it is the moment the clocks jumped over it.
func (s timeOfDay) on(t time.Time, days int) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day()+days, s.hour, s.minute, 0, 0, t.Location())
	if d.Hour() == s.hour && d.Minute() == s.minute {
		return d
	}
	start, end := d.ZoneBounds()
	if d.Hour()*60+d.Minute() < s.hour*60+s.minute {
		return end // d fell before the gap
	}
	return start
}

func (s timeOfDay) Next(t time.Time) time.Time {
	for days := 0; ; days++ {
		if n := s.on(t, days); n.After(t) {
			return n
		}
	}
}

func (s timeOfDay) Previous(now time.Time) time.Time {
	for days := 0; ; days-- {
		if p := s.on(now, days); !p.After(now) {
			return p
		}
	}
}

// ToTimezone returns s evaluated in tz: a TimeOfDay or cron schedule then
// fires at its wall time in tz, whatever the location of the process's
// clock. Times are returned in the location of the time given. It panics
// if s or tz is nil.
func ToTimezone(s cron.Schedule, tz *time.Location) cron.Schedule {
	if s == nil || tz == nil {
		panic("process: ToTimezone: nil schedule or location")
	}
	return tzSchedule{s, tz}
}

type tzSchedule struct {
	s  cron.Schedule
	tz *time.Location
}

func (z tzSchedule) Next(t time.Time) time.Time {
	return z.s.Next(t.In(z.tz)).In(t.Location())
}

// Previous is defined when the wrapped schedule knows its previous firing;
// otherwise it reports zero and the catch-up search is used.
func (z tzSchedule) Previous(now time.Time) time.Time {
	if p, ok := z.s.(previousAware); ok {
		return p.Previous(now.In(z.tz)).In(now.Location())
	}
	return time.Time{}
}
