package process_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

func nop(context.Context) error { return nil }

func newWorker() lu.Process { return process.Loop(nop) }

type Service struct{}

func (*Service) Start() lu.Process { return process.Retry(nop) }

func (Service) Consume() lu.Process { return process.ContextLoop(process.ActiveContext()("x"), nop) }

func build[T any]() lu.Process { return process.ContextRetry(process.ActiveContext()("x"), nop) }

// TestDefaultNames checks the names of unnamed processes against the
// format of Luno's lu: the function that built the process, without its
// package; function literals are skipped for their caller.
func TestDefaultNames(t *testing.T) {
	inGoroutine := make(chan lu.Process)
	go func() { inGoroutine <- process.Loop(nop) }()

	tests := []struct {
		got  lu.Process
		want string
	}{
		{newWorker(), "newWorker"},
		{new(Service).Start(), "(*Service).Start"},
		{Service{}.Consume(), "Service.Consume"},
		{build[int](), "build[...]"},
		{process.Loop(nop), "TestDefaultNames"},
		{func() lu.Process { return process.Loop(nop) }(), "TestDefaultNames"},
		{<-inGoroutine, ""},
		{process.Loop(nop, process.WithName("named")), "named"},
		{process.Loop(nop, process.WithName("")), ""},
		{process.Scheduled(process.ActiveContext(), process.NewMemoryCursor(), "job", process.Every(time.Hour), nopRun,
			process.WithName("ignored")), "job"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got.Name)
	}
}

// TestDefaultNameInMain builds a program whose processes are built in main
// and in functions of package main, as a service would.
func TestDefaultNameInMain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("go.mod", "module example.com/service\n\ngo 1.26.0\n\nrequire github.com/lu-go/lu v0.0.0\n\nreplace github.com/lu-go/lu => "+root+"\n")
	write("main.go", `package main

import (
	"context"
	"fmt"

	"github.com/lu-go/lu"
	"github.com/lu-go/lu/process"
)

func work(context.Context) error { return nil }

func newWorker() lu.Process { return process.Loop(work) }

type Service struct{}

func (*Service) Start() lu.Process { return process.Loop(work) }

func main() {
	fmt.Println(newWorker().Name)
	fmt.Println(new(Service).Start().Name)
	fmt.Println(process.Loop(work).Name)
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
	assert.Equal(t, "newWorker\n(*Service).Start\nmain\n", gocmd("run", "."))
	assert.Equal(t, "newWorker\n(*Service).Start\nmain\n", gocmd("run", "-trimpath", "."))
}
