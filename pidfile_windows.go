//go:build windows

package lu

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"golang.org/x/sys/windows"
)

// fileLock is an open process file locked with LockFileEx. The lock
// belongs to the handle: it holds while the handle is open, and Windows
// drops it when the process dies. The file is opened with every sharing
// mode, so that others may read the pid and we may delete the file while
// it is open.
type fileLock struct {
	h                 windows.Handle
	vol, idxHi, idxLo uint32
}

// Windows locks are mandatory: a locked byte cannot be read by another
// process. The lock is therefore taken on one byte far beyond the content
// (at 1 GiB, an offset that every Windows file system accepts for locks),
// so that the pid stays readable for the message of a refused acquirer.
const (
	lockOffsetLow  = 1 << 30
	lockOffsetHigh = 0
)

func lockRange() *windows.Overlapped {
	return &windows.Overlapped{Offset: lockOffsetLow, OffsetHigh: lockOffsetHigh}
}

const shareAll = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE

// lockFile opens path (a reparse point such as a symbolic link is opened
// itself, never followed, and refused), checks that it is a regular disk
// file, takes its lock without waiting and checks that path still names
// the file locked. On errLockHeld it returns what the file holds.
func lockFile(path string) (*fileLock, []byte, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, shareAll, nil,
		windows.OPEN_ALWAYS, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	l := &fileLock{h: h}
	if err := l.checkRegular(); err != nil {
		windows.CloseHandle(h)
		return nil, nil, err
	}
	err = windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, lockRange())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		buf := make([]byte, 64)
		var n uint32
		_ = windows.ReadFile(h, buf, &n, &windows.Overlapped{})
		windows.CloseHandle(h)
		return nil, buf[:n], errLockHeld
	}
	if err != nil {
		windows.CloseHandle(h)
		return nil, nil, fmt.Errorf("locking: %w", err)
	}
	if same, err := l.sameAsPath(path); err != nil || !same {
		// Deleted (by a holder releasing it) or replaced after we opened
		// it: this lock guards nothing.
		windows.CloseHandle(h)
		return nil, nil, errReplaced
	}
	return l, nil, nil
}

// checkRegular refuses anything but a regular disk file, and records the
// file's identity.
func (l *fileLock) checkRegular() error {
	t, err := windows.GetFileType(l.h)
	if err != nil {
		return err
	}
	switch t {
	case windows.FILE_TYPE_DISK:
	case windows.FILE_TYPE_PIPE:
		return &notRegularError{mode: fs.ModeNamedPipe}
	case windows.FILE_TYPE_CHAR:
		return &notRegularError{mode: fs.ModeDevice | fs.ModeCharDevice}
	default:
		return &notRegularError{mode: fs.ModeIrregular}
	}
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(l.h, &info); err != nil {
		return err
	}
	switch {
	case info.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0:
		return &notRegularError{mode: fs.ModeSymlink}
	case info.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0:
		return &notRegularError{mode: fs.ModeDir}
	}
	if info.NumberOfLinks > 1 {
		return hardLinkedError(uint64(info.NumberOfLinks))
	}
	l.vol, l.idxHi, l.idxLo = info.VolumeSerialNumber, info.FileIndexHigh, info.FileIndexLow
	return nil
}

// writePid empties the file, then writes the pid: a reader never sees a
// mix of an old pid and ours.
func (l *fileLock) writePid(pid int) error {
	if _, err := windows.Seek(l.h, 0, io.SeekStart); err != nil {
		return err
	}
	if err := windows.SetEndOfFile(l.h); err != nil {
		return err
	}
	b := pidContent(pid)
	var n uint32
	if err := windows.WriteFile(l.h, b, &n, &windows.Overlapped{}); err != nil {
		return err
	}
	if int(n) != len(b) {
		return io.ErrShortWrite
	}
	return nil
}

// sameAsPath reports whether path names the locked file, without following
// a reparse point. A missing path is an error wrapping fs.ErrNotExist.
func (l *fileLock) sameAsPath(path string) (bool, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return false, err
	}
	h, err := windows.CreateFile(p, 0, shareAll, nil, windows.OPEN_EXISTING,
		windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return false, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer windows.CloseHandle(h)
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &info); err != nil {
		return false, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return info.VolumeSerialNumber == l.vol && info.FileIndexHigh == l.idxHi && info.FileIndexLow == l.idxLo, nil
}

// close unlocks and closes the file.
func (l *fileLock) close() error {
	err := windows.UnlockFileEx(l.h, 0, 1, 0, lockRange())
	if cerr := windows.CloseHandle(l.h); err == nil {
		err = cerr
	}
	return err
}
