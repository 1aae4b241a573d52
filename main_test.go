package lu

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder collects events; its OnEvent is safe for concurrent use.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) OnEvent(_ context.Context, e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs(e.Type, e.Name))
}

func (r *recorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func evs(t EventType, name string) string {
	if name == "" {
		return t.String()
	}
	return fmt.Sprintf("%v:%s", t, name)
}

// blocker is a process Run that blocks until its context ends.
func blocker(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func nop(context.Context) error { return nil }
