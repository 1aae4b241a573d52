package lu

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Promise: Error shortens a value over 1 KiB "to its first KiB" at a
// rune boundary, noting the full length. oneLine walks back from byte 1024
// while the byte is not a rune start, with no bound: for a value of
// invalid UTF-8 (binary data in a string, continuation bytes 0x80-0xBF)
// it walks to 0 and the message keeps nothing of the value at all:
// "lu: panic in x: ... (2000 bytes in all)". A rune is at most 4 bytes: the
// walk back need never exceed 3.
func TestHostile3PanicErrorCutOnInvalidUTF8KeepsNothing(t *testing.T) {
	pe := newPanicError("x", strings.Repeat("\x80", 2000))
	msg := pe.Error()
	kept := strings.TrimSuffix(strings.TrimPrefix(msg, "lu: panic in x: "), "... (2000 bytes in all)")
	assert.GreaterOrEqual(t, len(kept), maxPanicText-3, "kept %d bytes of the value: %q", len(kept), msg)
}
