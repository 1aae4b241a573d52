//go:build unix

package lu

import (
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRunLogsWhyItStops: Run logs, once, why the App stops, at Info for a
// stop that was asked for and at Error for a failure.
func TestRunLogsWhyItStops(t *testing.T) {
	bin := buildRunapp(t)
	tests := []struct {
		name   string
		env    []string
		signal syscall.Signal // sent once the App runs; 0: none
		code   int
		line   string // the one "lu: stopping" line, without its date
	}{
		{"SIGTERM", nil, syscall.SIGTERM, 0,
			`INFO lu: stopping reason="lu: Launch context done: lu: received signal terminated: context canceled" signal=terminated`},
		{"SIGINT", nil, syscall.SIGINT, 0,
			`INFO lu: stopping reason="lu: Launch context done: lu: received signal interrupt: context canceled" signal=interrupt`},
		{"a failing process", []string{"LU_MODE=fail"}, 0, 1,
			`ERROR lu: stopping reason="lu: process \"worker\": worker failed"`},
		{"Stop with a cause", []string{"LU_MODE=stop"}, 0, 1,
			`ERROR lu: stopping reason="job done badly"`},
		{"Stop without a cause", []string{"LU_MODE=stopclean"}, 0, 0,
			`INFO lu: stopping reason="lu: Stop called: context canceled"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startService(t, bin, tt.env...)
			s.expect("AppRunning")
			if tt.signal != 0 {
				s.signal(tt.signal)
			}
			assert.Equal(t, tt.code, s.exitCode())
			var stopping []string
			for line := range strings.Lines(s.stderr.String()) {
				if strings.Contains(line, "lu: stopping") {
					_, rest, _ := strings.Cut(strings.TrimSpace(line), " ") // the date
					_, rest, _ = strings.Cut(rest, " ")                     // the time
					stopping = append(stopping, rest)
				}
			}
			assert.Equal(t, []string{tt.line}, stopping, "one line says why; all of stderr:\n%s", s.stderr.String())
		})
	}
}
