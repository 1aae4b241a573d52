//go:build unix

package systemd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lu-go/lu"
)

var (
	started = []string{"STATUS=Startup", "STATUS=HookStart", "STATUS=Running", "READY=1"}
	stopped = []string{"STATUS=Draining", "STOPPING=1", "STATUS=Terminating", "STATUS=HookStop", "STATUS=Terminated"}
	failed  = []string{"STATUS=Startup", "STATUS=HookStart", "STATUS=Terminating", "STOPPING=1", "STATUS=HookStop", "STATUS=Terminated"}
)

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func blockUntilDone(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// TestDatagramsFollowTheLifecycle runs Apps through their lifecycles
// against a real Unix datagram socket and checks what arrives, in order.
func TestDatagramsFollowTheLifecycle(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		// run launches and stops a, and returns what Launch and Shutdown
		// returned, joined.
		run  func(t *testing.T, a *lu.App) error
		want []string
	}{
		{
			name: "a clean run: READY=1 after STATUS=Running, STOPPING=1 after STATUS=Draining",
			run: func(t *testing.T, a *lu.App) error {
				a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone})
				require.NoError(t, a.Launch(context.Background()))
				return a.Shutdown()
			},
			want: concat(started, stopped),
		},
		{
			name: "a drain and a process failing",
			run: func(t *testing.T, a *lu.App) error {
				a.DrainDelay = 50 * time.Millisecond
				a.AddProcess(lu.Process{Name: "p", Run: func(context.Context) error { return boom }})
				require.NoError(t, a.Launch(context.Background()))
				<-a.WaitForShutdown()
				return a.Shutdown()
			},
			want: concat(started, stopped),
		},
		{
			name: "a failing start hook: no READY=1, STOPPING=1 after STATUS=Terminating",
			run: func(t *testing.T, a *lu.App) error {
				a.OnStartUp(func(context.Context) error { return boom })
				a.OnShutdown(func(context.Context) error { return nil })
				return a.Launch(context.Background())
			},
			want: failed,
		},
		{
			name: "Stop during start-up",
			run: func(t *testing.T, a *lu.App) error {
				a.OnStartUp(func(ctx context.Context) error {
					a.Stop(nil)
					<-ctx.Done()
					return ctx.Err()
				})
				return a.Launch(context.Background())
			},
			want: failed,
		},
		{
			name: "the process file refused: straight from Startup to Terminating",
			run: func(t *testing.T, a *lu.App) error {
				a.UseProcessFile, a.ProcessFile = true, t.TempDir() // a directory
				return a.Launch(context.Background())
			},
			want: []string{"STATUS=Startup", "STATUS=Terminating", "STOPPING=1", "STATUS=HookStop", "STATUS=Terminated"},
		},
		{
			name: "an OnEvent callback panicking as the App stops",
			run: func(t *testing.T, a *lu.App) error {
				a.OnEvent = func(_ context.Context, e lu.Event) {
					if e.Type == lu.AppTerminating {
						panic("boom")
					}
				}
				require.NoError(t, a.Launch(context.Background()))
				return a.Shutdown()
			},
			want: concat(started, stopped),
		},
		{
			name: "an OnEvent callback calling runtime.Goexit as the App stops",
			run: func(t *testing.T, a *lu.App) error {
				a.OnEvent = func(_ context.Context, e lu.Event) {
					if e.Type == lu.AppTerminating || e.Type == lu.AppTerminated {
						runtime.Goexit()
					}
				}
				require.NoError(t, a.Launch(context.Background()))
				return a.Shutdown()
			},
			want: concat(started, stopped),
		},
		{
			name: "the Launch context already cancelled",
			run: func(t *testing.T, a *lu.App) error {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return a.Launch(ctx)
			},
			want: []string{"STATUS=Startup", "STATUS=Terminating", "STOPPING=1", "STATUS=HookStop", "STATUS=Terminated"},
		},
		{
			name: "an OnEvent callback panicking as the App reports Running",
			run: func(t *testing.T, a *lu.App) error {
				a.OnEvent = func(_ context.Context, e lu.Event) {
					if e.Type == lu.AppRunning {
						panic("boom")
					}
				}
				return a.Launch(context.Background())
			},
			want: concat(started, stopped),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := socketPath(t)
			notifyEnv(t, path, "")
			// No reader: the socket's queue holds the datagrams of a
			// lifecycle (the kernel's least limit is ten).
			conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
			require.NoError(t, err)
			defer conn.Close()
			leaks := goleak.IgnoreCurrent()
			a := &lu.App{}
			require.NoError(t, Attach(a))
			_ = tc.run(t, a)
			// Every datagram was sent before the App terminated.
			assert.Equal(t, tc.want, drain(t, conn))
			goleak.VerifyNone(t, leaks)
		})
	}
}

