package lu_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lu-go/lu"
)

// Each benchmark runs lu beside a baseline doing the same work in the same
// run, so that benchstat can report the ratio. Sub-benchmark names are
// impl=<lu|baseline>/N=<count>.

var sizes = []int{1, 100, 10000}

// BenchmarkLaunch: one op builds an app with N processes that block on
// their context, launches it, waits until all run, shuts it down and waits
// until all returned.
func BenchmarkLaunch(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("impl=errgroup/N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				runErrgroup(n, nil)
			}
		})
		b.Run(fmt.Sprintf("impl=lu/N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				runLu(b, n, nil)
			}
		})
	}
}

// BenchmarkShutdownLatency times only the stop: from Shutdown (or the
// cancel) until every process has returned, N = 10,000.
func BenchmarkShutdownLatency(b *testing.B) {
	const n = 10000
	b.Run(fmt.Sprintf("impl=errgroup/N=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			runErrgroup(n, b)
		}
	})
	b.Run(fmt.Sprintf("impl=lu/N=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			runLu(b, n, b)
		}
	})
}

// runErrgroup is the baseline: a bare errgroup running n processes. If
// timeStop is set, only the stop is timed.
func runErrgroup(n int, timeStop *testing.B) {
	if timeStop != nil {
		timeStop.StopTimer()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	running.Add(n)
	var eg errgroup.Group
	for range n {
		eg.Go(func() error {
			running.Done()
			<-ctx.Done()
			return nil
		})
	}
	running.Wait()
	if timeStop != nil {
		timeStop.StartTimer()
	}
	cancel()
	_ = eg.Wait()
}

func runLu(b *testing.B, n int, timeStop *testing.B) {
	if timeStop != nil {
		timeStop.StopTimer()
	}
	var running sync.WaitGroup
	running.Add(n)
	var a lu.App
	run := func(ctx context.Context) error {
		running.Done()
		<-ctx.Done()
		return nil
	}
	for range n {
		a.AddProcess(lu.Process{Run: run})
	}
	if err := a.Launch(context.Background()); err != nil {
		b.Fatal(err)
	}
	running.Wait()
	if timeStop != nil {
		timeStop.StartTimer()
	}
	if err := a.Shutdown(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkHooks: one op launches and shuts down an app with N start and N
// stop hooks (registered outside the timer); the baseline calls the same
// funcs in two plain loops.
func BenchmarkHooks(b *testing.B) {
	for _, n := range []int{100, 10000} {
		var calls int
		f := func(context.Context) error { calls++; return nil }
		b.Run(fmt.Sprintf("impl=loop/N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			hooks := make([]lu.ProcessFunc, n)
			for i := range hooks {
				hooks[i] = f
			}
			for b.Loop() {
				for _, h := range hooks {
					_ = h(ctx)
				}
				for _, h := range hooks {
					_ = h(ctx)
				}
			}
		})
		b.Run(fmt.Sprintf("impl=lu/N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				var a lu.App
				for i := range n {
					p := lu.HookPriority(i%201 - 100)
					a.OnStartUp(f, lu.WithHookPriority(p))
					a.OnShutdown(f, lu.WithHookPriority(p))
				}
				if n >= 1000 {
					runtime.GC() // the registration's garbage is not the launch's
				}
				b.StartTimer()
				if err := a.Launch(context.Background()); err != nil {
					b.Fatal(err)
				}
				if err := a.Shutdown(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEmit: delivering one event to an OnEvent callback.
func BenchmarkEmit(b *testing.B) {
	var n int
	a := &lu.App{OnEvent: func(context.Context, lu.Event) { n++ }}
	a.AddProcess(lu.Process{Name: "p", Run: func(context.Context) error { return nil }})
	b.Run("impl=call", func(b *testing.B) {
		b.ReportAllocs()
		f := a.OnEvent
		ctx := context.Background()
		for b.Loop() {
			f(ctx, lu.Event{Type: lu.ProcessEnd, Name: "p"})
		}
	})
	b.Run("impl=lu", func(b *testing.B) {
		b.ReportAllocs()
		emit := lu.Emitter(a)
		for b.Loop() {
			emit(lu.ProcessEnd, "p")
		}
	})
}

// BenchmarkRegisterHooks: registering N hooks must be O(n log n) or better.
func BenchmarkRegisterHooks(b *testing.B) {
	f := func(context.Context) error { return nil }
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("impl=lu/N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var a lu.App
				for i := range n {
					a.OnStartUp(f, lu.WithHookPriority(lu.HookPriority(i%201-100)))
				}
			}
		})
	}
}

// BenchmarkLaunchPaired runs lu and the bare errgroup alternately, one op
// each per iteration (each first every other time), and reports the ratio
// of their total times, lu/errgroup: the two are measured moments apart,
// so a machine whose speed drifts moves both alike. ns/op is the time of
// both together.
func BenchmarkLaunchPaired(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			var eg, l time.Duration
			timed := func(f func()) time.Duration {
				t := time.Now()
				f()
				return time.Since(t)
			}
			i := 0
			for b.Loop() {
				if i%2 == 0 {
					eg += timed(func() { runErrgroup(n, nil) })
					l += timed(func() { runLu(b, n, nil) })
				} else {
					l += timed(func() { runLu(b, n, nil) })
					eg += timed(func() { runErrgroup(n, nil) })
				}
				i++
			}
			b.ReportMetric(float64(l)/float64(eg), "lu/errgroup")
			b.ReportMetric(float64(l.Nanoseconds())/float64(b.N), "lu-ns/op")
		})
	}
}
