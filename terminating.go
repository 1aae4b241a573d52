package lu

import (
	"context"
	"time"
)

// The work of state Terminating: the Shutdown funcs, and the processes'
// return. It runs on the stop goroutine (see stop.go).

// stopProcesses is the work of state Terminating: it calls the Shutdown
// funcs that are due, cancels the processes' context and waits for the
// processes, until deadline (or, once it has passed, for a last share of
// time each). What it gave up on is named in a *TimeoutError; abandoned
// processes report nothing more. It also returns how long it waited for
// the processes' callbacks after they had returned.
func (r *run) stopProcesses(deadline time.Time) ([]error, time.Duration) {
	if len(r.procs) == 0 {
		return nil, 0
	}
	began := time.Now()
	timer := time.NewTimer(time.Until(later(deadline, began.Add(lastShare))))
	defer timer.Stop()
	stuck := make([]bool, len(r.procs))
	errs, expired := r.callShutdownFuncs(later(deadline, began.Add(lastShare)), timer.C, stuck)
	r.cancelProcs(r.stopReq.cause)
	if expired { // the processes get the last share to return as asked
		timer.Reset(lastShare)
	}
	allEnded := false
	select {
	case <-ErrGroupWait(&r.eg):
		allEnded = true
	case <-timer.C:
	}
	names, userTime := r.giveUp(stuck, allEnded)
	for i := range r.procs {
		if p := &r.procs[i]; p.state.Load() == procEnded && p.err != nil {
			errs = append(errs, p.err)
		}
	}
	if names != nil {
		errs = append(errs, &TimeoutError{State: StateTerminating, Processes: names, Running: time.Since(began)})
	}
	return errs, userTime
}

// giveUp abandons the processes still running at the deadline, waits for
// the delivery of the ends of those that returned, and returns the names of
// the processes abandoned or whose Shutdown func is stuck, in order, and
// how long it waited for callbacks after the processes had returned.
func (r *run) giveUp(stuck []bool, allEnded bool) ([]string, time.Duration) {
	var names []string
	var userTime time.Duration
	if !allEnded {
		r.awaited = make(chan struct{}, len(r.procs)) // sized to its senders
		n := 0
		for i := range r.procs {
			p := &r.procs[i]
			if p.state.CompareAndSwap(procRunning, procAbandoned) {
				stuck[i] = true
				r.mu.Lock()
				r.leftRunning = true
				r.mu.Unlock()
			} else if p.state.CompareAndSwap(procReturned, procAwaited) {
				n++
			}
		}
		waited := time.Now()
		for range n {
			<-r.awaited // the user's callbacks' time, as always
		}
		userTime = time.Since(waited)
	} else if r.cfg.callbacks() {
		userTime = r.deliveryTime()
	}
	for i, s := range stuck {
		if s {
			names = append(names, r.procs[i].Name)
		}
	}
	return names, userTime
}

// deliveryTime returns how long the processes' ends took to deliver after
// the last of them returned: callbacks' time.
func (r *run) deliveryTime() time.Duration {
	var last stamp
	for i := range r.procs {
		last = max(last, stamp(r.procs[i].ended.Load()))
	}
	if last == 0 {
		return 0
	}
	return max(0, time.Duration(r.journal.now()-last))
}

// callShutdownFuncs calls every Shutdown func that is due, all at once, and
// waits for them until expire fires. It marks those that did not return in
// stuck and reports whether the deadline passed.
func (r *run) callShutdownFuncs(deadline time.Time, expire <-chan time.Time, stuck []bool) ([]error, bool) {
	n := 0
	for i := range r.procs {
		if p := &r.procs[i]; p.due && p.Shutdown != nil {
			stuck[i] = true
			n++
		}
	}
	if n == 0 {
		return nil, false
	}
	ctx, cancel := context.WithDeadline(r.procCtx, deadline)
	defer cancel()
	results := make(chan outcome, n) // sized to its senders
	recs, of := make([]hookRecord, 0, n), make(map[int]int, n)
	r.mu.Lock()
	for i, s := range stuck {
		if s {
			p := &r.procs[i]
			of[i] = len(recs)
			recs = append(recs, hookRecord{h: &hook{Name: p.Name}, started: r.journal.now(), step: stepCall})
			c := call{kind: "Shutdown of process", name: p.Name, label: "lu_process", f: p.Shutdown}
			r.work.Go(func() { c.run(ctx, i, results) })
		}
	}
	r.journal.shutdowns = recs
	r.mu.Unlock()
	var errs []error
	for ; n > 0; n-- {
		select {
		case o := <-results:
			stuck[o.i] = false
			r.mu.Lock()
			recs[of[o.i]].ended, recs[of[o.i]].err = r.journal.now(), o.err
			r.mu.Unlock()
			if o.err != nil {
				errs = append(errs, o.err)
			}
		case <-expire:
			r.mu.Lock()
			for i := range recs {
				recs[i].abandoned = recs[i].ended == 0
			}
			r.leftRunning = true
			r.mu.Unlock()
			return errs, true
		}
	}
	return errs, false
}
