package lu

import "context"

// EmitForBenchmark delivers one event through the App's dispatch path.
func EmitForBenchmark(a *App, t EventType, name string) {
	if a.onEvent == nil {
		a.onEvent = a.OnEvent
	}
	a.emit(context.Background(), t, name)
}
