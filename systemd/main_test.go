//go:build unix

package systemd

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// socketPath returns a path for a Unix socket in a new directory, short
// enough for sun_path (t.TempDir's paths can be longer than its 108 bytes).
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lusd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "notify")
}

// notifyEnv sets the environment systemd gives a Type=notify service:
// NOTIFY_SOCKET=path, and WATCHDOG_USEC=watchdogUsec unless it is empty.
func notifyEnv(t *testing.T, path, watchdogUsec string) {
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", watchdogUsec)
	t.Setenv("WATCHDOG_PID", "")
}

// receiver is the service manager's end: a Unix datagram socket that a
// goroutine reads into a list.
type receiver struct {
	conn *net.UnixConn
	mu   sync.Mutex
	msgs []string
	news chan struct{} // one-buffered
	done chan struct{}
}

// listen opens a receiver at path; the test's cleanup closes it.
func listen(t *testing.T, path string) *receiver {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	r := &receiver{conn: conn, news: make(chan struct{}, 1), done: make(chan struct{})}
	go r.read()
	t.Cleanup(r.close)
	return r
}

func (r *receiver) read() {
	defer close(r.done)
	buf := make([]byte, 4096)
	for {
		n, err := r.conn.Read(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, string(buf[:n]))
		r.mu.Unlock()
		select {
		case r.news <- struct{}{}:
		default:
		}
	}
}

// close closes the socket and waits for the reader; it may be called
// again.
func (r *receiver) close() {
	r.conn.Close()
	<-r.done
}

func (r *receiver) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// waitFor waits (up to 10 s) until a datagram equal to msg has arrived,
// and returns every datagram so far.
func (r *receiver) waitFor(t *testing.T, msg string) []string {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		all := r.all()
		for _, m := range all {
			if m == msg {
				return all
			}
		}
		select {
		case <-r.news:
		case <-deadline.C:
			t.Fatalf("no %q within 10s; got %q", msg, all)
		}
	}
}

// without returns msgs without the watchdog pings.
func without(msgs []string, drop string) []string {
	var out []string
	for _, m := range msgs {
		if m != drop {
			out = append(out, m)
		}
	}
	return out
}

// logBuffer is a Logger that keeps its records as text.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logger returns a Logger writing only this package's records to b.
func (b *logBuffer) logger() *slog.Logger {
	return slog.New(prefixHandler{slog.NewTextHandler(b, nil), "systemd:"})
}

// prefixHandler passes on the records whose message has the prefix.
type prefixHandler struct {
	slog.Handler
	prefix string
}

func (h prefixHandler) Handle(ctx context.Context, r slog.Record) error {
	if !strings.HasPrefix(r.Message, h.prefix) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

// panicHandler panics on every record of this package.
type panicHandler struct{ slog.Handler }

func (h panicHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "systemd:") {
		panic("a handler that panics")
	}
	return nil
}

// drain reads, without waiting, every datagram queued on conn.
func drain(t *testing.T, conn *net.UnixConn) []string {
	t.Helper()
	rc, err := conn.SyscallConn()
	require.NoError(t, err)
	var msgs []string
	buf := make([]byte, 4096)
	for {
		var n int
		var rerr error
		require.NoError(t, rc.Read(func(fd uintptr) bool {
			n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
			return true
		}))
		if errors.Is(rerr, syscall.EAGAIN) {
			return msgs
		}
		require.NoError(t, rerr)
		msgs = append(msgs, string(buf[:n]))
	}
}
