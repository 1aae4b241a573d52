//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package lu

// Hostile tests of the process file: hard links, permissions, paths
// through links, abandoned work, leases, odd paths, stops during start-up.
// Every step that could hang runs under withinWatchdog.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A hard link added to a live holder's file (by a backup tool, an admin)
// does not hide the holder: a second instance is refused with
// ErrProcessFileHeld and the holder's pid, not with the hard-link refusal.
func TestHostileProcessFileHeldFileWithHardLinkIsReportedAsHeld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lu.pid")
	first, _, _ := pidApp(path)
	require.NoError(t, launchWithin(t, first))
	t.Cleanup(func() { _ = shutdownWithin(t, first) })
	require.NoError(t, os.Link(path, filepath.Join(dir, "backup-of-lu.pid")))

	second, h, rec := pidApp(path)
	err := launchWithin(t, second)
	require.Error(t, err, "two live instances")
	assertRefused(t, second, h, rec)
	assert.ErrorIs(t, err, ErrProcessFileHeld,
		"a live holder's file is held, whatever its link count: got %q", err)
	assert.Contains(t, err.Error(), "locked by pid "+strconv.Itoa(os.Getpid()))
}

// An instance that may not write the holder's file (the service runs as
// root and an operator starts the binary as themselves; or the file is
// 0444) is told "held by pid N", with ErrProcessFileHeld, not "permission
// denied": flock needs no write access.
func TestHostileProcessFileHeldFileNotWritableByContenderIsReportedAsHeld(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	if os.Geteuid() != 0 {
		// Another program holds the lock on a file we may only read.
		path := filepath.Join(t.TempDir(), "lu.pid")
		require.NoError(t, os.WriteFile(path, []byte("4242\n"), 0o444))
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		require.NoError(t, err)
		defer syscall.Close(fd)
		require.NoError(t, syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB))
		a, h, rec := pidApp(path)
		err = launchWithin(t, a)
		require.Error(t, err)
		assertRefused(t, a, h, rec)
		assert.ErrorIs(t, err, ErrProcessFileHeld, "got %q", err)
		assert.Contains(t, err.Error(), "locked by pid 4242")
		return
	}
	// As root: this process's App holds the file (0644, root's), and the
	// service started as nobody must be refused as a second instance.
	path, out := contendAsNobody(t, nil)
	assert.Contains(t, out, "refused "+ErrProcessFileHeld.Error()+": "+path+" is locked by pid "+me+" (this is pid ",
		"a live holder refuses the second instance, naming its pid")
}

// contendAsNobody has an App of this process hold a process file (after
// prepare, if given, has set up its path), runs the pidapp binary as
// nobody on the same file, and returns the path and what the binary
// printed. It needs root.
func contendAsNobody(t *testing.T, prepare func(path string)) (string, string) {
	bin := buildPidapp(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "lu.pid")
	for _, d := range []string{dir, filepath.Dir(dir), filepath.Dir(bin), filepath.Dir(filepath.Dir(bin))} {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	if prepare != nil {
		prepare(path)
	}
	holder, _, _ := pidApp(path)
	require.NoError(t, launchWithin(t, holder))
	t.Cleanup(func() { _ = shutdownWithin(t, holder) })

	ctx, cancel := context.WithTimeout(context.Background(), pidWatchdog)
	defer cancel()
	nobody := exec.CommandContext(ctx, bin, "-file", path)
	nobody.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out := withinWatchdog(t, "the second instance as nobody", func() string {
		b, _ := nobody.Output() // stdin is /dev/null: a winner stops at once
		return string(b)
	})
	return path, out
}

// After a Shutdown that gave up on a process that ignores its deadline,
// the process still runs, and so the file stays locked: a second instance
// is refused while the first's work goes on.
func TestHostileProcessFileLockKeptWhileAbandonedProcessStillRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lu.pid")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	a := &App{UseProcessFile: true, ProcessFile: path, ShutdownTimeout: 100 * time.Millisecond}
	a.AddProcess(Process{Name: "stubborn", Run: func(context.Context) error { <-release; return nil }})
	require.NoError(t, launchWithin(t, a))
	err := shutdownWithin(t, a)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	require.Equal(t, []string{"stubborn"}, a.RunningProcesses(), "the process still runs")

	second, _, _ := pidApp(path)
	err = launchWithin(t, second)
	if err == nil {
		t.Cleanup(func() { _ = shutdownWithin(t, second) })
	}
	assert.ErrorIs(t, err, ErrProcessFileHeld,
		"a second instance started while the first's process %v still runs", a.RunningProcesses())
}

