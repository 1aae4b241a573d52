//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package lu

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var pidfileRounds = flag.Int("pidfile.rounds", 200,
	"rounds of the race of processes for one process file (run more to hunt rare races)")

// buildPidapp builds testdata/pidapp into a directory removed after t.
func buildPidapp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pidapp")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/pidapp").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// pidProc is a running pidapp (or unshare running it).
type pidProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed
}

// startPidapp starts name with args in a process group of its own, which
// the test's clean-up kills.
func startPidapp(t *testing.T, name string, args ...string) *pidProc {
	t.Helper()
	p := &pidProc{t: t, cmd: exec.Command(name, args...), lines: make(chan string, 16), exited: make(chan struct{})}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := &lockedBuffer{}
	p.cmd.Stderr = stderr
	var err error
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.stdin.Close()
		for range p.lines { // drain
		}
		<-p.exited
		if t.Failed() && stderr.String() != "" {
			t.Logf("%s's stderr:\n%s", name, stderr)
		}
	})
	return p
}

// next returns the next line the process prints.
func (p *pidProc) next() string {
	p.t.Helper()
	r := withinWatchdog(p.t, "reading the service's output", func() outputLine {
		l, ok := <-p.lines
		return outputLine{l, ok}
	})
	require.True(p.t, r.ok, "the service exited")
	return r.line
}

type outputLine struct {
	line string
	ok   bool
}

// expect waits for a line starting with prefix and returns the rest.
func (p *pidProc) expect(prefix string) string {
	p.t.Helper()
	for {
		line := p.next()
		if rest, found := strings.CutPrefix(line, prefix); found {
			return rest
		}
		require.Falsef(p.t, strings.HasPrefix(line, "refused") || strings.HasPrefix(line, "stop error"),
			"the service printed %q while %q was expected", line, prefix)
	}
}

// wait waits for the process to exit and returns cmd.Wait's error.
func (p *pidProc) wait() error {
	p.t.Helper()
	withinWatchdog(p.t, "waiting for the service to exit", func() bool {
		for range p.lines {
		}
		<-p.exited
		return true
	})
	return p.err
}

func TestProcessFileProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a binary")
	}
	bin := buildPidapp(t)
	t.Run("processes racing for a stale file never both hold it", func(t *testing.T) { testProcessRace(t, bin) })
	t.Run("a restarted PID 1 takes over the file it left", func(t *testing.T) { testPID1Restart(t, bin) })
	t.Run("the lock dies with its process, not with its children", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		p := startPidapp(t, bin, "-file", path, "-spawn")
		pid := p.expect("launched ")
		child, err := strconv.Atoi(p.expect("child "))
		require.NoError(t, err)
		t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
		require.NoError(t, p.cmd.Process.Kill())
		require.Error(t, p.wait())
		got, _ := os.ReadFile(path)
		require.Equal(t, pid+"\n", string(got), "a killed holder leaves its file")
		require.NoError(t, syscall.Kill(child, 0), "the child still runs")

		a, _, _ := pidApp(path)
		require.NoError(t, launchWithin(t, a), "the child inherited no lock")
		require.NoError(t, shutdownWithin(t, a))
	})
	t.Run("a file we may not write is a prompt, clear error", func(t *testing.T) { testPermissionDenied(t, bin) })
}

