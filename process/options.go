package process

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"k8s.io/utils/clock"
)

// options configure the processes of this package.
type options struct {
	name       string
	role       string
	sleep      SleepFunc
	errorSleep ErrorSleepFunc
	maxErrors  uint
	clock      clock.Clock
	breakable  bool
	metrics    Metrics
	logger     *slog.Logger
}

// Option configures a process built by this package. As in Luno's lu, an
// option given a nil value (a nil clock, sleep or error-sleep func,
// metrics or logger) puts the default back.
type Option func(*options)

// The error sleeps without WithErrorSleepFunc; with a nil one it is
// defaultErrorSleep for every process.
const (
	defaultErrorSleep          = 10 * time.Second
	defaultScheduledErrorSleep = 10 * time.Minute
)

// resolve applies opts over defaults and fills in what is still unset. A
// nil Option has no meaning: it panics with a message naming the
// constructor.
func resolve(constructor string, defaults options, opts []Option) options {
	o := defaults
	for i, opt := range opts {
		if opt == nil {
			panic(fmt.Sprintf("process: %s: nil Option (option %d)", constructor, i+1))
		}
		opt(&o)
	}
	if o.role == "" {
		o.role = o.name
	}
	if o.sleep == nil {
		o.sleep = SleepFor(0)
	}
	if o.errorSleep == nil {
		o.errorSleep = ErrorSleepFor(defaultErrorSleep)
	}
	if o.clock == nil {
		o.clock = clock.RealClock{}
	}
	if o.metrics == nil {
		o.metrics = noMetrics{}
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	o.logger = o.logger.With("process", o.name)
	return o
}

// WithName names the process in events, logs and metrics. Without it, a
// process is named after the function that built it, without its package,
// as Luno's lu names it: "newWorker", "(*Service).Start", "main". Function
// literals are skipped for the function that called them, and the name is
// empty when there is none (a process built in a goroutine's literal).
func WithName(name string) Option {
	return func(o *options) { o.name = name }
}

// WithRole names the role that the process's ContextFunc awaits (see
// [AwaitRoleFunc]); it defaults to the process's name.
func WithRole(role string) Option {
	return func(o *options) { o.role = role }
}

// SleepFunc returns how long to sleep after a run that succeeded. Zero or
// less is no sleep.
type SleepFunc func() time.Duration

// SleepFor returns a SleepFunc that always sleeps d; zero or less is no
// sleep.
func SleepFor(d time.Duration) SleepFunc {
	return func() time.Duration { return d }
}

// WithSleep makes the process sleep d after every run that succeeded; zero
// or less is no sleep, the default.
func WithSleep(d time.Duration) Option {
	return WithSleepFunc(SleepFor(d))
}

// WithSleepFunc sets how long the process sleeps after a run that
// succeeded. A nil f restores the default: no sleep.
func WithSleepFunc(f SleepFunc) Option {
	return func(o *options) { o.sleep = f }
}

// ErrorSleepFunc returns how long to sleep after an error; errCount is the
// number of consecutive errors so far (at least 1) and err the latest. It
// returns the duration to wait, and does not sleep itself. Zero or less is
// no sleep.
type ErrorSleepFunc func(errCount uint, err error) time.Duration

// ErrorSleepFor returns an ErrorSleepFunc that always sleeps d; zero or
// less is no sleep.
func ErrorSleepFor(d time.Duration) ErrorSleepFunc {
	return func(uint, error) time.Duration { return d }
}

// WithErrorSleep makes the process sleep d after every error; zero or less
// is no sleep.
func WithErrorSleep(d time.Duration) Option {
	return WithErrorSleepFunc(ErrorSleepFor(d))
}

// WithErrorSleepFunc sets how long the process sleeps after an error, for
// example [MakeErrorSleepFunc] or [ExponentialBackoff]. A nil f restores
// the default of Luno's lu: 10 s after every error, for a [Scheduled]
// process too (whose default without this option is 10 minutes).
func WithErrorSleepFunc(f ErrorSleepFunc) Option {
	return func(o *options) { o.errorSleep = f }
}

// DefaultBackoff is a set of multipliers for [MakeErrorSleepFunc].
var DefaultBackoff = []uint{1, 2, 5, 10, 20, 50, 100}

// MakeErrorSleepFunc returns an ErrorSleepFunc that retries at once for the
// first r consecutive errors, then sleeps d times the multipliers in
// backoff, one per further error, staying on the last one. With no
// multipliers it sleeps d. A product too large for a time.Duration is the
// largest one, and a d of zero or less is no sleep.
//
// For example MakeErrorSleepFunc(2, time.Second, DefaultBackoff) sleeps 0,
// 0, 1s, 2s, 5s, 10s, 20s, 50s, 100s, 100s, ...
func MakeErrorSleepFunc(r uint, d time.Duration, backoff []uint) ErrorSleepFunc {
	backoff = append([]uint(nil), backoff...)
	return func(errCount uint, _ error) time.Duration {
		if errCount <= r {
			return 0
		}
		if len(backoff) == 0 {
			return d
		}
		i := min(errCount-r-1, uint(len(backoff)-1))
		return mulSaturating(d, backoff[i])
	}
}

// mulSaturating returns d·m, or the nearest time.Duration when that
// overflows.
func mulSaturating(d time.Duration, m uint) time.Duration {
	switch {
	case d == 0 || m == 0:
		return 0
	case uint64(m) > math.MaxInt64:
		if d > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	case d > 0 && d > math.MaxInt64/time.Duration(m):
		return math.MaxInt64
	case d < 0 && d < math.MinInt64/time.Duration(m):
		return math.MinInt64
	}
	return d * time.Duration(m)
}

// ExponentialBackoff returns an ErrorSleepFunc that doubles the sleep with
// every consecutive error, from base up to limit, and takes a random part
// of it away: with jitter j (0 to 1), the sleep is drawn uniformly from
// [(1-j)·s, s], so that many replicas failing together do not retry in
// step. It panics if base or limit is not positive, limit is below base, or
// j is outside [0, 1].
func ExponentialBackoff(base, limit time.Duration, jitter float64) ErrorSleepFunc {
	if base <= 0 || limit < base {
		panic(fmt.Sprintf("process: ExponentialBackoff: want 0 < base <= limit, got base %v, limit %v", base, limit))
	}
	if jitter < 0 || jitter > 1 || math.IsNaN(jitter) {
		panic(fmt.Sprintf("process: ExponentialBackoff: jitter %v outside [0, 1]", jitter))
	}
	return func(errCount uint, _ error) time.Duration {
		s := limit
		if n := errCount; n > 0 && n <= 62 {
			if f := float64(base) * math.Exp2(float64(n-1)); f < float64(limit) {
				s = time.Duration(f)
			}
		}
		if jitter > 0 {
			s -= time.Duration(rand.Float64() * jitter * float64(s))
		}
		return s
	}
}

// WithMaxErrors makes the process give up after v consecutive errors: a
// loop returns the last error (which stops the App), a schedule skips the
// run. Zero, the default, never gives up.
func WithMaxErrors(v uint) Option {
	return func(o *options) { o.maxErrors = v }
}

// WithClock sets the clock the process sleeps on and reads the time from;
// tests pass a fake one. A nil c is the real clock.
func WithClock(c clock.Clock) Option {
	return func(o *options) { o.clock = c }
}

// WithBreakableLoop lets the loop's func end the loop, and the process,
// cleanly by returning [ErrBreakContextLoop] (or an error wrapping it); the
// App keeps running.
func WithBreakableLoop() Option {
	return func(o *options) { o.breakable = true }
}

// WithMetrics reports the process's errors and cursor lag to m. Without it,
// or with a nil m, nothing is reported.
func WithMetrics(m Metrics) Option {
	return func(o *options) { o.metrics = m }
}

// WithLogger logs the process's errors to l, with the process's name.
// Without it, or with a nil l, they go to slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
