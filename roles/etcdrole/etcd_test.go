package etcdrole

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

// testEtcd is a real etcd server started by the tests on loopback, with
// free ports and a temporary data directory.
type testEtcd struct {
	endpoint string
	cmd      *exec.Cmd
	dir      string
	exited   chan struct{}
}

var sharedEtcd *testEtcd

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedEtcd != nil {
		sharedEtcd.stop()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// etcdEndpoint returns the endpoint of the shared test server, starting it
// on first use. Without an etcd binary the test is skipped, unless CI is
// set: CI installs etcd (see .ci/run), so there its absence is a failure.
func etcdEndpoint(t *testing.T) string {
	t.Helper()
	if sharedEtcd != nil {
		return sharedEtcd.endpoint
	}
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("etcd not found, and CI is set: .ci/run should have installed Debian's etcd-server")
		}
		t.Skip("etcd not found: install it (Debian: apt-get install etcd-server) to run the etcd tests")
	}
	e, err := startEtcd(bin)
	if err != nil {
		t.Fatal(err)
	}
	sharedEtcd = e
	return e.endpoint
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startEtcd(bin string) (*testEtcd, error) {
	dir, err := os.MkdirTemp("", "lu-etcd-")
	if err != nil {
		return nil, err
	}
	cport, err := freePort()
	if err != nil {
		return nil, err
	}
	pport, err := freePort()
	if err != nil {
		return nil, err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", cport)
	peer := fmt.Sprintf("http://127.0.0.1:%d", pport)
	cmd := exec.Command(bin,
		"--name", "lu-test", "--data-dir", dir,
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "lu-test="+peer, "--initial-cluster-state", "new",
		"--logger", "zap", "--log-level", "error")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &testEtcd{endpoint: client, cmd: cmd, dir: dir, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(e.exited)
	}()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{client}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.stop()
		return nil, err
	}
	defer cli.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Status(ctx, client)
		cancel()
		if err == nil {
			return e, nil
		}
		select {
		case <-e.exited:
			return nil, fmt.Errorf("etcd exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, fmt.Errorf("etcd did not start within 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *testEtcd) stop() {
	_ = e.cmd.Process.Kill()
	<-e.exited
	_ = os.RemoveAll(e.dir)
}

// proxy forwards TCP connections to etcd until cut, so a test can take a
// replica off the network without it noticing anything but silence.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, endpoint string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: strings.TrimPrefix(endpoint, "http://")}
	p.wg.Go(p.serve)
	t.Cleanup(p.Cut)
	return p
}

func (p *proxy) Endpoint() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			u.Close()
			return
		}
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		p.wg.Go(func() { io.Copy(u, c); u.Close() })
		p.wg.Go(func() { io.Copy(c, u); c.Close() })
	}
}

// Cut drops every connection and refuses new ones.
func (p *proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	conns := p.conns
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}
