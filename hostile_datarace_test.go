package lu

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// slowErrCtx is a Launch context whose Err method, once armed, takes a
// while: the user's own code, which lu calls without holding a lock.
type slowErrCtx struct {
	context.Context
	armed *atomic.Bool
}

func (c slowErrCtx) Err() error {
	if c.armed.Load() {
		time.Sleep(50 * time.Millisecond)
	}
	return c.Context.Err()
}

// A process Start func abandoned at StartupTimeout returns a little later,
// and its runner records when it ended while Launch reads the Start funcs'
// records: both under the run's lock, so -race finds no race. The Launch
// context's Err method, user code that Launch calls next, widens the
// window.
func TestHostileAbandonedStartFuncDoesNotRace(t *testing.T) {
	var armed atomic.Bool
	ctx := slowErrCtx{Context: context.Background(), armed: &armed}
	a := &App{StartupTimeout: 20 * time.Millisecond}
	a.AddProcess(Process{Name: "db",
		Start: func(context.Context) error {
			armed.Store(true)
			time.Sleep(40 * time.Millisecond) // ignores its context
			return nil
		},
		Run: blocker})
	err := a.Launch(ctx)
	require.Error(t, err)
	time.Sleep(60 * time.Millisecond) // let the abandoned Start func return (can only hide a bug)
}
