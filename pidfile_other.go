//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package lu

import (
	"fmt"
	"runtime"
)

// fileLock is not available here: acquiring a process file fails, so that
// Launch refuses UseProcessFile rather than run without its guarantee.
type fileLock struct{}

var errUnsupported = fmt.Errorf("not supported on %s: no file lock to hold", runtime.GOOS)

func lockFile(string) (*fileLock, []byte, error)  { return nil, nil, errUnsupported }
func (*fileLock) writePid(int) error              { return errUnsupported }
func (*fileLock) sameAsPath(string) (bool, error) { return false, errUnsupported }
func (*fileLock) close() error                    { return errUnsupported }
