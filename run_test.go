//go:build unix

package lu

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// service is a running testdata/runapp binary.
type service struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *lockedBuffer
	lines  chan string
	exit   chan error
}

// buildRunapp builds testdata/runapp into a directory removed after t.
func buildRunapp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "runapp")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/runapp").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func startService(t *testing.T, bin string, env ...string) *service {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	s := &service{t: t, cmd: cmd, stderr: stderr, lines: make(chan string, 100), exit: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
		s.exit <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exit
	})
	return s
}

// expect waits for the service to print line.
func (s *service) expect(line string) {
	s.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			require.True(s.t, ok, "the service exited before printing %q", line)
			if l == line {
				return
			}
		case <-timeout:
			s.t.Fatalf("the service did not print %q", line)
		}
	}
}

func (s *service) signal(sig syscall.Signal) {
	require.NoError(s.t, s.cmd.Process.Signal(sig))
}

// exitCode waits for the service to exit.
func (s *service) exitCode() int {
	s.t.Helper()
	for range s.lines { // drain
	}
	select {
	case err := <-s.exit:
		s.exit <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		require.NoError(s.t, err)
		return 0
	case <-time.After(30 * time.Second):
		s.t.Fatal("the service did not exit")
		return -1
	}
}

// running reports whether the service has not exited yet.
func (s *service) running() bool {
	return s.cmd.Process.Signal(syscall.Signal(0)) == nil && s.cmd.ProcessState == nil
}

func TestRunBinary(t *testing.T) {
	bin := buildRunapp(t)
	t.Run("SIGTERM stops it with exit code 0", func(t *testing.T) {
		s := startService(t, bin)
		s.expect("AppRunning")
		s.signal(syscall.SIGTERM)
		s.expect("AppTerminated")
		assert.Equal(t, 0, s.exitCode())
	})
	t.Run("SIGQUIT stops the app and the binary waits for SIGTERM", func(t *testing.T) {
		s := startService(t, bin)
		s.expect("AppRunning")
		s.signal(syscall.SIGQUIT)
		s.expect("AppTerminated")
		time.Sleep(200 * time.Millisecond) // can only hide a bug, never fail a correct run
		require.True(t, s.running(), "the binary must wait for SIGTERM after SIGQUIT")
		s.signal(syscall.SIGTERM)
		assert.Equal(t, 0, s.exitCode())
	})
	t.Run("a failing process exits 1 without waiting for a signal", func(t *testing.T) {
		s := startService(t, bin, "LU_MODE=fail")
		s.expect("AppTerminated")
		assert.Equal(t, 1, s.exitCode())
	})
	t.Run("a second SIGTERM during a slow shutdown forces exit", func(t *testing.T) {
		s := startService(t, bin, "LU_SLOW_STOP=1m")
		s.expect("AppRunning")
		s.signal(syscall.SIGTERM)
		s.expect("PreHookStop")
		start := time.Now()
		s.signal(syscall.SIGTERM)
		assert.Equal(t, 2, s.exitCode())
		assert.Less(t, time.Since(start), 30*time.Second, "did not wait for the slow hook")
		out := s.stderr.String()
		assert.Contains(t, out, "second signal")
		assert.Contains(t, out, "unfinished_hooks")
		assert.Contains(t, out, "slow stop")
	})
	t.Run("a failed launch exits 1", func(t *testing.T) {
		s := startService(t, bin, "LU_MODE=failstart")
		s.expect("AppTerminated")
		assert.Equal(t, 1, s.exitCode())
	})
	t.Run("SIGQUIT during start-up stops the app and the binary waits for SIGTERM", func(t *testing.T) {
		s := startService(t, bin, "LU_SLOW_START=1m")
		s.expect("PreHookStart")
		s.signal(syscall.SIGQUIT)
		s.expect("AppTerminated")
		time.Sleep(200 * time.Millisecond) // can only hide a bug, never fail a correct run
		require.True(t, s.running(), "the binary must wait for SIGTERM after SIGQUIT")
		s.signal(syscall.SIGTERM)
		assert.Equal(t, 0, s.exitCode(), "a stop asked for by a signal is a clean stop")
		assert.Contains(t, s.stderr.String(), "signal=quit", "Run logs which signal stopped the App")
	})
	t.Run("SIGTERM during start-up exits 0 at once", func(t *testing.T) {
		s := startService(t, bin, "LU_SLOW_START=1m")
		s.expect("PreHookStart")
		s.signal(syscall.SIGTERM)
		assert.Equal(t, 0, s.exitCode())
	})
	t.Run("Stop with a cause exits 1", func(t *testing.T) {
		s := startService(t, bin, "LU_MODE=stop")
		s.expect("AppTerminated")
		assert.Equal(t, 1, s.exitCode())
		assert.Contains(t, s.stderr.String(), "job done badly")
	})
	t.Run("Stop without a cause exits 0", func(t *testing.T) {
		s := startService(t, bin, "LU_MODE=stopclean")
		s.expect("AppTerminated")
		assert.Equal(t, 0, s.exitCode())
	})
}

func TestAppContextSignals(t *testing.T) {
	tests := []struct {
		sig           syscall.Signal
		app, terminal bool
	}{
		{syscall.SIGQUIT, true, false},
		{syscall.SIGINT, true, true},
		{syscall.SIGTERM, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.sig.String(), func(t *testing.T) {
			ac := NewAppContext(context.Background())
			defer ac.Stop()
			require.NoError(t, syscall.Kill(os.Getpid(), tt.sig))
			select {
			case <-ac.AppContext.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("AppContext was not cancelled")
			}
			assert.ErrorContains(t, context.Cause(ac.AppContext), "received signal "+tt.sig.String())
			if tt.terminal {
				assert.Error(t, ac.TerminationContext.Err())
			} else {
				assert.NoError(t, ac.TerminationContext.Err())
			}
		})
	}
	t.Run("Stop unregisters and may be repeated", func(t *testing.T) {
		ac := NewAppContext(context.Background())
		ac.Stop()
		ac.Stop()
		// With no handler left, SIGQUIT would kill the test binary; check
		// through signal.Notify's bookkeeping instead: a fresh AppContext
		// still works.
		ac2 := NewAppContext(context.Background())
		defer ac2.Stop()
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGQUIT))
		<-ac2.AppContext.Done()
		assert.NoError(t, ac.AppContext.Err(), "a stopped AppContext no longer sees signals")
	})
	t.Run("parent cancellation cancels both", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ac := NewAppContext(ctx)
		defer ac.Stop()
		cancel()
		<-ac.AppContext.Done()
		<-ac.TerminationContext.Done()
	})
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
