package process

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says when a scheduled process runs: Next returns the first
// firing strictly after t, in t's location, or the zero time if there is
// none.
type Schedule cron.Schedule

// previousAware is a Schedule that knows its latest firing at or before
// now, so that catching up after downtime costs one call. A Schedule of
// one's own may implement it; zero means it does not know.
type previousAware interface {
	Previous(now time.Time) time.Time
}

// maxCatchUpSteps bounds the calls to Next that the search for a missed
// firing makes after it has found where to start.
const maxCatchUpSteps = 1000

// latestFiring returns the latest firing of s after after and at or before
// now, in a bounded number of calls to Next whatever the distance: it
// looks back from now in doubling steps until a step holds a firing, then
// walks forward from there. It returns zero if it finds none.
func latestFiring(s cron.Schedule, after, now time.Time) time.Time {
	span := now.Sub(after) // saturates for a distant after
	var found time.Time
	for back := time.Second; back > 0; back *= 2 {
		if back >= span {
			found = s.Next(after)
			break
		}
		if t := s.Next(now.Add(-back)); !t.IsZero() && !t.After(now) {
			found = t
			break
		}
	}
	if found.IsZero() || found.After(now) || !found.After(after) {
		return time.Time{}
	}
	for range maxCatchUpSteps {
		n := s.Next(found)
		if n.IsZero() || n.After(now) || !n.After(found) {
			break
		}
		found = n
	}
	return found
}

// ParseCron parses a standard five-field cron spec ("minute hour
// day-of-month month day-of-week", or a descriptor such as "@daily"). The
// schedule fires in the location of the time given to it (see
// [ToTimezone]); a firing whose wall time a daylight-saving change skips
// does not happen that day. A bad spec, or one that never fires (such as
// "0 0 30 2 *"), is an error that quotes it.
func ParseCron(spec string) (Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("process: bad cron spec %q: %w", spec, err)
	}
	// The parser searches five years ahead, in which every spec that
	// fires at all fires.
	if s.Next(time.Now().UTC()).IsZero() {
		return nil, fmt.Errorf("process: cron spec %q never fires", spec)
	}
	if d, ok := s.(cron.ConstantDelaySchedule); ok {
		return constantDelay{d}, nil
	}
	return cronSchedule{s}, nil
}

// constantDelay is "@every <duration>": like [Poll], a chain of firings
// one delay apart from the last, not aligned to the clock, so a missed
// firing is found on the chain from the last run, not by looking back.
type constantDelay struct{ cron.ConstantDelaySchedule }

// latest returns the latest firing at or before now of the chain that
// starts at last.
func (c constantDelay) latest(last, now time.Time) time.Time {
	return pollSchedule{c.Delay}.latest(last, now)
}

type cronSchedule struct{ cron.Schedule }

// cronLookBack is how far back Previous looks for a cron schedule's
// latest firing: the parser's own horizon.
const cronLookBack = 5 * 366 * 24 * time.Hour

// Previous returns the latest firing at or before now, looking back up to
// five years; zero if there is none.
func (c cronSchedule) Previous(now time.Time) time.Time {
	return latestFiring(c.Schedule, now.Add(-cronLookBack), now)
}

// Poll returns a schedule that fires wait after each run completes. After
// downtime, the latest firing that was missed runs, once. A wait of zero
// or less runs back to back.
func Poll(wait time.Duration) Schedule {
	return pollSchedule{wait}
}

type pollSchedule struct{ wait time.Duration }

func (p pollSchedule) Next(t time.Time) time.Time {
	if p.wait <= 0 {
		return t
	}
	return t.Add(p.wait)
}

// latest returns the latest firing at or before now of the chain that
// starts at last: last plus a whole number of waits.
func (p pollSchedule) latest(last, now time.Time) time.Time {
	if p.wait <= 0 || !now.After(last) {
		return now
	}
	return last.Add(now.Sub(last) / p.wait * p.wait).In(now.Location())
}

// EveryOption configures [Every].
type EveryOption func(*everySchedule)

// WithOffset shifts the firings of [Every] by offset, which may be
// negative or longer than the period: only its remainder modulo the
// period counts, so an offset of 90 minutes on an hourly schedule fires at
// half past.
func WithOffset(offset time.Duration) EveryOption {
	return func(s *everySchedule) { s.offset = offset }
}

// WithDescription describes the schedule, for String.
func WithDescription(desc string) EveryOption {
	return func(s *everySchedule) { s.desc = desc }
}

// Every returns a schedule that fires once per period, at the times that
// time.Truncate rounds to a multiple of the period (so Every(time.Hour)
// fires on the hour, and Every(24*time.Hour) at midnight UTC), plus the
// offset of WithOffset: Every(24*time.Hour, WithOffset(-2*time.Hour))
// fires daily at 22:00 UTC. Daylight saving does not move it. A period of
// zero or less has no meaning: Every panics, naming it.
func Every(period time.Duration, opts ...EveryOption) Schedule {
	if period <= 0 {
		panic(fmt.Sprintf("process: Every: period %v is not positive", period))
	}
	s := everySchedule{period: period}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	s.offset %= period
	if s.offset < 0 {
		s.offset += period
	}
	return s
}

// FixedInterval is Every, under the name the original lu once used.
//
// Deprecated: use Every.
var FixedInterval = Every

type everySchedule struct {
	period, offset time.Duration // 0 <= offset < period
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
// clock) in the location of the time given to it; see [ToTimezone]. Values
// out of range are normalised as time.Date normalises them: TimeOfDay(24,
// 0) is midnight, TimeOfDay(9, 90) half past ten. On a day when that wall
// time does not exist (the clocks went forward over it) it fires at the
// moment of the jump; when it exists twice (the clocks went back), it
// fires at the first.
func TimeOfDay(hour, minute int) Schedule {
	const day = 24 * 60
	m := ((hour%day)*60%day + minute%day) % day
	if m < 0 {
		m += day
	}
	return timeOfDay{m / 60, m % 60}
}

type timeOfDay struct{ hour, minute int } // in range

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
// clock. Times are returned in the location of the time given. A nil s or
// tz has no meaning: ToTimezone panics, naming it.
func ToTimezone(s cron.Schedule, tz *time.Location) cron.Schedule {
	switch {
	case s == nil:
		panic("process: ToTimezone: nil schedule")
	case tz == nil:
		panic("process: ToTimezone: nil location")
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
		if prev := p.Previous(now.In(z.tz)); !prev.IsZero() {
			return prev.In(now.Location())
		}
	}
	return time.Time{}
}
