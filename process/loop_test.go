package process_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// countingMetrics records what a process reports.
type countingMetrics struct {
	mu     sync.Mutex
	errors map[string]int
	lags   map[string]time.Duration
}

func newMetrics() *countingMetrics {
	return &countingMetrics{errors: map[string]int{}, lags: map[string]time.Duration{}}
}

func (m *countingMetrics) ProcessError(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.errors[name]++
}

func (m *countingMetrics) ScheduleCursorLag(name string, lag time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lags[name] = lag
}

func (m *countingMetrics) errorCount(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.errors[name]
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs p on its own, as an App would, and returns a func that stops
// it and returns what Run returned.
func start(t *testing.T, p lu.Process) (stop func() error, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- p.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-ch:
			case <-time.After(10 * time.Second):
				t.Fatal("the process did not return after its context ended")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop, ch
}

func TestLoop(t *testing.T) {
	clock := lutest.NewClock()
	metrics := newMetrics()
	var logs syncBuffer
	errBoom := errors.New("boom")
	results := make(chan error)
	calls := make(chan struct{})
	f := func(ctx context.Context) error {
		calls <- struct{}{}
		return <-results
	}
	p := process.Loop(f, process.WithName("worker"), process.WithClock(clock),
		process.WithSleep(time.Second), process.WithErrorSleepFunc(process.MakeErrorSleepFunc(0, time.Minute, []uint{1, 2})),
		process.WithMetrics(metrics), process.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	assert.Equal(t, "worker", p.Name)
	stop, _ := start(t, p)

	<-calls
	results <- nil
	lutest.Step(t, clock, time.Second) // the normal sleep
	<-calls
	results <- errBoom
	lutest.Step(t, clock, time.Minute) // first error: 1 × 1m
	<-calls
	results <- errBoom
	lutest.AwaitWaiters(t, clock, 10*time.Second)
	clock.Step(time.Minute)
	select {
	case <-calls:
		t.Fatal("second consecutive error must sleep 2m")
	case <-time.After(20 * time.Millisecond):
	}
	clock.Step(time.Minute)
	<-calls
	results <- nil // a success resets the count
	lutest.Step(t, clock, time.Second)
	<-calls
	results <- errBoom
	lutest.Step(t, clock, time.Minute) // count was reset: 1 × 1m again
	<-calls
	go func() { results <- nil }()
	assert.ErrorIs(t, stop(), context.Canceled)

	assert.Equal(t, 3, metrics.errorCount("worker"))
	out := logs.String()
	assert.Equal(t, 3, strings.Count(out, "process failed"), out)
	assert.Contains(t, out, "process=worker")
	assert.Contains(t, out, "error=boom")
	assert.NotContains(t, out, "canceled")
}

func TestLoopMaxErrors(t *testing.T) {
	errBoom := errors.New("boom")
	n := 0
	p := process.Loop(func(context.Context) error { n++; return errBoom },
		process.WithName("w"), process.WithMaxErrors(3), process.WithErrorSleep(0),
		process.WithLogger(slog.New(slog.DiscardHandler)))
	err := p.Run(context.Background())
	assert.ErrorIs(t, err, errBoom)
	assert.EqualError(t, err, "giving up after 3 consecutive errors: boom")
	assert.Equal(t, 3, n)
}

func TestLoopStopsTheAppAfterMaxErrors(t *testing.T) {
	a := &lu.App{}
	a.AddProcess(process.Loop(func(context.Context) error { return errors.New("down") },
		process.WithMaxErrors(1), process.WithLogger(slog.New(slog.DiscardHandler))))
	require.NoError(t, a.Launch(context.Background()))
	<-a.WaitForShutdown()
	assert.ErrorContains(t, a.Shutdown(), "down")
}

func TestRetry(t *testing.T) {
	n := 0
	p := process.Retry(func(context.Context) error {
		n++
		if n < 3 {
			return errors.New("not yet")
		}
		return nil
	}, process.WithName("r"), process.WithErrorSleep(0), process.WithLogger(slog.New(slog.DiscardHandler)))
	assert.NoError(t, p.Run(context.Background()))
	assert.Equal(t, 3, n)
}

func TestContextLoop(t *testing.T) {
	// A role held for one run at a time: the loop asks for it again
	// whenever the run's context ends.
	granted := make(chan context.CancelFunc)
	getCtx := func(ctx context.Context) (context.Context, context.CancelFunc, error) {
		ctx, cancel := context.WithCancel(ctx)
		select {
		case granted <- cancel:
		case <-ctx.Done():
		}
		return ctx, cancel, nil
	}
	runs := make(chan struct{}, 10)
	p := process.ContextLoop(getCtx, func(ctx context.Context) error {
		runs <- struct{}{}
		<-ctx.Done() // work until the role is lost
		return ctx.Err()
	}, process.WithName("leader"))
	stop, _ := start(t, p)
	lose := <-granted
	<-runs
	lose()
	lose = <-granted // asked again
	<-runs
	lose()
	go func() {
		for range granted {
		}
	}()
	assert.ErrorIs(t, stop(), context.Canceled)
	close(granted)
}

func TestContextFuncError(t *testing.T) {
	errNoRole := errors.New("no role service")
	failing := func(context.Context) (context.Context, context.CancelFunc, error) {
		return nil, nil, errNoRole
	}
	nop := func(context.Context) error { return nil }
	t.Run("ContextLoop ends", func(t *testing.T) {
		p := process.ContextLoop(failing, nop, process.WithName("x"))
		assert.ErrorIs(t, p.Run(context.Background()), errNoRole)
	})
	t.Run("ContextRetry retries, up to WithMaxErrors", func(t *testing.T) {
		var calls int
		counting := func(ctx context.Context) (context.Context, context.CancelFunc, error) {
			calls++
			return failing(ctx)
		}
		p := process.ContextRetry(counting, nop, process.WithName("x"), process.WithErrorSleep(0),
			process.WithMaxErrors(3), process.WithLogger(slog.New(slog.DiscardHandler)))
		err := p.Run(context.Background())
		assert.ErrorIs(t, err, errNoRole)
		assert.ErrorContains(t, err, "giving up after 3 consecutive errors")
		assert.Equal(t, 3, calls)
	})
}

func TestBreakableLoop(t *testing.T) {
	n := 0
	f := func(context.Context) error {
		n++
		if n == 3 {
			return errors.Join(errors.New("done for now"), process.ErrBreakContextLoop)
		}
		return nil
	}
	a := &lu.App{}
	a.AddProcess(process.Loop(f, process.WithName("b"), process.WithBreakableLoop(),
		process.WithLogger(slog.New(slog.DiscardHandler))), lu.Process{Name: "other", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	}})
	var rec lutest.Recorder
	a.OnEvent = rec.OnEvent
	lutest.Launch(t, a)
	rec.WaitFor(t, lu.Event{Type: lu.ProcessEnd, Name: "b"}, 10*time.Second)
	select {
	case <-a.WaitForShutdown():
		t.Fatal("breaking the loop must not stop the App")
	default:
	}
	assert.Equal(t, 3, n)

	t.Run("without the option it is an ordinary error", func(t *testing.T) {
		p := process.Loop(func(context.Context) error { return process.ErrBreakContextLoop },
			process.WithMaxErrors(1), process.WithLogger(slog.New(slog.DiscardHandler)))
		assert.ErrorIs(t, p.Run(context.Background()), process.ErrBreakContextLoop)
	})
}

func nopRun(context.Context, time.Time, time.Time, string) error { return nil }

func TestMakeErrorSleepFunc(t *testing.T) {
	tests := []struct {
		r       uint
		backoff []uint
		want    []time.Duration // for errCount 1, 2, ...
	}{
		{0, nil, []time.Duration{1, 1, 1}},
		{2, nil, []time.Duration{0, 0, 1, 1}},
		{0, process.DefaultBackoff, []time.Duration{1, 2, 5, 10, 20, 50, 100, 100, 100}},
		{2, process.DefaultBackoff, []time.Duration{0, 0, 1, 2, 5, 10, 20, 50, 100, 100}},
		{1, []uint{3}, []time.Duration{0, 3, 3}},
	}
	for _, tt := range tests {
		f := process.MakeErrorSleepFunc(tt.r, time.Second, tt.backoff)
		for i, w := range tt.want {
			assert.Equal(t, w*time.Second, f(uint(i+1), nil), "r=%d backoff=%v errCount=%d", tt.r, tt.backoff, i+1)
		}
	}
}

func TestExponentialBackoff(t *testing.T) {
	exact := process.ExponentialBackoff(time.Second, time.Minute, 0)
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
	for i, w := range want {
		assert.Equal(t, w*time.Second, exact(uint(i+1), nil))
	}
	assert.Equal(t, time.Minute, exact(1000, nil), "no overflow")
	jittered := process.ExponentialBackoff(time.Second, time.Minute, 0.5)
	for range 1000 {
		d := jittered(4, nil) // 8s, minus up to half
		assert.True(t, d >= 4*time.Second && d <= 8*time.Second, "%v", d)
	}
	assert.Panics(t, func() { process.ExponentialBackoff(0, time.Second, 0) })
	assert.Panics(t, func() { process.ExponentialBackoff(time.Minute, time.Second, 0) })
	assert.Panics(t, func() { process.ExponentialBackoff(time.Second, time.Minute, 1.5) })
}

func TestNoOp(t *testing.T) {
	p := process.NoOp()
	assert.Equal(t, "noop", p.Name)
	ctx, cancel := context.WithCancelCause(context.Background())
	why := errors.New("why")
	cancel(why)
	assert.ErrorIs(t, p.Run(ctx), why)
}
