package lu

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// defaultProcessFile is Luno's path, kept for compatibility. It lies in a
// world-writable directory, where any local user can create the file first
// and hold its lock; /run/<name>.pid or $XDG_RUNTIME_DIR/<name>.pid is the
// place to use (see App.ProcessFile).
const defaultProcessFile = "/tmp/lu.pid"

// ErrProcessFileHeld is wrapped by the error Launch returns when
// UseProcessFile is set and another live process holds the lock on the
// process file.
var ErrProcessFileHeld = errors.New("lu: process file held by a running process")

// processFile is an acquired process file: open, locked, holding our pid.
// The lock is an advisory lock held on the open file for as long as the
// file is acquired; whatever pid the file holds, only the lock says whether
// a live process owns it.
type processFile struct {
	path string // absolute, so that a change of directory cannot misdirect release
	lock *fileLock

	mu       sync.Mutex
	released bool
}

// acquireAttempts bounds the retries of acquireProcessFile when the file is
// removed or replaced between its opening and its locking: each attempt is
// non-blocking, and only a file that keeps being replaced exhausts them.
const acquireAttempts = 16

// acquireProcessFile opens the process file at path, creating it if need
// be, takes its lock without waiting and writes this process's id followed
// by a newline. It never blocks: a path that is not a regular file (a FIFO,
// a directory, a socket, a device, a symbolic link, which is never
// followed) or that has other hard links is refused at once, and a lock
// held by another open file
// description (another process, or another App of this one) is an error
// wrapping [ErrProcessFileHeld] that names the holder's pid as the file
// reads. A file whose lock is free is stale and is taken over, whatever
// pid it holds. Errors name the path.
func acquireProcessFile(path string) (*processFile, error) {
	if path == "" {
		return nil, errors.New("lu: process file: empty path")
	}
	if os.IsPathSeparator(path[len(path)-1]) {
		// Resolving the path would drop the separator, and with it the
		// sense: a directory, not a file.
		return nil, fmt.Errorf("lu: process file %s: the path names a directory", path)
	}
	abs, err := absolute(path)
	if err != nil {
		return nil, fmt.Errorf("lu: process file %s: %w", path, err)
	}
	for range acquireAttempts {
		l, content, err := lockFile(abs)
		if errors.Is(err, errLockHeld) {
			return nil, heldError(abs, content)
		}
		if errors.Is(err, errReplaced) {
			continue // opened just before it was removed: open the new one
		}
		if err != nil {
			return nil, describeOpenError(abs, err)
		}
		if err := l.writePid(os.Getpid()); err != nil {
			l.close()
			return nil, fmt.Errorf("lu: process file %s: writing the pid: %w", abs, err)
		}
		return &processFile{path: abs, lock: l}, nil
	}
	return nil, fmt.Errorf("lu: process file %s: replaced %d times while being locked: giving up", abs, acquireAttempts)
}

// release removes the file if the path still names the file we locked,
// then unlocks and closes it. A file removed by someone else is not an
// error; a file replaced by another is left in place, and reported. Only
// the first call does anything; later ones return nil.
//
// Between the check and the removal only a process that ignores the lock
// can replace the file: an acquirer never removes a file, it only creates
// one where none is.
func (f *processFile) release() error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.released {
		return nil
	}
	f.released = true
	var errs []error
	switch same, err := f.lock.sameAsPath(f.path); {
	case errors.Is(err, fs.ErrNotExist):
		// Removed under us (a /tmp cleaner, say): nothing to remove.
	case err != nil:
		errs = append(errs, fmt.Errorf("lu: process file %s: %w: left in place", f.path, err))
	case !same:
		errs = append(errs, fmt.Errorf("lu: process file %s was replaced by another file while we held it: left in place", f.path))
	default:
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("lu: removing process file %s: %w", f.path, err))
		}
	}
	if err := f.lock.close(); err != nil {
		errs = append(errs, fmt.Errorf("lu: process file %s: unlocking: %w", f.path, err))
	}
	return errors.Join(errs...)
}

// absolute returns path made absolute but not cleaned: cleaning would
// take "link/../lu.pid" for "lu.pid", where the kernel, and every other
// program, follows the link before the "..".
func absolute(path string) (string, error) {
	if filepath.IsAbs(path) {
		return path, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return wd + string(filepath.Separator) + path, nil
}

var (
	// errLockHeld: another open file description holds the lock.
	errLockHeld = errors.New("lock held")
	// errReplaced: the path no longer names the file that was locked.
	errReplaced = errors.New("replaced while being locked")
)

// pidContent is what the process file holds: the pid and a newline.
func pidContent(pid int) []byte {
	return append(strconv.AppendInt(nil, int64(pid), 10), '\n')
}

// heldError is the error for a file whose lock another process holds. The
// pid is read from the file for the message only; it may be missing or
// stale if the holder has not written it yet.
func heldError(path string, content []byte) error {
	line, _, _ := bytes.Cut(content, []byte("\n"))
	pid, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil || pid <= 0 {
		return fmt.Errorf("%w: %s is locked by another process (this is pid %d)", ErrProcessFileHeld, path, os.Getpid())
	}
	return fmt.Errorf("%w: %s is locked by pid %d (this is pid %d)", ErrProcessFileHeld, path, pid, os.Getpid())
}

// describeOpenError explains why the file at path could not be opened or
// locked, naming its type when it is not a regular file.
func describeOpenError(path string, err error) error {
	var nr *notRegularError
	if errors.As(err, &nr) {
		return fmt.Errorf("lu: process file %s is not a regular file (%s): refused", path, describeMode(nr.mode))
	}
	if info, lerr := os.Lstat(path); lerr == nil && !info.Mode().IsRegular() {
		return fmt.Errorf("lu: process file %s is not a regular file (%s): refused: %w", path, describeMode(info.Mode()), err)
	}
	return fmt.Errorf("lu: process file %s: %w", path, err)
}

// hardLinkedError refuses a file with other names: writing our pid would
// overwrite the file under its other names too (a link planted in a
// world-writable directory could point at any file the service may write).
func hardLinkedError(n uint64) error {
	return fmt.Errorf("has %d hard links: refused, writing it would change the file under its other names too", n)
}

// notRegularError: the file opened is not a regular file.
type notRegularError struct{ mode fs.FileMode }

// Error names the kind of file, such as "not a regular file: a FIFO".
func (e *notRegularError) Error() string { return "not a regular file: " + describeMode(e.mode) }

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link, never followed"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "mode " + m.String()
}
