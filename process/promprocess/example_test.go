package promprocess_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lu-go/lu/process"
	"github.com/lu-go/lu/process/promprocess"
)

// Register the metrics on the registry that the service's /metrics handler
// serves, and give them to each process with process.WithMetrics.
func ExampleNew() {
	reg := prometheus.NewRegistry()
	metrics, err := promprocess.New(reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The service serves reg: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).

	attempts := 0
	connect := process.Retry(func(context.Context) error {
		if attempts++; attempts < 3 {
			return errors.New("connection refused")
		}
		return nil
	},
		process.WithName("connect"),
		process.WithMetrics(metrics),
		process.WithErrorSleep(0), // a service would back off
		process.WithLogger(slog.New(slog.DiscardHandler)),
	)
	_ = connect.Run(context.Background())

	families, _ := reg.Gather()
	for _, f := range families {
		for _, m := range f.GetMetric() {
			fmt.Println(f.GetName(), m.GetLabel()[0].GetValue(), m.GetCounter().GetValue())
		}
	}
	// Output:
	// lu_process_error_count connect 2
}
