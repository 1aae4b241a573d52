package lu

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Shortening a value of invalid UTF-8 (continuation bytes only) keeps its
// first KiB: the cut walks back at most the 3 bytes a character can
// span, not to the start.
func TestHostilePanicErrorCutOnInvalidUTF8KeepsTheValue(t *testing.T) {
	pe := newPanicError("x", strings.Repeat("\x80", 2000))
	msg := pe.Error()
	kept := strings.TrimSuffix(strings.TrimPrefix(msg, "lu: panic in x: "), "... (2000 bytes in all)")
	assert.GreaterOrEqual(t, len(kept), maxPanicText-3, "kept %d bytes of the value: %q", len(kept), msg)
}
