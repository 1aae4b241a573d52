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

// Adversarial tests for issue 14 item 4: "PanicError.Error() prints the
// whole stack, so error strings and slog error= fields run to several
// kilobytes. Error() is one line (where and what); the stack stays
// available (a field, and %+v)."

// TestHostilePanicInSlogTextFieldIsOneLine: slog's TextHandler (and
// slog.Default's handler) formats an error attribute with %+v, which
// PanicError.Format answers with the whole stack. So the App's own
// "lu: process failed" record for a panicking process, written with a
// TextHandler Logger, carries a multi-kilobyte error= field with the stack
// in it: exactly the complaint of item 4.
func TestHostilePanicInSlogTextFieldIsOneLine(t *testing.T) {
	var buf adv1415Buffer
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

	// The same with a user's own slog call, the way item 4 describes it.
	var own bytes.Buffer
	pe := newPanicError(`process "worker"`, "boom")
	slog.New(slog.NewTextHandler(&own, nil)).Error("job failed", "error", pe)
	assert.Equal(t, 1, strings.Count(own.String(), "\n"), "one record, one line")
	assert.NotContains(t, own.String(), `goroutine `, "error= holds the stack:\n%s", own.String())
}

// TestHostilePanicErrorOtherLineBreaks: Error escapes only \r and
// \n. A vertical tab, a form feed, NEL (U+0085), LINE SEPARATOR (U+2028)
// and PARAGRAPH SEPARATOR (U+2029) are line breaks too (Unicode's
// mandatory breaks; terminals and many log viewers break on them), and
// pass through raw.
func TestHostilePanicErrorOtherLineBreaks(t *testing.T) {
	for _, br := range []string{"\v", "\f", "\u0085", "\u2028", "\u2029"} {
		t.Run(strconv.QuoteToASCII(br), func(t *testing.T) {
			e := newPanicError(`process "p"`, "first"+br+"second")
			assert.NotContains(t, e.Error(), br, "Error() is not one line: %q", e.Error())
		})
	}
}

// TestHostilePanicErrorVerbs: Format writes Error's text whatever
// the verb: %q is not quoted and %x is not hex, unlike any other error.
func TestHostilePanicErrorVerbs(t *testing.T) {
	e := newPanicError(`process "p"`, "boom")
	assert.Equal(t, strconv.Quote(e.Error()), fmt.Sprintf("%q", e), "%%q")
	assert.Equal(t, fmt.Sprintf("%x", e.Error()), fmt.Sprintf("%x", e), "%%x")
}

// TestHostilePanicErrorHugeValue: a panic with a big value (a
// payload, a request body) makes Error() that big: one line, but the
// "several kilobytes" in error strings and slog fields that item 4 is
// about.
func TestHostilePanicErrorHugeValue(t *testing.T) {
	e := newPanicError(`process "p"`, strings.Repeat("x", 64<<10))
	assert.Less(t, len(e.Error()), 4096, "Error() is %d bytes", len(e.Error()))
}

// adv1415Buffer is a Logger's output, safe for concurrent use.
type adv1415Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *adv1415Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *adv1415Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
