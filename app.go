// Package lu runs a service's lifecycle: start-up hooks, long-running
// processes, signals and graceful shutdown.
//
// The lifecycle is an explicit state machine (see [State] and
// [Transitions]): every step is a named state, every call that the current
// state does not allow is refused with an error wrapping
// [ErrIllegalTransition], and the diagram in the repository is drawn from
// the machine itself.
package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// DefaultTimeout is the StartupTimeout and ShutdownTimeout of an App that
// sets none.
const DefaultTimeout = 15 * time.Second

// App manages the lifecycle of a service, emitting an event for each stage.
// The zero value is ready to use. An App runs once: after it has
// terminated, Launch is refused.
//
// Lifecycle: [App.Launch] runs the start hooks and starts the processes;
// [App.WaitForShutdown] closes when the App begins to stop (Shutdown or
// Stop was called, a process failed, or Launch's context is done);
// [App.Shutdown] waits until the App has stopped the processes and run the
// stop hooks, and returns every error.
//
// The exported fields are read by Launch, which also sets a zero
// StartupTimeout or ShutdownTimeout to DefaultTimeout, as Luno's lu does;
// changing them later has no effect on the run under way, and must not
// race Launch.
type App struct {
	// StartupTimeout is the deadline for running the start hooks and
	// starting all the processes. Zero means [DefaultTimeout] (15 s).
	StartupTimeout time.Duration

	// ShutdownTimeout is the deadline for stopping all the processes and
	// running the stop hooks. Zero means [DefaultTimeout] (15 s).
	ShutdownTimeout time.Duration

	// OnEvent is called for every lifecycle event; see [EventType]. It is
	// never called while the App holds a lock, so it may call any method of
	// the App but Shutdown, which waits for it: call Stop instead. App
	// events come from the goroutine driving the lifecycle, ProcessEnd from
	// the process's own goroutine, so calls may overlap. A panic (or
	// runtime.Goexit) in OnEvent is recovered and reported like a failing
	// hook: during start-up it fails Launch, later it stops the App, and
	// Launch or Shutdown returns it as a *[PanicError].
	OnEvent OnEvent

	// UseProcessFile makes the App hold its process file (ProcessFile) for
	// its whole life, so that only one live instance runs per file. Launch
	// opens the file, creating it if need be, takes an exclusive advisory
	// lock on it without waiting (flock(2) on Linux, the BSDs and macOS;
	// LockFileEx on Windows; other platforms refuse UseProcessFile) and
	// writes the process id and a newline into it.
	//
	// The lock, not the pid, says who owns the file: a file whose lock is
	// free is stale, whatever pid it holds (a crashed instance's, or pid 1
	// after a container's restart), and is taken over. A file whose lock
	// is held makes Launch fail at once with an error wrapping
	// [ErrProcessFileHeld] that names the file and the holder's pid (read
	// from the file for the message only). Anything but a regular file at
	// the path (a FIFO, a directory, a socket, a device, a symbolic link,
	// which is never followed, or a file with other hard links) makes
	// Launch fail at once: nothing in this path blocks. A held file is
	// reported as held even when it has other hard links, or when we may
	// read it but not write it, or (on Linux, from /proc/locks) not even
	// read it. When the file is refused, neither the start hooks nor the
	// stop hooks run.
	//
	// The file is removed when the App terminates, only if the path still
	// names the file we hold; a file put in its place is left there and
	// reported by Shutdown. If the App gave up on a hook, process or
	// Shutdown func at its deadline, this instance still runs that code:
	// the file stays locked, and is removed, once it has returned (or the
	// binary exits); a failure to remove it then is logged. The kernel
	// drops the lock when the process dies, however it dies, and no
	// program this one executes inherits it (the descriptor is
	// close-on-exec).
	//
	// The lock is advisory: it excludes every App (and any program) that
	// takes it, not a program that writes, replaces or removes the file
	// regardless.
	UseProcessFile bool

	// ProcessFile is the path of the process file; a relative path is
	// made absolute when Launch runs, against the working directory, and
	// never cleaned: "link/../lu.pid" names what the kernel says it names. Empty means "/tmp/lu.pid", the path of
	// Luno's lu, kept for compatibility: in a world-writable directory any
	// local user can create that file first and hold its lock, keeping the
	// service from starting. Prefer a directory that only the service may
	// write: "/run/<name>.pid" (a systemd RuntimeDirectory, or /run in a
	// container), or "$XDG_RUNTIME_DIR/<name>.pid" for a user's service.
	ProcessFile string

	// DrainDelay is the lame-duck pause between a stop being requested in
	// state Running and the processes being stopped: the App is Draining,
	// its readiness handler reports not-ready so that load balancers (and
	// Kubernetes, which removes endpoints asynchronously) stop sending
	// traffic, and everything keeps serving. Zero, the default, stops at
	// once. The shutdown deadline starts after the drain.
	DrainDelay time.Duration

	// Logger, if set, receives a record of every transition, hook and
	// process start and end, with durations. Without it the App logs
	// nothing but two reports that would otherwise be lost, to
	// slog.Default: Run's of why it stops, and a failure to release the
	// process file after Shutdown returned (see UseProcessFile).
	Logger *slog.Logger

	// OnShutdownErr is called by Run when Shutdown returns an error, with
	// the termination context. It may change the error, or report it; if it
	// returns nil, Run exits 0.
	OnShutdownErr func(ctx context.Context, err error) error

	mu       sync.Mutex    // guards the fields below
	reg      registry      // what was registered, and what Launch took
	stopping chan struct{} // WaitForShutdown's channel; see stoppingLocked
	run      *run          // the launched run, set once by Launch
}