// testProcessRace runs workers that each, at every round, launch Apps on
// the same process file, stale at the start of the round, until they win it
// once: the first winner takes over the stale file, the others race with
// each release. A winner checks, while it holds the file for a moment, that
// it is alone: by creating a marker file exclusively and by reading its own
// pid back from the file. Every refusal must be ErrProcessFileHeld.
func testProcessRace(t *testing.T, bin string) {
	const workers = 8
	dir := t.TempDir()
	path, marker := filepath.Join(dir, "lu.pid"), filepath.Join(dir, "holder")
	procs := make([]*pidProc, workers)
	for i := range procs {
		procs[i] = startPidapp(t, bin, "-file", path, "-race", marker)
	}
	stale := []string{strconv.Itoa(deadPid(t)) + "\n", "1\n", strconv.Itoa(os.Getpid()) + "\n", "garbage"}
	for round := range *pidfileRounds {
		require.NoError(t, os.WriteFile(path, []byte(stale[round%len(stale)]), 0o644))
		for _, p := range procs {
			_, err := fmt.Fprintf(p.stdin, "go %d\n", round)
			require.NoError(t, err)
		}
		for _, p := range procs {
			line := p.next()
			if line != fmt.Sprintf("won %d", round) {
				require.Failf(t, "a process did not win its turn alone", "round %d: %s", round, line)
			}
		}
		require.NoFileExists(t, path, "round %d: the last holder removed it", round)
	}
	for _, p := range procs {
		p.stdin.Close()
		require.NoError(t, p.wait())
	}
}

// testPID1Restart runs the service as PID 1 of a new pid namespace, as in a
// container, kills it with SIGKILL and starts it again: it is PID 1 again,
// and the file it left holds pid 1.
func testPID1Restart(t *testing.T, bin string) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("unshare is needed under CI: %v", err)
		}
		t.Skipf("unshare is missing: %v", err)
	}
	path := filepath.Join(t.TempDir(), "lu.pid")
	args := []string{"--pid", "--fork", bin, "-file", path}
	if os.Geteuid() != 0 {
		args = append([]string{"--user", "--map-root-user"}, args...)
	}

	first := startPidapp(t, unshare, args...)
	require.Equal(t, "1", first.expect("launched "), "the service is PID 1 of its namespace")
	child := childOf(t, first.cmd.Process.Pid)
	require.NoError(t, syscall.Kill(child, syscall.SIGKILL))
	require.Error(t, first.wait(), "killed")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "1\n", string(got), "the killed service left its file")

	second := startPidapp(t, unshare, args...)
	require.Equal(t, "1", second.expect("launched "), "the restarted service takes over its own stale file")
	second.stdin.Close()
	second.expect("stopped")
	require.NoError(t, second.wait())
	assert.NoFileExists(t, path)
}

// childOf returns the pid of the only child of process ppid, found in /proc.
func childOf(t *testing.T, ppid int) int {
	t.Helper()
	return withinWatchdog(t, "finding the service in its namespace", func() int {
		for {
			entries, _ := os.ReadDir("/proc")
			for _, e := range entries {
				pid, err := strconv.Atoi(e.Name())
				if err != nil {
					continue
				}
				stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
				if err != nil {
					continue
				}
				// pid (comm) state ppid ...; comm may hold anything.
				fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
				if len(fields) > 1 && fields[1] == strconv.Itoa(ppid) {
					return pid
				}
			}
		}
	})
}

// testPermissionDenied gives the service a stale process file it may not
// write: as root, the service runs as nobody.
func testPermissionDenied(t *testing.T, bin string) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lu.pid")
	require.NoError(t, os.WriteFile(path, []byte("1\n"), 0o444))
	if os.Geteuid() != 0 {
		a, h, rec := pidApp(path)
		err := launchWithin(t, a)
		assert.ErrorIs(t, err, os.ErrPermission)
		assert.Contains(t, err.Error(), "lu: process file "+path)
		assertRefused(t, a, h, rec)
		return
	}
	// nobody must reach the binary and the file.
	for _, d := range []string{dir, filepath.Dir(dir), filepath.Dir(bin), filepath.Dir(filepath.Dir(bin))} {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	nobody := exec.Command(bin, "-file", path)
	nobody.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out := withinWatchdog(t, "the service as nobody", func() string {
		b, _ := nobody.Output()
		return string(b)
	})
	assert.Equal(t, "refused lu: process file "+path+": open "+path+": permission denied\n", out)
	got, _ := os.ReadFile(path)
	assert.Equal(t, "1\n", string(got), "left untouched")
}
