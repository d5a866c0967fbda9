package postgres

import (
	"hash/maphash"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// bloomBits is the size of seenFilter: 16 MiB whatever the list's size, so an import's memory
// stays flat. It wrongly reports "seen" for ~1 in 100,000 customers of a 1-million-row list
// and ~1 in 4 of a 37-million-row one; a wrong "seen" only sends the row through the slower
// merge path, never loses or duplicates it.
const bloomBits = 1 << 27

// A customer's bits all lie in one 512-bit block, a cache line: testing a customer costs one
// cache miss instead of one per bit. The filter is 16 MiB, so each miss goes to main memory,
// and it is tested once per row in the COPY goroutine that every row passes through.
const (
	blockWords = 8 // 512 bits
	blockBits  = 9 // log2 of the bits of a block
	blocks     = bloomBits / (64 * blockWords)
	blockShift = 64 - 18 // the top 18 bits of the hash pick one of the 2^18 blocks
	bloomProbe = 4       // bits set per customer, each from 9 of the hash's low 36 bits
)

// seenFilter is a Bloom filter of the customer IDs an import has copied straight into
// recipients: "not seen" is certain, "seen" is probable.
type seenFilter struct {
	bits []uint64
	seed maphash.Seed
	// warmed is what warm read, kept so that the reads are not optimized away.
	warmed uint64
}

func newSeenFilter() *seenFilter {
	return &seenFilter{bits: make([]uint64, bloomBits/64), seed: maphash.MakeSeed()}
}

// testAndAdd reports whether id may have been added before, and adds it.
func (f *seenFilter) testAndAdd(id string) bool {
	h := maphash.String(f.seed, id)
	block := f.bits[(h>>blockShift)*blockWords:][:blockWords]
	seen := true
	for i := range bloomProbe {
		bit := h >> (i * blockBits) & (1<<blockBits - 1)
		word, mask := bit/64, uint64(1)<<(bit%64)
		if block[word]&mask == 0 {
			seen = false
			block[word] |= mask
		}
	}
	return seen
}

// warm reads the blocks of a batch's customers, all at once, before they are tested one by one.
// A block is a cache miss to main memory (the filter is 16 MiB, and the import streams hundreds
// of megabytes past it): tested one by one between encoding rows, each miss stalled the COPY
// goroutine for its whole length, a quarter of a microsecond a row in the import's profile;
// read in a loop that does nothing else, the misses overlap.
func (f *seenFilter) warm(rows []breach.ImportRow) {
	var x uint64
	for i := range rows {
		h := maphash.String(f.seed, rows[i].CustomerID)
		x ^= f.bits[(h>>blockShift)*blockWords]
	}
	f.warmed ^= x
}
