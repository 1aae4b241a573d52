package etcdrole

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/lu-go/lu/process"
)

// Cursor returns a process.Cursor stored in etcd, shared by every replica.
// Get reads the last value; Set writes only if the role that its context
// holds (from AwaitRole) is still held, in one transaction comparing the
// election key, and returns ErrNotLeader otherwise. Use it with
// process.Scheduled and this Roles' AwaitRole, so that each firing runs
// once across the cluster.
func (r *Roles) Cursor() process.Cursor { return &cursor{r: r} }

type cursor struct{ r *Roles }

func (c *cursor) key(name string) string { return c.r.cfg.Prefix + "cursors/" + name }

func (c *cursor) client() (*clientv3.Client, error) {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	if c.r.client == nil {
		return nil, fmt.Errorf("etcdrole: cursor used before Start")
	}
	return c.r.client, nil
}

func (c *cursor) Get(ctx context.Context, name string) (string, error) {
	cli, err := c.client()
	if err != nil {
		return "", err
	}
	resp, err := cli.Get(ctx, c.key(name))
	if err != nil {
		return "", fmt.Errorf("etcdrole: reading cursor %q: %w", name, err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

func (c *cursor) Set(ctx context.Context, name, value string) error {
	cli, err := c.client()
	if err != nil {
		return err
	}
	ro, ok := ctx.Value(holdKey{}).(*role)
	if !ok {
		return fmt.Errorf("etcdrole: cursor %q: Set outside a role held through AwaitRole", name)
	}
	if err := ro.lock(ctx); err != nil {
		return err
	}
	e := ro.election
	ro.unlock()
	if e == nil || ctx.Err() != nil {
		return fmt.Errorf("%w: role %q, cursor %q", ErrNotLeader, ro.name, name)
	}
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(e.Key()), "=", e.Rev())).
		Then(clientv3.OpPut(c.key(name), value)).
		Commit()
	if err != nil {
		return fmt.Errorf("etcdrole: writing cursor %q: %w", name, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w: role %q, cursor %q", ErrNotLeader, ro.name, name)
	}
	return nil
}
