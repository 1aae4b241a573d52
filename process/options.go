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

// Option configures a process built by this package.
type Option func(*options)

// resolve applies opts over defaults, fills in what is still unset, and
// panics with a clear message, naming the constructor, on bad input.
func resolve(constructor string, defaults options, opts []Option) options {
	o := defaults
	for _, opt := range opts {
		if opt == nil {
			panic(fmt.Sprintf("process: %s: nil Option", constructor))
		}
		opt(&o)
	}
	if o.name == "" {
		o.name = callerName()
	}
	if o.role == "" {
		o.role = o.name
	}
	if o.sleep == nil {
		o.sleep = SleepFor(0)
	}
	if o.errorSleep == nil {
		o.errorSleep = ErrorSleepFor(10 * time.Second)
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

// mustNotBeNegative panics if d is negative: a sleep cannot be.
func mustNotBeNegative(option string, d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("process: %s: negative duration %v", option, d))
	}
}

// WithName names the process in events, logs and metrics. Without it, a
// process is named after the function that created it.
func WithName(name string) Option {
	return func(o *options) { o.name = name }
}

// WithRole names the role that the process's ContextFunc awaits (see
// [AwaitRoleFunc]); it defaults to the process's name.
func WithRole(role string) Option {
	return func(o *options) { o.role = role }
}

// SleepFunc returns how long to sleep after a run that succeeded.
type SleepFunc func() time.Duration

// SleepFor returns a SleepFunc that always sleeps d. It panics if d is
// negative.
func SleepFor(d time.Duration) SleepFunc {
	mustNotBeNegative("SleepFor", d)
	return func() time.Duration { return d }
}

// WithSleep makes the process sleep d after every run that succeeded. It
// panics if d is negative.
func WithSleep(d time.Duration) Option {
	mustNotBeNegative("WithSleep", d)
	return WithSleepFunc(SleepFor(d))
}

// WithSleepFunc sets how long the process sleeps after a run that
// succeeded. It panics if f is nil.
func WithSleepFunc(f SleepFunc) Option {
	if f == nil {
		panic("process: WithSleepFunc: nil SleepFunc")
	}
	return func(o *options) { o.sleep = f }
}

// ErrorSleepFunc returns how long to sleep after an error; errCount is the
// number of consecutive errors so far (at least 1) and err the latest. It
// returns the duration to wait, and does not sleep itself.
type ErrorSleepFunc func(errCount uint, err error) time.Duration

// ErrorSleepFor returns an ErrorSleepFunc that always sleeps d. It panics if
// d is negative.
func ErrorSleepFor(d time.Duration) ErrorSleepFunc {
	mustNotBeNegative("ErrorSleepFor", d)
	return func(uint, error) time.Duration { return d }
}

// WithErrorSleep makes the process sleep d after every error. It panics if
// d is negative.
func WithErrorSleep(d time.Duration) Option {
	mustNotBeNegative("WithErrorSleep", d)
	return WithErrorSleepFunc(ErrorSleepFor(d))
}

// WithErrorSleepFunc sets how long the process sleeps after an error, for
// example [MakeErrorSleepFunc] or [ExponentialBackoff]. It panics if f is
// nil.
func WithErrorSleepFunc(f ErrorSleepFunc) Option {
	if f == nil {
		panic("process: WithErrorSleepFunc: nil ErrorSleepFunc")
	}
	return func(o *options) { o.errorSleep = f }
}

// DefaultBackoff is a set of multipliers for [MakeErrorSleepFunc].
var DefaultBackoff = []uint{1, 2, 5, 10, 20, 50, 100}

// MakeErrorSleepFunc returns an ErrorSleepFunc that retries at once for the
// first r consecutive errors, then sleeps d times the multipliers in
// backoff, one per further error, staying on the last one. With no
// multipliers it sleeps d. It panics if d is negative.
//
// For example MakeErrorSleepFunc(2, time.Second, DefaultBackoff) sleeps 0,
// 0, 1s, 2s, 5s, 10s, 20s, 50s, 100s, 100s, ...
func MakeErrorSleepFunc(r uint, d time.Duration, backoff []uint) ErrorSleepFunc {
	mustNotBeNegative("MakeErrorSleepFunc", d)
	backoff = append([]uint(nil), backoff...)
	return func(errCount uint, _ error) time.Duration {
		if errCount <= r {
			return 0
		}
		if len(backoff) == 0 {
			return d
		}
		i := min(int(errCount-r)-1, len(backoff)-1)
		return d * time.Duration(backoff[i])
	}
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

// WithClock sets the clock the process sleeps on; tests pass a fake one.
// It panics if c is nil.
func WithClock(c clock.Clock) Option {
	if c == nil {
		panic("process: WithClock: nil clock")
	}
	return func(o *options) { o.clock = c }
}

// WithBreakableLoop lets the loop's func end the loop, and the process,
// cleanly by returning [ErrBreakContextLoop] (or an error wrapping it); the
// App keeps running.
func WithBreakableLoop() Option {
	return func(o *options) { o.breakable = true }
}

// WithMetrics reports the process's errors and cursor lag to m. Without it
// nothing is reported.
func WithMetrics(m Metrics) Option {
	if m == nil {
		panic("process: WithMetrics: nil Metrics")
	}
	return func(o *options) { o.metrics = m }
}

// WithLogger logs the process's errors to l, with the process's name.
// Without it they go to slog.Default().
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("process: WithLogger: nil logger")
	}
	return func(o *options) { o.logger = l }
}
