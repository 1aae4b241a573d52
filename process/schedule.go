package process

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/lu-go/lu"
)

// ScheduledFunc is the work of a scheduled process. runTime is the firing
// being run, lastRunTime the last one that completed (zero if none), both
// in the location of the process's clock, and runID is "<name>_<runTime in
// unix seconds>" (with a decimal fraction, such as "_1767225601.5", for a
// firing that is not on a whole second): the same for every attempt at one
// firing and different for every firing, so the work can be made
// idempotent with it.
type ScheduledFunc func(ctx context.Context, lastRunTime, runTime time.Time, runID string) error

// Scheduled returns a process that runs f at each firing of when, while
// this replica holds the role (see [WithRole]; [ActiveContext] always
// does). The cursor stores the last completed firing under the process's
// name, in unix seconds (with a decimal fraction, "1767225601.5", only for
// a firing that is not on a whole second), so that:
//   - after downtime that missed several firings, only the most recent
//     missed one runs, at once, found in a bounded time however long the
//     downtime;
//   - a firing never runs again once it completed, also across restarts
//     with a durable cursor such as [NewFileCursor];
//   - an error sleeps the error sleep (default 10 minutes) and retries the
//     same firing; with WithMaxErrors the firing is skipped after that many
//     consecutive failures;
//   - a cursor that holds something other than a unix time is an error
//     like any other, naming its content (and its file, for a
//     [FileCursor]); with WithMaxErrors, the cursor is cleared after that
//     many and the schedule goes on from its next firing;
//   - a schedule with no next firing runs nothing and waits for the
//     process to stop.
//
// When the process's context ends, or the role's, nothing that ends with
// it is logged or counted as an error. A crash after f succeeded but
// before the cursor was written runs that firing again: f runs at least
// once per firing, exactly once when it completes. Scheduled panics if
// awaitRole, cursor, when or f is nil.
func Scheduled(awaitRole AwaitRoleFunc, cursor Cursor, name string, when Schedule, f ScheduledFunc, opts ...Option) lu.Process {
	switch {
	case awaitRole == nil:
		panic("process: Scheduled: nil AwaitRoleFunc")
	case cursor == nil:
		panic("process: Scheduled: nil Cursor")
	case when == nil:
		panic("process: Scheduled: nil Schedule")
	case f == nil:
		panic("process: Scheduled: nil func")
	}
	defaults := options{name: name, errorSleep: ErrorSleepFor(defaultScheduledErrorSleep)}
	o := resolve("Scheduled", defaults, append(opts[:len(opts):len(opts)], WithName(name)))
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
	neverWarn bool      // the schedule's end has been logged
}

