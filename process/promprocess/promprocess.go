// Package promprocess reports the metrics of lu's process package to
// Prometheus, on a registry the caller chooses: importing it registers
// nothing.
package promprocess

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lu-go/lu/process"
)

// Metrics implements process.Metrics with two collectors:
// lu_process_error_count{process_name}, a counter of errors, and
// lu_process_schedule_cursor_lag_seconds{process_name}, a gauge of how far
// a schedule's cursor lags behind the firing that is due.
type Metrics struct {
	errors    *prometheus.CounterVec
	cursorLag *prometheus.GaugeVec
}

var _ process.Metrics = (*Metrics)(nil)

// New registers the collectors on reg and returns the Metrics to pass to
// process.WithMetrics. It fails if reg already has collectors by those
// names.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lu_process_error_count",
			Help: "Errors returned by lu processes.",
		}, []string{"process_name"}),
		cursorLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lu_process_schedule_cursor_lag_seconds",
			Help: "How far a scheduled process's cursor lags behind the firing that is due.",
		}, []string{"process_name"}),
	}
	for _, c := range []prometheus.Collector{m.errors, m.cursorLag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ProcessError counts one error of the named process.
func (m *Metrics) ProcessError(name string) {
	m.errors.WithLabelValues(name).Inc()
}

// ScheduleCursorLag sets the named schedule's cursor lag.
func (m *Metrics) ScheduleCursorLag(name string, lag time.Duration) {
	m.cursorLag.WithLabelValues(name).Set(lag.Seconds())
}
