package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Cursor stores a scheduled process's last completed run under its name.
// [Scheduled] stores the firing's unix time in seconds, as decimal text
// (see [Scheduled]);
// to a Cursor the value is an opaque string. Implementations must be safe
// for concurrent use: the processes of an App may share one.
//
// This package has [NewMemoryCursor] (lost at a restart) and
// [NewFileCursor] (kept on disk); a Cursor shared by replicas (such as the
// etcdrole package's) lets a firing run once across them.
type Cursor interface {
	// Get returns the value stored under name. A name never set (or set
	// to "") is no error: Get returns "" and nil, and Scheduled then
	// treats the process as never having run. An error means the value
	// could not be read: Scheduled counts it as a failed attempt and tries
	// again after its error sleep, and never takes it for a missing value.
	//
	// ctx bounds the call (a cursor that does I/O returns when it ends,
	// with an error) and is the context of the run that asks, derived from
	// the ContextFunc's, so it carries what that func put in it, such as
	// the role held.
	Get(ctx context.Context, name string) (string, error)
	// Set stores value under name, replacing what was there. When it
	// returns nil the value is as durable as the Cursor promises (until
	// the process exits for the memory cursor; on disk, synced, for a
	// FileCursor), and a later Get returns it; when it returns an error,
	// Get returns either the old value or the new one, never a mix.
	//
	// ctx is as for Get: a cursor shared by replicas may use what it
	// carries to refuse the write of a replica that no longer holds the
	// role. After a run that succeeded, Scheduled calls Set with a context
	// that the process's stop does not cancel, so that a finished run is
	// recorded even while the App stops; a cursor that does I/O should
	// bound its own wait.
	Set(ctx context.Context, name string, value string) error
}

// NewMemoryCursor returns a Cursor held in memory: it starts empty at every
// restart, so each replica runs every firing itself.
func NewMemoryCursor() Cursor {
	return &memoryCursor{m: make(map[string]string)}
}

type memoryCursor struct {
	mu sync.RWMutex
	m  map[string]string
}

func (c *memoryCursor) Get(_ context.Context, name string) (string, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[name], nil
}

func (c *memoryCursor) Set(_ context.Context, name, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[name] = value
	return nil
}

// FileCursor is a Cursor that survives restarts: one file per name in a
// directory. Each Set writes a temporary file, syncs it, renames it over
// the old one and syncs the directory, so a crash at any point leaves
// either the old value or the new one, never a torn or empty file; the
// temporary files that crashes leave behind are removed by the next
// [NewFileCursor] on the directory. A directory belongs to one process at
// a time: FileCursors of one process on the same directory share its lock,
// but two processes must not share a directory.
type FileCursor struct {
	dir string
	mu  *sync.Mutex // one writer at a time per directory, within the process
}

// dirLocks holds one mutex per directory, for the FileCursors of this
// process: a cursor opening a directory must not remove the temporary file
// of another one writing there.
var dirLocks sync.Map // cleaned absolute path -> *sync.Mutex

// NewFileCursor returns a FileCursor storing its files in dir, which it
// creates if needed, and removes the temporary files that writes
// interrupted by a crash left there.
func NewFileCursor(dir string) (*FileCursor, error) {
	if dir == "" {
		return nil, errors.New("process: NewFileCursor: empty directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("process: NewFileCursor: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("process: NewFileCursor: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("process: NewFileCursor: %s is not a directory", dir)
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs) // one lock, however the directory is named
	}
	if err != nil {
		return nil, fmt.Errorf("process: NewFileCursor: %w", err)
	}
	mu, _ := dirLocks.LoadOrStore(abs, new(sync.Mutex))
	c := &FileCursor{dir: dir, mu: mu.(*sync.Mutex)}
	if err := c.removeTemporaries(); err != nil {
		return nil, fmt.Errorf("process: NewFileCursor: removing stale temporary files: %w", err)
	}
	return c, nil
}

// temporary matches the names of the temporary files that Set writes:
// "." + the cursor file's name + "." + the random part of os.CreateTemp.
var temporary = regexp.MustCompile(`^\..*\.cursor\.[0-9]+$`)

func (c *FileCursor) removeTemporaries() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.Type().IsRegular() && temporary.MatchString(e.Name()) {
			if err := os.Remove(filepath.Join(c.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Path returns the file that holds name's value, for messages and
// operators; it need not exist.
func (c *FileCursor) Path(name string) string {
	return filepath.Join(c.dir, url.PathEscape(name)+".cursor")
}

func (c *FileCursor) path(name string) (string, error) {
	if name == "" {
		return "", errors.New("process: file cursor: empty name")
	}
	return c.Path(name), nil
}

// Get returns the value stored under name, or "" and nil if there is none;
// an empty name is an error. The value's surrounding white space is
// trimmed. Nothing at the path blocks it or exhausts memory: anything but
// a regular file (a FIFO, a directory, a device, through a symlink or
// not), or a file over 1 MiB, is an error naming the file. A regular
// file's read does not wait on ctx, which only satisfies [Cursor].
func (c *FileCursor) Get(_ context.Context, name string) (string, error) {
	p, err := c.path(name)
	if err != nil {
		return "", err
	}
	b, err := readCursorFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("process: file cursor: %w", err) // the error names the file
	}
	return strings.TrimSpace(string(b)), nil
}

// maxCursorFile bounds what Get reads. Scheduled's values are a few dozen
// bytes; a file far larger is not a cursor's, and reading it whole could
// take the service down.
const maxCursorFile = 1 << 20

// readCursorFile reads the regular file at p, of at most maxCursorFile
// bytes.
func readCursorFile(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (mode %s)", p, info.Mode())
	}
	if info.Size() > maxCursorFile {
		return nil, fmt.Errorf("%s holds %d bytes, more than %d: not a cursor's value", p, info.Size(), maxCursorFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCursorFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCursorFile {
		return nil, fmt.Errorf("%s holds more than %d bytes: not a cursor's value", p, maxCursorFile)
	}
	return b, nil
}

// Set stores value under name, atomically and durably: when it returns nil
// the file and its directory entry are synced to disk; when it fails, the
// file holds the old value or the new one. An empty name is an error. The
// write is done whatever ctx, which only satisfies [Cursor].
func (c *FileCursor) Set(_ context.Context, name, value string) error {
	p, err := c.path(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := writeAtomically(p, []byte(value+"\n")); err != nil {
		return fmt.Errorf("process: file cursor: %w", err) // the error names the file
	}
	return nil
}

// writeAtomically writes data to path through a temporary file in the same
// directory. An error from the write, sync or rename names the file
// concerned.
func writeAtomically(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ActiveContext returns an AwaitRoleFunc for which every replica always
// holds every role: the process runs everywhere, always.
func ActiveContext() AwaitRoleFunc {
	return func(string) ContextFunc {
		return func(ctx context.Context) (context.Context, context.CancelFunc, error) {
			ctx, cancel := context.WithCancel(ctx)
			return ctx, cancel, nil
		}
	}
}
