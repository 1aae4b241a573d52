// Package systemd reports an lu App's lifecycle to systemd over the
// sd_notify protocol, so that a Type=notify unit knows when the service is
// ready, when it is stopping and that it is still alive:
//
//   - STATUS=<state> on every transition of the App (STATUS=Startup, ...,
//     STATUS=Terminated), shown by systemctl status;
//   - READY=1 when the App is Running: every start hook has succeeded and
//     every process has been started;
//   - STOPPING=1 when the App begins to stop: its first transition into
//     Draining or Terminating (the latter when start-up fails or is
//     interrupted);
//   - WATCHDOG=1 every half of $WATCHDOG_USEC (WatchdogSec= in the unit)
//     while the App is on schedule (see [Attach]), so that a wedged App
//     stops pinging, and once more right after STOPPING=1.
//
// The datagrams are sent with github.com/coreos/go-systemd/v22/daemon, to
// the socket named by $NOTIFY_SOCKET. Without $NOTIFY_SOCKET (the service
// is not run by systemd, or not as Type=notify), [Attach] does nothing.
//
// See docs/systemd.md in the repository for a unit file and how each
// setting of the unit matches the App's.
package systemd

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
	"weak"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/lu-go/lu"
)

// Attach makes a report its lifecycle to systemd over $NOTIFY_SOCKET (see
// the package documentation for what is sent when). Call it before
// [lu.App.Launch] (or [lu.App.Run]), once per App, and for one App per
// process: systemd knows one state per service. Without $NOTIFY_SOCKET it
// does nothing: no callback is registered and no goroutine started.
//
// The notifications go out in lifecycle order from one goroutine of the
// integration, started by Launch, so that a service manager slow to read
// its socket never holds up the lifecycle. That goroutine ends as the App
// terminates, once it has sent STATUS=Terminated; the App waits for it at
// most one second, and gives up on a service manager that does not read
// its socket for that long (its goroutine then ends when the send
// returns). A notification that cannot be sent (the socket is gone, say)
// is reported to the App's Logger, once until one succeeds again.
//
// With $WATCHDOG_USEC set (and $WATCHDOG_PID, if set, naming this process)
// WATCHDOG=1 is sent every half of it, from Launch on, while the App is on
// schedule:
//   - it is Running;
//   - it is starting (Startup, HookStart) and has been for no longer than
//     StartupTimeout, counted from Launch;
//   - it is Draining and has been for no longer than DrainDelay;
//   - it is stopping (Terminating, HookStop) and has been for no longer
//     than ShutdownTimeout, counted from its entry into Terminating;
//   - and no hook or process that the App gave up on at its deadline (its
//     journal entry is Abandoned) is still running.
//
// Each budget is allowed 100 ms of slack for the App's own work. The
// pings stop while an abandoned hook or process runs, and while a stretch
// of the lifecycle overruns its budget; each change is logged to the App's
// Logger with its reason.
//
// systemd arms the watchdog when the unit becomes active (READY=1) and
// disarms it when the stop begins (STOPPING=1), but every WATCHDOG=1 arms
// it again, whatever the unit's state: so one is sent right after
// STOPPING=1, and the pings keep the watchdog armed through the start-up
// and the stop, so that a start-up or a stop that falls off schedule lets
// it fire.
//
// Attach returns an error, and attaches nothing, for a nil App, an App
// already launched (wrapping [lu.ErrIllegalTransition]), an App attached
// already, a $WATCHDOG_USEC that is not a positive whole number of
// microseconds, or, with $WATCHDOG_USEC set, a $WATCHDOG_PID that is not
// a number.
func Attach(a *lu.App) error {
	if a == nil {
		return errors.New("systemd: Attach with a nil App")
	}
	if s := a.State(); s != lu.StateIdle {
		return fmt.Errorf("systemd: Attach in state %s: the App reports only transitions it has not made yet: %w",
			s, lu.ErrIllegalTransition)
	}
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return nil
	}
	wd, err := watchdogInterval()
	if err != nil {
		return err
	}
	if !markAttached(a) {
		return errors.New("systemd: Attach called twice on the same App: it would send every notification twice")
	}
	n := newNotifier(a, wd)
	a.OnTransition(n.observe)
	return nil
}

// attached holds the Apps attached so far, weakly: an App's entry goes
// when the App does.
var attached sync.Map // weak.Pointer[lu.App] to struct{}

// markAttached records a as attached, and reports whether it was not
// already.
func markAttached(a *lu.App) bool {
	wp := weak.Make(a)
	if _, loaded := attached.LoadOrStore(wp, struct{}{}); loaded {
		return false
	}
	runtime.AddCleanup(a, func(wp weak.Pointer[lu.App]) { attached.Delete(wp) }, wp)
	return true
}

// watchdogInterval returns $WATCHDOG_USEC as a duration, or zero if the
// watchdog is off or watches another process.
func watchdogInterval() (time.Duration, error) {
	usec, pid := os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID")
	// A count of microseconds that a Duration cannot hold would wrap.
	if v, err := strconv.ParseInt(usec, 10, 64); err == nil && v > math.MaxInt64/int64(time.Microsecond) {
		return 0, fmt.Errorf("systemd: $WATCHDOG_USEC=%q is out of range", usec)
	}
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("systemd: reading the watchdog settings ($WATCHDOG_USEC=%q, $WATCHDOG_PID=%q): %w",
			usec, pid, err)
	}
	return d, nil
}
