package process_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
)

// TestAContextAlreadyDone: a process given a context that is already done
// does no work and returns its cause.
func TestAContextAlreadyDone(t *testing.T) {
	why := errors.New("stopped before it began")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(why)
	called := func(context.Context) error { t.Error("the func was called"); return nil }
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	for name, p := range map[string]lu.Process{
		"Loop":         process.Loop(called),
		"Retry":        process.Retry(called),
		"ContextLoop":  process.ContextLoop(process.ActiveContext()("r"), called),
		"ContextRetry": process.ContextRetry(process.ActiveContext()("r"), called),
		"Scheduled": process.Scheduled(process.ActiveContext(), process.NewMemoryCursor(), "s", process.Poll(0),
			func(context.Context, time.Time, time.Time, string) error { t.Error("the func was called"); return nil }),
		"HTTP": process.HTTP("api", &http.Server{Addr: taken.Addr().String(), ReadHeaderTimeout: time.Second}),
		"NoOp": process.NoOp(),
	} {
		assert.ErrorIs(t, p.Run(ctx), why, name)
	}
}

// TestContextFuncsThatReturnNothingUsable: a nil context is an error, a
// nil release func is none.
func TestContextFuncsThatReturnNothingUsable(t *testing.T) {
	nilCtx := func(context.Context) (context.Context, context.CancelFunc, error) { return nil, nil, nil }
	p := process.ContextLoop(nilCtx, nop, quiet)
	assert.EqualError(t, p.Run(context.Background()), "getting a context: the ContextFunc returned a nil context")

	nilRelease := func(ctx context.Context) (context.Context, context.CancelFunc, error) { return ctx, nil, nil }
	assert.NoError(t, process.ContextRetry(nilRelease, nop, quiet).Run(context.Background()))

	nilFunc := func(string) process.ContextFunc { return nil }
	s := process.Scheduled(nilFunc, process.NewMemoryCursor(), "job", process.Every(time.Hour), nopRun, quiet)
	assert.EqualError(t, s.Run(context.Background()), `the AwaitRoleFunc returned a nil ContextFunc for role "job"`)
}

func TestScheduledFuncPanicStopsTheApp(t *testing.T) {
	a := &lu.App{}
	a.AddProcess(process.Scheduled(process.ActiveContext(), process.NewMemoryCursor(), "job", process.Poll(0),
		func(context.Context, time.Time, time.Time, string) error { panic("bad data") }, quiet))
	require.NoError(t, a.Launch(context.Background()))
	<-a.WaitForShutdown()
	var p *lu.PanicError
	assert.ErrorAs(t, a.Shutdown(), &p)
}

func TestSecureHTTPWithoutACertificateFailsLaunch(t *testing.T) {
	a := &lu.App{}
	a.AddProcess(process.NewHTTPServer("api", &http.Server{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second},
		process.WithTLS("", "")).Process())
	assert.EqualError(t, a.Launch(context.Background()),
		`lu: Start of process "https api": no TLS certificate: give its files, or set the server's TLSConfig`)
}

func TestFileCursorThroughASymlinkSharesTheLock(t *testing.T) {
	target := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(target, link))
	writer, err := process.NewFileCursor(target)
	require.NoError(t, err)
	done := make(chan error)
	go func() {
		for i := range 300 {
			if err := writer.Set(context.Background(), "job", time.Unix(int64(i), 0).String()); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		select {
		case err := <-done:
			require.NoError(t, err)
			return
		default:
			_, err := process.NewFileCursor(link)
			require.NoError(t, err)
		}
	}
}

// TestAClockThatGoesBack: a cursor ahead of the clock waits for the firing
// after it, and never runs a firing twice.
func TestAClockThatGoesBack(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 30, 0, time.UTC)
	fake := lutest.NewClock()
	fake.SetTime(t0)
	cursor := process.NewMemoryCursor()
	calls, stop := runScheduled(t, fake, cursor, process.Every(time.Minute))
	lutest.Step(t, fake, 30*time.Second)
	r := next(t, calls)
	r.result <- nil
	lutest.AwaitWaiters(t, fake, 10*time.Second)
	fake.SetTime(t0.Add(-time.Hour)) // the clock is set back an hour
	noCall(t, calls)
	fake.SetTime(r.runTime.Add(time.Minute))
	r2 := next(t, calls)
	assert.Equal(t, r.runTime.Add(time.Minute), r2.runTime)
	r2.result <- nil
	assert.NoError(t, ignoreCanceled(stop()))
}
