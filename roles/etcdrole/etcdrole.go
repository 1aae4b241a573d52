// Package etcdrole coordinates lu processes across replicas with roles held
// in etcd: a process built with [process.ContextLoop] or
// [process.Scheduled] and this package's AwaitRole runs only on the replica
// that holds its role, and stops the moment that replica loses it.
//
// Roles are etcd elections (go.etcd.io/etcd/client/v3/concurrency) under
// one lease per replica. A graceful stop resigns at once, so the role moves
// to another replica without waiting; a crashed or partitioned replica's
// roles move when its lease expires, after at most the TTL. The cursor
// returned by [Roles.Cursor] stores schedules' last runs in etcd and writes
// only while the role is still held, so a deposed leader cannot move it.
package etcdrole

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

// ErrRoleLost is the cause (see context.Cause) with which a role's context
// is cancelled when the role is lost: the lease expired or was revoked, the
// election key was deleted, or the connection to etcd closed.
var ErrRoleLost = errors.New("etcdrole: role lost")

// ErrNotLeader is returned by the cursor's Set when the role it was given
// is no longer held: the write did not happen.
var ErrNotLeader = errors.New("etcdrole: role no longer held: cursor not written")

// Config configures Roles.
type Config struct {
	// Endpoints are the etcd client URLs, such as "http://etcd-0.etcd:2379".
	Endpoints []string
	// TTL is the lease's time to live: how long after a replica stops
	// refreshing its lease (it crashed, or is cut off) its roles move to
	// another. Rounded up to whole seconds; default 10 s, at least 1 s.
	TTL time.Duration
	// Prefix is the key prefix of the elections and cursors; default
	// "/lu/".
	Prefix string
	// DialTimeout bounds connecting to each endpoint at start-up; default
	// 5 s.
	DialTimeout time.Duration
}

// Roles is one replica's membership in the role elections.
type Roles struct {
	cfg    Config
	ttlSec int

	mu      sync.Mutex
	client  *clientv3.Client
	lease   *lease
	roles   map[string]*role
	stopped bool
}

// lease is one lease of this replica and the session on it. Its health
// context ends, with a cause wrapping ErrRoleLost, when the lease is lost:
// it expired or was revoked, or etcd has not answered a keep-alive for two
// thirds of the TTL, so that this replica steps down before the lease can
// expire on the server and another replica take its roles.
type lease struct {
	session *concurrency.Session
	health  context.Context
	lost    context.CancelCauseFunc
	quit    chan struct{}
	done    chan struct{}
}

// newLease grants a lease and keeps it alive.
func (r *Roles) newLease(ctx context.Context, cli *clientv3.Client) (*lease, error) {
	grant, err := cli.Grant(ctx, int64(r.ttlSec))
	if err != nil {
		return nil, fmt.Errorf("etcdrole: granting a lease on %s: %w", strings.Join(r.cfg.Endpoints, ", "), err)
	}
	kctx, stopKeepAlive := context.WithCancel(context.Background())
	acks, err := cli.KeepAlive(kctx, grant.ID)
	if err != nil {
		stopKeepAlive()
		return nil, fmt.Errorf("etcdrole: keeping lease %x alive: %w", grant.ID, err)
	}
	sess, err := concurrency.NewSession(cli, concurrency.WithLease(grant.ID), concurrency.WithTTL(r.ttlSec))
	if err != nil {
		stopKeepAlive()
		return nil, fmt.Errorf("etcdrole: opening a session on lease %x: %w", grant.ID, err)
	}
	l := &lease{session: sess, quit: make(chan struct{}), done: make(chan struct{})}
	l.health, l.lost = context.WithCancelCause(context.Background())
	go l.watch(acks, stopKeepAlive, time.Duration(r.ttlSec)*time.Second)
	return l, nil
}

// watch follows the keep-alive answers and ends the lease's health when
// they stop.
func (l *lease) watch(acks <-chan *clientv3.LeaseKeepAliveResponse, stopKeepAlive context.CancelFunc, ttl time.Duration) {
	defer close(l.done)
	defer stopKeepAlive()
	id := l.session.Lease()
	stepDown := ttl * 2 / 3
	tick := time.NewTicker(max(ttl/20, 10*time.Millisecond))
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-l.quit:
			return
		case _, ok := <-acks:
			if !ok {
				l.lost(fmt.Errorf("%w: etcd session lost: lease %x expired or was revoked", ErrRoleLost, id))
				l.session.Orphan()
				return
			}
			last = time.Now()
		case <-l.session.Done():
			l.lost(fmt.Errorf("%w: etcd session lost: lease %x is no longer refreshed", ErrRoleLost, id))
			return
		case <-tick.C:
			if silent := time.Since(last); silent > stepDown {
				l.lost(fmt.Errorf("%w: etcd session lost: no answer from etcd for %v, stepping down before lease %x (TTL %v) can expire",
					ErrRoleLost, silent.Round(time.Millisecond), id, ttl))
				l.session.Orphan()
				return
			}
		}
	}
}

