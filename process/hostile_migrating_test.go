package process_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lu-go/lu/process"
)

// ContextRetry retries when its ContextFunc fails (a transient failure to
// get a role, an etcd blip), as Luno's does, rather than ending the
// process and with it the App.
func TestHostileContextRetryRetriesAContextFuncError(t *testing.T) {
	var calls atomic.Int32
	getCtx := func(ctx context.Context) (context.Context, context.CancelFunc, error) {
		if calls.Add(1) <= 2 {
			return nil, nil, errors.New("etcd: leader changed")
		}
		return ctx, func() {}, nil
	}
	ran := false
	p := process.ContextRetry(getCtx, func(context.Context) error { ran = true; return nil },
		process.WithName("r"), process.WithErrorSleep(0), quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.Run(ctx)

	assert.NoError(t, err, "ContextRetry retries a failing ContextFunc, as Luno's does")
	assert.True(t, ran, "f never ran")
}
