package lu

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile tests of the journal.

// A stop hook the App gave up on shows as running only while it runs: its
// end, a return or a runtime.Goexit, is recorded, as an abandoned
// process's is.
func TestHostileJournalLearnsWhenAnAbandonedHookEnds(t *testing.T) {
	for _, how := range []string{"returns", "Goexit"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				returned := make(chan struct{})
				a := &App{ShutdownTimeout: 100 * time.Millisecond}
				a.OnShutdown(func(context.Context) error {
					defer close(returned)
					<-release
					if how == "Goexit" {
						goexit(nil)
					}
					return nil
				}, WithHookName("slow"))
				a.AddProcess(Process{Name: "p", Run: func(context.Context) error { <-release; return nil }})
				require.NoError(t, a.Launch(context.Background()))
				err := a.Shutdown()
				var te *TimeoutError
				require.ErrorAs(t, err, &te)
				close(release)
				<-returned
				synctest.Wait()
				j := a.Journal()
				assert.False(t, j.Processes[0].Running, "the abandoned process that returned is shown ended")
				assert.False(t, j.StopHooks[0].Running, "the abandoned hook has returned: the journal shows it running for good")
				assert.Empty(t, a.RunningProcesses())
			})
		})
	}
}

// An abandoned process that later fails is shown ended, with its error.
func TestHostileJournalKeepsTheErrorOfAnAbandonedProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		a := &App{ShutdownTimeout: 100 * time.Millisecond}
		a.AddProcess(Process{Name: "p", Run: func(context.Context) error { <-release; return errors.New("late failure") }})
		require.NoError(t, a.Launch(context.Background()))
		_ = a.Shutdown()
		close(release)
		synctest.Wait()
		e := a.Journal().Processes[0]
		assert.False(t, e.Running)
		assert.Error(t, e.Err, "the journal records how the process ended")
	})
}

// selfQueryingError is a panic value whose Error method asks the App for
// its running processes, as a diagnostic error type might.
type selfQueryingError struct{ a *App }

func (e selfQueryingError) Error() string {
	return "failed while running " + stringsJoin(e.a.RunningProcesses())
}

func stringsJoin(s []string) string {
	out := ""
	for _, x := range s {
		out += x + " "
	}
	return out
}

// Journal builds the entries' Error texts, which come from the errors'
// own methods, without holding a lock: a panic value whose Error method
// calls back into the App does not deadlock it.
func TestHostileJournalCallsErrorMethodsWithoutTheLock(t *testing.T) {
	a := &App{}
	a.AddProcess(Process{Name: "p", Run: func(context.Context) error { panic(selfQueryingError{a}) }})
	require.NoError(t, a.Launch(context.Background()))
	<-a.WaitForShutdown()
	_ = a.Shutdown()

	got := make(chan Journal, 1)
	go func() { got <- a.Journal() }()
	select {
	case j := <-got:
		assert.Contains(t, j.Processes[0].Error, "failed while running")
	case <-time.After(5 * time.Second):
		t.Fatal("Journal deadlocked: it called the panic value's Error method while holding run.mu")
	}
}

// A ProcessStart callback that panics stops the App and fails Launch, but
// the process it announced is started, so its ProcessEnd follows and the
// journal lists it.
func TestHostileFailingProcessStartKeepsProcessEnd(t *testing.T) {
	var rec recorder
	a := &App{}
	a.OnEvent = func(ctx context.Context, e Event) {
		rec.OnEvent(ctx, e)
		if e.Type == ProcessStart {
			panic("callback")
		}
	}
	a.AddProcess(Process{Name: "p", Run: blocker})
	require.Error(t, a.Launch(context.Background()))
	ev := rec.Events()
	assert.Contains(t, ev, "ProcessStart:p")
	assert.Contains(t, ev, "ProcessEnd:p", "every ProcessStart has its ProcessEnd unless abandoned: %v", ev)
}
