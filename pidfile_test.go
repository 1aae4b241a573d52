//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package lu

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pidWatchdog bounds every step of the process-file tests that could hang: a
// hang fails the test instead of stalling the run. Nothing waits for it in
// a passing run.
const pidWatchdog = 10 * time.Second

// withinWatchdog returns f's result, failing the test if f has not returned within
// the watchdog.
func withinWatchdog[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(pidWatchdog):
		t.Fatalf("%s did not return within %v: it blocks", what, pidWatchdog)
		panic("unreachable")
	}
}

// pidHooks records whether an App's start and stop hooks ran.
type pidHooks struct{ started, stopped atomic.Bool }

func pidApp(path string) (*App, *pidHooks, *recorder) {
	var h pidHooks
	var rec recorder
	a := &App{UseProcessFile: true, ProcessFile: path, OnEvent: rec.OnEvent}
	a.AddProcess(Process{Name: "p", Run: blocker})
	a.OnStartUp(func(context.Context) error { h.started.Store(true); return nil })
	a.OnShutdown(func(context.Context) error { h.stopped.Store(true); return nil })
	return a, &h, &rec
}

func launchWithin(t *testing.T, a *App) error {
	t.Helper()
	return withinWatchdog(t, "Launch", func() error { return a.Launch(context.Background()) })
}

func shutdownWithin(t *testing.T, a *App) error {
	t.Helper()
	return withinWatchdog(t, "Shutdown", a.Shutdown)
}

// assertRefused checks what a refused process file leaves: an App
// Terminated that ran no hook and no process.
func assertRefused(t *testing.T, a *App, h *pidHooks, rec *recorder) {
	t.Helper()
	assert.Equal(t, StateTerminated, a.State())
	assert.False(t, h.started.Load(), "no start hook runs when the process file is refused")
	assert.False(t, h.stopped.Load(), "no stop hook runs when the process file is refused")
	assert.Empty(t, a.RunningProcesses())
	assert.Equal(t, []string{"AppStartup", "AppTerminating", "AppTerminated"}, rec.Events())
}

// unblockFIFO opens the FIFO at path for writing, if a reader is blocked
// on it, so that a broken implementation's stuck reader returns and the
// test fails on its assertions rather than on a leaked goroutine.
func unblockFIFO(path string) {
	if fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		syscall.Close(fd)
	}
}