// TestDatagramsOfTheStopComeAsItBegins checks that STOPPING=1 is sent as
// the stop begins, not once it is over: a process's Shutdown func holds
// the App in Terminating meanwhile.
func TestDatagramsOfTheStopComeAsItBegins(t *testing.T) {
	path := socketPath(t)
	notifyEnv(t, path, "")
	rx := listen(t, path)
	release := make(chan struct{})
	a := &lu.App{}
	a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone, Shutdown: func(context.Context) error {
		<-release
		return nil
	}})
	require.NoError(t, Attach(a))
	require.NoError(t, a.Launch(context.Background()))
	assert.Equal(t, started, rx.waitFor(t, "READY=1"))
	stopped := make(chan error)
	go func() { stopped <- a.Shutdown() }()
	assert.Equal(t, concat(started, []string{"STATUS=Draining", "STOPPING=1", "STATUS=Terminating"}),
		rx.waitFor(t, "STATUS=Terminating"))
	assert.Equal(t, lu.StateTerminating, a.State())
	close(release)
	require.NoError(t, <-stopped)
}

// TestNothingWithoutNotifySocket checks that without $NOTIFY_SOCKET,
// Attach registers nothing, starts no goroutine and sends nothing, even
// with the watchdog's variables set (garbage included).
func TestNothingWithoutNotifySocket(t *testing.T) {
	path := socketPath(t)
	rx := listen(t, path)
	for _, unset := range []bool{true, false} {
		t.Run("unset "+strconv.FormatBool(unset), func(t *testing.T) {
			notifyEnv(t, "", "not a number")
			if unset {
				require.NoError(t, os.Unsetenv("NOTIFY_SOCKET"))
			}
			leaks := goleak.IgnoreCurrent()
			a := &lu.App{}
			require.NoError(t, Attach(a))
			a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone})
			require.NoError(t, a.Launch(context.Background()))
			// Running: the App's process, and nothing of the integration.
			goleak.VerifyNone(t, leaks, goleak.IgnoreTopFunction("github.com/lu-go/lu/systemd.blockUntilDone"))
			require.NoError(t, a.Shutdown())
		})
	}
	var a lu.App
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { _ = Attach(&a) }), "Attach costs nothing")
	// The receiver was there all along, and got nothing.
	time.Sleep(10 * time.Millisecond) // can only hide a datagram in flight, never fail a correct run
	rx.close()
	assert.Empty(t, rx.all())
}