func (s *scheduled) run(ctx context.Context) error {
	getCtx := s.awaitRole(s.o.role)
	if getCtx == nil {
		return fmt.Errorf("the AwaitRoleFunc returned a nil ContextFunc for role %q", s.o.role)
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
	runCtx, release, err := runContext(ctx, getCtx)
	ended := ctx.Err() != nil
	if err == nil {
		err = s.next(runCtx)
		ended = runCtx.Err() != nil
		release()
	}
	switch {
	case err == nil:
		s.errCount = 0
		return s.o.sleep()
	case ended:
		// The process is stopping or the role was lost: whatever the
		// attempt returned says so, and is not its failure.
		return 0
	}
	s.errCount++
	s.o.metrics.ProcessError(s.o.name)
	s.o.logger.Error("scheduled run failed", "error", err, "consecutive_errors", s.errCount)
	return s.o.errorSleep(s.errCount, err)
}

// next waits for the next firing, runs it and records it in the cursor.
func (s *scheduled) next(ctx context.Context) error {
	now := s.o.clock.Now()
	last, err := s.lastRun(ctx, now.Location())
	var bad *badCursorError
	if errors.As(err, &bad) && s.givingUp() {
		s.o.logger.Warn("clearing an unreadable cursor after too many errors",
			"cursor", bad.where, "consecutive_errors", s.errCount)
		return s.cursor.Set(ctx, s.o.name, "")
	}
	if err != nil {
		return err
	}
	runTime, lag := nextRun(now, last, s.when)
	if runTime.IsZero() {
		if !s.neverWarn {
			s.neverWarn = true
			s.o.logger.Warn("the schedule has no next firing: nothing more will run", "last_run", last)
		}
		<-ctx.Done()
		return context.Cause(ctx)
	}
	if !s.pending.IsZero() && s.pending.After(last) && s.pending.Before(runTime) {
		runTime = s.pending // retry the firing that failed, not a later one
	}
	s.o.metrics.ScheduleCursorLag(s.o.name, lag)
	if s.givingUp() {
		s.o.logger.Warn("skipping a scheduled run after too many errors",
			"run_time", runTime, "consecutive_errors", s.errCount)
		s.pending = time.Time{}
		return s.setLastRun(ctx, runTime)
	}
	if err := lu.WaitUntil(ctx, s.o.clock, runTime); err != nil {
		return err
	}
	runID := s.o.name + "_" + unixText(runTime)
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

// givingUp reports whether WithMaxErrors says to stop retrying.
func (s *scheduled) givingUp() bool {
	return s.o.maxErrors > 0 && s.errCount >= s.o.maxErrors
}

// badCursorError is a cursor value that is not a unix time.
type badCursorError struct {
	where string // the cursor's file, or its name
	value string
}

// Error quotes the value, shortened, and names where it was read.
func (e *badCursorError) Error() string {
	return fmt.Sprintf("cursor %s holds %.64q, not a unix time in seconds", e.where, e.value)
}

// lastRun reads the last completed firing from the cursor, in loc.
func (s *scheduled) lastRun(ctx context.Context, loc *time.Location) (time.Time, error) {
	v, err := s.cursor.Get(ctx, s.o.name)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, ok := parseUnixText(v)
	if !ok {
		where := strconv.Quote(s.o.name)
		if fc, ok := s.cursor.(interface{ Path(string) string }); ok {
			where = "file " + fc.Path(s.o.name)
		}
		return time.Time{}, &badCursorError{where: where, value: v}
	}
	return t.In(loc), nil
}

func (s *scheduled) setLastRun(ctx context.Context, t time.Time) error {
	return s.cursor.Set(ctx, s.o.name, unixText(t))
}

// unixText is t in unix seconds, as Luno's lu wrote it, with the fraction
// of a second after a point only when there is one: a schedule whose
// firings fall between whole seconds (Every(1500*time.Millisecond)) must
// read back exactly the firing it completed, or it would run it again.
func unixText(t time.Time) string {
	sec, ns := t.Unix(), t.Nanosecond()
	if ns == 0 {
		return strconv.FormatInt(sec, 10)
	}
	sign := ""
	if sec < 0 { // t.Unix() rounds down: -0.5 s is -1 s and 0.5 s
		sign, sec, ns = "-", -(sec + 1), 1e9-ns
	}
	return sign + strconv.FormatInt(sec, 10) + "." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
}

// parseUnixText reads what unixText writes.
func parseUnixText(v string) (time.Time, bool) {
	secText, frac, hasFrac := strings.Cut(v, ".")
	sec, err := strconv.ParseInt(secText, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var ns int64
	if hasFrac {
		if len(frac) == 0 || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
			return time.Time{}, false
		}
		ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	if strings.HasPrefix(secText, "-") { // "-0.5" is half a second before 1970
		ns = -ns
	}
	return time.Unix(sec, ns), true
}

// nextRun returns the firing to run next, given the last completed one,
// and how far the cursor lags behind the firing that is due; zero if the
// schedule has no next firing. It is after last, so no firing runs twice
// (save for a Poll of zero, which runs back to back), and in now's
// location.
func nextRun(now, last time.Time, s Schedule) (time.Time, time.Duration) {
	fromNow := s.Next(now)
	if last.IsZero() {
		return fromNow, 0
	}
	fromLast := s.Next(last)
	if fromLast.IsZero() || fromLast.After(now) {
		return fromLast, 0 // up to date, or no firing after last
	}
	var lag time.Duration
	if !fromNow.IsZero() {
		lag = fromNow.Sub(fromLast)
	}
	// Several firings may have been missed: run only the latest of them.
	return latestMissed(s, last, now).In(now.Location()), lag
}

// chained is a schedule whose firings are a chain from the last one, not
// a grid: Poll, and "@every" from ParseCron.
type chained interface {
	latest(last, now time.Time) time.Time
}

// chainOf returns s as a chain, also when ToTimezone wraps it (a zone
// changes nothing to a chain of fixed delays).
func chainOf(s cron.Schedule) (chained, bool) {
	switch s := s.(type) {
	case chained:
		return s, true
	case tzSchedule:
		return chainOf(s.s)
	}
	return nil, false
}

// latestMissed returns the latest firing after last and at or before now,
// given that there is one.
func latestMissed(s Schedule, last, now time.Time) time.Time {
	if c, ok := chainOf(s); ok {
		return c.latest(last, now).In(now.Location())
	}
	switch s := s.(type) {
	case previousAware:
		if prev := s.Previous(now); prev.After(last) && !prev.After(now) {
			return prev
		}
	}
	if t := latestFiring(s, last, now); !t.IsZero() {
		return t
	}
	return s.Next(last)
}