// deadPid returns the id of a process that has exited.
func deadPid(t *testing.T) int {
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func TestProcessFile(t *testing.T) {
	me := strconv.Itoa(os.Getpid())

	t.Run("holds the pid and a newline while running and is removed after shutdown", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		a, h, _ := pidApp(path)
		require.NoError(t, launchWithin(t, a))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, me+"\n", string(got))
		require.NoError(t, shutdownWithin(t, a))
		assert.True(t, h.started.Load())
		assert.True(t, h.stopped.Load())
		assert.NoFileExists(t, path)
		entries, _ := os.ReadDir(filepath.Dir(path))
		assert.Empty(t, entries, "nothing left behind")
	})
	t.Run("refused at once while another App holds it, and no hook runs", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		first, _, _ := pidApp(path)
		require.NoError(t, launchWithin(t, first))
		second, h, rec := pidApp(path)
		err := launchWithin(t, second)
		require.ErrorIs(t, err, ErrProcessFileHeld)
		assert.Contains(t, err.Error(), path)
		assert.Contains(t, err.Error(), "locked by pid "+me)
		assertRefused(t, second, h, rec)
		got, _ := os.ReadFile(path)
		assert.Equal(t, me+"\n", string(got), "the holder's file is untouched")
		require.NoError(t, shutdownWithin(t, first))
		assert.NoFileExists(t, path)
	})
	t.Run("a file whose lock is free is stale, whatever it holds", func(t *testing.T) {
		for _, tt := range []struct{ name, content string }{
			{"the pid of a dead process", strconv.Itoa(deadPid(t)) + "\n"},
			{"pid 1", "1\n"},
			{"our own pid", me},
			{"garbage", "hello"},
			{"binary junk", "\x00\xff\x7f\n\x01"},
			{"nothing", ""},
			{"more than a pid", "12345678901234567890\n" + string(make([]byte, 4096))},
		} {
			t.Run(tt.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "lu.pid")
				require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
				a, _, _ := pidApp(path)
				require.NoError(t, launchWithin(t, a))
				got, _ := os.ReadFile(path)
				assert.Equal(t, me+"\n", string(got))
				require.NoError(t, shutdownWithin(t, a))
				assert.NoFileExists(t, path)
			})
		}
	})
	t.Run("anything but a regular file is refused at once and left alone", testNotRegular)
	t.Run("a path in a missing directory is a clear error", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing", "lu.pid")
		a, h, rec := pidApp(path)
		err := launchWithin(t, a)
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		assert.ErrorIs(t, err, os.ErrNotExist)
		assertRefused(t, a, h, rec)
		assert.NoDirExists(t, filepath.Dir(path))
	})
	t.Run("a file with another hard link is refused and left intact", func(t *testing.T) {
		dir := t.TempDir()
		precious, path := filepath.Join(dir, "precious"), filepath.Join(dir, "lu.pid")
		require.NoError(t, os.WriteFile(precious, []byte("keep"), 0o644))
		require.NoError(t, os.Link(precious, path))
		a, h, rec := pidApp(path)
		err := launchWithin(t, a)
		assert.EqualError(t, err, "lu: process file "+path+
			": has 2 hard links: refused, writing it would change the file under its other names too")
		assertRefused(t, a, h, rec)
		got, _ := os.ReadFile(precious)
		assert.Equal(t, "keep", string(got))
		assert.FileExists(t, path)
	})
	t.Run("a symbolic link to its directory is followed", func(t *testing.T) {
		// As /var/run is a link to /run: only the file itself is never
		// followed.
		dir := t.TempDir()
		real := filepath.Join(dir, "run")
		require.NoError(t, os.Mkdir(real, 0o755))
		require.NoError(t, os.Symlink(real, filepath.Join(dir, "varrun")))
		a, _, _ := pidApp(filepath.Join(dir, "varrun", "lu.pid"))
		require.NoError(t, launchWithin(t, a))
		assert.FileExists(t, filepath.Join(real, "lu.pid"))
		require.NoError(t, shutdownWithin(t, a))
		assert.NoFileExists(t, filepath.Join(real, "lu.pid"))
	})
	t.Run("a relative path is resolved at launch", func(t *testing.T) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		t.Chdir(dir)
		a, _, _ := pidApp("lu.pid")
		require.NoError(t, launchWithin(t, a))
		assert.FileExists(t, filepath.Join(dir, "lu.pid"))
		t.Chdir(elsewhere)
		require.NoError(t, os.WriteFile("lu.pid", []byte("not ours"), 0o644))
		require.NoError(t, shutdownWithin(t, a))
		assert.NoFileExists(t, filepath.Join(dir, "lu.pid"))
		got, _ := os.ReadFile(filepath.Join(elsewhere, "lu.pid"))
		assert.Equal(t, "not ours", string(got), "a file of the same name elsewhere is not touched")
	})
	t.Run("the default path is /tmp/lu.pid", func(t *testing.T) {
		if _, err := os.Lstat(defaultProcessFile); err == nil {
			t.Skip(defaultProcessFile + " exists on this machine")
		}
		a := &App{UseProcessFile: true}
		require.NoError(t, launchWithin(t, a))
		got, err := os.ReadFile(defaultProcessFile)
		require.NoError(t, err)
		assert.Equal(t, me+"\n", string(got))
		require.NoError(t, shutdownWithin(t, a))
		assert.NoFileExists(t, defaultProcessFile)
	})
}

