package lu

import "context"

// EmitForBenchmark delivers one event through the App's dispatch path.
func EmitForBenchmark(a *App, t EventType, name string) {
	r := run{cfg: config{onEvent: a.OnEvent}}
	_ = r.emit(context.Background(), t, name)
}
