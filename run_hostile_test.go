//go:build unix

package lu

// Hostile tests of Run's "the stop's cause is logged once" (logShutdown,
// beyondCause, sameError).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listError is an error of a value type that cannot be compared (a
// slice): errors like it exist (validation errors listing fields).
type listError struct{ fields []string }

func (e listError) Error() string { return "bad fields: " + strings.Join(e.fields, ",") }

// boxError is comparable as a type (reflect says so: its field is an
// interface), but == panics when the field holds a slice.
type boxError struct{ detail any }

func (e boxError) Error() string { return fmt.Sprintf("box error %v", e.detail) }

// runWithin runs a.Run under a watchdog and returns its code and what the
// App's Logger received.
func runWithin(t *testing.T, a *App) (int, string) {
	t.Helper()
	var buf lockedBuffer
	a.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	code := withinWatchdog(t, "Run", a.Run)
	return code, buf.String()
}

func linesWith(log, s string) []string {
	var out []string
	for line := range strings.Lines(log) {
		if strings.Contains(line, s) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// Run logs the stop's cause once also when its dynamic type cannot be
// compared (a struct error with a slice): Run tells it from the other
// failures by its text too.
func TestHostileRunLogsAnUncomparableCauseOnce(t *testing.T) {
	cause := listError{fields: []string{"name", "age"}}
	a := &App{}
	a.AddProcess(Process{Name: "job", Run: func(ctx context.Context) error {
		a.Stop(cause)
		<-ctx.Done()
		return nil
	}})
	code, log := runWithin(t, a)
	assert.Equal(t, 1, code)
	lines := linesWith(log, "bad fields: name,age")
	assert.Len(t, lines, 1, "the cause is logged %d times:\n%s", len(lines), strings.Join(lines, "\n"))
}

// sameError does not panic on a struct with an interface field holding a
// slice, whose type reflect calls comparable until == panics.
func TestHostileSameErrorDoesNotPanicOnUncomparableField(t *testing.T) {
	e := boxError{detail: []string{"x"}}
	panicked := func() (p any) {
		defer func() { p = recover() }()
		sameError(e, e)
		return nil
	}()
	assert.Nil(t, panicked, "sameError panicked")
}

// End to end: Stop(boxError{slice}) then Shutdown must not kill the
// binary ("comparing uncomparable type []string"). Run in a child test
// binary, so that a crash fails this test rather than the run.
func TestHostileStopWithAnUncomparableCauseDoesNotCrash(t *testing.T) {
	if os.Getenv("LU_HOSTILE3_CHILD") == "stop-box" {
		a := &App{}
		a.AddProcess(Process{Name: "p", Run: blocker})
		if err := a.Launch(context.Background()); err != nil {
			fmt.Println("launch:", err)
			os.Exit(3)
		}
		a.Stop(boxError{detail: []string{"x"}})
		err := a.Shutdown()
		fmt.Printf("survived: %v\n", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pidWatchdog)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHostileStopWithAnUncomparableCauseDoesNotCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LU_HOSTILE3_CHILD=stop-box")
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "the child crashed")
	assert.Contains(t, string(out), "survived: box error [x]", "%s", firstLines(string(out), 12))
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(lines[:min(n, len(lines))], "")
}

// Holds: a stop hook that fails with the very error value given to Stop
// is still named in Run's log (its failure is wrapped with the hook's
// name, so sameError does not drop it with the cause).
func TestHostileRunHoldsAStopHookFailingWithTheCausesValue(t *testing.T) {
	cause := errors.New("upstream gone")
	var buf lockedBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	a := &App{}
	a.AddProcess(Process{Name: "job", Run: func(ctx context.Context) error {
		a.Stop(cause)
		<-ctx.Done()
		return nil
	}})
	a.OnShutdown(func(context.Context) error { return cause }, WithHookName("flush"))
	code := withinWatchdog(t, "Run", a.Run)
	assert.Equal(t, 1, code)
	log := buf.String()
	assert.Contains(t, log, "flush", "the stop hook's failure is named somewhere in Run's log:\n%s", log)
}

// Holds: OnShutdownErr's verdicts: nil exits 0 and logs no failure; the
// same error exits 1 and logs only beyond the cause; another error is
// logged as it is; a non-comparable error returned is logged, not
// compared into a panic.
func TestHostileRunHoldsOnShutdownErrVerdicts(t *testing.T) {
	for _, tt := range []struct {
		name    string
		verdict func(error) error
		code    int
		want    []string // substrings of "shutdown failed" lines
	}{
		{"nil", func(error) error { return nil }, 0, nil},
		{"same", func(err error) error { return err }, 1, nil},
		{"other", func(error) error { return errors.New("mine") }, 1, []string{"mine"}},
		{"uncomparable", func(error) error { return listError{fields: []string{"z"}} }, 1, []string{"bad fields: z"}},
		{"box", func(error) error { return boxError{detail: []int{1}} }, 1, []string{"box error [1]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &App{ShutdownTimeout: time.Second}
			a.AddProcess(Process{Name: "job", Run: func(ctx context.Context) error {
				a.Stop(errors.New("the cause"))
				<-ctx.Done()
				return nil
			}})
			a.OnShutdownErr = func(_ context.Context, err error) error { return tt.verdict(err) }
			code, log := runWithin(t, a)
			assert.Equal(t, tt.code, code)
			assert.Len(t, linesWith(log, "the cause"), 1, "%s", log)
			failed := linesWith(log, "lu: shutdown failed")
			require.Len(t, failed, len(tt.want), "%s", log)
			for i, w := range tt.want {
				assert.Contains(t, failed[i], w)
			}
		})
	}
}
