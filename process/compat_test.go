package process_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"k8s.io/utils/clock"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

// TestReferenceAPI pins the signatures of the process package of Luno's
// lu, save its reflex consumers and WithRecover (see MIGRATING.md): a
// service written against it compiles with only the import path changed.
func TestReferenceAPI(t *testing.T) {
	var (
		_ func(lu.ProcessFunc, ...process.Option) lu.Process                                                                         = process.Loop
		_ func(lu.ProcessFunc, ...process.Option) lu.Process                                                                         = process.Retry
		_ func(process.ContextFunc, lu.ProcessFunc, ...process.Option) lu.Process                                                    = process.ContextLoop
		_ func(process.ContextFunc, lu.ProcessFunc, ...process.Option) lu.Process                                                    = process.ContextRetry
		_ func(string, *http.Server) lu.Process                                                                                      = process.HTTP
		_ func(string, *http.Server, string, string) lu.Process                                                                      = process.SecureHTTP
		_ func() lu.Process                                                                                                          = process.NoOp
		_ func() process.AwaitRoleFunc                                                                                               = process.ActiveContext
		_ func() process.Cursor                                                                                                      = process.NewMemoryCursor
		_ func(string) (process.Schedule, error)                                                                                     = process.ParseCron
		_ func(time.Duration) process.Schedule                                                                                       = process.Poll
		_ func(time.Duration, ...process.EveryOption) process.Schedule                                                               = process.Every
		_ func(time.Duration, ...process.EveryOption) process.Schedule                                                               = process.FixedInterval
		_ func(time.Duration) process.EveryOption                                                                                    = process.WithOffset
		_ func(string) process.EveryOption                                                                                           = process.WithDescription
		_ func(int, int) process.Schedule                                                                                            = process.TimeOfDay
		_ func(cron.Schedule, *time.Location) cron.Schedule                                                                          = process.ToTimezone
		_ func(time.Duration) process.SleepFunc                                                                                      = process.SleepFor
		_ func(time.Duration) process.ErrorSleepFunc                                                                                 = process.ErrorSleepFor
		_ func(uint, time.Duration, []uint) process.ErrorSleepFunc                                                                   = process.MakeErrorSleepFunc
		_ func(string) process.Option                                                                                                = process.WithName
		_ func(string) process.Option                                                                                                = process.WithRole
		_ func(time.Duration) process.Option                                                                                         = process.WithSleep
		_ func(process.SleepFunc) process.Option                                                                                     = process.WithSleepFunc
		_ func(time.Duration) process.Option                                                                                         = process.WithErrorSleep
		_ func(process.ErrorSleepFunc) process.Option                                                                                = process.WithErrorSleepFunc
		_ func(clock.Clock) process.Option                                                                                           = process.WithClock
		_ func(uint) process.Option                                                                                                  = process.WithMaxErrors
		_ func() process.Option                                                                                                      = process.WithBreakableLoop
		_ []uint                                                                                                                     = process.DefaultBackoff
		_ error                                                                                                                      = lu.ErrBreakContextLoop
		_ process.ContextFunc                                                                                                        = func(ctx context.Context) (context.Context, context.CancelFunc, error) { return ctx, func() {}, nil }
		_ process.AwaitRoleFunc                                                                                                      = func(string) process.ContextFunc { return nil }
		_ process.ScheduledFunc                                                                                                      = func(context.Context, time.Time, time.Time, string) error { return nil }
		_ process.SleepFunc                                                                                                          = func() time.Duration { return 0 }
		_ process.ErrorSleepFunc                                                                                                     = func(uint, error) time.Duration { return 0 }
		_ process.Schedule                                                                                                           = cron.Schedule(nil)
		_ func(process.AwaitRoleFunc, process.Cursor, string, process.Schedule, process.ScheduledFunc, ...process.Option) lu.Process = process.Scheduled
		_ interface {
			Get(context.Context, string) (string, error)
			Set(context.Context, string, string) error
		} = process.Cursor(nil)
	)
	if len(process.DefaultBackoff) != 7 || process.DefaultBackoff[6] != 100 {
		t.Fatal("DefaultBackoff differs from the original's")
	}
}
