//go:build unix

package process_test

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

// unblockFIFO opens the FIFO for writing and closes it, so that a reader
// blocked opening it gets EOF and its goroutine ends.
func unblockFIFO(path string) {
	if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
}

// A FIFO where a FileCursor expects its file does not block Get (whose
// context bounds the call): the schedule reports the bad file and stops
// when asked.
func TestHostileFIFOAtTheCursorPathDoesNotHangTheSchedule(t *testing.T) {
	dir := t.TempDir()
	c, err := process.NewFileCursor(dir)
	require.NoError(t, err)
	path := c.Path("fifo")
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	t.Cleanup(func() { unblockFIFO(path) })

	// The cursor alone: Get with a context that ends.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, "fifo")
		got <- err
	}()
	select {
	case err := <-got:
		assert.Error(t, err, "a FIFO is not a cursor file")
	case <-time.After(2 * time.Second):
		t.Errorf("FileCursor.Get on a FIFO still blocked 2s after its context (100ms) ended")
		unblockFIFO(path)
		<-got
	}

	// The schedule: asked to stop, it must return.
	fake := lutest.NewClock()
	p := process.Scheduled(process.ActiveContext(), c, "fifo", process.Every(time.Hour), nopRun,
		process.WithClock(fake), quiet)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	time.Sleep(100 * time.Millisecond) // let it reach the cursor
	stop()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Errorf("Scheduled on a FileCursor whose file is a FIFO did not return 2s after its context ended")
		unblockFIFO(path)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
}

// A huge corrupt cursor file (256 MiB, sparse) is refused without being
// read into memory: a cursor's value is a few dozen bytes.
func TestHostileHugeCursorFileIsNotReadWhole(t *testing.T) {
	dir := t.TempDir()
	c, err := process.NewFileCursor(dir)
	require.NoError(t, err)
	f, err := os.Create(c.Path("huge"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(256<<20))
	require.NoError(t, f.Close())

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _ = c.Get(context.Background(), "huge")
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(1<<20),
		"FileCursor.Get allocated %d MiB to read one corrupt cursor file", allocated>>20)
}