// "link/../lu.pid" is the file the kernel resolves it to (through the
// link), not the one lexical cleaning would give: an App given the path
// as the kernel resolves it is excluded. "dir/lu.pid/." names a
// directory, and is refused.
func TestHostileProcessFileDotDotThroughSymlinkLocksTheKernelsFile(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "a", "b")
	require.NoError(t, os.MkdirAll(real, 0o755))
	work := filepath.Join(base, "work")
	require.NoError(t, os.Mkdir(work, 0o755))
	require.NoError(t, os.Symlink(real, filepath.Join(work, "link")))
	given := filepath.Join(work, "link") + "/../lu.pid" // the kernel: base/a/lu.pid
	kernels := filepath.Join(base, "a", "lu.pid")

	first, _, _ := pidApp(given)
	require.NoError(t, launchWithin(t, first))
	t.Cleanup(func() { _ = shutdownWithin(t, first) })
	got, err := os.ReadFile(given) // through the kernel
	assert.NoError(t, err, "the file the path names holds our pid")
	assert.Equal(t, strconv.Itoa(os.Getpid())+"\n", string(got))

	second, _, _ := pidApp(kernels)
	err = launchWithin(t, second)
	if err == nil {
		t.Cleanup(func() { _ = shutdownWithin(t, second) })
	}
	assert.ErrorIs(t, err, ErrProcessFileHeld, "two Apps hold %s at once", given)
}

// Holds: two Apps in ONE process on the same file (flock is per open file
// description): the second is refused, even when it names the file
// through a symlinked directory and a relative path; and the first keeps
// its lock after the refused one closed its descriptor (a POSIX lock
// would be lost on that close).
func TestHostileProcessFileHoldsTwoAppsInOneProcessOtherNames(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "run")
	require.NoError(t, os.Mkdir(real, 0o755))
	require.NoError(t, os.Symlink(real, filepath.Join(base, "varrun")))
	first, _, _ := pidApp(filepath.Join(real, "lu.pid"))
	require.NoError(t, launchWithin(t, first))
	t.Chdir(base)
	for range 3 {
		second, h, rec := pidApp("varrun/lu.pid")
		err := launchWithin(t, second)
		require.ErrorIs(t, err, ErrProcessFileHeld)
		assertRefused(t, second, h, rec)
	}
	// Still held: a raw flock from elsewhere fails.
	fd, err := syscall.Open(filepath.Join(real, "lu.pid"), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	require.NoError(t, err)
	assert.ErrorIs(t, syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB), syscall.EWOULDBLOCK)
	syscall.Close(fd)
	require.NoError(t, shutdownWithin(t, first))
	assert.NoFileExists(t, filepath.Join(real, "lu.pid"))
}

// Holds: a read lease on the file (any owner of a file in /tmp may take
// one) would make a blocking open wait lease-break-time (45 s); with
// O_NONBLOCK Launch fails at once. The message is only "resource
// temporarily unavailable", though.
func TestHostileProcessFileHoldsLeaseDoesNotBlockLaunch(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("F_SETLEASE is Linux's")
	}
	path := filepath.Join(t.TempDir(), "lu.pid")
	require.NoError(t, os.WriteFile(path, []byte("1\n"), 0o644))
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	const fSetLease = 1024 // F_SETLEASE
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), fSetLease, syscall.F_RDLCK); e != 0 {
		t.Skipf("no lease here: %v", e)
	}
	a, h, rec := pidApp(path)
	start := time.Now()
	err = launchWithin(t, a)
	require.Error(t, err)
	assert.Less(t, time.Since(start), time.Second)
	assert.Contains(t, err.Error(), path)
	assertRefused(t, a, h, rec)
	t.Logf("lease: %v", err)
}

// A stop hook stuck past ShutdownTimeout does not hold Shutdown up: it
// returns within its budget. The file stays locked while the hook still
// runs (this instance still runs its code), and is removed once it returns.
func TestHostileProcessFileStuckStopHookKeepsTheFileUntilItReturns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lu.pid")
	stuck := make(chan struct{})
	a := &App{UseProcessFile: true, ProcessFile: path, ShutdownTimeout: 100 * time.Millisecond}
	a.OnShutdown(func(context.Context) error { <-stuck; return nil })
	require.NoError(t, launchWithin(t, a))
	start := time.Now()
	err := shutdownWithin(t, a)
	assert.Less(t, time.Since(start), 2*time.Second)
	var te *TimeoutError
	assert.ErrorAs(t, err, &te)
	second, _, _ := pidApp(path)
	assert.ErrorIs(t, launchWithin(t, second), ErrProcessFileHeld, "held while the stuck hook runs")
	close(stuck)
	assert.Eventually(t, func() bool {
		_, err := os.Stat(path)
		return os.IsNotExist(err)
	}, 5*time.Second, time.Millisecond, "removed once the hook returned")
}

