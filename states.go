package lu

import "strconv"

// State is a step of an App's lifecycle. An App moves through the states in
// the order they are declared, never backwards; the edges it may take are
// listed by [Transitions].
type State int32

// The lifecycle states, in order.
const (
	// StateIdle is the zero value: the App has not been launched.
	StateIdle State = iota
	// StateStartup is entered by [App.Launch]: the process file, if any, is
	// taken.
	StateStartup
	// StateHookStart runs the start hooks, then the processes' Start funcs.
	StateHookStart
	// StateRunning is the steady state. The processes are started as the
	// App enters it.
	StateRunning
	// StateDraining is the lame-duck pause after a stop was requested in
	// state Running: readiness reports not-ready, everything keeps running,
	// and after [App.DrainDelay] the processes are stopped. With no
	// DrainDelay the App passes straight through it.
	StateDraining
	// StateTerminating stops the processes: their Shutdown funcs run, then
	// their context is cancelled and they are awaited.
	StateTerminating
	// StateHookStop runs the stop hooks.
	StateHookStop
	// StateTerminated is final: nothing of the App runs any more (save a
	// process or hook that ignored its deadline).
	StateTerminated

	numStates = iota
)

// The superstates group states that answer some triggers alike. An App is
// never in a superstate itself, always in one of its substates.
const (
	// stateStarting holds Startup and HookStart: a stop requested there
	// interrupts the start-up.
	stateStarting State = numStates + iota
	// stateStopping holds every state from Draining on: the App has begun to
	// stop, and a further stop request changes nothing. Entering it closes
	// the channel returned by WaitForShutdown.
	stateStopping

	numAllStates = numStates + iota
)

var stateNames = [numAllStates]string{
	StateIdle:        "Idle",
	StateStartup:     "Startup",
	StateHookStart:   "HookStart",
	StateRunning:     "Running",
	StateDraining:    "Draining",
	StateTerminating: "Terminating",
	StateHookStop:    "HookStop",
	StateTerminated:  "Terminated",
	stateStarting:    "Starting",
	stateStopping:    "Stopping",
}

// String returns the state's name, such as "Running".
func (s State) String() string {
	if s >= 0 && s < numAllStates {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// stopping reports whether the App has begun to stop in state s.
func (s State) stopping() bool { return s >= StateDraining && s <= StateTerminated }

// Trigger names a stimulus that moves the lifecycle from one state to
// another. Launch, Shutdown and Stop come from the user's calls; the others
// are fired by the App itself as its work completes or fails.
type Trigger int

// The triggers of the lifecycle.
const (
	// TriggerLaunch is [App.Launch].
	TriggerLaunch Trigger = iota
	// TriggerShutdown is [App.Shutdown].
	TriggerShutdown
	// TriggerStop is [App.Stop], and a failure of the App's own callbacks
	// after start-up (an OnEvent callback that panicked).
	TriggerStop
	// TriggerRunHooks begins running the start hooks.
	TriggerRunHooks
	// TriggerStarted reports that every start hook and every process's
	// Start func succeeded: the processes start.
	TriggerStarted
	// TriggerStartFailed reports that start-up failed: the process file was
	// refused, a start hook or a process's Start func failed, panicked or
	// ran out of time, or an OnEvent callback panicked during start-up.
	TriggerStartFailed
	// TriggerProcessFailed reports that a process returned an error,
	// panicked or called runtime.Goexit.
	TriggerProcessFailed
	// TriggerContextDone reports that the context given to Launch is done.
	TriggerContextDone
	// TriggerDrained reports that the drain delay has passed.
	TriggerDrained
	// TriggerProcessesStopped reports that every process has returned, or
	// that the deadline for them has passed.
	TriggerProcessesStopped
	// TriggerHooksStopped reports that the stop hooks have run, or that the
	// shutdown deadline has passed.
	TriggerHooksStopped

	numTriggers = iota
)

var triggerNames = [...]string{
	TriggerLaunch:           "Launch",
	TriggerShutdown:         "Shutdown",
	TriggerStop:             "Stop",
	TriggerRunHooks:         "RunHooks",
	TriggerStarted:          "Started",
	TriggerStartFailed:      "StartFailed",
	TriggerProcessFailed:    "ProcessFailed",
	TriggerContextDone:      "ContextDone",
	TriggerDrained:          "Drained",
	TriggerProcessesStopped: "ProcessesStopped",
	TriggerHooksStopped:     "HooksStopped",
}

// String returns the trigger's name, such as "Shutdown".
func (t Trigger) String() string {
	if t >= 0 && int(t) < len(triggerNames) {
		return triggerNames[t]
	}
	return "Trigger(" + strconv.Itoa(int(t)) + ")"
}
