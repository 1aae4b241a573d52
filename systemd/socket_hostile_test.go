//go:build linux

package systemd

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
)

// TestHostileAbstractSocket: systemd may name an abstract socket
// in $NOTIFY_SOCKET ("@name"). The datagrams must reach it, in lifecycle
// order, as they reach a socket file.
func TestHostileAbstractSocket(t *testing.T) {
	name := fmt.Sprintf("@lu-adv1415-%d-%d", os.Getpid(), time.Now().UnixNano())
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	require.NoError(t, err)
	r := &receiver{conn: conn, news: make(chan struct{}, 1), done: make(chan struct{})}
	go r.read()
	t.Cleanup(r.close)
	notifyEnv(t, name, "")

	a := &lu.App{}
	require.NoError(t, Attach(a))
	a.AddProcess(lu.Process{Name: "p", Run: blockUntilDone})
	require.NoError(t, a.Launch(context.Background()))
	r.waitFor(t, "READY=1")
	require.NoError(t, a.Shutdown())
	all := r.waitFor(t, "STATUS=Terminated")
	assert.Equal(t, concat(started, stopped), all)
}
