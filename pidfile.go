package lu

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

const defaultProcessFile = "/tmp/lu.pid"

// ErrProcessFileHeld is wrapped by the error Launch returns when
// UseProcessFile is set and a live process holds the process file.
var ErrProcessFileHeld = errors.New("lu: process file held by a running process")

// writeProcessFile creates path holding this process's id. The file is
// written in full under a temporary name and then hard-linked into place:
// the link fails if anything (a file, a symlink) is already there, so the
// file appears atomically, exclusively and never through a symlink. A file
// left by a process that no longer exists is replaced once.
func writeProcessFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lu-pid-*")
	if err != nil {
		return fmt.Errorf("lu: process file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(strconv.Itoa(os.Getpid()))
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err != nil {
		return fmt.Errorf("lu: process file %s: %w", path, err)
	}
	for attempt := 0; ; attempt++ {
		err := os.Link(tmp.Name(), path)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) || attempt > 0 {
			return fmt.Errorf("lu: process file %s: %w", path, err)
		}
		content, pid, err := readProcessFile(path)
		if err != nil {
			return err
		}
		if processAlive(pid) {
			return fmt.Errorf("%w: %s holds pid %d (this is pid %d)", ErrProcessFileHeld, path, pid, os.Getpid())
		}
		// Stale: remove it, unless it changed since we read it.
		again, _, err := readProcessFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(again, content) {
			return fmt.Errorf("%w: %s changed while being replaced", ErrProcessFileHeld, path)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("lu: removing stale process file %s: %w", path, err)
		}
	}
}

// readProcessFile reads a process file without following a symlink.
func readProcessFile(path string) ([]byte, int, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("lu: process file %s exists and cannot be read: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("lu: process file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("lu: process file %s is not a regular file", path)
	}
	content := make([]byte, 32)
	n, _ := f.Read(content)
	content = content[:n]
	pid, err := strconv.Atoi(string(bytes.TrimSpace(content)))
	if err != nil || pid <= 0 {
		return nil, 0, fmt.Errorf("lu: process file %s holds %q, not a process id", path, content)
	}
	return content, pid, nil
}

// removeProcessFile removes path if it still holds this process's id.
func removeProcessFile(path string) error {
	_, pid, err := readProcessFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if pid != os.Getpid() {
		return fmt.Errorf("lu: process file %s now holds pid %d, not ours (%d): left in place", path, pid, os.Getpid())
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lu: removing process file %s: %w", path, err)
	}
	return nil
}

// processAlive reports whether a process with this id exists. A process
// owned by another user (EPERM) exists too.
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// processFile is a process file this process holds.
type processFile struct{ path string }

// acquireProcessFile takes the process file at path.
func acquireProcessFile(path string) (*processFile, error) {
	if err := writeProcessFile(path); err != nil {
		return nil, err
	}
	return &processFile{path: path}, nil
}

// release removes the file if it still holds this process's id.
func (f *processFile) release() error { return removeProcessFile(f.path) }
