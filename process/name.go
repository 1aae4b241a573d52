package process

import (
	"runtime"
	"strings"
)

// callerName names a process after the function that built it, in the
// format of Luno's lu: the first function on the stack that is neither in
// one of lu's own packages nor a function literal, without its package
// path and package name, such as "newWorker", "(*Service).Start" or
// "main". Standard-library frames at the bottom of the stack (the runtime,
// the testing package's runner) do not count. It returns "" when no
// function remains, as for a process built in a goroutine's function
// literal.
func callerName() string {
	pcs := make([]uintptr, 128)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var stack []string
	for {
		f, more := frames.Next()
		if f.Function != "" {
			stack = append(stack, f.Function)
		}
		if !more {
			break
		}
	}
	for len(stack) > 0 && isStandard(packageOf(stack[len(stack)-1])) {
		stack = stack[:len(stack)-1]
	}
	for _, fn := range stack {
		name := shortName(fn)
		if isOwnPackage(packageOf(fn)) || strings.Contains(name, ".func") {
			continue
		}
		return name
	}
	return ""
}

// packageOf returns the import path of the package of a function named as
// runtime.Frame.Function names it: "example.com/billing.(*Service).Start"
// is in "example.com/billing".
func packageOf(fn string) string {
	slash := strings.LastIndex(fn, "/") + 1
	if dot := strings.Index(fn[slash:], "."); dot >= 0 {
		return fn[:slash+dot]
	}
	return fn
}

// shortName is fn without its package path and package name.
func shortName(fn string) string {
	fn = fn[strings.LastIndex(fn, "/")+1:]
	if dot := strings.Index(fn, "."); dot >= 0 {
		return fn[dot+1:]
	}
	return fn
}

// isOwnPackage reports whether pkg is one of lu's library packages (its
// test packages are not).
func isOwnPackage(pkg string) bool {
	const module = "github.com/lu-go/lu"
	return pkg == module || (strings.HasPrefix(pkg, module+"/") && !strings.HasSuffix(pkg, "_test"))
}

// isStandard reports whether pkg is in the standard library, by its first
// path element. (A module path need not have a dot, so that alone would
// not tell; a frame's file would not either in a binary built with
// -trimpath.)
func isStandard(pkg string) bool {
	first, _, _ := strings.Cut(pkg, "/")
	_, ok := standardRoots[first]
	return ok
}

// standardRoots are the first path elements of the standard library's
// packages ("go list std").
var standardRoots = map[string]struct{}{
	"archive": {}, "bufio": {}, "bytes": {}, "cmp": {}, "compress": {}, "container": {}, "context": {},
	"crypto": {}, "database": {}, "debug": {}, "embed": {}, "encoding": {}, "errors": {}, "expvar": {},
	"flag": {}, "fmt": {}, "go": {}, "hash": {}, "html": {}, "image": {}, "index": {}, "internal": {},
	"io": {}, "iter": {}, "log": {}, "maps": {}, "math": {}, "mime": {}, "net": {}, "os": {}, "path": {},
	"plugin": {}, "reflect": {}, "regexp": {}, "runtime": {}, "slices": {}, "sort": {}, "strconv": {},
	"strings": {}, "structs": {}, "sync": {}, "syscall": {}, "testing": {}, "text": {}, "time": {},
	"unicode": {}, "unique": {}, "unsafe": {}, "vendor": {}, "weak": {},
}
