package lu

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// FuzzLifecycle decodes random bytes into a concurrent schedule: the first
// byte picks how many goroutines (1 to 4) apply stimuli, each further byte
// gives one goroutine its next stimulus. The goroutines run at the same
// time, without waiting for the App to settle, so the stimuli race; time is
// synctest's fake time, so deadlines pass at once. The invariants are those
// of TestExploreAllSequences.
//
//	go test -run '^$' -fuzz FuzzLifecycle -fuzztime 30s
func FuzzLifecycle(f *testing.F) {
	f.Add([]byte{1, byte(doLaunch), byte(doStartHookOK), byte(doShutdown), byte(doStopHookOK)})
	f.Add([]byte{2, byte(doLaunch), 1<<4 | byte(doShutdown), byte(doShutdown), 1<<4 | byte(doStartHookOK)})
	f.Add([]byte{3, byte(doLaunch), 1<<4 | byte(doProcessFail), 2<<4 | byte(doCancelLaunchContext),
		byte(doStartHookOK), 1<<4 | byte(doShutdown), 2<<4 | byte(doPassDeadline)})
	f.Add([]byte{4, byte(doLaunch), 1<<4 | byte(doStartHookPanic), 2<<4 | byte(doShutdown),
		3<<4 | byte(doLaunch), byte(doStopHookFail), 1<<4 | byte(doPassDeadline)})
	f.Add([]byte{2, byte(doCallbackPanic), byte(doLaunch), 1<<4 | byte(doStop), byte(doStartHookGoexit),
		1<<4 | byte(doProcessGoexit), byte(doStopHookGoexit)})
	f.Add([]byte{3, byte(doLaunch), 1<<4 | byte(doCallbackPanic), 2<<4 | byte(doStop), byte(doStartHookOK),
		1<<4 | byte(doProcessGoexit), 2<<4 | byte(doCallbackPanic), byte(doShutdown)})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 64 {
			return
		}
		workers := int(data[0])%4 + 1
		plans := make([][]stimulus, workers)
		for _, b := range data[1:] {
			w := int(b>>4) % workers
			plans[w] = append(plans[w], stimulus(int(b&0xf)%int(numStimuli)))
		}
		synctest.Test(t, func(t *testing.T) {
			h := newHarness()
			c := &concurrent{h: h}
			var wg sync.WaitGroup
			for _, plan := range plans {
				wg.Go(func() {
					for _, s := range plan {
						c.apply(s)
					}
				})
			}
			c.drain(&wg)
			h.finish()
			if len(h.violations) > 0 {
				t.Fatalf("schedule %v:\n  %s\n  events: %s", plans, strings.Join(h.violations, "\n  "), h.eventsString())
			}
		})
	})
}

// concurrent applies stimuli to a harness from several goroutines.
type concurrent struct {
	h       *harness
	mu      sync.Mutex // guards the harness's bookkeeping, not the calls
	winners int        // Launch calls that were not refused
}

func (c *concurrent) apply(s stimulus) {
	h := c.h
	switch s {
	case doLaunch:
		c.mu.Lock()
		h.launched = true
		c.mu.Unlock()
		// Whichever call the machine takes first launches; every other
		// one must be refused.
		err := h.a.Launch(h.ctx)
		if errors.Is(err, ErrIllegalTransition) {
			return
		}
		c.mu.Lock()
		c.winners++
		if c.winners > 1 {
			h.violate("two Launch calls were accepted")
		}
		c.mu.Unlock()
		h.launchErr <- err
	case doShutdown:
		c.mu.Lock()
		if h.shutdowns >= 2 {
			c.mu.Unlock()
			return
		}
		h.shutdowns++
		c.mu.Unlock()
		err := h.a.Shutdown()
		if errors.Is(err, ErrIllegalTransition) {
			c.mu.Lock()
			h.shutdowns-- // refused before Launch: not a result to compare
			c.mu.Unlock()
			return
		}
		h.shutdownErrs <- err
	case doCancelLaunchContext:
		c.mu.Lock()
		h.cancelled = true
		c.mu.Unlock()
		h.cancel()
	case doPassDeadline:
		time.Sleep(exploreTimeout + time.Second)
	case doStop:
		h.a.Stop(nil)
	case doCallbackPanic:
		h.panicNext.Store(true)
	default:
		// A command only reaches a component that waits for one; the
		// others are dropped, as if the event never happened.
		ch, _, cmd := h.target(s)
		select {
		case ch <- cmd:
		default:
		}
	}
}

// drain lets the workers finish: whatever waits for a command or at the
// gate is let through, and fake time moves on while everyone sleeps.
func (c *concurrent) drain(wg *sync.WaitGroup) {
	h := c.h
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	for {
		synctest.Wait()
		select {
		case <-done:
			return
		default:
		}
		select {
		case h.gate <- struct{}{}:
			continue
		case h.startCmd <- cmdOK:
			continue
		case h.stopCmd <- cmdOK:
			continue
		default:
		}
		time.Sleep(exploreTimeout + time.Second) // everyone sleeps: let time pass
	}
}
