package lu

// Transition is one edge of the lifecycle: in state From, trigger On moves
// the App to state To. When To equals From the trigger is accepted and
// ignored: it changes nothing and emits nothing.
type Transition struct {
	From State
	On   Trigger
	To   State
}

// transitions is the lifecycle. The state machine is built from this table
// and from nothing else: a (state, trigger) pair that is not listed here is
// refused with an error wrapping [ErrIllegalTransition].
var transitions = [...]Transition{
	{StateIdle, TriggerLaunch, StateStartup},

	{StateStartup, TriggerRunHooks, StateHookStart},
	{StateStartup, TriggerStartFailed, StateTerminating},
	{StateStartup, TriggerShutdown, StateTerminating},

	{StateHookStart, TriggerStarted, StateRunning},
	{StateHookStart, TriggerStartFailed, StateTerminating},
	{StateHookStart, TriggerShutdown, StateTerminating},
	{StateHookStart, TriggerProcessFailed, StateTerminating},

	{StateRunning, TriggerShutdown, StateDraining},
	{StateRunning, TriggerProcessFailed, StateDraining},
	{StateRunning, TriggerContextDone, StateDraining},

	{StateDraining, TriggerDrained, StateTerminating},
	{StateDraining, TriggerShutdown, StateDraining},
	{StateDraining, TriggerProcessFailed, StateDraining},
	{StateDraining, TriggerContextDone, StateDraining},

	{StateTerminating, TriggerProcessesStopped, StateHookStop},
	{StateTerminating, TriggerShutdown, StateTerminating},
	{StateTerminating, TriggerProcessFailed, StateTerminating},
	{StateTerminating, TriggerContextDone, StateTerminating},

	{StateHookStop, TriggerHooksStopped, StateTerminated},
	{StateHookStop, TriggerShutdown, StateHookStop},
	{StateHookStop, TriggerProcessFailed, StateHookStop},
	{StateHookStop, TriggerContextDone, StateHookStop},

	{StateTerminated, TriggerShutdown, StateTerminated},
	{StateTerminated, TriggerProcessFailed, StateTerminated},
	{StateTerminated, TriggerContextDone, StateTerminated},
}

// Transitions returns the lifecycle table, one row per edge, in lifecycle
// order. The slice is a copy.
func Transitions() []Transition {
	t := make([]Transition, len(transitions))
	copy(t, transitions[:])
	return t
}
