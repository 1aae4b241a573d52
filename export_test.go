package lu

import "context"

// Emitter returns a func that delivers one event through a's dispatch path,
// as a launched App does, for BenchmarkEmit.
func Emitter(a *App) func(EventType, string) {
	r := &run{cfg: config{onEvent: a.OnEvent}}
	ctx := context.Background()
	return func(t EventType, name string) { _ = r.emit(ctx, t, name) }
}