// registry is what an App has registered. Launch takes each list when its
// turn comes (the start hooks when they begin, the processes when they
// start, the stop hooks when they begin); a registration after that is
// recorded as an error.
type registry struct {
	seq        int     // registrations so far, to order equal priorities
	hooks      []*hook // start hooks, stop hooks and pairs, in registration order
	procs      []Process
	observers  []func(JournalTransition)
	errs       []error // bad or late registrations
	startTaken bool    // the start hooks have begun
	procsTaken bool    // the processes have been started
	stopTaken  bool    // the stop hooks have begun
}

// NoApp returns a nil *App. It can be used when calling a function that
// accepts a *App when there is no App in scope: f(lu.NoApp()) reads more
// clearly than f(nil). Every method that only reads (State,
// RunningProcesses, GetProcesses, WaitForShutdown, Journal, Graph and the
// handlers) accepts a nil App, as does Stop; registrations on it (hooks,
// processes, OnTransition funcs) are dropped, for there is no App to run
// them. Launch and Shutdown on it return errors.
func NoApp() *App { return nil }

// State returns the App's current lifecycle state. It is safe to call at
// any time, from any goroutine, an OnEvent callback included.
func (a *App) State() State {
	if a == nil {
		return StateIdle
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stateLocked()
}

func (a *App) stateLocked() State {
	if a.run == nil {
		return StateIdle
	}
	return State(a.run.state.Load())
}

// launched returns the run, or nil before Launch.
func (a *App) launched() *run {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.run
}

// AddProcess adds processes that Launch starts, each on its own goroutine,
// once the start hooks have succeeded. If a process fails, the App stops.
//
// Processes may be added until the start hooks have run, from a start hook
// included (not from a process's Start func). A process with neither a Run
// nor a Shutdown func makes Launch fail; a process added too late is an
// error that Launch or Shutdown returns.
func (a *App) AddProcess(processes ...Process) {
	if a == nil {
		return // see NoApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.reg.procsTaken {
		a.reg.procs = append(growDoubling(a.reg.procs, len(processes)), processes...)
		return
	}
	for _, p := range processes {
		a.reg.errs = append(a.reg.errs, fmt.Errorf("lu: AddProcess in state %s: process %q will never run: %w",
			a.stateLocked(), p.Name, ErrIllegalTransition))
	}
}

// OnTransition registers f to be called after every transition of the
// App, in order, once each, with the journal's record of it: integrations
// that report the lifecycle elsewhere (a service manager, a status page)
// follow it this way. f is called from the goroutine driving that stretch
// of the lifecycle, never while the App holds a lock, and must not block:
// the lifecycle waits for it. A panic (or runtime.Goexit) in f is reported
// as a failing OnEvent callback would be.
//
// Register before Launch: a registration afterwards is an error that
// Launch returns if it comes during start-up and Shutdown returns if it
// comes later; a nil f is an error that Launch returns.
func (a *App) OnTransition(f func(JournalTransition)) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case f == nil:
		a.reg.errs = append(a.reg.errs, errors.New("lu: OnTransition with a nil func"))
	case a.run != nil:
		a.reg.errs = append(a.reg.errs, fmt.Errorf("lu: OnTransition in state %s: the func will never be called: %w",
			a.stateLocked(), ErrIllegalTransition))
	default:
		a.reg.observers = append(a.reg.observers, f)
	}
}

