package lu

// Transition is one edge of the lifecycle: in state From, trigger On moves
// the App to state To. When To equals From the trigger is accepted and
// ignored: it changes nothing and emits nothing.
type Transition struct {
	From State   // the state the trigger is fired in
	On   Trigger // the trigger
	To   State   // the state it leads to; From for an ignored trigger
}

// transitions is the lifecycle. The state machine is built from this table
// and the one below, and from nothing else: a (state, trigger) pair that
// they do not answer is refused with an error wrapping
// [ErrIllegalTransition]. A row from a superstate answers for each of its
// substates.
var transitions = [...]Transition{
	{StateIdle, TriggerLaunch, StateStartup},
	{StateStartup, TriggerRunHooks, StateHookStart},
	{StateHookStart, TriggerStarted, StateRunning},

	// A failed or interrupted start-up stops at once: there is nothing to drain.
	{stateStarting, TriggerStartFailed, StateTerminating},
	{stateStarting, TriggerShutdown, StateTerminating},
	{stateStarting, TriggerStop, StateTerminating},
	{stateStarting, TriggerContextDone, StateTerminating},

	{StateRunning, TriggerShutdown, StateDraining},
	{StateRunning, TriggerStop, StateDraining},
	{StateRunning, TriggerContextDone, StateDraining},
	{StateRunning, TriggerProcessFailed, StateDraining},

	{StateDraining, TriggerDrained, StateTerminating},
	{StateTerminating, TriggerProcessesStopped, StateHookStop},
	{StateHookStop, TriggerHooksStopped, StateTerminated},

	// Once stopping, the stop under way answers every further request, and
	// the start-up's own steps, raced by the stop, are dropped.
	{stateStopping, TriggerShutdown, stateStopping},
	{stateStopping, TriggerStop, stateStopping},
	{stateStopping, TriggerContextDone, stateStopping},
	{stateStopping, TriggerProcessFailed, stateStopping},
	{stateStopping, TriggerRunHooks, stateStopping},
	{stateStopping, TriggerStarted, stateStopping},
	{stateStopping, TriggerStartFailed, stateStopping},
}

// superstates lists, for each state in a superstate, its superstate.
var superstates = [...]struct{ Sub, Super State }{
	{StateStartup, stateStarting},
	{StateHookStart, stateStarting},
	{StateDraining, stateStopping},
	{StateTerminating, stateStopping},
	{StateHookStop, stateStopping},
	{StateTerminated, stateStopping},
}

// superstateOf returns s's superstate, or -1.
func superstateOf(s State) State {
	for _, ss := range superstates {
		if ss.Sub == s {
			return ss.Super
		}
	}
	return -1
}

// Transitions returns the lifecycle, one row per edge from a state an App
// can be in (the rows that the table gives a superstate are repeated for
// each of its substates), in lifecycle order. The slice is a copy.
func Transitions() []Transition {
	var rows []Transition
	for s := range State(numStates) {
		for _, t := range transitions {
			switch {
			case t.From == s:
				rows = append(rows, t)
			case t.From == superstateOf(s) && t.From == t.To:
				rows = append(rows, Transition{s, t.On, s})
			case t.From == superstateOf(s):
				rows = append(rows, Transition{s, t.On, t.To})
			}
		}
	}
	return rows
}
