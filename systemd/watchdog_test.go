//go:build unix

package systemd

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
)

// TestWatchdogPings runs Apps in testing/synctest's fake time with
// WATCHDOG_USEC=1000000, so that a ping is due every 500 ms from Launch
// (at 0), and counts the pings that reach a real Unix datagram socket in
// each 500 ms window around a ping's time: window k is (500k-250 ms,
// 500k+250 ms]. At 250 ms the test may act (stop the App, say). The
// wanted string has one character per window: '+' for one ping, '-' for
// none, a digit for more (the stop's beginning sends one at once).
func TestWatchdogPings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(a *lu.App, release <-chan struct{})
		at250 func(a *lu.App) // on a goroutine of its own
		pid   string          // WATCHDOG_PID; "" for unset, "self" for this process
		want  string
	}{
		{
			name:  "a running App is pinged every half of WATCHDOG_USEC",
			setup: func(a *lu.App, _ <-chan struct{}) {},
			want:  "++++++",
		},
		{
			name:  "WATCHDOG_PID naming this process",
			setup: func(a *lu.App, _ <-chan struct{}) {},
			pid:   "self",
			want:  "+++",
		},
		{
			name:  "WATCHDOG_PID naming another process: no pings",
			setup: func(a *lu.App, _ <-chan struct{}) {},
			pid:   "1",
			want:  "---",
		},
		{
			name: "a slow start hook within StartupTimeout: the pings go on",
			setup: func(a *lu.App, _ <-chan struct{}) {
				a.StartupTimeout = 10 * time.Second
				a.OnStartUp(func(context.Context) error { time.Sleep(2 * time.Second); return nil })
			},
			want: "++++++",
		},
		{
			name: "a start-up held past StartupTimeout (by a callback): the pings stop",
			setup: func(a *lu.App, release <-chan struct{}) {
				a.StartupTimeout = time.Second
				a.OnStartUp(func(context.Context) error { return nil }, lu.WithHookName("h"))
				a.OnEvent = func(_ context.Context, e lu.Event) {
					if e.Type == lu.PreHookStart {
						<-release
					}
				}
			},
			want: "++----",
		},
		{
			name: "a start hook given up on and still stuck while the stop hooks run: the pings stop",
			setup: func(a *lu.App, release <-chan struct{}) {
				a.StartupTimeout, a.ShutdownTimeout = 1250*time.Millisecond, 2*time.Second
				a.OnStartUp(func(context.Context) error { <-release; return nil }, lu.WithHookName("stuck"))
				a.OnShutdown(blockUntilDone, lu.WithHookName("slow but on time"))
			},
			// The stop (from 1250 ms) is within ShutdownTimeout until 3250 ms.
			want: "+2-----",
		},
		{
			name: "a stop hook given up on and still stuck while the next one runs: the pings stop",
			setup: func(a *lu.App, release <-chan struct{}) {
				a.ShutdownTimeout = 4 * time.Second // each stop hook gets 2 s
				a.OnShutdown(func(context.Context) error { <-release; return nil }, lu.WithHookName("stuck"))
				a.OnShutdown(blockUntilDone, lu.WithHookName("slow but on time"))
			},
			at250: func(a *lu.App) { _ = a.Shutdown() },
			// The stop (from 250 ms) is within ShutdownTimeout until 4250 ms.
			want: "2+++-----",
		},
		{
			name: "a stop held past ShutdownTimeout (by a callback): the pings stop",
			setup: func(a *lu.App, release <-chan struct{}) {
				a.ShutdownTimeout = time.Second
				a.OnEvent = func(_ context.Context, e lu.Event) {
					if e.Type == lu.AppTerminating {
						<-release
					}
				}
			},
			at250: func(a *lu.App) { _ = a.Shutdown() },
			want:  "2+----",
		},
		{
			name: "a drain within DrainDelay: the pings go on until the App terminates",
			setup: func(a *lu.App, _ <-chan struct{}) {
				a.DrainDelay = 2 * time.Second
			},
			at250: func(a *lu.App) { _ = a.Shutdown() },
			want:  "2+++--",
		},
		{
			name: "a drain held past DrainDelay (by an OnTransition func): the pings stop",
			setup: func(a *lu.App, release <-chan struct{}) {
				a.DrainDelay = time.Second
				a.OnTransition(func(tr lu.JournalTransition) {
					if tr.To == lu.StateDraining {
						<-release
					}
				})
			},
			at250: func(a *lu.App) { _ = a.Shutdown() },
			// STOPPING=1, and its ping, wait for the OnTransition func.
			want: "++----",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := socketPath(t)
			notifyEnv(t, path, "1000000")
			pid := tc.pid
			if pid == "self" {
				pid = strconv.Itoa(os.Getpid())
			}
			t.Setenv("WATCHDOG_PID", pid)
			synctest.Test(t, func(t *testing.T) {
				got, msgs := pingWindows(t, path, len(tc.want), tc.setup, tc.at250)
				assert.Equal(t, tc.want, got)
				require.NotEmpty(t, msgs)
				assert.Equal(t, "STATUS=Terminated", msgs[len(msgs)-1], "%q", msgs)
			})
		})
	}
}

// pingWindows runs the scenario in the bubble and returns the pings per
// window, and every datagram but the pings.
func pingWindows(t *testing.T, path string, windows int, setup func(*lu.App, <-chan struct{}), at250 func(*lu.App)) (string, []string) {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	defer conn.Close()
	release := make(chan struct{})
	a := &lu.App{}
	a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone})
	setup(a, release)
	require.NoError(t, Attach(a))
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Launch(context.Background()) })
	time.Sleep(250 * time.Millisecond)
	if at250 != nil {
		wg.Go(func() { at250(a) })
	}
	var got strings.Builder
	var msgs []string
	for range windows {
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		all := drain(t, conn)
		switch pings := len(all) - len(without(all, "WATCHDOG=1")); pings {
		case 0:
			got.WriteString("-")
		case 1:
			got.WriteString("+")
		default:
			got.WriteString(strconv.Itoa(pings))
		}
		msgs = append(msgs, without(all, "WATCHDOG=1")...)
	}
	close(release)
	wg.Wait()
	_ = a.Shutdown()
	synctest.Wait()
	msgs = append(msgs, without(drain(t, conn), "WATCHDOG=1")...)
	return got.String(), msgs
}
