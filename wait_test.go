package lu

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestWait(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("returns nil once d has passed", func(t *testing.T) {
		cl := clocktesting.NewFakeClock(t0)
		done := make(chan error)
		go func() { done <- Wait(context.Background(), cl, time.Minute) }()
		require.Eventually(t, cl.HasWaiters, 10*time.Second, time.Millisecond)
		cl.Step(59 * time.Second)
		select {
		case <-done:
			t.Fatal("returned early")
		default:
		}
		cl.Step(time.Second)
		assert.NoError(t, <-done)
	})
	t.Run("returns the cause when ctx ends first", func(t *testing.T) {
		cl := clocktesting.NewFakeClock(t0)
		ctx, cancel := context.WithCancelCause(context.Background())
		why := errors.New("why")
		done := make(chan error)
		go func() { done <- Wait(ctx, cl, time.Minute) }()
		require.Eventually(t, cl.HasWaiters, 10*time.Second, time.Millisecond)
		cancel(why)
		assert.ErrorIs(t, <-done, why)
		assert.False(t, cl.HasWaiters(), "the timer is stopped")
	})
	t.Run("zero or negative does not wait", func(t *testing.T) {
		cl := clocktesting.NewFakeClock(t0)
		assert.NoError(t, Wait(context.Background(), cl, 0))
		assert.NoError(t, Wait(context.Background(), cl, -time.Hour))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, Wait(ctx, cl, -time.Hour), context.Canceled)
	})
	t.Run("WaitUntil", func(t *testing.T) {
		cl := clocktesting.NewFakeClock(t0)
		done := make(chan error)
		go func() { done <- WaitUntil(context.Background(), cl, t0.Add(time.Hour)) }()
		require.Eventually(t, cl.HasWaiters, 10*time.Second, time.Millisecond)
		cl.SetTime(t0.Add(time.Hour))
		assert.NoError(t, <-done)
		assert.NoError(t, WaitUntil(context.Background(), cl, t0), "a time in the past")
	})
}

func TestWaitFor(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	v, err := WaitFor(context.Background(), ch)
	assert.NoError(t, err)
	assert.Equal(t, 7, v)

	ctx, cancel := context.WithCancelCause(context.Background())
	why := errors.New("why")
	cancel(why)
	v, err = WaitFor(ctx, make(chan int))
	assert.ErrorIs(t, err, why, "returns context.Cause")
	assert.Zero(t, v)
}

func TestErrGroupWait(t *testing.T) {
	var eg errgroup.Group
	release := make(chan struct{})
	boom := errors.New("boom")
	eg.Go(func() error { <-release; return boom })
	ch := ErrGroupWait(&eg)
	select {
	case <-ch:
		t.Fatal("returned before the group")
	default:
	}
	close(release)
	assert.ErrorIs(t, <-ch, boom)
}

func TestSyncGroupWait(t *testing.T) {
	var wg sync.WaitGroup
	release := make(chan struct{})
	wg.Go(func() { <-release })
	ch := SyncGroupWait(&wg)
	select {
	case <-ch:
		t.Fatal("closed before the group")
	default:
	}
	close(release)
	<-ch
}