func TestAttachRefuses(t *testing.T) {
	t.Run("a nil App", func(t *testing.T) {
		assert.EqualError(t, Attach(nil), "systemd: Attach with a nil App")
	})
	t.Run("an App already launched", func(t *testing.T) {
		notifyEnv(t, socketPath(t), "")
		a := &lu.App{}
		require.NoError(t, a.Launch(context.Background()))
		err := Attach(a)
		require.ErrorIs(t, err, lu.ErrIllegalTransition)
		assert.ErrorContains(t, err, "systemd: Attach in state Running")
		require.NoError(t, a.Shutdown(), "nothing was registered")
		assert.ErrorContains(t, Attach(a), "systemd: Attach in state Terminated")
	})
	t.Run("an App attached already", func(t *testing.T) {
		path := socketPath(t)
		notifyEnv(t, path, "")
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		require.NoError(t, err)
		defer conn.Close()
		a := &lu.App{}
		require.NoError(t, Attach(a))
		assert.EqualError(t, Attach(a), "systemd: Attach called twice on the same App: it would send every notification twice")
		require.NoError(t, Attach(&lu.App{}), "another App")
		require.NoError(t, a.Launch(context.Background()))
		require.NoError(t, a.Shutdown())
		assert.Equal(t, concat(started, stopped), drain(t, conn), "each notification once")
	})
	for _, tc := range []struct{ usec, pid, want string }{
		{"abc", "", `$WATCHDOG_USEC="abc"`},
		{"1.5", "", `$WATCHDOG_USEC="1.5"`},
		{"0", "", `$WATCHDOG_USEC="0"`},
		{"-1000", "", `$WATCHDOG_USEC="-1000"`},
		{"99999999999999999999", "", `$WATCHDOG_USEC="99999999999999999999"`},
		{"9300000000000000", "", `systemd: $WATCHDOG_USEC="9300000000000000" is out of range`},
		{"1000000", "me", `$WATCHDOG_PID="me"`},
	} {
		t.Run("WATCHDOG_USEC="+tc.usec+" WATCHDOG_PID="+tc.pid, func(t *testing.T) {
			path := socketPath(t)
			notifyEnv(t, path, tc.usec)
			t.Setenv("WATCHDOG_PID", tc.pid)
			rx := listen(t, path)
			a := &lu.App{}
			err := Attach(a)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
			require.NoError(t, a.Launch(context.Background()))
			require.NoError(t, a.Shutdown())
			rx.close()
			assert.Empty(t, rx.all(), "nothing was attached")
		})
	}
}

// TestWatchdogPID checks that $WATCHDOG_PID naming another process turns
// the pings off, and naming this one leaves them on.
func TestWatchdogPID(t *testing.T) {
	for _, tc := range []struct {
		pid   int
		pings bool
	}{{os.Getpid(), true}, {os.Getpid() + 1, false}} {
		t.Run(strconv.Itoa(tc.pid), func(t *testing.T) {
			path := socketPath(t)
			notifyEnv(t, path, "2000") // a ping every millisecond
			t.Setenv("WATCHDOG_PID", strconv.Itoa(tc.pid))
			rx := listen(t, path)
			a := &lu.App{}
			require.NoError(t, Attach(a))
			a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone})
			require.NoError(t, a.Launch(context.Background()))
			if tc.pings {
				rx.waitFor(t, "WATCHDOG=1")
			} else {
				time.Sleep(50 * time.Millisecond) // fifty pings' time: can only hide a ping, never fail a correct run
			}
			require.NoError(t, a.Shutdown())
			all := rx.waitFor(t, "STATUS=Terminated")
			assert.Equal(t, concat(started, stopped), without(all, "WATCHDOG=1"))
			if !tc.pings {
				assert.NotContains(t, all, "WATCHDOG=1")
			}
		})
	}
}

