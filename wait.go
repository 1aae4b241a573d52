package lu

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/utils/clock"
)

// Wait waits for d to pass on cl, or for ctx to be done, whichever comes
// first. It returns nil once d has passed and context.Cause(ctx) if ctx
// ended first. A d of zero or less does not wait: Wait then returns ctx's
// cause if it is already done.
func Wait(ctx context.Context, cl clock.Clock, d time.Duration) error {
	if d <= 0 {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	t := cl.NewTimer(d)
	defer t.Stop()
	_, err := WaitFor(ctx, t.C())
	return err
}

// WaitUntil waits until t on cl, or for ctx to be done; see [Wait].
func WaitUntil(ctx context.Context, cl clock.Clock, t time.Time) error {
	return Wait(ctx, cl, t.Sub(cl.Now()))
}

// WaitFor receives one value from ch, or returns context.Cause(ctx) if ctx
// is done first. A closed ch yields the zero value and a nil error.
func WaitFor[T any](ctx context.Context, ch <-chan T) (T, error) {
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}

// ErrGroupWait returns a channel that receives the result of eg.Wait. The
// goroutine that calls eg.Wait returns once eg's goroutines have; the
// channel is buffered so that it never blocks on a reader that gave up.
func ErrGroupWait(eg *errgroup.Group) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- eg.Wait() }()
	return ch
}

// SyncGroupWait returns a channel that is closed once wg's counter reaches
// zero, for waiting on a WaitGroup (of websocket connections, say) in a
// select.
func SyncGroupWait(wg *sync.WaitGroup) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		wg.Wait()
	}()
	return ch
}
