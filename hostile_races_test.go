package lu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostileRaces races Launch, Shutdown from several goroutines,
// Stop, the Launch context's cancellation and processes that fail, stop
// the App, panic or call runtime.Goexit, with random hooks, and checks the
// lifecycle's invariants after each run. Nothing in it is stuck, so no
// deadline may be reported. Seeds are printed on failure.
func TestHostileRaces(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		seed := uint64(i)*7919 + 17
		if !t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { stressOnce(t, seed) }) {
			return
		}
	}
}

func stressOnce(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var rec recorder
	a := &App{OnEvent: rec.OnEvent, StartupTimeout: 20 * time.Second, ShutdownTimeout: 20 * time.Second}
	if rng.IntN(3) == 0 {
		a.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if rng.IntN(4) == 0 {
		a.DrainDelay = time.Millisecond
	}
	var obsMu sync.Mutex
	var observed []JournalTransition
	if rng.IntN(2) == 0 {
		a.OnTransition(func(tr JournalTransition) {
			_ = a.Journal()
			_ = a.RunningProcesses()
			obsMu.Lock()
			observed = append(observed, tr)
			obsMu.Unlock()
		})
	}
	var rngMu sync.Mutex
	pickRng := rand.New(rand.NewPCG(seed+1, seed))
	pick := func(n int) int { rngMu.Lock(); defer rngMu.Unlock(); return pickRng.IntN(n) }
	sleepy := func() {
		if d := pick(4); d > 0 {
			time.Sleep(time.Duration(d) * 100 * time.Microsecond)
		}
	}

	for i := range rng.IntN(4) {
		fail := rng.IntN(8) == 0
		a.OnStartUp(func(ctx context.Context) error {
			if fail {
				return errors.New("start hook failed")
			}
			return nil
		}, WithHookName(fmt.Sprint("start", i)))
	}
	for i := range rng.IntN(4) {
		a.OnShutdown(nop, WithHookName(fmt.Sprint("stop", i)))
	}
	for i := range rng.IntN(3) {
		a.AddHook(Hook{Name: fmt.Sprint("pair", i), Start: nop, Stop: nop})
	}
	nprocs := rng.IntN(30)
	for i := range nprocs {
		kind := rng.IntN(8)
		delay := time.Duration(rng.IntN(3)) * 200 * time.Microsecond
		a.AddProcess(Process{Name: fmt.Sprint("p", i), Run: func(ctx context.Context) error {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return ctx.Err()
			}
			switch kind {
			case 0:
				return errors.New("failed")
			case 1:
				a.Stop(nil)
			case 2:
				a.Stop(errors.New("stop cause"))
			case 3:
				panic("boom")
			case 4:
				runtime.Goexit()
			case 5:
				return nil
			}
			<-ctx.Done()
			return context.Cause(ctx)
		}})
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	launched := make(chan error, 1)
	go func() { launched <- a.Launch(ctx) }()

	var wg sync.WaitGroup
	var resMu sync.Mutex
	var results []error
	for range rng.IntN(4) {
		wg.Go(func() {
			if pick(2) == 0 {
				time.Sleep(time.Duration(pick(4)) * 100 * time.Microsecond)
			}
			err := a.Shutdown()
			if errors.Is(err, ErrIllegalTransition) && strings.Contains(err.Error(), "state Idle") {
				return // before Launch made the run
			}
			resMu.Lock()
			results = append(results, err)
			resMu.Unlock()
		})
	}
	for range rng.IntN(3) {
		wg.Go(func() {
			time.Sleep(time.Duration(pick(4)) * 100 * time.Microsecond)
			a.Stop(nil)
		})
	}
	if rng.IntN(4) == 0 {
		wg.Go(func() { sleepy(); cancel() })
	}
	finalStop := rng.IntN(2) == 0

	done := make(chan struct{})
	var final error
	go func() {
		defer close(done)
		wg.Wait()
		<-launched
		if finalStop {
			a.Stop(nil)
			<-a.WaitForShutdown()
		}
		final = a.Shutdown()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the App did not terminate: state %s", a.State())
	}

	require.Equal(t, StateTerminated, a.State())
	for _, r := range results {
		assert.True(t, r == final, "every Shutdown returns the same result: %v vs %v", r, final)
	}
	var te *TimeoutError
	assert.False(t, errors.As(final, &te), "nothing was stuck: %v", final)

	// Let any straggler emit, then check the events.
	time.Sleep(time.Millisecond)
	ev := rec.Events()
	checkEvents(t, ev)

	j := a.Journal()
	for _, e := range append(append(j.StartHooks, j.StopHooks...), j.Processes...) {
		assert.False(t, e.Running, "%s still running in the journal", e.Name)
	}
	prev := StateIdle
	for _, tr := range j.Transitions {
		assert.Equal(t, prev, tr.From, "transitions chain: %v", transitionsOf(j.Transitions))
		assert.Greater(t, tr.To, tr.From, "states only move forward")
		prev = tr.To
	}
	obsMu.Lock()
	if observed != nil {
		assert.Equal(t, transitionsOf(j.Transitions), transitionsOf(observed), "OnTransition sees every transition once, in order")
	}
	obsMu.Unlock()
}

func checkEvents(t *testing.T, ev []string) {
	t.Helper()
	require.NotEmpty(t, ev)
	assert.Equal(t, "AppStartup", ev[0], "AppStartup first: %v", ev)
	requireEndsOnce(t, ev)
	running := -1
	pre := map[string]bool{}
	starts := map[string]bool{}
	ends := map[string]bool{}
	for i, e := range ev {
		typ, name, _ := strings.Cut(e, ":")
		switch typ {
		case "AppRunning":
			running = i
		case "PreHookStart", "PreHookStop":
			pre[typ+name] = true
		case "PostHookStart":
			assert.True(t, pre["PreHookStart"+name], "Post without Pre: %s in %v", e, ev)
		case "PostHookStop":
			assert.True(t, pre["PreHookStop"+name], "Post without Pre: %s in %v", e, ev)
		case "ProcessStart":
			starts[name] = true
		case "ProcessEnd":
			ends[name] = true
			if running < 0 && contains(ev, "AppRunning") {
				t.Errorf("ProcessEnd before AppRunning: %v", ev)
			}
		}
	}
	for name := range starts {
		assert.True(t, ends[name], "ProcessStart:%s without ProcessEnd: %v", name, ev)
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
