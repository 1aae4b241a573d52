package process_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu/process"
)

func names(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func TestNewFileCursorRemovesStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		".job.cursor.123456", ".nightly%2Freport.cursor.9", // left by crashes
		"job.cursor", ".keep", "notes.txt", ".job.cursor.tmp", "job.cursor.1", // not ours, or not temporary
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("1"), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".sub.cursor.1"), 0o755))
	_, err := process.NewFileCursor(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{".job.cursor.tmp", ".keep", ".sub.cursor.1", "job.cursor", "job.cursor.1", "notes.txt"}, names(t, dir))
}

// TestFileCursorSurvivesSIGKILL kills a process that writes a cursor in a
// loop, again and again, then opens the directory: no temporary file is
// left, and the value is one that was written whole.
func TestFileCursorSurvivesSIGKILL(t *testing.T) {
	if dir := os.Getenv("LU_TEST_CURSOR_WRITER"); dir != "" {
		c, err := process.NewFileCursor(dir)
		if err != nil {
			os.Exit(3)
		}
		for i := 0; ; i++ {
			if err := c.Set(context.Background(), "job", fmt.Sprint(1767225600+i)); err != nil {
				os.Exit(4)
			}
		}
	}
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	for range 20 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileCursorSurvivesSIGKILL$")
		cmd.Env = append(os.Environ(), "LU_TEST_CURSOR_WRITER="+dir)
		require.NoError(t, cmd.Start())
		require.Eventually(t, func() bool {
			_, err := os.Stat(filepath.Join(dir, "job.cursor"))
			return err == nil
		}, 10*time.Second, time.Millisecond)
		time.Sleep(time.Duration(1+len(names(t, dir))%3) * time.Millisecond) // kill at varying points
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
	}
	t.Logf("left by the kills: %v", names(t, dir))
	c, err := process.NewFileCursor(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"job.cursor"}, names(t, dir))
	v, err := c.Get(context.Background(), "job")
	require.NoError(t, err)
	assert.Regexp(t, `^17672[0-9]{5}$`, v)
}

// TestOpeningAFileCursorDoesNotBreakAWriter: a FileCursor opened on a
// directory that another one of the same process writes to leaves its
// temporary files alone.
func TestOpeningAFileCursorDoesNotBreakAWriter(t *testing.T) {
	dir := t.TempDir()
	writer, err := process.NewFileCursor(dir)
	require.NoError(t, err)
	done := make(chan error)
	go func() {
		for i := range 300 {
			if err := writer.Set(context.Background(), "job", fmt.Sprint(i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for opened := 0; ; opened++ {
		select {
		case err := <-done:
			require.NoError(t, err)
			assert.Positive(t, opened)
			return
		default:
			_, err := process.NewFileCursor(filepath.Join(dir, ".", "")) // the same directory, spelled differently
			require.NoError(t, err)
		}
	}
}

func TestFileCursorErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	c, err := process.NewFileCursor(dir)
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(c.Path("dir"), 0o755)) // a directory where the file should be
	_, err = c.Get(context.Background(), "dir")
	require.Error(t, err)
	assert.Contains(t, err.Error(), c.Path("dir"))
	assert.Equal(t, 1, strings.Count(err.Error(), "dir.cursor"), err.Error())
	assert.Equal(t, filepath.Join(dir, "nightly%2Freport.cursor"), c.Path("nightly/report"))
}
