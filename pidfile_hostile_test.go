//go:build linux

package lu

// Hostile tests of the process file: code the App gave up on, files this
// user may not read, late releases.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heldByUs reports whether another open file description of this
// process is refused the file's lock (a second App would be refused).
func heldByUs(t *testing.T, path string) bool {
	t.Helper()
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(fd)
	err = syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}

func gone(path string) func() bool {
	return func() bool { _, err := os.Lstat(path); return errors.Is(err, os.ErrNotExist) }
}

// Holds: every kind of code the App gives up on at its deadline keeps the
// file locked and in place until it returns, however it returns (value,
// panic, runtime.Goexit), and the file is removed then. A second App of
// this process is refused meanwhile.
func TestHostileProcessFileHoldsWhileAbandonedCodeRuns(t *testing.T) {
	type setup func(a *App, body func(context.Context) error) (launchFails bool)
	kinds := map[string]setup{
		"start hook past StartupTimeout": func(a *App, body func(context.Context) error) bool {
			a.StartupTimeout = 50 * time.Millisecond
			a.OnStartUp(body)
			return true
		},
		"Start func past StartupTimeout": func(a *App, body func(context.Context) error) bool {
			a.StartupTimeout = 50 * time.Millisecond
			a.AddProcess(Process{Name: "p", Start: body, Run: blocker})
			return true
		},
		"Shutdown func past ShutdownTimeout": func(a *App, body func(context.Context) error) bool {
			a.ShutdownTimeout = 50 * time.Millisecond
			a.AddProcess(Process{Name: "p", Run: blocker, Shutdown: body})
			return false
		},
		"Shutdown func of a Run-less process": func(a *App, body func(context.Context) error) bool {
			a.ShutdownTimeout = 50 * time.Millisecond
			a.AddProcess(Process{Name: "p", Shutdown: body})
			return false
		},
		"stop hook past its share": func(a *App, body func(context.Context) error) bool {
			a.ShutdownTimeout = 50 * time.Millisecond
			a.OnShutdown(body)
			a.OnShutdown(func(context.Context) error { return nil })
			return false
		},
		"process Run past ShutdownTimeout": func(a *App, body func(context.Context) error) bool {
			a.ShutdownTimeout = 50 * time.Millisecond
			a.AddProcess(Process{Name: "p", Run: body})
			return false
		},
	}
	endings := map[string]func() error{
		"returns":  func() error { return errors.New("late") },
		"panics":   func() error { panic("late panic") },
		"Goexits":  func() error { runtime.Goexit(); return nil },
		"returns0": func() error { return nil },
	}
	for kn, kind := range kinds {
		for en, end := range endings {
			t.Run(kn+"/"+en, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "lu.pid")
				release := make(chan struct{})
				var once sync.Once
				free := func() { once.Do(func() { close(release) }) }
				t.Cleanup(free)
				a := &App{UseProcessFile: true, ProcessFile: path,
					Logger: slog.New(slog.NewTextHandler(&lockedBuffer{}, nil))}
				launchFails := kind(a, func(context.Context) error { <-release; return end() })
				err := launchWithin(t, a)
				if launchFails {
					require.Error(t, err)
				} else {
					require.NoError(t, err)
					require.Error(t, shutdownWithin(t, a))
				}
				require.Equal(t, StateTerminated, a.State())
				assert.FileExists(t, path, "in place while the abandoned code runs")
				assert.True(t, heldByUs(t, path), "locked while the abandoned code runs")
				second, _, _ := pidApp(path)
				assert.ErrorIs(t, launchWithin(t, second), ErrProcessFileHeld)
				free()
				assert.Eventually(t, gone(path), pidWatchdog, time.Millisecond, "removed once it returned")
			})
		}
	}
}

// A held file that the second instance may neither write nor read (0600,
// as a service with UMask=0077 leaves it, started as another user) is
// reported as held, with the holder's pid, which Linux's /proc/locks
// tells; not as "permission denied".
func TestHostileProcessFileHeldUnreadableFileIsReportedAsHeld(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start the contender as nobody")
	}
	me := strconv.Itoa(os.Getpid())
	path, out := contendAsNobody(t, func(path string) {
		// A stale file of mode 0600, as a service with UMask=0077 leaves
		// it; the holder takes it over, mode and all.
		require.NoError(t, os.WriteFile(path, []byte("1\n"), 0o600))
	})
	assert.Contains(t, out, "refused "+ErrProcessFileHeld.Error()+": "+path+" is locked by pid "+me,
		"a live holder refuses the second instance as held, naming its pid")
}

// A failure to release the file after Shutdown returned (a stuck stop
// hook, and the file replaced meanwhile) is no longer in Shutdown's
// result: without a Logger it goes to slog.Default, not nowhere.
func TestHostileProcessFileLateReleaseFailureLoggedWithoutLogger(t *testing.T) {
	var def lockedBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&def, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	path := filepath.Join(t.TempDir(), "lu.pid")
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	returned := make(chan struct{})
	a := &App{UseProcessFile: true, ProcessFile: path, ShutdownTimeout: 50 * time.Millisecond}
	a.AddProcess(Process{Name: "p", Run: blocker})
	a.OnShutdown(func(context.Context) error { <-release; defer close(returned); return nil })
	require.NoError(t, launchWithin(t, a))
	// Someone replaces the file while we hold it.
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.WriteFile(path, []byte("999\n"), 0o644))
	err := shutdownWithin(t, a)
	require.Error(t, err) // the stop hook's timeout
	assert.NotContains(t, err.Error(), "replaced", "not known yet: the hook still runs")
	free()
	<-returned
	require.Eventually(t, func() bool { return !heldByUs(t, path) }, pidWatchdog, time.Millisecond,
		"released once the hook returned")
	assert.FileExists(t, path, "the other file is left in place")
	assert.Eventually(t, func() bool { return bytes.Contains([]byte(def.String()), []byte("replaced")) },
		time.Second, time.Millisecond,
		"the release failure is reported somewhere: Shutdown has returned and the App has no Logger")
}

// Holds (checked under -race): a second App launched on the file while
// the first's abandoned hook runs is refused, and once the hook returns a
// third App takes the file, with its own pid, and removes it on Shutdown.
func TestHostileProcessFileHoldsSuccessorAfterLateRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lu.pid")
	release := make(chan struct{})
	a := &App{UseProcessFile: true, ProcessFile: path, ShutdownTimeout: 30 * time.Millisecond}
	a.OnShutdown(func(context.Context) error { <-release; return nil })
	require.NoError(t, launchWithin(t, a))
	require.Error(t, shutdownWithin(t, a))
	for range 3 {
		b, _, _ := pidApp(path)
		require.ErrorIs(t, launchWithin(t, b), ErrProcessFileHeld)
	}
	close(release)
	require.Eventually(t, gone(path), pidWatchdog, time.Millisecond)
	c, _, _ := pidApp(path)
	require.NoError(t, launchWithin(t, c))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(got, pidContent(os.Getpid())))
	require.NoError(t, shutdownWithin(t, c))
	assert.NoFileExists(t, path)
}
