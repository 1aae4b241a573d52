//go:build unix

package systemd_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
	"github.com/lu-go/lu/systemd"
)

// A service run by a Type=notify unit attaches its App before running it.
// Without $NOTIFY_SOCKET (run by hand, in a container), Attach does
// nothing.
func ExampleAttach() {
	a := &lu.App{DrainDelay: 2 * time.Second, ShutdownTimeout: 15 * time.Second}
	a.AddProcess(process.HTTP("api", &http.Server{Addr: "127.0.0.1:8080", ReadHeaderTimeout: 5 * time.Second}))
	if err := systemd.Attach(a); err != nil {
		slog.Error("systemd", "error", err) // a $WATCHDOG_USEC that is not a number, say
		os.Exit(1)
	}
	os.Exit(a.Run())
}

// What the service manager receives over a whole lifecycle. Here the test
// plays systemd: it listens on a Unix datagram socket and names it in
// $NOTIFY_SOCKET.
func Example() {
	dir, _ := os.MkdirTemp("", "lusd")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	defer restoreEnv("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")()
	os.Setenv("NOTIFY_SOCKET", path)
	os.Unsetenv("WATCHDOG_USEC") // no watchdog pings, to print the same every time

	var a lu.App
	if err := systemd.Attach(&a); err != nil {
		fmt.Println(err)
		return
	}
	_ = a.Launch(context.Background())
	_ = a.Shutdown()

	// Every notification has been sent by the time Shutdown returns.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for msg := ""; msg != "STATUS=Terminated"; {
		n, err := conn.Read(buf)
		if err != nil {
			fmt.Println(err)
			return
		}
		msg = string(buf[:n])
		fmt.Println(msg)
	}
	// Output:
	// STATUS=Startup
	// STATUS=HookStart
	// STATUS=Running
	// READY=1
	// STATUS=Draining
	// STOPPING=1
	// STATUS=Terminating
	// STATUS=HookStop
	// STATUS=Terminated
}

// restoreEnv returns a func that puts the variables back as they are now.
func restoreEnv(names ...string) func() {
	type saved struct {
		value string
		set   bool
	}
	was := map[string]saved{}
	for _, n := range names {
		v, ok := os.LookupEnv(n)
		was[n] = saved{v, ok}
	}
	return func() {
		for n, s := range was {
			if s.set {
				os.Setenv(n, s.value)
			} else {
				os.Unsetenv(n)
			}
		}
	}
}
