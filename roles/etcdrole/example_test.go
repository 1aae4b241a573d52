package etcdrole_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
	"github.com/lu-go/lu/roles/etcdrole"
)

// A service whose replicas share work through roles in etcd: the nightly
// report runs once across the replicas, on the one holding its role, and
// only one replica writes the ledger at a time. It needs an etcd cluster,
// so the example is compiled, not run.
func ExampleNew() {
	roles, err := etcdrole.New(etcdrole.Config{
		Endpoints: []string{"http://etcd-0.etcd:2379", "http://etcd-1.etcd:2379", "http://etcd-2.etcd:2379"},
		TTL:       10 * time.Second, // how long a crashed replica's roles stay vacant
	})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}

	var a lu.App
	roles.Attach(&a) // connect at start-up; resign and revoke the lease at shutdown

	report := func(ctx context.Context, lastRun, runTime time.Time, runID string) error {
		return nil // build the report for runTime
	}
	a.AddProcess(process.Scheduled(roles.AwaitRole, roles.Cursor(), "nightly-report", process.TimeOfDay(2, 0), report))

	writeLedger := func(ctx context.Context) error {
		<-ctx.Done() // write until the App stops or the role is lost
		return nil
	}
	a.AddProcess(process.ContextLoop(roles.AwaitRole("ledger-writer"), writeLedger, process.WithName("ledger")))

	os.Exit(a.Run())
}

// AwaitRole blocks until this replica holds the role, and returns a
// context that ends, with a cause wrapping ErrRoleLost, the moment the
// role is lost. The processes of this package call it for each run; a
// program may call it itself. Compiled, not run: it needs etcd.
func ExampleRoles_AwaitRole() {
	roles, err := etcdrole.New(etcdrole.Config{Endpoints: []string{"http://127.0.0.1:2379"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := roles.Start(ctx); err != nil { // App.Run does it through Attach
		fmt.Println(err)
		return
	}
	defer roles.Stop(ctx)

	held, release, err := roles.AwaitRole("leader")(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer release()
	<-held.Done()
	fmt.Println("lost the role:", context.Cause(held))
}