// TestSocketTrouble checks that a socket that is missing, or disappears
// and comes back, never troubles the App: the failure is logged once, the
// recovery once, and the notifications go on.
func TestSocketTrouble(t *testing.T) {
	path := socketPath(t)
	notifyEnv(t, path, "")
	var logs logBuffer
	release := make(chan struct{})
	a := &lu.App{Logger: logs.logger()}
	a.OnStartUp(func(context.Context) error { <-release; return nil })
	a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone})
	require.NoError(t, Attach(a))
	launched := make(chan error)
	go func() { launched <- a.Launch(context.Background()) }()

	// No socket yet: STATUS=Startup and STATUS=HookStart fail.
	require.Eventually(t, func() bool { return a.State() == lu.StateHookStart }, 10*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return strings.Count(logs.String(), "notification failed") == 1 },
		10*time.Second, time.Millisecond)
	rx := listen(t, path)
	close(release)
	require.NoError(t, <-launched)
	got := rx.waitFor(t, "READY=1")
	if len(got) > 0 && got[0] == "STATUS=HookStart" {
		got = got[1:] // sent after the socket came
	}
	assert.Equal(t, []string{"STATUS=Running", "READY=1"}, got)

	// The socket disappears while the App stops.
	rx.close()
	require.NoError(t, os.Remove(path))
	require.NoError(t, a.Shutdown())

	out := logs.String()
	assert.Equal(t, 2, strings.Count(out, "notification failed"), out)
	assert.Equal(t, 1, strings.Count(out, "notifications delivered again"), out)
	assert.Contains(t, out, `level=WARN msg="systemd: notification failed" message="STATUS=Startup" error=`)
	assert.Contains(t, out, `level=WARN msg="systemd: notification failed" message="STATUS=Draining" error=`)
}

// TestWatchdogRateInRealTime checks the pings on a real clock: never more
// often than every half of WATCHDOG_USEC, and they do come.
func TestWatchdogRateInRealTime(t *testing.T) {
	path := socketPath(t)
	notifyEnv(t, path, "20000") // a ping every 10 ms
	rx := listen(t, path)
	a := &lu.App{}
	a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone})
	require.NoError(t, Attach(a))
	began := time.Now()
	require.NoError(t, a.Launch(context.Background()))
	for len(rx.all())-len(without(rx.all(), "WATCHDOG=1")) < 3 {
		rx.waitFor(t, "WATCHDOG=1")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, a.Shutdown())
	elapsed := time.Since(began)
	all := rx.waitFor(t, "STATUS=Terminated")
	pings := len(all) - len(without(all, "WATCHDOG=1"))
	assert.GreaterOrEqual(t, pings, 3)
	// One ping per 10 ms, one more right after STOPPING=1.
	assert.LessOrEqual(t, pings, int(elapsed/(10*time.Millisecond))+2, "pinged more often than every 10 ms in %v", elapsed)
	assert.Equal(t, concat(started, stopped), without(all, "WATCHDOG=1"))
}

// TestSlowServiceManager checks that a service manager that does not read
// its socket holds up neither the lifecycle nor, beyond a second, its
// end; the sender then ends as soon as its send returns.
func TestSlowServiceManager(t *testing.T) {
	path := socketPath(t)
	notifyEnv(t, path, "")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	defer conn.Close()
	// Fill the socket's queue, until a send would wait.
	filler, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	defer filler.Close()
	queued := 0
	for {
		require.NoError(t, filler.SetWriteDeadline(time.Now().Add(50*time.Millisecond)))
		if _, err := filler.Write([]byte("filler")); err != nil {
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			break
		}
		queued++
	}

	var logs logBuffer
	a := &lu.App{Logger: logs.logger()}
	a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone})
	require.NoError(t, Attach(a))
	began := time.Now()
	require.NoError(t, a.Launch(context.Background()))
	launched := time.Since(began)
	require.NoError(t, a.Shutdown())
	took := time.Since(began)
	assert.Less(t, launched, flushTimeout/2, "Launch did not wait for the service manager")
	assert.GreaterOrEqual(t, took, flushTimeout, "the App waited for its last notifications")
	assert.Less(t, took, 10*flushTimeout)
	assert.Contains(t, logs.String(), "did not take the last notifications in time")

	// The service manager reads again: the sender sends everything, in
	// order, and ends.
	var msgs []string
	buf := make([]byte, 4096)
	for len(msgs) < queued+len(started)+len(stopped) {
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		n, err := conn.Read(buf)
		require.NoError(t, err, "got %q", msgs)
		msgs = append(msgs, string(buf[:n]))
	}
	assert.Equal(t, concat(started, stopped), without(msgs, "filler"))
	goleak.VerifyNone(t) // the sender has ended
}

