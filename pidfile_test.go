package lu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pidApp(path string) *App {
	a := &App{UseProcessFile: true, ProcessFile: path}
	a.AddProcess(Process{Name: "p", Run: blocker})
	return a
}

// deadPid returns the id of a process that has exited.
func deadPid(t *testing.T) int {
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func TestProcessFile(t *testing.T) {
	me := strconv.Itoa(os.Getpid())

	t.Run("written while running and removed after shutdown", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		a := pidApp(path)
		require.NoError(t, a.Launch(context.Background()))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, me, string(got))
		require.NoError(t, a.Shutdown())
		assert.NoFileExists(t, path)
		entries, _ := os.ReadDir(filepath.Dir(path))
		assert.Empty(t, entries, "no temporary file left behind")
	})
	t.Run("refused while a live process holds it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		first := pidApp(path)
		require.NoError(t, first.Launch(context.Background()))
		defer first.Shutdown()
		second := pidApp(path)
		err := second.Launch(context.Background())
		require.ErrorIs(t, err, ErrProcessFileHeld)
		assert.Contains(t, err.Error(), "holds pid "+me)
		assert.Empty(t, second.RunningProcesses())
		got, _ := os.ReadFile(path)
		assert.Equal(t, me, string(got), "the holder's file is untouched")
	})
	t.Run("a stale file from a dead process is replaced", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		require.NoError(t, os.WriteFile(path, []byte(strconv.Itoa(deadPid(t))), 0o644))
		a := pidApp(path)
		require.NoError(t, a.Launch(context.Background()))
		got, _ := os.ReadFile(path)
		assert.Equal(t, me, string(got))
		require.NoError(t, a.Shutdown())
		assert.NoFileExists(t, path)
	})
	t.Run("never written through a symlink", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "precious")
		require.NoError(t, os.WriteFile(target, []byte("keep"), 0o644))
		path := filepath.Join(dir, "lu.pid")
		require.NoError(t, os.Symlink(target, path))
		a := pidApp(path)
		err := a.Launch(context.Background())
		require.Error(t, err)
		got, _ := os.ReadFile(target)
		assert.Equal(t, "keep", string(got))
		assert.Equal(t, StateTerminated, a.State())
	})
	t.Run("a file that holds no pid is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		require.NoError(t, os.WriteFile(path, []byte("hello"), 0o644))
		err := pidApp(path).Launch(context.Background())
		assert.ErrorContains(t, err, "not a process id")
	})
	t.Run("not removed when it no longer holds our pid", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lu.pid")
		a := pidApp(path)
		require.NoError(t, a.Launch(context.Background()))
		other := strconv.Itoa(deadPid(t))
		require.NoError(t, os.Remove(path))
		require.NoError(t, os.WriteFile(path, []byte(other), 0o644))
		err := a.Shutdown()
		assert.ErrorContains(t, err, "left in place")
		got, _ := os.ReadFile(path)
		assert.Equal(t, other, string(got))
	})
	t.Run("the default path is /tmp/lu.pid", func(t *testing.T) {
		if _, err := os.Lstat(defaultProcessFile); err == nil {
			t.Skip(defaultProcessFile + " exists on this machine")
		}
		a := &App{UseProcessFile: true}
		require.NoError(t, a.Launch(context.Background()))
		assert.FileExists(t, "/tmp/lu.pid")
		require.NoError(t, a.Shutdown())
		assert.NoFileExists(t, "/tmp/lu.pid")
	})
}
