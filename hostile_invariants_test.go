package lu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHostileRandomInvariants is a randomized hunt that checks the events'
// promises after each run, where TestHostileRandomFailures only checks
// that the App terminates: random panics and runtime.Goexit in callbacks
// (the Logger's handler included), hooks, Start funcs, processes and
// Shutdown funcs, stuck ones, Stop and Launch-context cancellation from
// anywhere.
func TestHostileRandomInvariants(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		if msg := randomInvariantsOnce(i); msg != "" {
			t.Errorf("iteration %d: %s", i, msg)
		}
	}
}

// pickyRandHandler is randHandler, except that it never fails the log of
// a process's start.
type pickyRandHandler struct{ randHandler }

func (h pickyRandHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "lu: process started" {
		return nil
	}
	return h.randHandler.Handle(ctx, r)
}
func (h pickyRandHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h pickyRandHandler) WithGroup(string) slog.Handler      { return h }

func randomInvariantsOnce(i int) string {
	release := make(chan struct{})
	var rec recorder
	hostile := func() {
		switch rand.IntN(40) {
		case 0:
			runtime.Goexit()
		case 1:
			panic("cb")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &App{ShutdownTimeout: 20 * time.Millisecond, StartupTimeout: 50 * time.Millisecond}
	if rand.IntN(2) == 0 {
		a.Logger = slog.New(pickyRandHandler{})
	}
	a.OnEvent = func(c context.Context, e Event) {
		rec.OnEvent(c, e)
		_ = a.Journal()
		switch rand.IntN(30) {
		case 0:
			a.Stop(nil)
		case 1:
			cancel()
		}
		hostile()
	}
	if rand.IntN(2) == 0 {
		a.OnTransition(func(JournalTransition) { _ = a.Journal(); hostile() })
	}
	body := func(ctx context.Context) error {
		switch rand.IntN(12) {
		case 0:
			<-release
		case 1:
			runtime.Goexit()
		case 2:
			return errors.New("x")
		case 3:
			a.Stop(nil)
		case 4:
			panic("h")
		}
		return nil
	}
	for j := range rand.IntN(3) {
		a.OnStartUp(body, WithHookName(fmt.Sprint("s", j)))
	}
	for j := range rand.IntN(2) {
		a.AddHook(Hook{Start: body, Stop: body}, WithHookName(fmt.Sprint("pair", j)))
	}
	for j := range rand.IntN(3) {
		a.OnShutdown(body, WithHookName(fmt.Sprint("x", j)),
			WithHookTimeout(time.Duration(rand.IntN(3))*time.Millisecond))
	}
	for j := range rand.IntN(5) {
		p := Process{Name: fmt.Sprint("p", j), Run: func(ctx context.Context) error {
			switch rand.IntN(10) {
			case 0:
				<-release
				return nil
			case 1:
				runtime.Goexit()
			case 2:
				panic("p")
			case 3:
				return errors.New("p")
			case 4:
				a.Stop(nil)
			}
			<-ctx.Done()
			return nil
		}, Shutdown: func(context.Context) error {
			switch rand.IntN(10) {
			case 0:
				<-release
			case 1:
				runtime.Goexit()
			}
			return nil
		}}
		if rand.IntN(3) == 0 {
			p.Start = body
		}
		if rand.IntN(5) == 0 {
			p.Run = nil
		}
		a.AddProcess(p)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Launch(ctx) })
	results := make([]error, 2)
	for k := range 2 {
		wg.Go(func() {
			time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
			for a.State() == StateIdle {
				runtime.Gosched()
			}
			results[k] = a.Shutdown()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		close(release)
		return "stuck in " + a.State().String()
	}
	if a.State() != StateTerminated {
		close(release)
		return "ended " + a.State().String()
	}
	before := len(rec.Events())
	close(release)
	time.Sleep(5 * time.Millisecond) // let abandoned work end: can only hide a bug
	ev := rec.Events()
	var problems []string
	if len(ev) != before {
		problems = append(problems, fmt.Sprintf("events after Shutdown returned: %v", ev[before:]))
	}
	if results[0] != results[1] {
		problems = append(problems, fmt.Sprintf("two Shutdowns, two results: %v / %v", results[0], results[1]))
	}
	problems = append(problems, checkEventPromises(ev, a.Journal())...)
	if problems != nil {
		return strings.Join(problems, "; ") + fmt.Sprintf("\nevents: %v", ev)
	}
	return ""
}

// checkEventPromises checks the events' promises against a run's events and
// journal.
func checkEventPromises(ev []string, j Journal) []string {
	var p []string
	if len(ev) == 0 || ev[0] != "AppStartup" {
		p = append(p, "AppStartup not first")
	}
	if n := slices.Index(ev, "AppTerminated"); n != len(ev)-1 || strings.Count(strings.Join(ev, " "), "AppTerminated") != 1 {
		p = append(p, "AppTerminated not last and once")
	}
	running := slices.Index(ev, "AppRunning")
	seen := map[string]int{}
	for k, e := range ev {
		seen[e]++
		if seen[e] > 1 && e != "AppTerminated" {
			p = append(p, "duplicated "+e)
		}
		typ, name, _ := strings.Cut(e, ":")
		switch typ {
		case "ProcessStart":
			if running >= 0 && k > running {
				p = append(p, e+" after AppRunning")
			}
		case "ProcessEnd":
			if running < 0 || k < running {
				p = append(p, e+" before AppRunning")
			}
			if !slices.Contains(ev[:k], "ProcessStart:"+name) {
				p = append(p, e+" without its ProcessStart")
			}
		case "PostHookStart", "PostHookStop":
			pre := "Pre" + strings.TrimPrefix(typ, "Post") + ":" + name
			if !slices.Contains(ev[:k], pre) {
				p = append(p, e+" without "+pre)
			}
		}
	}
	abandoned := map[string]bool{}
	for _, e := range j.Processes {
		if e.Abandoned {
			abandoned[e.Name] = true
		}
	}
	for _, e := range ev {
		if name, ok := strings.CutPrefix(e, "ProcessStart:"); ok && !abandoned[name] && !slices.Contains(ev, "ProcessEnd:"+name) {
			p = append(p, e+" without its ProcessEnd, and not abandoned")
		}
	}
	return p
}
