//go:build !unix

package process

// openNonblock is zero where there are no FIFOs to guard against.
const openNonblock = 0