// Holds: Launch again on a launched App is refused without touching the
// file; a start hook that fails removes the file; a refused App is not
// retried into holding it.
func TestHostileProcessFileHoldsRelaunchAndFailedStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lu.pid")
	a, _, _ := pidApp(path)
	require.NoError(t, launchWithin(t, a))
	err := launchWithin(t, a)
	require.ErrorIs(t, err, ErrIllegalTransition)
	got, _ := os.ReadFile(path)
	assert.Equal(t, strconv.Itoa(os.Getpid())+"\n", string(got))
	require.NoError(t, shutdownWithin(t, a))
	assert.NoFileExists(t, path)
	assert.Error(t, launchWithin(t, a), "a Terminated App does not launch again")
	assert.NoFileExists(t, path)

	b := &App{UseProcessFile: true, ProcessFile: path}
	b.OnStartUp(func(context.Context) error { return errors.New("boom") })
	require.ErrorContains(t, launchWithin(t, b), "boom")
	assert.NoFileExists(t, path, "a failed start removes the file")
}

// Holds: ProcessFile values that are odd but not file types: NUL byte, a
// path too long, "." and a path through a regular file; each a prompt error
// naming the path, no hook run.
func TestHostileProcessFileHoldsOddPaths(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	require.NoError(t, os.WriteFile(regular, nil, 0o644))
	for _, p := range []string{
		dir + "/a\x00b",
		dir + "/" + strings.Repeat("x", 300),
		"/" + strings.Repeat(strings.Repeat("y", 200)+"/", 25) + "lu.pid",
		dir + "/.",
		regular + "/lu.pid",
	} {
		a, h, rec := pidApp(p)
		err := launchWithin(t, a)
		require.Error(t, err, "%q", p)
		assert.Contains(t, err.Error(), "lu: process file ")
		assertRefused(t, a, h, rec)
	}
}

// Holds: a stop requested from the AppStartup callback (before the file
// is taken) and a refused file with processes that have Start and
// Shutdown funcs: no hook, no Start, no Shutdown func runs; the file is
// released (or never taken) and a successor started from the
// AppTerminated callback takes it.
func TestHostileProcessFileHoldsStopDuringStartupAndSuccessorFromAppTerminated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lu.pid")
	var a *App
	ran := map[string]bool{}
	var mu = make(chan struct{}, 1)
	mark := func(s string) { mu <- struct{}{}; ran[s] = true; <-mu }
	a = &App{UseProcessFile: true, ProcessFile: path, OnEvent: func(_ context.Context, e Event) {
		if e.Type == AppStartup {
			a.Stop(nil)
		}
	}}
	a.OnStartUp(func(context.Context) error { mark("start hook"); return nil })
	a.OnShutdown(func(context.Context) error { mark("stop hook"); return nil })
	a.AddProcess(Process{Name: "p", Start: func(context.Context) error { mark("Start"); return nil },
		Shutdown: func(context.Context) error { mark("Shutdown"); return nil }})
	_ = launchWithin(t, a)
	_ = shutdownWithin(t, a)
	assert.Empty(t, ran)
	assert.NoFileExists(t, path)

	holder, _, _ := pidApp(path)
	require.NoError(t, launchWithin(t, holder))
	refused := &App{UseProcessFile: true, ProcessFile: path}
	refused.OnStartUp(func(context.Context) error { mark("refused start hook"); return nil })
	refused.OnShutdown(func(context.Context) error { mark("refused stop hook"); return nil })
	refused.AddProcess(Process{Name: "p", Start: func(context.Context) error { mark("refused Start"); return nil },
		Shutdown: func(context.Context) error { mark("refused Shutdown"); return nil }})
	require.ErrorIs(t, launchWithin(t, refused), ErrProcessFileHeld)
	assert.Empty(t, ran)

	successor := make(chan error, 1)
	var next *App
	holder2 := &App{UseProcessFile: true, ProcessFile: path + ".2", OnEvent: func(_ context.Context, e Event) {
		if e.Type == AppTerminated {
			next, _, _ = pidApp(path + ".2")
			successor <- next.Launch(context.Background())
		}
	}}
	require.NoError(t, launchWithin(t, holder2))
	require.NoError(t, shutdownWithin(t, holder2))
	require.NoError(t, <-successor, "the file is released before AppTerminated")
	require.NoError(t, shutdownWithin(t, next))
	require.NoError(t, shutdownWithin(t, holder))
}
