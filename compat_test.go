package lu_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/utils/clock"

	"github.com/lu-go/lu"
)

// TestReferenceAPI pins the signatures of the original lu API: a service
// written against it must compile against this package with only the import
// path changed.
func TestReferenceAPI(t *testing.T) {
	var (
		_ func(*errgroup.Group) <-chan error                      = lu.ErrGroupWait
		_ func(*sync.WaitGroup) <-chan struct{}                   = lu.SyncGroupWait
		_ func(context.Context, clock.Clock, time.Duration) error = lu.Wait
		_ func(context.Context, <-chan int) (int, error)          = lu.WaitFor[int]
		_ func(context.Context, clock.Clock, time.Time) error     = lu.WaitUntil
		_ func() *lu.App                                          = lu.NoApp
		_ func(*lu.App, ...lu.Process)                            = (*lu.App).AddProcess
		_ func(*lu.App) []lu.Process                              = (*lu.App).GetProcesses
		_ func(*lu.App, context.Context) error                    = (*lu.App).Launch
		_ func(*lu.App, lu.ProcessFunc, ...lu.HookOption)         = (*lu.App).OnShutdown
		_ func(*lu.App, lu.ProcessFunc, ...lu.HookOption)         = (*lu.App).OnStartUp
		_ func(*lu.App) int                                       = (*lu.App).Run
		_ func(*lu.App) []string                                  = (*lu.App).RunningProcesses
		_ func(*lu.App) error                                     = (*lu.App).Shutdown
		_ func(*lu.App) <-chan struct{}                           = (*lu.App).WaitForShutdown
		_ func(context.Context) lu.AppContext                     = lu.NewAppContext
		_ func(lu.AppContext)                                     = lu.AppContext.Stop
		_ func(lu.EventType) string                               = lu.EventType.String
		_ func(string) lu.HookOption                              = lu.WithHookName
		_ func(lu.HookPriority) lu.HookOption                     = lu.WithHookPriority
		_ func(func()) lu.ProcessFunc                             = lu.WrapProcessFunc[func()]
		_ func(func(context.Context)) lu.ProcessFunc              = lu.WrapProcessFunc[func(context.Context)]
		_ func(func() error) lu.ProcessFunc                       = lu.WrapProcessFunc[func() error]
		_ lu.OnEvent                                              = func(context.Context, lu.Event) {}
		_ lu.ProcessFunc                                          = func(context.Context) error { return nil }
		_ func(ctx context.Context, err error) error              = lu.App{}.OnShutdownErr
		_                                                         = lu.App{StartupTimeout: time.Second, ShutdownTimeout: time.Second, OnEvent: nil, UseProcessFile: false}
		_                                                         = lu.Process{Name: "", Run: nil, Shutdown: func(context.Context) error { return nil }}
		_                                                         = lu.Event{Type: lu.AppStartup, Name: ""}
		_                                                         = lu.AppContext{}.AppContext
		_                                                         = lu.AppContext{}.TerminationContext
		_                                                         = []lu.EventType{lu.Unknown, lu.AppStartup, lu.PreHookStart, lu.PostHookStart, lu.AppRunning, lu.ProcessStart, lu.ProcessEnd, lu.AppTerminating, lu.PreHookStop, lu.PostHookStop, lu.AppTerminated}
		_                                                         = []lu.HookPriority{lu.HookPriorityFirst, lu.HookPriorityDefault, lu.HookPriorityLast}
	)
	if lu.HookPriorityFirst != -100 || lu.HookPriorityDefault != 0 || lu.HookPriorityLast != 100 {
		t.Fatal("hook priorities differ from the original's")
	}
	if lu.Unknown != 0 || lu.AppTerminated != 10 {
		t.Fatal("event type values differ from the original's")
	}
}