// TestAnotherOnTransitionEndsTheLastDelivery checks that the sender ends
// even when another OnTransition func calls runtime.Goexit as the App
// terminates, so that the notifier never hears of it.
func TestAnotherOnTransitionEndsTheLastDelivery(t *testing.T) {
	for _, usec := range []string{"", "1000000"} {
		t.Run("WATCHDOG_USEC="+usec, func(t *testing.T) {
			path := socketPath(t)
			notifyEnv(t, path, usec)
			rx := listen(t, path)
			leaks := goleak.IgnoreCurrent()
			a := &lu.App{}
			a.OnTransition(func(tr lu.JournalTransition) {
				if tr.To == lu.StateTerminated {
					runtime.Goexit()
				}
			})
			require.NoError(t, Attach(a))
			require.NoError(t, a.Launch(context.Background()))
			assert.ErrorIs(t, a.Shutdown(), lu.ErrGoexit)
			goleak.VerifyNone(t, leaks)
			rx.waitFor(t, "STATUS=HookStop")
		})
	}
}

// TestLoggerThatPanics checks that a Logger whose handler panics costs
// the integration its records and nothing else.
func TestLoggerThatPanics(t *testing.T) {
	notifyEnv(t, socketPath(t), "") // no socket there: every send fails, and is logged
	a := &lu.App{Logger: slog.New(panicHandler{slog.DiscardHandler})}
	require.NoError(t, Attach(a))
	require.NoError(t, a.Launch(context.Background()))
	require.NoError(t, a.Shutdown())
}

// TestLaunchRefusedThenLaunched checks an App whose first Launch is
// refused (bad configuration: nothing runs, nothing is sent) and whose
// second runs; a third, after it terminated, is refused and sends nothing.
func TestLaunchRefusedThenLaunched(t *testing.T) {
	path := socketPath(t)
	notifyEnv(t, path, "")
	rx := listen(t, path)
	leaks := goleak.IgnoreCurrent()
	a := &lu.App{StartupTimeout: -time.Second}
	require.NoError(t, Attach(a))
	require.ErrorContains(t, a.Launch(context.Background()), "negative StartupTimeout")
	goleak.VerifyNone(t, leaks)
	a.StartupTimeout = 0
	require.NoError(t, a.Launch(context.Background()))
	require.NoError(t, a.Shutdown())
	assert.ErrorIs(t, a.Launch(context.Background()), lu.ErrIllegalTransition)
	goleak.VerifyNone(t, leaks)
	assert.Equal(t, concat(started, stopped), rx.waitFor(t, "STATUS=Terminated"))
	time.Sleep(10 * time.Millisecond) // can only hide a stray datagram, never fail a correct run
	rx.close()
	assert.Equal(t, concat(started, stopped), rx.all())
}

// TestTinyWatchdog checks that a WATCHDOG_USEC of one microsecond, which
// no one could honour, costs pings but troubles neither the App nor the
// order of the notifications.
func TestTinyWatchdog(t *testing.T) {
	path := socketPath(t)
	notifyEnv(t, path, "1")
	rx := listen(t, path)
	a := &lu.App{}
	a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone})
	require.NoError(t, Attach(a))
	require.NoError(t, a.Launch(context.Background()))
	rx.waitFor(t, "WATCHDOG=1")
	require.NoError(t, a.Shutdown())
	assert.Equal(t, concat(started, stopped), without(rx.waitFor(t, "STATUS=Terminated"), "WATCHDOG=1"))
}

// TestAttachForgetsAppsThatAreGone checks that remembering which Apps are
// attached holds on to none of them.
func TestAttachForgetsAppsThatAreGone(t *testing.T) {
	notifyEnv(t, socketPath(t), "")
	count := func() int {
		n := 0
		attached.Range(func(any, any) bool { n++; return true })
		return n
	}
	before := count()
	for range 100 {
		require.NoError(t, Attach(&lu.App{}))
	}
	require.GreaterOrEqual(t, count(), before+100)
	require.Eventually(t, func() bool { runtime.GC(); return count() <= before }, 10*time.Second, 10*time.Millisecond)
}
