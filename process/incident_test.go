package process_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

// TestAStoppedProcessBlamesNobody: when one process fails, the others are
// stopped with a context whose cause is that failure; none of them logs or
// counts it as its own.
func TestAStoppedProcessBlamesNobody(t *testing.T) {
	var logs syncBuffer
	log := process.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	metrics := newMetrics()
	scheduleClock, loopClock := lutest.NewClock(), lutest.NewClock()
	role := func(ctx context.Context) (context.Context, context.CancelFunc, error) {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, cancel, nil
	}
	failNow := make(chan struct{})
	waiting := make(chan struct{})
	a := &lu.App{}
	a.AddProcess(
		lu.Process{Name: "bad", Run: func(ctx context.Context) error {
			<-failNow
			return errors.New("boom")
		}},
		process.Scheduled(process.ActiveContext(), process.NewMemoryCursor(), "idle", process.Every(time.Hour), nopRun,
			process.WithClock(scheduleClock), log, process.WithMetrics(metrics)),
		process.Loop(func(ctx context.Context) error { return lu.Wait(ctx, loopClock, time.Hour) },
			process.WithName("waiter"), process.WithClock(loopClock), log, process.WithMetrics(metrics)),
		process.ContextLoop(role, func(ctx context.Context) error {
			close(waiting)
			<-ctx.Done()
			return fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}, process.WithName("wrapper"), log, process.WithMetrics(metrics)),
		process.Retry(func(ctx context.Context) error {
			<-ctx.Done()
			return errors.New("connection reset during shutdown")
		}, process.WithName("retry"), log, process.WithMetrics(metrics)),
	)
	require.NoError(t, a.Launch(context.Background()))
	lutest.AwaitWaiters(t, scheduleClock, 10*time.Second)
	lutest.AwaitWaiters(t, loopClock, 10*time.Second)
	<-waiting
	close(failNow)
	<-a.WaitForShutdown()
	assert.EqualError(t, a.Shutdown(), `lu: process "bad": boom`, "only the failed process is blamed")

	out := logs.String()
	assert.NotContains(t, out, "failed", out)
	assert.NotContains(t, out, "boom", out)
	for _, name := range []string{"idle", "waiter", "wrapper", "retry"} {
		assert.Zero(t, metrics.errorCount(name), name)
	}
}

// TestCanceledFromAnInnerCallIsAnError: only the loop's own context ending
// stops it; context.Canceled from something else while it runs is an
// error, with its error sleep, and does not spin.
func TestCanceledFromAnInnerCallIsAnError(t *testing.T) {
	fake := lutest.NewClock()
	metrics := newMetrics()
	var n atomic.Int32
	p := process.Loop(func(context.Context) error {
		n.Add(1)
		return fmt.Errorf("query: %w", context.Canceled)
	}, process.WithName("spinner"), process.WithClock(fake), process.WithErrorSleep(time.Minute),
		process.WithMetrics(metrics), quiet)
	stop, _ := start(t, p)
	lutest.AwaitWaiters(t, fake, 10*time.Second)
	assert.Equal(t, int32(1), n.Load())
	assert.Equal(t, 1, metrics.errorCount("spinner"))
	fake.Step(time.Minute)
	require.Eventually(t, func() bool { return n.Load() == 2 }, 10*time.Second, time.Millisecond)
	lutest.AwaitWaiters(t, fake, 10*time.Second)
	assert.Equal(t, int32(2), n.Load(), "one call per error sleep")
	assert.ErrorIs(t, stop(), context.Canceled)
	assert.Equal(t, 2, metrics.errorCount("spinner"))
}

// TestALostRoleIsNotAnError: a ContextLoop whose run context ends (its role
// was lost) asks for a new one at once, and counts nothing.
func TestALostRoleIsNotAnError(t *testing.T) {
	metrics := newMetrics()
	granted := make(chan context.CancelFunc)
	getCtx := func(ctx context.Context) (context.Context, context.CancelFunc, error) {
		ctx, cancel := context.WithCancelCause(ctx)
		lose := func() { cancel(errors.New("role lost")) }
		select {
		case granted <- lose:
		case <-ctx.Done():
		}
		return ctx, func() { cancel(nil) }, nil
	}
	fake := lutest.NewClock() // never stepped: an error sleep would hang
	p := process.ContextLoop(getCtx, func(ctx context.Context) error {
		<-ctx.Done()
		return fmt.Errorf("stream: %w", context.Cause(ctx))
	}, process.WithName("leader"), process.WithClock(fake), process.WithMetrics(metrics), quiet)
	stop, _ := start(t, p)
	for range 3 {
		lose := <-granted
		lose()
	}
	go func() {
		for range granted {
		}
	}()
	assert.ErrorIs(t, stop(), context.Canceled)
	close(granted)
	assert.Zero(t, metrics.errorCount("leader"))
}

// TestErrorsSayEachThingOnce: the App names the process, the process says
// what happened.
func TestErrorsSayEachThingOnce(t *testing.T) {
	a := &lu.App{}
	a.AddProcess(process.Loop(func(context.Context) error { return errors.New("boom") },
		process.WithName("l"), process.WithMaxErrors(2), process.WithErrorSleep(0), quiet))
	require.NoError(t, a.Launch(context.Background()))
	<-a.WaitForShutdown()
	err := a.Shutdown()
	assert.EqualError(t, err, `lu: process "l": giving up after 2 consecutive errors: boom`)
	assert.Equal(t, 1, strings.Count(err.Error(), `"l"`))

	b := &lu.App{}
	b.AddProcess(process.ContextLoop(func(context.Context) (context.Context, context.CancelFunc, error) {
		return nil, nil, errors.New("no etcd")
	}, nop, process.WithName("c"), quiet))
	require.NoError(t, b.Launch(context.Background()))
	<-b.WaitForShutdown()
	assert.EqualError(t, b.Shutdown(), `lu: process "c": getting a context: no etcd`)
}
