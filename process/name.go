package process

import (
	"regexp"
	"runtime"
	"strings"
)

var lambda = regexp.MustCompile(`(\.func\d+|\.gowrap\d+|\.\d+)+$`)

// callerName names a process after the first function on the stack outside
// this package, such as "main.main" or "billing.(*Service).Start", without
// closure suffixes.
func callerName() string {
	pcs := make([]uintptr, 16)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		fn := f.Function
		if fn != "" && !strings.HasPrefix(fn, "github.com/lu-go/lu/process.") {
			fn = lambda.ReplaceAllString(fn, "")
			if i := strings.LastIndex(fn, "/"); i >= 0 {
				fn = fn[i+1:]
			}
			return fn
		}
		if !more {
			return "process"
		}
	}
}
