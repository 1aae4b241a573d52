package lu

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrIllegalTransition is wrapped by the error returned when a call is not
// allowed in the App's current state, such as a second Launch, or Shutdown
// before Launch. Check for it with errors.Is.
var ErrIllegalTransition = errors.New("lu: illegal transition")

// ErrBreakContextLoop, returned by the func of a process.Loop built with
// process.WithBreakableLoop, ends that loop cleanly. It is also
// process.ErrBreakContextLoop; it lives here too for code written against
// the original lu, which defined it in this package.
var ErrBreakContextLoop = errors.New("lu: break context loop")

// TransitionError is the error returned for a call that the App's state
// does not allow. The App's state is left unchanged.
type TransitionError struct {
	State   State   // the state the App was in
	Trigger Trigger // the call or internal step that was refused
}

// Error reads like "lu: Launch in state Running".
func (e *TransitionError) Error() string {
	return "lu: " + e.Trigger.String() + " in state " + e.State.String()
}

// Unwrap returns [ErrIllegalTransition].
func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }

// TimeoutError reports a start-up or shutdown that did not finish before
// its deadline. It wraps context.DeadlineExceeded and names what was still
// running.
type TimeoutError struct {
	// State is the state the App was in when the deadline passed.
	State State
	// Processes lists the processes that had not returned (or whose
	// Shutdown func had not returned), by name, in the order they were added.
	Processes []string
	// Hook names the hook that was running when the deadline passed, if any.
	Hook string
	// Running is how long the stuck hook or the stuck processes had been
	// running for when the App gave up on them.
	Running time.Duration
}

func (e *TimeoutError) Error() string {
	var b strings.Builder
	b.WriteString("lu: deadline exceeded in state ")
	b.WriteString(e.State.String())
	if e.Hook != "" {
		fmt.Fprintf(&b, ": hook %q still running after %v", e.Hook, e.Running.Round(time.Millisecond))
	}
	if len(e.Processes) > 0 {
		fmt.Fprintf(&b, ": %d process(es) still running after %v: %s",
			len(e.Processes), e.Running.Round(time.Millisecond), quoteList(e.Processes))
	}
	return b.String()
}

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// PanicError is the error that a panic in a process or hook is turned
// into. The App recovers the panic, records it with its stack and carries
// on as if the function had returned this error.
type PanicError struct {
	// Where says what panicked, such as `process "worker"` or
	// `stop hook "db"`.
	Where string
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, from runtime/debug.Stack.
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("lu: panic in %s: %v\n%s", e.Where, e.Value, e.Stack)
}

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

func quoteList(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		if n == "" {
			n = "<unnamed>"
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}
