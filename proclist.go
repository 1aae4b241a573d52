package lu

import "math/bits"

// procList holds the App's process records in chunks that never move: the
// first holds firstChunk records, each next one twice as many as the one
// before, up to maxChunk records, and every chunk after that maxChunk.
// Adding a process copies nothing, the room left unused is at most a
// chunk, and a record's address stays the same from AddProcess to the end
// of the App. The first chunk is part of the list, so an App with a few
// processes allocates nothing for them.
type procList struct {
	first  [firstChunk]procRun
	chunks [][]procRun // chunk c is chunks[c-1]
	n      int
}

const (
	firstChunk   = 4
	growChunks   = 9                                // chunks that double: 4 to 1024 records
	maxChunk     = firstChunk << (growChunks - 1)   // 1024
	grownRecords = firstChunk * (1<<growChunks - 1) // records in the doubling chunks
)

// locate returns the chunk and offset of record i.
func locate(i int) (chunk, off int) {
	if i >= grownRecords {
		i -= grownRecords
		return growChunks + i/maxChunk, i % maxChunk
	}
	q := uint(i)/firstChunk + 1
	chunk = bits.Len(q) - 1
	return chunk, i - firstChunk*(1<<chunk-1)
}

// chunkLen is the number of records chunk c holds.
func chunkLen(c int) int { return firstChunk << min(c, growChunks-1) }

func (l *procList) add(p Process) {
	if c, _ := locate(l.n); c > len(l.chunks) {
		l.chunks = append(l.chunks, make([]procRun, chunkLen(c)))
	}
	l.at(l.n).Process = p
	l.n++
}

func (l *procList) len() int { return l.n }

// at returns record i, which must be below len.
func (l *procList) at(i int) *procRun {
	c, off := locate(i)
	if c == 0 {
		return &l.first[off]
	}
	return &l.chunks[c-1][off]
}

// all yields every record in the order they were added.
func (l *procList) all(yield func(int, *procRun) bool) {
	for i := range l.n {
		if !yield(i, l.at(i)) {
			return
		}
	}
}
