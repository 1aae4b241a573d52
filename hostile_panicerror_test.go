package lu

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PanicError's Error is one line (where and what), in error strings and in
// slog's error= fields; the stack stays available (the Stack field, %+v).

// slog's TextHandler (slog.Default's too) formats an error attribute with
// %+v: the App's own "lu: process failed" record for a panicking process,
// and a user's slog call, still get one line, through MarshalText.
func TestHostilePanicInSlogTextFieldIsOneLine(t *testing.T) {
	var buf logBuffer
	a := &App{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	a.AddProcess(Process{Name: "worker", Run: func(context.Context) error { panic("boom") }})
	require.NoError(t, a.Launch(context.Background()))
	select {
	case <-a.WaitForShutdown():
	case <-time.After(10 * time.Second):
		t.Fatal("the App did not stop after its process panicked")
	}
	require.Error(t, a.Shutdown())

	var failed string
	for line := range strings.Lines(buf.String()) {
		if strings.Contains(line, `msg="lu: process failed"`) {
			failed = line
		}
	}
	require.NotEmpty(t, failed, "no process failed record:\n%s", buf.String())
	assert.NotContains(t, failed, `goroutine `, "the stack is in the slog error= field")
	assert.Less(t, len(failed), 400, "the record for one panic is %d bytes long:\n%s", len(failed), failed)

	// The same with a user's own slog call.
	var own bytes.Buffer
	pe := newPanicError(`process "worker"`, "boom")
	slog.New(slog.NewTextHandler(&own, nil)).Error("job failed", "error", pe)
	assert.Equal(t, 1, strings.Count(own.String(), "\n"), "one record, one line")
	assert.NotContains(t, own.String(), `goroutine `, "error= holds the stack:\n%s", own.String())
}

// Every line break is escaped: \v, \f, U+0085, U+2028 and U+2029 as
// well as \r and \n.
func TestHostilePanicErrorOtherLineBreaks(t *testing.T) {
	for _, br := range []string{"\v", "\f", "\u0085", "\u2028", "\u2029"} {
		t.Run(strconv.QuoteToASCII(br), func(t *testing.T) {
			e := newPanicError(`process "p"`, "first"+br+"second")
			assert.NotContains(t, e.Error(), br, "Error() is not one line: %q", e.Error())
		})
	}
}

// Format honours the verbs a string has: %q quotes, %x is hex.
func TestHostilePanicErrorVerbs(t *testing.T) {
	e := newPanicError(`process "p"`, "boom")
	assert.Equal(t, strconv.Quote(e.Error()), fmt.Sprintf("%q", e), "%%q")
	assert.Equal(t, fmt.Sprintf("%x", e.Error()), fmt.Sprintf("%x", e), "%%x")
}

// A panic with a big value (a payload, a request body) gives an Error of
// about a KiB, not the whole value.
func TestHostilePanicErrorHugeValue(t *testing.T) {
	e := newPanicError(`process "p"`, strings.Repeat("x", 64<<10))
	assert.Less(t, len(e.Error()), 4096, "Error() is %d bytes", len(e.Error()))
}

// logBuffer is a Logger's output, safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
