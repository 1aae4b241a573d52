package lu

import (
	"context"
	"log/slog"
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
	PostHookStop             // Emitted after a stop hook returned, even with an error
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

// Event is a lifecycle event, as given to [App.OnEvent]. Events are
// comparable: tests compare them with ==.
type Event struct {
	// Type is the kind of event.
	Type EventType
	// Name is the hook's or process's name for hook and process events
	// (empty for an unnamed one), and empty for the App's own events.
	Name string
}

// OnEvent receives the App's lifecycle events. See [App.OnEvent].
type OnEvent func(context.Context, Event)

// emit delivers one event to OnEvent, with no lock held. A panic in the
// callback is returned as a *PanicError. If the callback calls
// runtime.Goexit, the goroutine ends: emit records the failure, and the
// deferred handler of the goroutine's owner carries on (see run.stop and
// run.launch).
func (r *run) emit(ctx context.Context, t EventType, name string) (err error) {
	if r.cfg.onEvent == nil {
		return nil
	}
	returned := false
	defer func() {
		if !returned {
			v := recover()
			err = r.callbackFailed("the OnEvent callback for "+evName(t, name), v, v == nil)
		}
	}()
	r.cfg.onEvent(ctx, Event{Type: t, Name: name})
	returned = true
	return nil
}

// callbackFailed turns what recover returned in a callback that did not
// return into a *PanicError; a nil v means runtime.Goexit. If record is
// set (always for a Goexit, whose goroutine is ending and cannot return the
// error), the failure is handed to failCallback.
func (r *run) callbackFailed(where string, v any, record bool) error {
	if v == nil {
		v = ErrGoexit
	}
	err := newPanicError(where, v)
	if record {
		r.failCallback(err)
	}
	return err
}

// failCallback records a callback's failure for Shutdown to return, and
// stops the App, as a failing hook would.
func (r *run) failCallback(err error) {
	r.mu.Lock()
	r.callbackErrs = append(r.callbackErrs, err)
	r.mu.Unlock()
	r.requestStop(TriggerStop, stopRequest{cause: err})
}

func evName(t EventType, name string) string {
	if name == "" {
		return t.String()
	}
	return t.String() + "(" + strconv.Quote(name) + ")"
}

// log writes one record to the App's Logger, if it has one. A panic (or
// runtime.Goexit) in the Logger's handler is recorded for Shutdown to
// return, and the lifecycle carries on.
func (r *run) log(level slog.Level, msg string, args ...any) {
	if r.cfg.log == nil {
		return
	}
	returned := false
	defer func() {
		if !returned {
			r.callbackFailed("the Logger's handler", recover(), true)
		}
	}()
	r.cfg.log.Log(context.Background(), level, msg, args...)
	returned = true
}

// callbackFailures returns how many callbacks have failed so far.
func (r *run) callbackFailures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.callbackErrs)
}
