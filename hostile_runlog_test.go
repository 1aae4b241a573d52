//go:build unix

package lu

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Run logs why the App stops once: for a failing process, and for Stop
// with a cause, the cause is in "lu: stopping" and not again in
// "lu: shutdown failed".
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
