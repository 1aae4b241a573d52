package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// These tests treat the service as Kubernetes would: the built binary,
// real signals, real HTTP on loopback.

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lu-example-bin")
	if err != nil {
		panic(err)
	}
	built.dir = dir
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { os.RemoveAll(dir) }))
}

// built is the service's binary, built once for all the tests.
var built struct {
	dir  string
	once sync.Once
	bin  string
	out  []byte
	err  error
}

func build(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.bin = filepath.Join(built.dir, "service")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	require.NoError(t, built.err, "%s", built.out)
	return built.bin
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
	err    error
}

func startService(t *testing.T, bin string, args ...string) *proc {
	return startServiceEnv(t, bin, nil, args...)
}

// startServiceEnv starts the service with a state directory of the
// test's own, and env added to its environment (see launchService).
func startServiceEnv(t *testing.T, bin string, env []string, args ...string) *proc {
	return launchService(t, bin, env, append([]string{"-state-dir", t.TempDir()}, args...)...)
}

// launchService starts the service on a free port with args, and env
// added to the test's environment, from which systemd's variables are
// removed. The user's cache directory is one of the test's own unless env
// says otherwise, so that no run writes into the real one.
func launchService(t *testing.T, bin string, env []string, args ...string) *proc {
	addr := freeAddr(t)
	p := &proc{t: t, addr: addr, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID":
		default:
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	home := t.TempDir()
	p.cmd.Env = append(p.cmd.Env, "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	p.cmd.Env = append(p.cmd.Env, env...) // the last of a name wins
	errPipe, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *proc) get(path string) (int, string, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + p.addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// eventually polls cond until it holds, or fails after 20 s.
func (p *proc) eventually(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: not within 20s; logs:\n%s", what, p.logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *proc) exitCode() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("the service did not exit; logs:\n%s", p.logs())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(p.t, p.err)
	return 0
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func TestServiceAsKubernetesRunsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	bin := build(t)

	t.Run("preStop SIGQUIT drains, finishes in-flight work, then SIGTERM exits 0", func(t *testing.T) {
		p := startService(t, bin, "-drain", "1s")
		p.eventually("ready", func() bool { code, _, _ := p.get("/readyz"); return code == 200 })
		code, body, err := p.get("/healthz")
		require.NoError(t, err)
		assert.Equal(t, 200, code)
		assert.JSONEq(t, `{"state":"Running"}`, body)

		// A request that is still running when the HTTP server is told to
		// shut down, after the drain.
		type result struct {
			code int
			body string
			err  error
		}
		inflight := make(chan result, 1)
		go func() {
			c, b, err := p.get("/work?ms=2500")
			inflight <- result{c, b, err}
		}()
		// The request has the whole 1 s drain to reach the server, which
		// serves until the drain ends; at 2.5 s it is still running then.

		require.NoError(t, p.cmd.Process.Signal(syscall.SIGQUIT))
		p.eventually("not ready while still serving", func() bool {
			code, body, err := p.get("/readyz")
			return err == nil && code == 503 && strings.Contains(body, `"Draining"`)
		})
		code, _, err = p.get("/healthz")
		require.NoError(t, err, "the HTTP server still serves while draining")
		assert.Equal(t, 200, code, "alive while draining")

		r := <-inflight
		require.NoError(t, r.err, "the in-flight request completes")
		assert.Equal(t, 200, r.code)
		var work map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &work))
		assert.Equal(t, float64(2500), work["worked_ms"])

		p.eventually("the HTTP server stops", func() bool { _, _, err := p.get("/healthz"); return err != nil })
		p.eventually("the App stopped and the binary says it waits", func() bool {
			return strings.Contains(p.logs(), `msg="waiting for SIGTERM"`)
		})
		logs := p.logs()
		require.Contains(t, logs, "to=Terminated")
		assert.Less(t, strings.Index(logs, "to=Terminated"), strings.Index(logs, `msg="waiting for SIGTERM"`),
			"it says so once the App has stopped")
		time.Sleep(200 * time.Millisecond) // can only hide a bug, never fail a correct run
		require.True(t, p.running(), "after SIGQUIT the binary waits for SIGTERM")
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		assert.Equal(t, 0, p.exitCode())
		logs = p.logs()
		assert.Contains(t, logs, "from=Running trigger=ContextDone to=Draining")
		assert.Contains(t, logs, `msg="flushing work counters" done=1`)
		assert.Equal(t, []string{"quit"}, stopSignals(logs), "the stop is logged once, naming SIGQUIT")
		assert.Equal(t, 1, strings.Count(logs, `msg="waiting for SIGTERM"`))
	})

	for _, tc := range []struct {
		sig     syscall.Signal
		sigName string
		logged  string // as Run logs it
	}{
		{syscall.SIGTERM, "SIGTERM", "terminated"},
		{syscall.SIGINT, "SIGINT", "interrupt"},
		{syscall.SIGQUIT, "SIGQUIT", "quit"},
	} {
		t.Run("Run logs that "+tc.sigName+" stopped the App", func(t *testing.T) {
			p := startService(t, bin, "-drain", "0s")
			p.eventually("serving", func() bool { return strings.Contains(p.logs(), "msg=serving") })
			require.NoError(t, p.cmd.Process.Signal(tc.sig))
			if tc.sig == syscall.SIGQUIT {
				p.eventually("waiting for SIGTERM", func() bool { return strings.Contains(p.logs(), `msg="waiting for SIGTERM"`) })
				require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
			}
			assert.Equal(t, 0, p.exitCode(), "a stop a signal asked for is clean; logs:\n%s", p.logs())
			logs := p.logs()
			assert.Equal(t, []string{tc.logged}, stopSignals(logs), "logs:\n%s", logs)
			if tc.sig != syscall.SIGQUIT {
				assert.NotContains(t, logs, "waiting for SIGTERM", "the binary exits at once")
			}
		})
	}

	t.Run("serving is logged with the bound address, once the port is bound", func(t *testing.T) {
		p := startService(t, bin, "-addr", "127.0.0.1:0", "-drain", "0s")
		p.eventually("serving", func() bool { return strings.Contains(p.logs(), "msg=serving") })
		logs := p.logs()
		serving := logLines(logs, "serving")
		require.Len(t, serving, 1)
		addr := logValue(serving[0], "addr")
		require.NotEqual(t, "127.0.0.1:0", addr, "the port chosen, not the one asked for")
		require.Contains(t, logs, `msg="lu: process Start func done" process="http api"`)
		assert.Less(t, strings.Index(logs, `msg="lu: process Start func done" process="http api"`), strings.Index(logs, "msg=serving"))
		p.addr = addr
		code, body, err := p.get("/healthz") // at once: no retry
		require.NoError(t, err)
		assert.Equal(t, 200, code)
		assert.JSONEq(t, `{"state":"Running"}`, body)
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		assert.Equal(t, 0, p.exitCode())
	})

	t.Run("a port in use: no serving, exit 1", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		p := startService(t, bin, "-addr", ln.Addr().String())
		assert.Equal(t, 1, p.exitCode())
		logs := p.logs()
		assert.Contains(t, logs, "address already in use")
		assert.NotContains(t, logs, "msg=serving")
	})

	t.Run("a second SIGTERM during a slow shutdown forces exit", func(t *testing.T) {
		p := startService(t, bin, "-drain", "0s", "-stop-delay", "1m")
		p.eventually("ready", func() bool { code, _, _ := p.get("/readyz"); return code == 200 })
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		p.eventually("the slow stop hook runs", func() bool { return strings.Contains(p.logs(), "flushing work counters") })
		start := time.Now()
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		assert.NotEqual(t, 0, p.exitCode())
		assert.Less(t, time.Since(start), 20*time.Second)
		assert.Contains(t, p.logs(), "second signal")
		assert.Contains(t, p.logs(), `flush counters (running for`)
	})

	t.Run("-graph prints the service's lifecycle", func(t *testing.T) {
		out, err := exec.Command(bin, "-graph").Output()
		require.NoError(t, err)
		s := string(out)
		assert.True(t, strings.HasPrefix(s, "digraph lifecycle {"))
		for _, want := range []string{`"1. warm cache (priority 0)"`, `label="http api"`, `label="reporter"`,
			`label="minutely-report"`, `"1. flush counters (priority 0)"`, "Running -> Draining"} {
			assert.Contains(t, s, want)
		}
	})
}

// logLines returns the log's records with message msg.
func logLines(logs, msg string) []string {
	var lines []string
	for line := range strings.Lines(logs) {
		if logValue(line, "msg") == msg {
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
	}
	return lines
}

var logAttr = regexp.MustCompile(`(?:^| )([^ =]+)=("(?:[^"\\]|\\.)*"|[^ \n]*)`)

// logValue returns the value of key in a record of the service's text
// log, unquoted; "" if it has none.
func logValue(line, key string) string {
	for _, m := range logAttr.FindAllStringSubmatch(line, -1) {
		if m[1] != key {
			continue
		}
		if v, err := strconv.Unquote(m[2]); err == nil {
			return v
		}
		return m[2]
	}
	return ""
}

// stopSignals returns the signal of each "lu: stopping" record.
func stopSignals(logs string) []string {
	var sigs []string
	for _, line := range logLines(logs, "lu: stopping") {
		sigs = append(sigs, logValue(line, "signal"))
	}
	return sigs
}
