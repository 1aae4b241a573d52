package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// notifySocket plays systemd's end of sd_notify: a Unix datagram socket
// whose datagrams a goroutine collects.
type notifySocket struct {
	path string
	conn *net.UnixConn
	mu   sync.Mutex
	msgs []string
	news chan struct{}
	done chan struct{}
}

func listenNotify(t *testing.T) *notifySocket {
	dir, err := os.MkdirTemp("", "lusd") // short: a socket's path has at most 107 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &notifySocket{path: filepath.Join(dir, "notify"), news: make(chan struct{}, 1), done: make(chan struct{})}
	s.conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	require.NoError(t, err)
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := s.conn.Read(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, string(buf[:n]))
			s.mu.Unlock()
			select {
			case s.news <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { s.conn.Close(); <-s.done })
	return s
}

func (s *notifySocket) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// await waits (up to 20 s) until n datagrams equal to msg have come, and
// returns every datagram so far.
func (s *notifySocket) await(t *testing.T, msg string, n int) []string {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		all := s.all()
		if count(all, msg) >= n {
			return all
		}
		select {
		case <-s.news:
		case <-deadline.C:
			t.Fatalf("not %d %q within 20s; got %q", n, msg, all)
		}
	}
}

func count(msgs []string, msg string) int {
	n := 0
	for _, m := range msgs {
		if m == msg {
			n++
		}
	}
	return n
}

func withoutPings(msgs []string) []string {
	return slices.DeleteFunc(slices.Clone(msgs), func(m string) bool { return m == "WATCHDOG=1" })
}

// These tests run the built binary as a Type=notify unit with
// WatchdogSec= would: NOTIFY_SOCKET names the socket, WATCHDOG_USEC the
// watchdog's timeout.
func TestServiceUnderSystemd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	bin := build(t)

	t.Run("READY=1 once serving, pings while running, STOPPING=1 after SIGTERM", func(t *testing.T) {
		sock := listenNotify(t)
		p := startServiceEnv(t, bin, []string{"NOTIFY_SOCKET=" + sock.path, "WATCHDOG_USEC=200000"}, "-drain", "200ms")
		msgs := sock.await(t, "READY=1", 1)
		// Ready means serving: the first request succeeds, without retrying.
		code, body, err := p.get("/readyz")
		require.NoError(t, err, "logs:\n%s", p.logs())
		assert.Equal(t, 200, code)
		assert.JSONEq(t, `{"state":"Running"}`, body)
		assert.Equal(t, []string{"STATUS=Startup", "STATUS=HookStart", "STATUS=Running", "READY=1"}, withoutPings(msgs))

		msgs = sock.await(t, "WATCHDOG=1", 3) // one every 100 ms
		require.NotContains(t, msgs, "STOPPING=1", "not before SIGTERM")
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		msgs = sock.await(t, "STOPPING=1", 1)
		assert.Equal(t, []string{"STATUS=Startup", "STATUS=HookStart", "STATUS=Running", "READY=1",
			"STATUS=Draining", "STOPPING=1"}, withoutPings(msgs))
		assert.Equal(t, 0, p.exitCode(), "logs:\n%s", p.logs())
		msgs = sock.await(t, "STATUS=Terminated", 1)
		assert.Equal(t, []string{"STATUS=Startup", "STATUS=HookStart", "STATUS=Running", "READY=1",
			"STATUS=Draining", "STOPPING=1", "STATUS=Terminating", "STATUS=HookStop", "STATUS=Terminated"}, withoutPings(msgs))
	})

	t.Run("a port in use: never READY=1, and exit 1", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		sock := listenNotify(t)
		p := startServiceEnv(t, bin, []string{"NOTIFY_SOCKET=" + sock.path}, "-addr", ln.Addr().String())
		assert.Equal(t, 1, p.exitCode())
		assert.Contains(t, p.logs(), "address already in use")
		assert.NotContains(t, p.logs(), "msg=serving")
		assert.Equal(t, []string{"STATUS=Startup", "STATUS=HookStart", "STATUS=Terminating", "STOPPING=1",
			"STATUS=HookStop", "STATUS=Terminated"}, sock.await(t, "STATUS=Terminated", 1))
	})

	t.Run("a WATCHDOG_USEC that is not a number: exit 1, naming it", func(t *testing.T) {
		sock := listenNotify(t)
		p := startServiceEnv(t, bin, []string{"NOTIFY_SOCKET=" + sock.path, "WATCHDOG_USEC=soon"})
		assert.Equal(t, 1, p.exitCode())
		assert.Contains(t, p.logs(), `WATCHDOG_USEC=\"soon\"`)
		assert.Empty(t, sock.all())
	})
}
