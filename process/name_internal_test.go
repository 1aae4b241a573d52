package process

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFunctionNameParts(t *testing.T) {
	tests := []struct {
		fn, pkg, short string
		own, standard  bool
	}{
		{"main.main", "main", "main", false, false},
		{"main.newWorker", "main", "newWorker", false, false},
		{"example.com/billing.(*Service).Start", "example.com/billing", "(*Service).Start", false, false},
		{"example.com/billing.run.func1", "example.com/billing", "run.func1", false, false},
		{"bitx/app/svc.newWorker", "bitx/app/svc", "newWorker", false, false},
		{"github.com/lu-go/lu.(*App).Launch", "github.com/lu-go/lu", "(*App).Launch", true, false},
		{"github.com/lu-go/lu/process.Loop", "github.com/lu-go/lu/process", "Loop", true, false},
		{"github.com/lu-go/lu/process_test.TestX", "github.com/lu-go/lu/process_test", "TestX", false, false},
		{"github.com/lu-go/lux/y.F", "github.com/lu-go/lux/y", "F", false, false},
		{"net/http.(*conn).serve", "net/http", "(*conn).serve", false, true},
		{"runtime.goexit", "runtime", "goexit", false, true},
		{"testing.tRunner", "testing", "tRunner", false, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.pkg, packageOf(tt.fn), tt.fn)
		assert.Equal(t, tt.short, shortName(tt.fn), tt.fn)
		assert.Equal(t, tt.own, isOwnPackage(packageOf(tt.fn)), tt.fn)
		assert.Equal(t, tt.standard, isStandard(packageOf(tt.fn)), tt.fn)
	}
}
