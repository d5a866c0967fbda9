package postgres

import "hash/maphash"

// bloomBits is the size of seenFilter: 16 MiB whatever the list's size, so an import's memory
// stays flat. With 3 hashes it wrongly reports "seen" for ~1 in 100,000 customers of a
// 1-million-row list and ~1 in 5 of a 37-million-row one; a wrong "seen" only sends the row
// through the slower merge path, never loses or duplicates it.
const bloomBits = 1 << 27

// seenFilter is a Bloom filter of the customer IDs an import has copied straight into
// recipients: "not seen" is certain, "seen" is probable.
type seenFilter struct {
	bits []uint64
	seed maphash.Seed
}

func newSeenFilter() *seenFilter {
	return &seenFilter{bits: make([]uint64, bloomBits/64), seed: maphash.MakeSeed()}
}

// testAndAdd reports whether id may have been added before, and adds it.
func (f *seenFilter) testAndAdd(id string) bool {
	h := maphash.String(f.seed, id)
	h1, h2 := uint32(h), uint32(h>>32)|1
	seen := true
	for i := range uint32(3) {
		bit := (h1 + i*h2) % bloomBits
		word, mask := bit/64, uint64(1)<<(bit%64)
		if f.bits[word]&mask == 0 {
			seen = false
			f.bits[word] |= mask
		}
	}
	return seen
}
