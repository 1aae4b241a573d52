package etcdrole

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

// replica is one App with its own etcd session, running a process that
// holds "leader" while it runs.
type replica struct {
	id    int
	app   *lu.App
	roles *Roles
	net   *proxy       // its link to etcd
	cause atomic.Value // the cause the process saw when it lost the role
}

// holders tracks which replicas hold the role right now.
type holders struct {
	mu     sync.Mutex
	now    map[int]bool
	max    int
	change chan struct{}
}

func newHolders() *holders { return &holders{now: map[int]bool{}, change: make(chan struct{}, 100)} }

func (h *holders) set(id int, on bool) {
	h.mu.Lock()
	if on {
		h.now[id] = true
	} else {
		delete(h.now, id)
	}
	h.max = max(h.max, len(h.now))
	h.mu.Unlock()
	select {
	case h.change <- struct{}{}:
	default:
	}
}

func (h *holders) current() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []int
	for id := range h.now {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// waitFor waits until exactly one replica other than not holds the role,
// and returns it.
func (h *holders) waitFor(t *testing.T, not int, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if c := h.current(); len(c) == 1 && c[0] != not {
			return c[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single new holder within %v: holders %v", within, h.current())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newRoles(t *testing.T, ttl time.Duration) *Roles {
	r, err := New(Config{Endpoints: []string{etcdEndpoint(t)}, TTL: ttl, Prefix: "/" + t.Name() + "/"})
	require.NoError(t, err)
	return r
}

func startReplica(t *testing.T, id int, ttl time.Duration, h *holders) *replica {
	link := newProxy(t, etcdEndpoint(t))
	r, err := New(Config{Endpoints: []string{link.Endpoint()}, TTL: ttl, Prefix: "/" + t.Name() + "/"})
	require.NoError(t, err)
	rep := &replica{id: id, roles: r, net: link}
	rep.app = &lu.App{ShutdownTimeout: 10 * time.Second}
	rep.roles.Attach(rep.app)
	rep.app.AddProcess(process.ContextLoop(rep.roles.AwaitRole("leader"), func(ctx context.Context) error {
		h.set(id, true)
		<-ctx.Done()
		h.set(id, false)
		rep.cause.Store(context.Cause(ctx))
		return nil
	}, process.WithName(fmt.Sprintf("leader-%d", id)), process.WithErrorSleep(100*time.Millisecond)))
	require.NoError(t, rep.app.Launch(context.Background()))
	t.Cleanup(func() { _ = rep.app.Shutdown() })
	return rep
}

func TestRoleHandOver(t *testing.T) {
	const ttl = 2 * time.Second
	h := newHolders()
	reps := map[int]*replica{}
	for id := 1; id <= 3; id++ {
		reps[id] = startReplica(t, id, ttl, h)
	}

	leader := h.waitFor(t, 0, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // others keep campaigning meanwhile
	assert.Equal(t, []int{leader}, h.current(), "exactly one replica holds the role")

	// A graceful stop resigns at once.
	start := time.Now()
	require.NoError(t, reps[leader].app.Shutdown())
	next := h.waitFor(t, leader, 5*time.Second)
	graceful := time.Since(start)
	t.Logf("graceful hand-over from replica %d to %d took %v", leader, next, graceful)
	assert.Less(t, graceful, time.Second)

	// A crash, or a partition: the replica's link to etcd goes silent, so
	// its lease is no longer refreshed and nothing is resigned or revoked;
	// the role moves when the lease expires.
	start = time.Now()
	reps[next].net.Cut()
	third := h.waitFor(t, next, ttl+5*time.Second)
	crash := time.Since(start)
	t.Logf("crash hand-over from replica %d to %d took %v (TTL %v)", next, third, crash, ttl)
	assert.LessOrEqual(t, crash, ttl+time.Second, "within the lease TTL, plus etcd's expiry check (every 500 ms)")
	assert.Greater(t, crash, ttl/2, "the role waited for the lease, it was not handed over")

	cause, _ := reps[next].cause.Load().(error)
	require.ErrorIs(t, cause, ErrRoleLost, "the process learns why its context ended")
	assert.Contains(t, cause.Error(), "etcd session lost")
	assert.Equal(t, 1, h.max, "never two holders at once")
}

func TestScheduledRunsEachFiringOnceAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 10 s")
	}
	var mu sync.Mutex
	runs := map[string][]int{} // runID -> replicas that ran it
	apps := make([]*lu.App, 3)
	for i := range apps {
		r := newRoles(t, 2*time.Second)
		a := &lu.App{ShutdownTimeout: 10 * time.Second}
		r.Attach(a)
		a.AddProcess(process.Scheduled(r.AwaitRole, r.Cursor(), "tick", process.Every(time.Second),
			func(_ context.Context, _, _ time.Time, runID string) error {
				mu.Lock()
				defer mu.Unlock()
				runs[runID] = append(runs[runID], i)
				return nil
			}, process.WithErrorSleep(100*time.Millisecond)))
		require.NoError(t, a.Launch(context.Background()))
		apps[i] = a
	}
	leaderOf := func() int {
		mu.Lock()
		defer mu.Unlock()
		last := ""
		for id := range runs {
			last = max(last, id)
		}
		if last == "" {
			return -1
		}
		return runs[last][0]
	}
	time.Sleep(5 * time.Second)
	leader := leaderOf()
	require.GreaterOrEqual(t, leader, 0, "something ran")
	require.NoError(t, apps[leader].Shutdown(), "the leader changes")
	time.Sleep(5 * time.Second)
	for i, a := range apps {
		if i != leader {
			require.NoError(t, a.Shutdown())
		}
	}

	mu.Lock()
	defer mu.Unlock()
	ids := make([]string, 0, len(runs))
	ranBy := map[int]int{}
	for id, who := range runs {
		ids = append(ids, id)
		assert.Len(t, who, 1, "firing %s ran on replicas %v", id, who)
		ranBy[who[0]]++
	}
	sort.Strings(ids)
	t.Logf("%d firings over 10 s, by replica %v: %v", len(ids), ranBy, ids)
	assert.GreaterOrEqual(t, len(ids), 9)
	assert.Len(t, ranBy, 2, "one leader, then one other after the change")
	for i := 1; i < len(ids); i++ {
		var prev, cur int64
		fmt.Sscanf(ids[i-1], "tick_%d", &prev)
		fmt.Sscanf(ids[i], "tick_%d", &cur)
		assert.Equal(t, prev+1, cur, "no firing skipped at the hand-over: %s then %s", ids[i-1], ids[i])
	}
}

func TestCursorRefusesADeposedLeader(t *testing.T) {
	ctx := context.Background()
	a, b := newRoles(t, 2*time.Second), newRoles(t, 2*time.Second)
	require.NoError(t, a.Start(ctx))
	defer a.Stop(ctx)
	require.NoError(t, b.Start(ctx))
	defer b.Stop(ctx)

	actx, release, err := a.AwaitRole("job")(ctx)
	require.NoError(t, err)
	defer release()
	require.NoError(t, a.Cursor().Set(actx, "job", "100"))

	// A loses its lease behind its back (as in a long GC pause or a
	// partition); B takes the role.
	_, err = a.client.Revoke(ctx, a.lease.session.Lease())
	require.NoError(t, err)
	bctx, releaseB, err := b.AwaitRole("job")(ctx)
	require.NoError(t, err)
	defer releaseB()

	err = a.Cursor().Set(context.WithoutCancel(actx), "job", "200")
	require.ErrorIs(t, err, ErrNotLeader, "a deposed leader cannot move the cursor")
	require.NoError(t, b.Cursor().Set(bctx, "job", "300"))
	v, err := b.Cursor().Get(ctx, "job")
	require.NoError(t, err)
	assert.Equal(t, "300", v)

	assert.ErrorContains(t, a.Cursor().Set(ctx, "job", "1"), "outside a role held through AwaitRole")
}

func TestUnreachableEtcdFailsLaunch(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	r, err := New(Config{Endpoints: []string{"http://" + addr}, DialTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	a := &lu.App{}
	r.Attach(a)
	err = a.Launch(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "etcd at http://"+addr+" unreachable")
	assert.Equal(t, lu.StateTerminated, a.State())
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{{}, {Endpoints: []string{" "}}, {Endpoints: []string{"x"}, TTL: -1}} {
		_, err := New(c)
		assert.Error(t, err, "%+v", c)
	}
	r, err := New(Config{Endpoints: []string{"x"}})
	require.NoError(t, err)
	_, _, err = r.AwaitRole("x")(context.Background())
	assert.ErrorContains(t, err, "while not started")
}
