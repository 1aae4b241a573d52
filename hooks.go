package lu

import (
	"fmt"
	"strconv"
	"time"
)

// hook is a start hook, a stop hook, or a pair of both registered with
// [App.AddHook]. It is written once, at registration, and read-only after.
type hook struct {
	Name    string
	start   ProcessFunc   // runs during Launch; nil for a stop hook
	stop    ProcessFunc   // runs during the stop; nil for a start hook
	timeout time.Duration // WithHookTimeout; 0: none
	prio    HookPriority  // in [HookPriorityFirst, HookPriorityLast]
	seq     int           // registration order, the tie-breaker between equal priorities
}

// label names the hook in errors: its quoted name, or its registration
// number.
func (h *hook) label() string {
	if h.Name != "" {
		return strconv.Quote(h.Name)
	}
	return "#" + strconv.Itoa(h.seq)
}

// name is the hook's name, or its label if it has none.
func (h *hook) name() string {
	if h.Name != "" {
		return h.Name
	}
	return h.label()
}

// paired reports whether the hook's stop half undoes its start half.
func (h *hook) paired() bool { return h.start != nil && h.stop != nil }

// HookOption configures a hook registered with [App.OnStartUp],
// [App.OnShutdown] or [App.AddHook].
type HookOption func(*hook)

// WithHookName names the hook in events, logs, errors and pprof labels.
func WithHookName(s string) HookOption {
	return func(h *hook) { h.Name = s }
}

// WithHookTimeout bounds the hook to d, inside the overall start-up or
// shutdown budget: its context ends after d, and if it has not returned by
// then the App stops waiting for it and reports a *[TimeoutError] naming
// it. A start hook that times out fails the start-up; after a stop hook
// that times out, the next one runs. Zero means no timeout of the hook's
// own; a negative d is an error that Launch (or, for a late registration,
// Shutdown) returns.
func WithHookTimeout(d time.Duration) HookOption {
	return func(h *hook) { h.timeout = d }
}

// HookPriority orders hooks: lower runs earlier.
type HookPriority int

// The range of hook priorities, and the default.
const (
	HookPriorityFirst   HookPriority = -100
	HookPriorityDefault HookPriority = 0
	HookPriorityLast    HookPriority = 100
)

// WithHookPriority controls the order in which hooks run: the lower p, the
// earlier the hook runs; hooks of equal priority run in the order they were
// registered. The default priority is [HookPriorityDefault].
//
// WithHookPriority panics if p is outside [HookPriorityFirst,
// HookPriorityLast]: an out-of-range priority is a programming error best
// caught where it is written.
func WithHookPriority(p HookPriority) HookOption {
	if p < HookPriorityFirst || p > HookPriorityLast {
		panic(fmt.Sprintf("lu: hook priority %d outside [HookPriorityFirst, HookPriorityLast] = [%d, %d]",
			p, HookPriorityFirst, HookPriorityLast))
	}
	return func(h *hook) { h.prio = p }
}

// OnStartUp registers f to run during [App.Launch], before any process
// starts. Start hooks run one at a time, by priority and then in the order
// they were registered; the first to fail stops the start-up.
//
// A start hook may register stop hooks and processes. A nil f is an error
// that Launch returns, and so is registering a start hook once the start
// hooks have begun (Shutdown returns it if the processes had started).
func (a *App) OnStartUp(f ProcessFunc, opts ...HookOption) {
	a.addHook("OnStartUp", &hook{start: f}, opts)
}

// OnShutdown registers f to run while the App stops, after every process
// has returned. Stop hooks run one at a time, by priority and then in the
// order they were registered, each one even if an earlier one failed. Use
// them to close database connections and release what the start hooks
// acquired. After a failed Launch, stop hooks run only if the start hooks
// had begun; to release exactly what a start hook acquired, register the
// two as a pair with [App.AddHook].
//
// Stop hooks may be registered until the stop hooks begin, from a start
// hook or a process included; registering one later is an error that
// Shutdown returns. A nil f is an error that Launch returns (or Shutdown,
// for a registration after start-up).
func (a *App) OnShutdown(f ProcessFunc, opts ...HookOption) {
	a.addHook("OnShutdown", &hook{stop: f}, opts)
}

// Hook pairs a start func with the stop func that undoes it, for
// [App.AddHook]: open a database and close it, register a service and
// deregister it.
type Hook struct {
	// Name names both halves in events, logs and errors.
	Name string
	// Start runs among the start hooks.
	Start ProcessFunc
	// Stop runs among the stop hooks, and only if Start succeeded.
	Stop ProcessFunc
}

// AddHook registers a pair of hooks: h.Start runs among the start hooks,
// and h.Stop among the stop hooks, each in its place by priority and
// registration order, but h.Stop runs only if h.Start returned nil. So a
// stop func never has to check whether what it releases was acquired. The
// options apply to both halves; a WithHookName option overrides h.Name.
//
// A nil Start or Stop is an error that Launch returns. Registration follows
// the rules of [App.OnStartUp].
func (a *App) AddHook(h Hook, opts ...HookOption) {
	a.addHook("AddHook", &hook{Name: h.Name, start: h.Start, stop: h.Stop}, opts)
}

// addHook checks a registration and records it, or records why not.
func (a *App) addHook(call string, h *hook, opts []HookOption) {
	if a == nil {
		return // see NoApp
	}
	nilOption := false
	for _, o := range opts {
		if o == nil {
			nilOption = true
			continue
		}
		o(h)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reg.seq++
	h.seq = a.reg.seq
	if nilOption {
		a.reg.errs = append(a.reg.errs, fmt.Errorf("lu: %s: hook %s: a nil HookOption", call, h.label()))
		return
	}
	// A pair is too late once its start half can no longer run.
	late := h.start != nil && a.reg.startTaken || a.reg.stopTaken
	switch {
	case h.timeout < 0:
		a.reg.errs = append(a.reg.errs, fmt.Errorf("lu: %s: hook %s: negative WithHookTimeout %v", call, h.label(), h.timeout))
	case h.start == nil && call != "OnShutdown", h.stop == nil && call != "OnStartUp":
		a.reg.errs = append(a.reg.errs, fmt.Errorf("lu: %s: hook %s has a nil func", call, h.label()))
	case late:
		a.reg.errs = append(a.reg.errs, fmt.Errorf("lu: %s in state %s: hook %s will never run: %w",
			call, a.stateLocked(), h.label(), ErrIllegalTransition))
	default:
		a.reg.hooks = append(a.reg.hooks, h)
	}
}

// sortedHooks returns the hooks that have a start func (or, if stop, a
// stop func), in running order: by priority, then by registration.
// Priorities span a small fixed range, so a counting sort does it in O(n).
func sortedHooks(hooks []*hook, stop bool) []*hook {
	const buckets = HookPriorityLast - HookPriorityFirst + 1
	var start [buckets + 1]int
	n := 0
	for _, h := range hooks {
		if has(h, stop) {
			start[h.prio-HookPriorityFirst+1]++
			n++
		}
	}
	if n == 0 {
		return nil
	}
	for b := 1; b <= int(buckets); b++ {
		start[b] += start[b-1]
	}
	sorted := make([]*hook, n)
	for _, h := range hooks {
		if has(h, stop) {
			b := h.prio - HookPriorityFirst
			sorted[start[b]] = h
			start[b]++
		}
	}
	return sorted
}

func has(h *hook, stop bool) bool {
	if stop {
		return h.stop != nil
	}
	return h.start != nil
}
