package process

import "time"

// Metrics receives what the processes of this package measure. Set it per
// process with [WithMetrics]; nothing is reported without it, and nothing
// is registered anywhere globally. The promprocess package adapts it to
// Prometheus.
type Metrics interface {
	// ProcessError counts one error of the named process.
	ProcessError(process string)
	// ScheduleCursorLag reports how far a schedule's cursor lags behind the
	// run that is due: zero when it is up to date.
	ScheduleCursorLag(process string, lag time.Duration)
}

type noMetrics struct{}

func (noMetrics) ProcessError(string)                     {}
func (noMetrics) ScheduleCursorLag(string, time.Duration) {}