// close stops watching the lease and revokes it.
func (l *lease) close() error {
	close(l.quit)
	<-l.done
	l.lost(fmt.Errorf("%w: released", ErrRoleLost))
	return l.session.Close()
}

// currentLease returns a healthy lease, replacing a lost one: after a
// partition heals, this replica can hold roles again.
func (r *Roles) currentLease(ctx context.Context) (*lease, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil || r.stopped {
		return nil, errors.New("etcdrole: roles used while not started")
	}
	if r.lease.health.Err() == nil {
		return r.lease, nil
	}
	l, err := r.newLease(ctx, r.client)
	if err != nil {
		return nil, err
	}
	old := r.lease
	r.lease = l
	<-old.done
	return l, nil
}

// New checks cfg and returns Roles that connects on Start. It does no I/O.
func New(cfg Config) (*Roles, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcdrole: no endpoints")
	}
	for _, e := range cfg.Endpoints {
		if strings.TrimSpace(e) == "" {
			return nil, errors.New("etcdrole: an empty endpoint")
		}
	}
	if cfg.TTL < 0 || cfg.DialTimeout < 0 {
		return nil, fmt.Errorf("etcdrole: negative TTL %v or DialTimeout %v", cfg.TTL, cfg.DialTimeout)
	}
	if cfg.TTL == 0 {
		cfg.TTL = 10 * time.Second
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/lu/"
	}
	if !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	ttl := int((cfg.TTL + time.Second - 1) / time.Second)
	return &Roles{cfg: cfg, ttlSec: max(ttl, 1), roles: map[string]*role{}}, nil
}

// Attach makes a's start-up connect (Start, as the first start hook, so
// an unreachable etcd fails Launch) and a's shutdown release every role
// and revoke the lease (Stop, as the last stop hook, after the processes
// using the roles have stopped).
func (r *Roles) Attach(a *lu.App) {
	a.OnStartUp(r.Start, lu.WithHookName("etcd roles: connect"), lu.WithHookPriority(lu.HookPriorityFirst))
	a.OnShutdown(r.Stop, lu.WithHookName("etcd roles: release"), lu.WithHookPriority(lu.HookPriorityLast))
}

// Start connects to etcd and opens this replica's session (its lease). It
// fails, naming each endpoint and why, when no endpoint answers.
func (r *Roles) Start(ctx context.Context) error {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   r.cfg.Endpoints,
		DialTimeout: r.cfg.DialTimeout,
		Logger:      zap.NewNop(),
		Context:     context.WithoutCancel(ctx),
	})
	if err != nil {
		return fmt.Errorf("etcdrole: connecting to %s: %w", strings.Join(r.cfg.Endpoints, ", "), err)
	}
	var failures []error
	for _, ep := range r.cfg.Endpoints {
		sctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
		_, err := cli.Status(sctx, ep)
		cancel()
		if err != nil {
			failures = append(failures, fmt.Errorf("etcdrole: etcd at %s unreachable: %w", ep, err))
		}
	}
	if len(failures) == len(r.cfg.Endpoints) {
		cli.Close()
		return errors.Join(failures...)
	}
	l, err := r.newLease(ctx, cli)
	if err != nil {
		cli.Close()
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.client, r.lease = cli, l
	return nil
}

// Stop resigns every role held, revokes the lease (so that other replicas
// take the roles at once) and closes the connection.
func (r *Roles) Stop(ctx context.Context) error {
	r.mu.Lock()
	r.stopped = true
	cli, l := r.client, r.lease
	held := make([]*role, 0, len(r.roles))
	for _, ro := range r.roles {
		held = append(held, ro)
	}
	r.mu.Unlock()
	if cli == nil {
		return nil
	}
	var errs []error
	for _, ro := range held {
		errs = append(errs, ro.drop(ctx))
	}
	errs = append(errs, l.close(), cli.Close())
	return errors.Join(errs...)
}

// AwaitRole returns the ContextFunc for a role, a [process.AwaitRoleFunc]:
// it blocks until this replica holds the role (or ctx ends), and returns a
// context that is cancelled, with a cause wrapping [ErrRoleLost], the moment
// the role is lost. Calling the returned CancelFunc releases this hold, but
// the replica keeps the role (a schedule awaiting it for each firing keeps
// its leader) until Stop resigns it in the App's shutdown, when another
// replica takes it at once; a crashed replica's roles move when its lease
// expires.
func (r *Roles) AwaitRole(name string) process.ContextFunc {
	return func(ctx context.Context) (context.Context, context.CancelFunc, error) {
		ro, err := r.role(name)
		if err != nil {
			return nil, nil, err
		}
		held, err := ro.acquire(ctx)
		if err != nil {
			return nil, nil, err
		}
		hctx, cancel := context.WithCancelCause(ctx)
		stop := context.AfterFunc(held, func() { cancel(context.Cause(held)) })
		hctx = context.WithValue(hctx, holdKey{}, ro)
		var once sync.Once
		return hctx, func() {
			once.Do(func() {
				stop()
				cancel(context.Canceled)
				ro.release()
			})
		}, nil
	}
}

