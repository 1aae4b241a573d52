//go:build unix

package lu

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Run exits 0 after a clean stop, also when a one-shot job's process calls
// Stop(nil) as soon as it runs, while Launch has yet to return. Repeated,
// because the two race.
func TestHostileRunExitsZeroAfterAProcessStops(t *testing.T) {
	const n = 300
	codes := map[int]int{}
	for range n {
		a := &App{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		a.AddProcess(Process{Name: "job", Run: func(context.Context) error {
			a.Stop(nil) // the job is done
			return nil
		}})
		codes[a.Run()]++
	}
	assert.Equal(t, map[int]int{0: n}, codes, "exit codes of %d clean runs", n)
}
