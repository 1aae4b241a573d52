package lu

import (
	"context"
	"strconv"
)

// EventType is the kind of a lifecycle [Event].
type EventType int

// The lifecycle events, as emitted to [App.OnEvent]. For a normal run they
// come in this order: AppStartup; PreHookStart and PostHookStart around
// each start hook; ProcessStart for each process; AppRunning; then on
// shutdown AppTerminating; ProcessEnd for each process; PreHookStop and
// PostHookStop around each stop hook; AppTerminated, always last.
const (
	Unknown        EventType = iota
	AppStartup               // First event, emitted right at the start
	PreHookStart             // Emitted just before running each start hook
	PostHookStart            // Emitted just after a start hook succeeded
	AppRunning               // Emitted after starting every process
	ProcessStart             // Emitted before starting to run a Process
	ProcessEnd               // Emitted when a Process returns
	AppTerminating           // Emitted when the application starts termination
	PreHookStop              // Emitted before running each stop hook
	PostHookStop             // Emitted after running each stop hook, even a failed one
	AppTerminated            // Emitted last, once everything has stopped

	numEventTypes = iota
)

var eventTypeNames = [...]string{
	Unknown:        "Unknown",
	AppStartup:     "AppStartup",
	PreHookStart:   "PreHookStart",
	PostHookStart:  "PostHookStart",
	AppRunning:     "AppRunning",
	ProcessStart:   "ProcessStart",
	ProcessEnd:     "ProcessEnd",
	AppTerminating: "AppTerminating",
	PreHookStop:    "PreHookStop",
	PostHookStop:   "PostHookStop",
	AppTerminated:  "AppTerminated",
}

// String returns the constant's name, such as "AppRunning".
func (i EventType) String() string {
	if i >= 0 && int(i) < len(eventTypeNames) {
		return eventTypeNames[i]
	}
	return "EventType(" + strconv.Itoa(int(i)) + ")"
}

// Event is a lifecycle event. Name is the hook's or process's name for hook
// and process events, and empty for the App's own.
type Event struct {
	Type EventType
	Name string
}

// OnEvent receives the App's lifecycle events. See [App.OnEvent].
type OnEvent func(context.Context, Event)

// stateEvents maps each state to the event emitted when the App enters it.
var stateEvents = [numStates]EventType{
	StateStartup:     AppStartup,
	StateRunning:     AppRunning,
	StateTerminating: AppTerminating,
	StateTerminated:  AppTerminated,
}

// emit delivers one event. It is called with no lock held.
func (a *App) emit(ctx context.Context, t EventType, name string) {
	if a.onEvent != nil {
		a.onEvent(ctx, Event{Type: t, Name: name})
	}
}

// emitState logs the transitions so far and delivers the event for
// entering s, if it has one.
func (a *App) emitState(ctx context.Context, s State) {
	a.flushLog()
	if t := stateEvents[s]; t != Unknown {
		a.emit(ctx, t, "")
	}
}
