package systemd

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/lu-go/lu"
)

// flushTimeout is how long the App's last transition waits for the sender
// to deliver what is queued and end.
const flushTimeout = time.Second

// terminatedPoll is how often the sender looks, once the App has begun to
// stop, whether it has terminated without its last transition reaching
// the notifier (another OnTransition func ended that delivery with
// runtime.Goexit).
const terminatedPoll = 100 * time.Millisecond

var errNoSocket = errors.New("$NOTIFY_SOCKET is no longer set")

// notifier follows one App's transitions and sends them, and the watchdog
// pings, to the service manager from one goroutine, the sender, which the
// first transition (Launch) starts.
type notifier struct {
	app      *lu.App
	watchdog time.Duration // $WATCHDOG_USEC; zero: no pings

	// Set by the first transition, under mu, before the sender starts;
	// read-only after.
	log     *slog.Logger
	budgets budgets

	mu       sync.Mutex
	started  bool          // the first transition was observed
	running  bool          // a sender runs; it clears this, under mu, as it ends with nothing queued
	done     chan struct{} // closed as the current sender ends
	queue    []string      // notifications not yet sent, in order
	last     bool          // the App's last transition is queued: the sender ends once the queue is sent
	stopSent bool          // STOPPING=1 is queued
	wake     chan struct{} // one-buffered: the queue has news

	// Owned by the sender (handed from one to the next through mu).
	failing bool // the last notification failed
	wedged  bool // the last ping was withheld
}

func newNotifier(a *lu.App, watchdog time.Duration) *notifier {
	return &notifier{app: a, watchdog: watchdog, wake: make(chan struct{}, 1)}
}

// observe is the App's OnTransition func: it queues the transition's
// notifications for the sender and never blocks, save on the App's last
// transition, which waits (up to flushTimeout) for the sender to end.
func (n *notifier) observe(t lu.JournalTransition) {
	msgs := []string{"STATUS=" + t.To.String()}
	final := t.To == lu.StateTerminated
	n.mu.Lock()
	if !n.started {
		n.started = true
		n.settleLocked()
	}
	if !n.running {
		// The first transition; or the last one, when the sender ended
		// already because it found the App terminated first.
		n.running, n.done = true, make(chan struct{})
		go n.send(n.done)
	}
	switch {
	case t.To == lu.StateRunning:
		msgs = append(msgs, daemon.SdNotifyReady)
	case t.To >= lu.StateDraining && !n.stopSent:
		n.stopSent = true
		msgs = append(msgs, daemon.SdNotifyStopping)
		if n.watchdog > 0 {
			// STOPPING=1 makes systemd disarm the watchdog, and a ping
			// arms it again: the stop, which has just begun and is on
			// schedule, is guarded from its start.
			msgs = append(msgs, daemon.SdNotifyWatchdog)
		}
	}
	n.queue = append(n.queue, msgs...)
	n.last = n.last || final
	done := n.done
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default: // the sender has news pending already
	}
	if final {
		n.awaitSender(done)
	}
}

// settleLocked reads what the App's Launch settled (the defaults are
// applied by then). The caller holds mu.
func (n *notifier) settleLocked() {
	n.log = n.app.Logger
	n.budgets = budgets{
		startup:  orDefault(n.app.StartupTimeout),
		drain:    n.app.DrainDelay,
		shutdown: orDefault(n.app.ShutdownTimeout),
	}
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return lu.DefaultTimeout
	}
	return d
}

// awaitSender waits until the sender has ended, or for flushTimeout.
func (n *notifier) awaitSender(done chan struct{}) {
	t := time.NewTimer(flushTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		n.logf(slog.LevelWarn, "systemd: the service manager did not take the last notifications in time; giving up on them",
			"waited", flushTimeout)
	}
}

// send is the sender: it sends the queued notifications as they come, and
// the watchdog pings, until it has sent the App's last transition, or
// finds the App terminated (its last transition may then never reach the
// notifier: another OnTransition func ended that delivery with
// runtime.Goexit; if it does come, it starts a sender again).
func (n *notifier) send(done chan struct{}) {
	defer close(done)
	var ping, poll <-chan time.Time
	if n.watchdog > 0 {
		t := time.NewTicker(n.watchdog / 2)
		defer t.Stop()
		ping = t.C
	}
	stopping := n.app.WaitForShutdown()
	for {
		select {
		case <-n.wake:
			if n.flush() && n.endIfIdle() {
				return
			}
		case <-stopping:
			stopping = nil
			t := time.NewTicker(terminatedPoll)
			defer t.Stop()
			poll = t.C
		case <-ping:
			n.ping()
		case <-poll:
			if n.app.State() == lu.StateTerminated {
				for n.flush(); !n.endIfIdle(); n.flush() {
				}
				return
			}
		}
	}
}

// flush sends what is queued, and reports whether the App's last
// transition was among it.
func (n *notifier) flush() bool {
	for {
		n.mu.Lock()
		if len(n.queue) == 0 {
			last := n.last
			n.mu.Unlock()
			return last
		}
		msg := n.queue[0]
		n.queue = n.queue[1:]
		n.mu.Unlock()
		n.notify(msg)
	}
}

// endIfIdle marks the sender ended, unless something was queued meanwhile;
// it reports whether it did.
func (n *notifier) endIfIdle() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.queue) > 0 {
		return false
	}
	n.running = false
	return true
}

// ping pings the watchdog if the App is on schedule.
func (n *notifier) ping() {
	state := n.app.State()
	var why string
	if state != lu.StateRunning {
		why = n.budgets.check(n.app.Journal(), time.Now())
	}
	if why == whyTerminated {
		return // the last notifications are on their way
	}
	switch {
	case why != "" && !n.wedged:
		n.wedged = true
		n.logf(slog.LevelError, "systemd: watchdog pings stopped: the App is not on schedule", "reason", why)
	case why == "" && n.wedged:
		n.wedged = false
		n.logf(slog.LevelInfo, "systemd: watchdog pings resumed", "state", state.String())
	}
	if why == "" {
		n.notify(daemon.SdNotifyWatchdog)
	}
}

// notify sends one notification, and logs the first failure of a run of
// failures and the success that ends it.
func (n *notifier) notify(msg string) {
	sent, err := daemon.SdNotify(false, msg)
	if err == nil && !sent {
		err = errNoSocket
	}
	switch {
	case err != nil && !n.failing:
		n.failing = true
		n.logf(slog.LevelWarn, "systemd: notification failed", "message", msg, "error", err)
	case err == nil && n.failing:
		n.failing = false
		n.logf(slog.LevelInfo, "systemd: notifications delivered again", "message", msg)
	}
}

// logf logs to the App's Logger, if it has one. A handler that panics
// loses the record, and nothing else: the sender must go on.
func (n *notifier) logf(level slog.Level, msg string, args ...any) {
	if n.log == nil {
		return
	}
	defer func() { _ = recover() }()
	n.log.Log(context.Background(), level, msg, args...)
}