func testNotRegular(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func(t *testing.T, path string) // nil: path is /dev/null
		want string
	}{
		{"a FIFO", func(t *testing.T, path string) {
			require.NoError(t, syscall.Mkfifo(path, 0o644))
			t.Cleanup(func() { unblockFIFO(path) })
		}, "a FIFO"},
		{"a directory", func(t *testing.T, path string) {
			require.NoError(t, os.Mkdir(path, 0o755))
		}, "a directory"},
		{"a symlink to a regular file", func(t *testing.T, path string) {
			target := filepath.Join(filepath.Dir(path), "precious")
			require.NoError(t, os.WriteFile(target, []byte("keep"), 0o644))
			require.NoError(t, os.Symlink(target, path))
			t.Cleanup(func() {
				got, _ := os.ReadFile(target)
				assert.Equal(t, "keep", string(got), "never written through the link")
			})
		}, "a symbolic link, never followed"},
		{"a dangling symlink", func(t *testing.T, path string) {
			target := filepath.Join(filepath.Dir(path), "nowhere")
			require.NoError(t, os.Symlink(target, path))
			t.Cleanup(func() { assert.NoFileExists(t, target, "the link's target is never created") })
		}, "a symbolic link, never followed"},
		{"a symlink to a FIFO", func(t *testing.T, path string) {
			fifo := filepath.Join(filepath.Dir(path), "fifo")
			require.NoError(t, syscall.Mkfifo(fifo, 0o644))
			t.Cleanup(func() { unblockFIFO(fifo) })
			require.NoError(t, os.Symlink(fifo, path))
		}, "a symbolic link, never followed"},
		{"a socket", func(t *testing.T, path string) {
			l, err := net.Listen("unix", path)
			require.NoError(t, err)
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			t.Cleanup(func() { l.Close() })
		}, "a socket"},
		{"a character device", nil, "a character device"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := "/dev/null"
			if tt.make != nil {
				path = filepath.Join(t.TempDir(), "lu.pid")
				tt.make(t, path)
			}
			before, err := os.Lstat(path)
			require.NoError(t, err)
			a, h, rec := pidApp(path)
			err = launchWithin(t, a)
			require.Error(t, err)
			assert.NotErrorIs(t, err, ErrProcessFileHeld)
			assert.Contains(t, err.Error(), "lu: process file "+path+" is not a regular file ("+tt.want+")")
			assertRefused(t, a, h, rec)
			after, err := os.Lstat(path)
			require.NoError(t, err, "left in place")
			assert.Equal(t, before.Mode(), after.Mode())
			assert.True(t, os.SameFile(before, after))
		})
	}
}

func TestProcessFileChangedWhileHeld(t *testing.T) {
	t.Run("a FIFO swapped in does not block Shutdown and is left in place", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		a, h, _ := pidApp(path)
		require.NoError(t, launchWithin(t, a))
		require.NoError(t, os.Remove(path))
		require.NoError(t, syscall.Mkfifo(path, 0o644))
		t.Cleanup(func() { unblockFIFO(path) })
		err := shutdownWithin(t, a)
		assert.ErrorContains(t, err, "lu: process file "+path+" was replaced by another file while we held it: left in place")
		assert.True(t, h.stopped.Load())
		assert.Equal(t, StateTerminated, a.State())
		info, err := os.Lstat(path)
		require.NoError(t, err)
		assert.Equal(t, os.ModeNamedPipe, info.Mode().Type())
	})
	t.Run("a file put in its place is left there", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		a, _, _ := pidApp(path)
		require.NoError(t, launchWithin(t, a))
		require.NoError(t, os.Remove(path))
		require.NoError(t, os.WriteFile(path, []byte("42\n"), 0o644))
		assert.ErrorContains(t, shutdownWithin(t, a), "left in place")
		got, _ := os.ReadFile(path)
		assert.Equal(t, "42\n", string(got))
	})
	t.Run("a file renamed away is not removed under its new name", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "lu.pid")
		a, _, _ := pidApp(path)
		require.NoError(t, launchWithin(t, a))
		require.NoError(t, os.Rename(path, filepath.Join(dir, "moved")))
		require.NoError(t, shutdownWithin(t, a))
		assert.FileExists(t, filepath.Join(dir, "moved"))
	})
	t.Run("a file removed by someone else is no error", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		a, _, _ := pidApp(path)
		require.NoError(t, launchWithin(t, a))
		require.NoError(t, os.Remove(path))
		require.NoError(t, shutdownWithin(t, a))
		assert.NoFileExists(t, path)
	})
}

