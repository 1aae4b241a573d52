package lu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrIllegalTransition is wrapped by the error returned when a call is not
// allowed in the App's current state, such as a second Launch, or Shutdown
// before Launch. Check for it with errors.Is.
var ErrIllegalTransition = errors.New("lu: illegal transition")

// ErrGoexit is wrapped by the *[PanicError] that a hook, process, Shutdown
// func or callback is reported with when it called runtime.Goexit (as
// t.FailNow does) instead of returning.
var ErrGoexit = errors.New("runtime.Goexit called")

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

// TimeoutError reports a hook, a group of processes or a start-up that did
// not finish before its deadline. It wraps context.DeadlineExceeded and
// names what was still running.
type TimeoutError struct {
	// State is the state the App was in when the stuck work began: HookStart
	// for a start hook, Terminating for processes, HookStop for a stop hook.
	State State
	// Processes lists the processes that had not returned (or whose
	// Shutdown func, or in state HookStart whose Start func, had not
	// returned), by name, in the order they were added.
	Processes []string
	// Hook names the hook that did not finish in time, if any.
	Hook string
	// NotStarted lists, in running order, the start hooks that never ran
	// because Hook did not finish.
	NotStarted []string
	// Running is how long the stuck hook or processes had been running for
	// when the App gave up on them.
	Running time.Duration
}

// Error reads like `lu: deadline exceeded in state HookStop: hook "flush"
// still running after 5s`.
func (e *TimeoutError) Error() string {
	var b strings.Builder
	b.WriteString("lu: deadline exceeded in state ")
	b.WriteString(e.State.String())
	if e.Hook != "" {
		fmt.Fprintf(&b, ": hook %q still running after %v", e.Hook, e.Running.Round(time.Millisecond))
	}
	switch {
	case len(e.Processes) > 0 && e.State == StateHookStart:
		fmt.Fprintf(&b, ": Start of process %s still running after %v", quoteList(e.Processes), e.Running.Round(time.Millisecond))
	case len(e.Processes) > 0:
		fmt.Fprintf(&b, ": %d process(es) still running after %v: %s",
			len(e.Processes), e.Running.Round(time.Millisecond), quoteList(e.Processes))
	case e.Hook == "":
		fmt.Fprintf(&b, " after %v", e.Running.Round(time.Millisecond))
	}
	if len(e.NotStarted) > 0 {
		fmt.Fprintf(&b, "; never started: %s", quoteList(e.NotStarted))
	}
	return b.String()
}

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// PanicError is what a panic in a hook, process, Shutdown func or callback
// is turned into, and a call to runtime.Goexit too (its Value is then
// [ErrGoexit]). The App recovers, records the stack, and carries on as if
// the function had returned this error.
type PanicError struct {
	// Where says what panicked, such as `process "worker"` or
	// `stop hook "db"`.
	Where string
	// Value is the value passed to panic, or ErrGoexit.
	Value any
	// Stack is the goroutine's stack when it panicked, from
	// runtime/debug.Stack. Error leaves it out; %+v prints it.
	Stack []byte
}

func newPanicError(where string, v any) *PanicError {
	return &PanicError{Where: where, Value: v, Stack: debug.Stack()}
}

// Error is one line: where, and the value, with any line break in it
// escaped and shortened to its first KiB if it is longer (Value keeps it
// whole).
func (e *PanicError) Error() string {
	if e.Value == ErrGoexit {
		return "lu: " + e.Where + " called runtime.Goexit"
	}
	return "lu: panic in " + e.Where + ": " + oneLine(fmt.Sprint(e.Value))
}

// maxPanicText is how much of a panic value's text Error keeps: enough to
// say what it was, short enough for a log line.
const maxPanicText = 1024

// lineBreaks escapes every character that ends a line somewhere: in a
// terminal, in a log viewer, in a JSON or Unicode-aware reader.
var lineBreaks = strings.NewReplacer("\r", `\r`, "\n", `\n`, "\v", `\v`, "\f", `\f`,
	"\u0085", `\u0085`, "\u2028", `\u2028`, "\u2029", `\u2029`)

// oneLine returns v on one line, shortened to maxPanicText bytes (at a
// character's start) with a note of its full length.
func oneLine(v string) string {
	if len(v) > maxPanicText {
		cut := maxPanicText
		for back := 0; back < utf8.UTFMax-1 && !utf8.RuneStart(v[cut]); back++ {
			cut-- // to the start of the character cut through, if it is one
		}
		v = fmt.Sprintf("%s... (%d bytes in all)", v[:cut], len(v))
	}
	return lineBreaks.Replace(v)
}

// Format prints Error's line for every verb as it would print a string
// (%v, %s, %q, %x), and for %+v the line followed by the stack.
func (e *PanicError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		io.WriteString(f, e.Error())
		io.WriteString(f, "\n")
		f.Write(e.Stack)
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), e.Error())
}

// MarshalText returns Error's line. Structured logs use it: log/slog's
// text handler would otherwise print an error with %+v, stack and all.
func (e *PanicError) MarshalText() ([]byte, error) {
	return []byte(e.Error()), nil
}

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// quoteList quotes names and separates them with commas.
func quoteList(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", orUnnamed(n))
	}
	return b.String()
}

func orUnnamed(n string) string {
	if n == "" {
		return "<unnamed>"
	}
	return n
}

// The App calls the methods of errors it did not make (a hook's, a
// process's, a context's cause) on its own goroutines: these helpers keep a
// panic in them from taking the lifecycle down.

// safeIs is errors.Is, false if a method of err panics.
func safeIs(err, target error) (is bool) {
	defer func() {
		if recover() != nil {
			is = false
		}
	}()
	return errors.Is(err, target)
}

// safeAs is errors.As, false if a method of err panics.
func safeAs(err error, target any) (as bool) {
	defer func() {
		if recover() != nil {
			as = false
		}
	}()
	return errors.As(err, target)
}

// errorText is err.Error(), or says that it panicked.
func errorText(err error) (s string) {
	defer func() {
		if v := recover(); v != nil {
			s = fmt.Sprintf("%T (its Error method panicked: %v)", err, v)
		}
	}()
	return err.Error()
}

// wrapped is an error that says what happened and wraps its cause, whose
// text it takes once, safely.
type wrapped struct {
	msg   string
	cause error
}

func wrap(prefix string, cause error) error {
	return &wrapped{msg: prefix + ": " + errorText(cause), cause: cause}
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.cause }

// sameError reports whether a and b are the same error value; false when
// they cannot be compared (a struct holding a slice in an interface field
// is one whose type says it can, until == panics).
func sameError(a, b error) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}
