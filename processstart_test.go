package lu_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lu-go/lu"
)

func TestShutdownIsCalledWhenStartSucceededButRunNeverBegan(t *testing.T) {
	var shutdowns atomic.Int32
	run := func(ctx context.Context) error { <-ctx.Done(); return nil }
	shutdown := func(context.Context) error { shutdowns.Add(1); return nil }
	var a lu.App
	a.AddProcess(
		lu.Process{Name: "bound", Start: func(context.Context) error { return nil }, Run: run, Shutdown: shutdown},
		lu.Process{Name: "no start", Run: run, Shutdown: shutdown},
		lu.Process{Name: "fails", Start: func(context.Context) error { return errors.New("refused") }, Run: run, Shutdown: shutdown},
		lu.Process{Name: "after", Start: func(context.Context) error { return nil }, Run: run, Shutdown: shutdown},
	)
	err := a.Launch(context.Background())
	assert.ErrorContains(t, err, `lu: Start of process "fails": refused`)
	assert.Equal(t, int32(1), shutdowns.Load(),
		"only the process whose Start succeeded is shut down: not the one without Start, nor the failed one, nor the one after it")
	assert.Equal(t, lu.StateTerminated, a.State())
}
