// Package process provides ready-made lu processes: loops with backoff,
// schedules with durable cursors, HTTP servers.
package process

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lu-go/lu"
)

// ErrBreakContextLoop, returned (or wrapped) by the func of a loop built
// with [WithBreakableLoop], ends the loop and its process cleanly, without
// stopping the App.
var ErrBreakContextLoop = lu.ErrBreakContextLoop

// ContextFunc derives the context a loop iteration runs with from the
// process's context, and returns the func that releases it. It may block,
// for example until this replica holds a role. An error while the
// process's context is live ends a loop's process; a scheduled process
// counts it and tries again after its error sleep.
type ContextFunc = func(ctx context.Context) (context.Context, context.CancelFunc, error)

// AwaitRoleFunc returns the ContextFunc that waits for the named role.
type AwaitRoleFunc = func(role string) ContextFunc

func currentContext(ctx context.Context) (context.Context, context.CancelFunc, error) {
	return ctx, func() {}, nil
}

// Loop returns a process that calls f until the App stops. After a run
// that succeeded it sleeps the sleep (default none); after an error it
// logs it with the process's name, counts it and sleeps the error sleep
// (default 10 s). With WithMaxErrors it gives up after that many
// consecutive errors and returns the last, which stops the App.
//
// Only the end of the loop's own context stops it: an error that f returns
// once that context is done (its cause, say, or a wrapped
// context.Canceled) is neither logged nor counted, whatever the cause. An
// error while the context is live is an error, context.Canceled from an
// inner call included, and takes the error sleep. It panics if f is nil.
func Loop(f lu.ProcessFunc, opts ...Option) lu.Process {
	return newLoop("Loop", currentContext, f, false, opts)
}

// Retry returns a process that calls f until it succeeds once, then ends
// quietly. Errors are handled as by [Loop], WithMaxErrors included.
func Retry(f lu.ProcessFunc, opts ...Option) lu.Process {
	return newLoop("Retry", currentContext, f, true, opts)
}

// ContextLoop is [Loop] with each run made under a context from getCtx, for
// example one that is held only while this replica holds a role. When that
// context ends, the loop asks getCtx for a new one; an error from getCtx
// while the loop's context is live ends the process with that error. It
// panics if getCtx or f is nil.
func ContextLoop(getCtx ContextFunc, f lu.ProcessFunc, opts ...Option) lu.Process {
	return newLoop("ContextLoop", getCtx, f, false, opts)
}

// ContextRetry is [Retry] with each run made under a context from getCtx.
// Unlike [ContextLoop], an error from getCtx while the loop's context is
// live is a failed attempt like an error from f: logged, counted, retried
// after the error sleep, and subject to WithMaxErrors. It panics if getCtx
// or f is nil.
func ContextRetry(getCtx ContextFunc, f lu.ProcessFunc, opts ...Option) lu.Process {
	return newLoop("ContextRetry", getCtx, f, true, opts)
}

func newLoop(constructor string, getCtx ContextFunc, f lu.ProcessFunc, once bool, opts []Option) lu.Process {
	if f == nil {
		panic(fmt.Sprintf("process: %s: nil func", constructor))
	}
	if getCtx == nil {
		panic(fmt.Sprintf("process: %s: nil ContextFunc", constructor))
	}
	l := &loop{o: resolve(constructor, options{name: callerName()}, opts), getCtx: getCtx, f: f, once: once}
	return lu.Process{Name: l.o.name, Run: l.run}
}

type loop struct {
	o      options
	getCtx ContextFunc
	f      lu.ProcessFunc
	once   bool // Retry: stop after the first success
}

func (l *loop) run(ctx context.Context) error {
	var errCount uint
	for ctx.Err() == nil {
		runCtx, release, err := runContext(ctx, l.getCtx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if !l.once {
				return err // ContextLoop: the App stops, as with Luno's lu
			}
			// ContextRetry: a failure to get the context is a failed
			// attempt, retried as Luno's lu retried it (after the error
			// sleep here; Luno's retried at once).
			if done, err := l.failed(ctx, &errCount, err); done {
				return err
			}
			continue
		}
		done, err := l.iterate(runCtx, &errCount)
		release()
		if done || err != nil {
			return err
		}
	}
	return context.Cause(ctx)
}

// runContext calls getCtx, and turns what it cannot use into an error.
func runContext(ctx context.Context, getCtx ContextFunc) (context.Context, context.CancelFunc, error) {
	runCtx, release, err := getCtx(ctx)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("getting a context: %w", err)
	case runCtx == nil:
		return nil, nil, errors.New("getting a context: the ContextFunc returned a nil context")
	case release == nil:
		release = func() {}
	}
	return runCtx, release, nil
}

// iterate runs f once and sleeps. It reports whether the loop is over, and
// the error that ends the process, if any.
func (l *loop) iterate(ctx context.Context, errCount *uint) (bool, error) {
	err := l.f(ctx)
	switch {
	case err == nil:
		*errCount = 0
		if l.once {
			return true, nil
		}
		l.sleep(ctx, l.o.sleep())
		return false, nil
	case l.o.breakable && errors.Is(err, ErrBreakContextLoop):
		l.o.logger.Info("loop ended by its func", "reason", err)
		return true, nil
	case ctx.Err() != nil:
		// The run's context ended (the App is stopping, or a role was
		// lost): whatever f returned says so, and is not its failure.
		return false, nil
	}
	return l.failed(ctx, errCount, err)
}

// failed counts and logs a failed attempt, then sleeps the error sleep or,
// after WithMaxErrors consecutive failures, ends the loop with the error.
func (l *loop) failed(ctx context.Context, errCount *uint, err error) (bool, error) {
	*errCount++
	l.o.metrics.ProcessError(l.o.name)
	l.o.logger.Error("process failed", "error", err, "consecutive_errors", *errCount)
	if l.o.maxErrors > 0 && *errCount >= l.o.maxErrors {
		return true, fmt.Errorf("giving up after %d consecutive errors: %w", *errCount, err)
	}
	l.sleep(ctx, l.o.errorSleep(*errCount, err))
	return false, nil
}

// sleep sleeps d on the process's clock, or until the run's context ends:
// the loop then stops, or asks for a new context if only the run's ended
// (a lost role, say).
func (l *loop) sleep(ctx context.Context, d time.Duration) {
	_ = lu.Wait(ctx, l.o.clock, d)
}

// NoOp returns a process that does nothing until the App stops.
func NoOp() lu.Process {
	return lu.Process{
		Name: "noop",
		Run: func(ctx context.Context) error {
			<-ctx.Done()
			return context.Cause(ctx)
		},
	}
}
