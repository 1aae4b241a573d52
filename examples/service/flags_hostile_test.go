package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHostileEveryMustBePositive: -schedule refuses a period that is
// not positive, but -every 0 (or -every -1s) is accepted and the reporter
// process.Loop then runs without sleeping: the service writes "work done
// so far" hundreds of thousands of times a second to stderr (about 240,000
// lines, 18 MB, in half a second here), and burns a core.
func TestHostileEveryMustBePositive(t *testing.T) {
	for _, every := range []string{"0", "-1s"} {
		_, err := parseFlags([]string{"-every", every})
		assert.Error(t, err, "-every %s is accepted: the reporter loop spins", every)
	}
}
