package lu

import (
	"context"
	"fmt"
	"runtime/pprof"
	"strconv"
)

// call is one call of a user's func on a goroutine of its own, so that the
// App can stop waiting for it, and so that a panic or a runtime.Goexit in
// it ends only that goroutine.
type call struct {
	kind  string // what the func is, such as "stop hook"
	name  string // whose it is
	seq   int    // for a hook without a name, its registration number
	label string // the pprof label key, set to name if name is not empty
	f     func(context.Context) error
}

// where names the func in errors, such as `stop hook "db"` or `stop hook
// #3`. It is built only when there is an error to report.
func (c call) where() string {
	if c.name == "" && c.seq > 0 {
		return c.kind + " #" + strconv.Itoa(c.seq)
	}
	return c.kind + " " + strconv.Quote(c.name)
}

// outcome is how the call numbered i ended.
type outcome struct {
	i   int
	err error
}

// run calls c.f and sends how it ended to done, which must have room for
// it: f's error wrapped with where, or a *PanicError for a panic or a
// runtime.Goexit.
func (c call) run(ctx context.Context, i int, done chan<- outcome) {
	var err error
	returned := false
	defer func() {
		if !returned {
			v := recover()
			if v == nil {
				v = ErrGoexit
			}
			err = newPanicError(c.where(), v)
		}
		done <- outcome{i, err}
	}()
	err = c.invoke(ctx)
	returned = true
}

// invoke calls c.f under c's pprof label, and wraps its error with where.
func (c call) invoke(ctx context.Context) error {
	if c.name != "" && c.label != "" {
		labelled := pprof.WithLabels(ctx, pprof.Labels(c.label, c.name))
		pprof.SetGoroutineLabels(labelled)
		defer pprof.SetGoroutineLabels(ctx)
		ctx = labelled
	}
	if err := c.f(ctx); err != nil {
		return fmt.Errorf("lu: %s: %w", c.where(), err)
	}
	return nil
}
