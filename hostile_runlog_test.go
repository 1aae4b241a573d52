//go:build unix

package lu

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHostileRunLogsTheCauseOnce: issue 14 item 6, "every stop logs
// why it stopped ... once". TestRunLogsWhyItStops counts only the lines
// with "lu: stopping"; but for a failing process, and for Stop with a
// cause, Run logs the same cause a second time, at Error, as
// "lu: shutdown failed" (Shutdown returns the cause, and Run logs what
// Shutdown returns). With the App's Logger set, the App's own
// "lu: process failed" record makes it three times.
func TestHostileRunLogsTheCauseOnce(t *testing.T) {
	bin := buildRunapp(t)
	for _, tt := range []struct {
		name, mode, cause string
	}{
		{"a failing process", "LU_MODE=fail", `worker failed`},
		{"Stop with a cause", "LU_MODE=stop", `job done badly`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startService(t, bin, tt.mode)
			s.expect("AppRunning")
			assert.Equal(t, 1, s.exitCode())
			var lines []string
			for line := range strings.Lines(s.stderr.String()) {
				if strings.Contains(line, tt.cause) {
					lines = append(lines, strings.TrimSpace(line))
				}
			}
			assert.Len(t, lines, 1, "the cause %q is logged %d times:\n%s", tt.cause, len(lines), strings.Join(lines, "\n"))
		})
	}
}