// growDoubling makes room for n more processes, doubling the list when it
// is full. append alone grows a long list by a quarter at a time, so a
// service that adds 10,000 processes one by one would allocate five times
// the list; doubling allocates twice the list, and BenchmarkLaunch at
// N=10000 allocates a third less.
func growDoubling(procs []Process, n int) []Process {
	if cap(procs)-len(procs) >= n {
		return procs
	}
	return slices.Grow(procs, max(n, len(procs)))
}

// GetProcesses returns a copy of the processes added to the App.
func (a *App) GetProcesses() []Process {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Process(nil), a.reg.procs...)
}

// RunningProcesses returns the names of the processes that have been
// started and whose end has not yet been reported (a process is listed
// while its ProcessEnd callback runs, as in Luno's lu), in the order they
// were added. After a shutdown that timed out it lists the processes that
// did not stop.
func (a *App) RunningProcesses() []string {
	return a.launched().runningProcesses()
}

// WaitForShutdown returns a channel that is closed when the App begins to
// stop: Shutdown or Stop was called, a process failed, or the context given
// to Launch is done. The App has not finished stopping when it closes: call
// Shutdown to wait for that and to collect the errors.
func (a *App) WaitForShutdown() <-chan struct{} {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stoppingLocked()
}

// stoppingLocked returns the channel that enterStopping closes, made on
// first use, by WaitForShutdown before Launch or by Launch.
func (a *App) stoppingLocked() chan struct{} {
	if a.stopping == nil {
		a.stopping = make(chan struct{})
	}
	return a.stopping
}

// takeHooks returns the start hooks (or, if stop, the stop hooks) in
// running order, and closes them to registration.
func (a *App) takeHooks(stop bool) []*hook {
	a.mu.Lock()
	defer a.mu.Unlock()
	if stop {
		a.reg.stopTaken = true
	} else {
		a.reg.startTaken = true
	}
	return sortedHooks(a.reg.hooks, stop)
}

// takeProcesses returns the processes and closes them to registration, or
// returns the errors of bad registrations made so far.
func (a *App) takeProcesses() ([]Process, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reg.procsTaken = true
	if err := a.takeErrsLocked(); err != nil {
		return nil, err
	}
	return a.reg.procs, nil
}

// takeErrsLocked returns the errors of bad registrations, checked processes
// included, and forgets them.
func (a *App) takeErrsLocked() error {
	err := a.regErrsLocked()
	a.reg.errs = nil
	return err
}

// regErrsLocked returns the errors of bad registrations, checked processes
// included.
func (a *App) regErrsLocked() error {
	errs := slices.Clone(a.reg.errs)
	for i, p := range a.reg.procs {
		if p.Run == nil && p.Shutdown == nil {
			errs = append(errs, fmt.Errorf("lu: process %q (number %d) has neither a Run nor a Shutdown func", p.Name, i))
		}
	}
	return errors.Join(errs...)
}

// closeStart closes the start hooks and the processes to registration, as
// a start-up ends: after a failed one, registering them is an error.
func (a *App) closeStart() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reg.startTaken, a.reg.procsTaken = true, true
}

// peekStopHooks returns the stop hooks registered so far, in running
// order, leaving them open to registration.
func (a *App) peekStopHooks() []*hook {
	a.mu.Lock()
	defer a.mu.Unlock()
	return sortedHooks(a.reg.hooks, true)
}

// lateErrs returns the errors of registrations made too late to run.
func (a *App) lateErrs() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	errs := a.reg.errs
	a.reg.errs = nil
	return errors.Join(errs...)
}
