package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// userCache returns the environment that makes os.UserCacheDir a
// directory of the test's own, and the state directory the service
// should default to under it.
func userCache(t *testing.T) (env []string, stateDir string) {
	home := t.TempDir()
	cache := filepath.Join(home, "cache")
	switch runtime.GOOS {
	case "darwin", "ios":
		cache = filepath.Join(home, "Library", "Caches")
	case "windows", "plan9":
		t.Skip("the test sets the Unix variables")
	}
	return []string{"HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, "cache")},
		filepath.Join(cache, "lu-example-service")
}

var runIDRE = regexp.MustCompile(`^minutely-report_(\d+)$`)

// reports returns the firing (unix seconds) and last run of every
// scheduled report in the logs, in order.
func reports(t *testing.T, logs string) (firings []int64, lastRuns []time.Time) {
	t.Helper()
	for _, line := range logLines(logs, "scheduled report") {
		m := runIDRE.FindStringSubmatch(logValue(line, "run_id"))
		require.NotNil(t, m, "run_id of %q", line)
		sec, err := strconv.ParseInt(m[1], 10, 64)
		require.NoError(t, err)
		last, err := time.Parse(time.RFC3339, logValue(line, "last_run"))
		require.NoError(t, err, "last_run of %q", line)
		firings = append(firings, sec)
		lastRuns = append(lastRuns, last)
	}
	return firings, lastRuns
}

func TestServiceStateDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	bin := build(t)

	t.Run("a restart with the default state directory does not repeat a scheduled run", func(t *testing.T) {
		env, want := userCache(t)
		run := func() *proc {
			p := launchService(t, bin, env, "-schedule", "1s", "-drain", "0s")
			p.eventually("a scheduled report", func() bool { return strings.Contains(p.logs(), `msg="scheduled report"`) })
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
			require.Equal(t, 0, p.exitCode(), "logs:\n%s", p.logs())
			dirs := logLines(p.logs(), "state directory")
			require.Len(t, dirs, 1, "logs:\n%s", p.logs())
			assert.Equal(t, want, logValue(dirs[0], "dir"), "logged at start")
			return p
		}

		first := run()
		firings, lastRuns := reports(t, first.logs())
		assert.True(t, lastRuns[0].IsZero(), "a first run has no last run: %v", lastRuns[0])
		last := slices.Max(firings)
		b, err := os.ReadFile(filepath.Join(want, "minutely-report.cursor"))
		require.NoError(t, err, "the cursor is in the state directory")
		assert.Equal(t, strconv.FormatInt(last, 10), strings.TrimSpace(string(b)))
		assert.NoFileExists(t, filepath.Join(want, "service.pid"), "removed as the App terminated")

		second := run()
		cursor := logLines(second.logs(), "schedule cursor")
		require.Len(t, cursor, 1)
		assert.Equal(t, filepath.Join(want, "minutely-report.cursor"), logValue(cursor[0], "file"))
		at, err := time.Parse(time.RFC3339, logValue(cursor[0], "last_run"))
		require.NoError(t, err, "%s", cursor[0])
		assert.Equal(t, last, at.Unix(), "the start logs the first run's last firing")
		again, lastRuns := reports(t, second.logs())
		assert.Equal(t, last, lastRuns[0].Unix(), "the second run goes on from the first's last firing")
		assert.Greater(t, again[0], last, "and never runs a firing again")
	})

	t.Run("a first run logs that the cursor is empty", func(t *testing.T) {
		env, want := userCache(t)
		p := launchService(t, bin, env, "-drain", "0s")
		p.eventually("the cursor's line", func() bool { return strings.Contains(p.logs(), `msg="schedule cursor"`) })
		assert.DirExists(t, want, "created")
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		assert.Equal(t, 0, p.exitCode())
		assert.Equal(t, "none", logValue(logLines(p.logs(), "schedule cursor")[0], "last_run"))
	})

	t.Run("-state-dir overrides the default", func(t *testing.T) {
		env, def := userCache(t)
		dir := filepath.Join(t.TempDir(), "a", "b") // created if missing
		p := launchService(t, bin, env, "-state-dir", dir, "-schedule", "1s", "-drain", "0s")
		p.eventually("a scheduled report", func() bool { return strings.Contains(p.logs(), `msg="scheduled report"`) })
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		assert.Equal(t, 0, p.exitCode())
		assert.Equal(t, dir, logValue(logLines(p.logs(), "state directory")[0], "dir"))
		assert.FileExists(t, filepath.Join(dir, "minutely-report.cursor"))
		assert.NoDirExists(t, def)
	})

	t.Run("a second instance on the same state directory fails, naming the holder", func(t *testing.T) {
		dir := t.TempDir()
		first := launchService(t, bin, nil, "-state-dir", dir, "-drain", "0s")
		first.eventually("serving", func() bool { return strings.Contains(first.logs(), "msg=serving") })
		second := launchService(t, bin, nil, "-state-dir", dir)
		assert.Equal(t, 1, second.exitCode())
		logs := second.logs()
		assert.Contains(t, logs, filepath.Join(dir, "service.pid")+" is locked by pid "+strconv.Itoa(first.cmd.Process.Pid))
		assert.NotContains(t, logs, "msg=serving")
		assert.NotContains(t, logs, `msg="schedule cursor"`, "the directory is left alone")
		require.True(t, first.running())
		code, _, err := first.get("/healthz")
		require.NoError(t, err)
		assert.Equal(t, 200, code)
		require.NoError(t, first.cmd.Process.Signal(syscall.SIGTERM))
		assert.Equal(t, 0, first.exitCode())
	})

	t.Run("no default and no -state-dir: exit 1, asking for -state-dir", func(t *testing.T) {
		if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
			t.Skip("the test unsets the Unix variables")
		}
		p := launchService(t, bin, []string{"HOME=", "XDG_CACHE_HOME="})
		assert.Equal(t, 1, p.exitCode())
		assert.Contains(t, p.logs(), "give one with -state-dir")
	})

	t.Run("a state directory that cannot be made: exit 1, naming it", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, nil, 0o600))
		p := launchService(t, bin, nil, "-state-dir", filepath.Join(file, "state"))
		assert.Equal(t, 1, p.exitCode())
		assert.Contains(t, p.logs(), file)
		assert.NotContains(t, p.logs(), "lu: transition", "the App never launched")
	})

	t.Run("-graph touches no file", func(t *testing.T) {
		env, want := userCache(t)
		cmd := exec.Command(bin, "-graph")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		require.NoError(t, err)
		assert.Contains(t, string(out), `"2. open state (priority 0)"`)
		assert.NoDirExists(t, filepath.Dir(want))
	})

	t.Run("-h prints the flags and exits 0", func(t *testing.T) {
		out, err := exec.Command(bin, "-h").CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "-state-dir")
		assert.Contains(t, string(out), "-schedule")
	})

	t.Run("-schedule must be positive", func(t *testing.T) {
		out, err := exec.Command(bin, "-schedule", "0s").CombinedOutput()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 2, ee.ExitCode())
		assert.Contains(t, string(out), "-schedule 0s: the period must be positive")
	})
}
