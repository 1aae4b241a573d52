package lu

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// AppContext manages two contexts for running an App, and cancels one or
// both when the process receives a signal. This allows a graceful shutdown
// on Kubernetes with a preStop hook: the hook sends SIGQUIT, which stops
// the App but leaves the binary running; when the hook returns, Kubernetes
// sends SIGTERM, which ends the binary. Exiting before the hook finished
// would be reported as an error.
//
// SIGINT and SIGTERM cancel both contexts: the App should stop and the
// binary exit. SIGQUIT cancels only AppContext: the App should stop and the
// binary wait for TerminationContext. The cause of each cancellation (see
// context.Cause) names the signal. A second SIGINT or SIGTERM closes the
// channel returned by Forced: [App.Run] then exits at once.
type AppContext struct {
	// AppContext should be used for running the application. When it is
	// cancelled, the application should stop all its processes.
	AppContext context.Context

	// TerminationContext should be used for the execution of the binary.
	// When it is cancelled, the binary should exit. AppContext is cancelled
	// with it.
	TerminationContext context.Context

	m *signalMonitor
}

type signalMonitor struct {
	signals    chan os.Signal
	forced     chan struct{} // closed on the second SIGINT or SIGTERM
	terms      int
	quit       chan struct{}
	done       chan struct{}
	appCancel  context.CancelCauseFunc
	termCancel context.CancelCauseFunc
	once       sync.Once
}

// NewAppContext derives the two contexts from ctx and starts listening for
// SIGINT, SIGTERM and SIGQUIT. Call Stop to stop listening.
func NewAppContext(ctx context.Context) AppContext {
	m := &signalMonitor{
		signals: make(chan os.Signal, 3),
		forced:  make(chan struct{}),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	var c AppContext
	c.TerminationContext, m.termCancel = context.WithCancelCause(ctx)
	c.AppContext, m.appCancel = context.WithCancelCause(c.TerminationContext)
	c.m = m
	signal.Notify(m.signals, syscall.SIGQUIT, syscall.SIGINT, syscall.SIGTERM)
	go m.monitor()
	return c
}

// Stop stops listening for signals and returns once the goroutine that
// listened has returned; signals are then handled as before NewAppContext.
// The contexts are left as they are. Stop may be called more than once.
func (c AppContext) Stop() {
	if c.m == nil {
		return
	}
	c.m.once.Do(func() {
		signal.Stop(c.m.signals)
		close(c.m.quit)
		<-c.m.done
	})
}

// Forced returns a channel closed when a second SIGINT or SIGTERM arrives:
// the operator insists, and the binary should exit without waiting.
func (c AppContext) Forced() <-chan struct{} {
	if c.m == nil {
		return nil
	}
	return c.m.forced
}

func (m *signalMonitor) monitor() {
	defer close(m.done)
	for {
		select {
		case <-m.quit:
			return
		case s := <-m.signals:
			cause := fmt.Errorf("lu: received signal %v: %w", s, context.Canceled)
			switch s {
			case syscall.SIGQUIT:
				m.appCancel(cause)
			default:
				m.termCancel(cause)
				if m.terms++; m.terms == 2 {
					close(m.forced)
				}
			}
		}
	}
}