func (r *Roles) role(name string) (*role, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil || r.stopped {
		return nil, fmt.Errorf("etcdrole: role %q requested while not started", name)
	}
	ro := r.roles[name]
	if ro == nil {
		ro = &role{name: name, roles: r, sem: make(chan struct{}, 1)}
		r.roles[name] = ro
	}
	return ro, nil
}

type holdKey struct{}

// role is one role in this replica: held at most once, shared by every
// process of this replica that awaits it.
type role struct {
	name  string
	roles *Roles
	sem   chan struct{} // one campaign or release at a time

	holds    int
	election *concurrency.Election
	ctx      context.Context // while held; ends when the role is lost
	cancel   context.CancelCauseFunc
	watchers sync.WaitGroup
}

func (ro *role) lock(ctx context.Context) error {
	select {
	case ro.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (ro *role) unlock() { <-ro.sem }

// acquire returns the role's context once this replica holds the role.
func (ro *role) acquire(ctx context.Context) (context.Context, error) {
	if err := ro.lock(ctx); err != nil {
		return nil, err
	}
	defer ro.unlock()
	if ro.election != nil && ro.ctx.Err() == nil {
		ro.holds++ // still held: roles are kept until Stop or loss
		return ro.ctx, nil
	}
	ro.reset()
	r := ro.roles
	l, err := r.currentLease(ctx)
	if err != nil {
		return nil, err
	}
	sess := l.session
	e := concurrency.NewElection(sess, r.cfg.Prefix+"roles/"+ro.name)
	if err := e.Campaign(ctx, fmt.Sprintf("%x", sess.Lease())); err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("etcdrole: campaigning for role %q: %w", ro.name, err)
	}
	ro.election = e
	ro.ctx, ro.cancel = context.WithCancelCause(context.Background())
	ro.holds = 1
	wctx, stopWatch := context.WithCancel(ro.ctx)
	events := sess.Client().Watch(wctx, e.Key(), clientv3.WithRev(e.Header().Revision+1))
	ro.watchers.Go(func() {
		defer stopWatch()
		ro.watch(l, events)
	})
	return ro.ctx, nil
}

// watch cancels the role's context when the session ends or the election
// key goes away.
func (ro *role) watch(l *lease, events clientv3.WatchChan) {
	sess := l.session
	lost := func(why string) {
		ro.cancel(fmt.Errorf("%w: role %q: %s", ErrRoleLost, ro.name, why))
	}
	for {
		select {
		case <-ro.ctx.Done():
			return
		case <-l.health.Done():
			ro.cancel(fmt.Errorf("role %q: %w", ro.name, context.Cause(l.health)))
			return
		case resp, ok := <-events:
			if !ok || resp.Canceled {
				lost(fmt.Sprintf("connection to etcd lost (the watch on the election key ended; lease %x will expire)", sess.Lease()))
				return
			}
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypeDelete {
					lost("the election key was deleted")
					return
				}
			}
		}
	}
}

// release drops one hold. The role stays with this replica, so that a
// schedule that awaits its role for every firing keeps it between firings;
// Stop resigns it, in the App's shutdown.
func (ro *role) release() {
	ro.sem <- struct{}{}
	defer ro.unlock()
	if ro.holds > 0 {
		ro.holds--
	}
}

// drop resigns the role whatever its holds, for Stop.
func (ro *role) drop(ctx context.Context) error {
	if err := ro.lock(ctx); err != nil {
		return err
	}
	defer ro.unlock()
	ro.holds = 0
	return ro.resign(ctx)
}

// resign gives the role up; the caller holds the semaphore.
func (ro *role) resign(ctx context.Context) error {
	if ro.election == nil {
		return nil
	}
	ro.cancel(fmt.Errorf("%w: role %q: released", ErrRoleLost, ro.name))
	ro.watchers.Wait()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ro.roles.cfg.DialTimeout)
	defer cancel()
	err := ro.election.Resign(ctx)
	ro.election = nil
	if err != nil {
		return fmt.Errorf("etcdrole: resigning role %q: %w", ro.name, err)
	}
	return nil
}

// reset forgets a role that was lost; the caller holds the semaphore.
func (ro *role) reset() {
	if ro.election != nil {
		ro.cancel(nil)
		ro.watchers.Wait()
		ro.election = nil
	}
	ro.holds = 0
}
