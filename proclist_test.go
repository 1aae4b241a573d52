package lu

import (
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProcListKeepsOrderAndAddresses(t *testing.T) {
	var l procList
	var ptrs []*procRun
	const n = grownRecords + 3*maxChunk + 7
	for i := range n {
		l.add(Process{Name: strconv.Itoa(i)})
		ptrs = append(ptrs, l.at(i))
		require.Equal(t, i+1, l.len())
	}
	for i := range n {
		require.Same(t, ptrs[i], l.at(i), "record %d moved", i)
		require.Equal(t, strconv.Itoa(i), l.at(i).Name)
	}
	count := 0
	for i, p := range l.all {
		require.Equal(t, count, i)
		require.Same(t, ptrs[i], p)
		count++
	}
	room := len(l.first)
	for _, c := range l.chunks {
		room += len(c)
	}
	require.Less(t, room-n, maxChunk, "unused room is less than a chunk")
	require.Equal(t, n, count)

	var empty procList
	for range empty.all {
		t.Fatal("an empty list yields nothing")
	}
}

func TestLocate(t *testing.T) {
	for _, tc := range []struct{ i, chunk, off int }{
		{0, 0, 0}, {3, 0, 3}, {4, 1, 0}, {11, 1, 7}, {12, 2, 0}, {27, 2, 15}, {28, 3, 0},
		{1019, 7, 511}, {1020, 8, 0}, {2043, 8, 1023}, {2044, 9, 0}, {3067, 9, 1023}, {3068, 10, 0},
	} {
		c, off := locate(tc.i)
		require.Equal(t, [2]int{tc.chunk, tc.off}, [2]int{c, off}, "record %d", tc.i)
	}
}

// The records are sized for 64-bit platforms, where a cache line holds one.
func TestRecordsAreOneCacheLine(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sized for 64-bit platforms")
	}
	assert.Equal(t, uintptr(64), unsafe.Sizeof(procRun{}), "procRun")
	assert.Equal(t, uintptr(64), unsafe.Sizeof(hook{}), "hook")
}
