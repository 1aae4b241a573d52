//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package lu

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"
)

// fileLock is an open process file locked with flock(2). The lock belongs
// to the open file description: it holds while the descriptor is open, no
// child inherits it (O_CLOEXEC), and the kernel drops it when the process
// dies, however it dies. The descriptor is a bare one, not an *os.File, so
// that no finalizer can close it and drop the lock behind our back.
type fileLock struct {
	fd       int
	dev, ino uint64
}

// openFlags never block and never follow a symbolic link: O_NONBLOCK makes
// the opening of a FIFO return at once (it is then refused as not
// regular), O_NOCTTY keeps a terminal from becoming ours, O_NOFOLLOW fails
// on a symbolic link, dangling or not.
const openFlags = syscall.O_RDWR | syscall.O_CREAT | syscall.O_NOFOLLOW | syscall.O_NONBLOCK |
	syscall.O_CLOEXEC | syscall.O_NOCTTY

// lockFile opens path, checks that it is a regular file, takes its lock
// without waiting and checks that path still names the file locked. On
// errLockHeld it returns what the file holds, for the message.
func lockFile(path string) (*fileLock, []byte, error) {
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = syscall.Open(path, openFlags, 0o644)
		return err
	})
	if err == syscall.EACCES || err == syscall.EROFS {
		// We may not write the file, but its holder may be alive: say so.
		if content, held := probeHeld(path); held {
			return nil, content, errLockHeld
		}
		if pid, held := lockHolder(path); held { // we may not even read it
			return nil, pidContent(pid), errLockHeld
		}
	}
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, nil, &notRegularError{mode: typeMode(uint32(st.Mode))}
	}
	err = ignoringEINTR(func() error { return syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) })
	if errors.Is(err, syscall.EWOULDBLOCK) {
		defer syscall.Close(fd)
		return nil, readHead(fd), errLockHeld
	}
	if err != nil {
		syscall.Close(fd)
		return nil, nil, fmt.Errorf("locking: %w", err)
	}
	// Only once the lock is ours: a held file is reported as held,
	// however many names it has.
	if n := uint64(st.Nlink); n > 1 { // a conversion: Nlink's type varies
		syscall.Close(fd) // drops the lock
		return nil, nil, hardLinkedError(n)
	}
	// The conversions are needed: Dev and Ino are of other types on
	// other platforms.
	l := &fileLock{fd: fd, dev: uint64(st.Dev), ino: uint64(st.Ino)}
	if same, err := l.sameAsPath(path); err != nil || !same {
		// The file was removed (by a holder releasing it) or replaced
		// after we opened it: this lock guards nothing.
		syscall.Close(fd)
		return nil, nil, errReplaced
	}
	return l, nil, nil
}

// readHead returns the start of the file, where the holder's pid is.
func readHead(fd int) []byte {
	buf := make([]byte, 64)
	n, _ := syscall.Pread(fd, buf, 0)
	return buf[:max(n, 0)]
}

// probeHeld reports whether another open file description holds the lock
// of the regular file at path, which we may read but not write, and if so
// what the file holds. It takes a shared lock for a moment, which a
// holder's exclusive lock refuses.
func probeHeld(path string) ([]byte, bool) {
	fd, err := syscall.Open(path, openFlags&^(syscall.O_RDWR|syscall.O_CREAT)|syscall.O_RDONLY, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG {
		return nil, false
	}
	err = ignoringEINTR(func() error { return syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB) })
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return readHead(fd), true
	}
	return nil, false // closing the descriptor drops the shared lock
}

// writePid empties the file, then writes the pid. A reader may see the
// file empty for a moment, never a mix of the old pid and the new: written
// over the old content and cut after, "12\n" over "345678\n" would read
// "12\n5678\n", and `kill $(cat file)` would signal 5678 too.
func (l *fileLock) writePid(pid int) error {
	if err := ignoringEINTR(func() error { return syscall.Ftruncate(l.fd, 0) }); err != nil {
		return err
	}
	b := pidContent(pid)
	for off := 0; off < len(b); {
		n, err := syscall.Pwrite(l.fd, b[off:], int64(off))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return io.ErrShortWrite
		}
		off += n
	}
	return nil
}

// sameAsPath reports whether path names the locked file, without following
// a symbolic link. A missing path is an error wrapping fs.ErrNotExist.
func (l *fileLock) sameAsPath(path string) (bool, error) {
	var st syscall.Stat_t
	if err := ignoringEINTR(func() error { return syscall.Lstat(path, &st) }); err != nil {
		return false, &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	return uint64(st.Dev) == l.dev && uint64(st.Ino) == l.ino, nil
}

// close unlocks and closes the file. Closing alone would drop the lock;
// unlocking first makes the release explicit.
func (l *fileLock) close() error {
	err := ignoringEINTR(func() error { return syscall.Flock(l.fd, syscall.LOCK_UN) })
	if cerr := syscall.Close(l.fd); err == nil {
		err = cerr
	}
	return err
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}

// typeMode turns the file type bits of a stat mode into an fs.FileMode.
func typeMode(mode uint32) fs.FileMode {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}
