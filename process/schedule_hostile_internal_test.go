package process

// Hostile tests of the fractional cursor and of @every's catch-up
// (white-box: unixText, parseUnixText, nextRun).

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cursor's text is the decimal number of seconds before 1970 too:
// half a second before the epoch is "-0.5" (time.Unix floors, which would
// give "-1.5"), and "-0.5" and "-1.25" read back as what they say.
func TestHostileUnixTextNegativeFractions(t *testing.T) {
	half := time.Unix(0, 0).Add(-500 * time.Millisecond)
	assert.Equal(t, "-0.5", unixText(half), "half a second before the epoch, in decimal seconds")
	got, ok := parseUnixText("-0.5")
	require.True(t, ok)
	assert.True(t, got.Equal(half), "\"-0.5\" read as %v, want %v", got.UTC(), half.UTC())
	got, ok = parseUnixText("-1.25")
	require.True(t, ok)
	assert.True(t, got.Equal(time.Unix(0, 0).Add(-1250*time.Millisecond)), "\"-1.25\" read as %v", got.UTC())
}

// Holds: the garbage the promise lists, and more, is refused; Luno's
// whole seconds and the fractions unixText writes round-trip.
func TestHostileParseUnixTextHolds(t *testing.T) {
	for _, bad := range []string{"", "1.", ".5", "1.5.5", "1.1234567890", "+-1", " 1", "1 ", "1e3", "NaN",
		"0x10", "1_000", "1.-5", "1.+5", "1. 5", "١", "1.٥", "-", "+", "-.5", "1,5", "99999999999999999999"} {
		_, ok := parseUnixText(bad)
		assert.False(t, ok, "%q accepted", bad)
	}
	for _, tm := range []time.Time{time.Unix(1767225601, 0), time.Unix(1767225601, 500_000_000),
		time.Unix(1767225601, 1), time.Unix(0, 0), time.Unix(-5, 0), time.Unix(-5, 999_999_999)} {
		got, ok := parseUnixText(unixText(tm))
		require.True(t, ok, unixText(tm))
		assert.True(t, got.Equal(tm), "%s", unixText(tm))
	}
}

// "@every 1h" wrapped in ToTimezone still catches up on the chain from
// the last run, not at a time found by looking back from now.
func TestHostileEveryCatchUpThroughToTimezone(t *testing.T) {
	s, err := ParseCron("@every 1h")
	require.NoError(t, err)
	last := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := last.Add(10*time.Hour + 30*time.Minute)
	bare, _ := nextRun(now, last, s)
	assert.True(t, bare.Equal(last.Add(10*time.Hour)), "bare: %v", bare)
	tz, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	wrapped, _ := nextRun(now, last, ToTimezone(s, tz))
	assert.True(t, wrapped.Equal(last.Add(10*time.Hour)),
		"through ToTimezone the catch-up runs %v, not the chain's %v", wrapped.UTC(), last.Add(10*time.Hour))
}
