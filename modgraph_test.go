package lu

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConsumerModuleGraphIsLight builds a service that imports the core
// (lu, process, lutest, test) and checks what its module graph holds: none of the
// integrations' heavy dependencies, which live in nested modules, and
// about a dozen modules in all.
func TestConsumerModuleGraphIsLight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("go.mod", "module example.com/consumer\n\ngo 1.26.0\n\nrequire github.com/lu-go/lu v0.0.0\n\nreplace github.com/lu-go/lu => "+root+"\n")
	write("main.go", `package main

import (
	"os"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/lutest"
	"github.com/lu-go/lu/process"
	"github.com/lu-go/lu/test"
)

var (
	_ lutest.Recorder
	_ test.EventLog
)

func main() {
	var a lu.App
	a.AddProcess(process.NoOp())
	os.Exit(a.Run())
}
`)
	gocmd := func(args ...string) string {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	gocmd("mod", "tidy")
	gocmd("build", "./...")
	modules := strings.Split(strings.TrimSpace(gocmd("list", "-m", "all")), "\n")
	for _, m := range modules {
		for _, heavy := range []string{"go.etcd.io/", "google.golang.org/grpc", "github.com/prometheus/", "go.uber.org/zap"} {
			if strings.HasPrefix(m, heavy) {
				t.Errorf("a core-only consumer's module graph holds %s", m)
			}
		}
	}
	if len(modules) > 13 {
		t.Errorf("a core-only consumer's module graph holds %d modules (itself included), want at most 13:\n%s",
			len(modules), strings.Join(modules, "\n"))
	}
}