// acquire is acquireProcessFile under the watchdog.
func acquire(t *testing.T, path string) (*processFile, error) {
	t.Helper()
	type result struct {
		f   *processFile
		err error
	}
	r := withinWatchdog(t, "acquireProcessFile", func() result {
		f, err := acquireProcessFile(path)
		return result{f, err}
	})
	return r.f, r.err
}

func release(t *testing.T, f *processFile) error {
	t.Helper()
	return withinWatchdog(t, "release", f.release)
}

func TestAcquireProcessFile(t *testing.T) {
	t.Run("an empty path is an error", func(t *testing.T) {
		_, err := acquire(t, "")
		assert.EqualError(t, err, "lu: process file: empty path")
	})
	t.Run("a path ending in a separator is an error", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid") + "/"
		_, err := acquire(t, path)
		assert.EqualError(t, err, "lu: process file "+path+": the path names a directory")
		assert.NoFileExists(t, strings.TrimSuffix(path, "/"))
	})
	t.Run("release acts once; nil releases nothing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		f, err := acquire(t, path)
		require.NoError(t, err)
		require.NoError(t, release(t, f))
		assert.NoFileExists(t, path)
		g, err := acquire(t, path)
		require.NoError(t, err)
		require.NoError(t, release(t, f), "a second release is a no-op")
		assert.FileExists(t, path, "and leaves the next holder's file alone")
		require.NoError(t, release(t, g))
		var none *processFile
		assert.NoError(t, release(t, none))
	})
	t.Run("the lock is free again once released", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		f, err := acquire(t, path)
		require.NoError(t, err)
		_, err = acquire(t, path)
		require.ErrorIs(t, err, ErrProcessFileHeld)
		require.NoError(t, release(t, f))
		g, err := acquire(t, path)
		require.NoError(t, err)
		require.NoError(t, release(t, g))
	})
	t.Run("a lock another program holds refuses it, whatever the file says", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		require.NoError(t, os.WriteFile(path, []byte("not a pid"), 0o644))
		fd, err := syscall.Open(path, syscall.O_RDONLY, 0)
		require.NoError(t, err)
		defer syscall.Close(fd)
		require.NoError(t, syscall.Flock(fd, syscall.LOCK_EX))
		_, err = acquire(t, path)
		require.ErrorIs(t, err, ErrProcessFileHeld)
		assert.Contains(t, err.Error(), path+" is locked by another process (this is pid "+strconv.Itoa(os.Getpid())+")")
		got, _ := os.ReadFile(path)
		assert.Equal(t, "not a pid", string(got), "the holder's file is untouched")
	})
	t.Run("acquirers racing releases never both hold it", func(t *testing.T) {
		// Every release removes the file while an acquirer may have it
		// open: that acquirer must find out, and open the new file.
		path := filepath.Join(t.TempDir(), "lu.pid")
		const goroutines, rounds = 8, 300
		var holders, wins atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*rounds)
		for range goroutines {
			wg.Go(func() {
				for range rounds {
					f, err := acquireProcessFile(path) // the race is under the watchdog
					if err != nil {
						if !assert.ErrorIs(t, err, ErrProcessFileHeld) {
							return
						}
						continue
					}
					if n := holders.Add(1); n != 1 {
						t.Errorf("%d holders at once", n)
					}
					// A holder of a file no longer at the path would be a
					// second holder, of the file of the same name.
					if same, err := f.lock.sameAsPath(path); !same || err != nil {
						t.Errorf("the path no longer names the file locked (%v)", err)
					}
					wins.Add(1)
					holders.Add(-1)
					errs <- f.release()
				}
			})
		}
		withinWatchdog(t, "the race", func() bool { wg.Wait(); return true })
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		assert.Positive(t, wins.Load())
		assert.NoFileExists(t, path)
	})
}
