package postgres

import (
	"strconv"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestSeenFilter_NeverMissesAndRarelyFalselySees: "not seen" is certain; "seen" of a customer
// never added is rare at a million (each costs only the slower merge path).
func TestSeenFilter_NeverMissesAndRarelyFalselySees(t *testing.T) {
	f := newSeenFilter()
	const n = 1_000_000
	early := 0
	for i := range n {
		if f.testAndAdd("AC-" + strconv.Itoa(i)) {
			early++
		}
	}
	for i := range n {
		if !f.testAndAdd("AC-" + strconv.Itoa(i)) {
			t.Fatalf("AC-%d added but not seen", i)
		}
	}
	falsely := 0
	for i := range n {
		if f.testAndAdd("XY-" + strconv.Itoa(i)) {
			falsely++
		}
	}
	t.Logf("false positives: %d while adding %d, %d of %d more", early, n, falsely, n)
	if early > 100 || falsely > 200 { // ~1 in 100,000 expected at 1–2 million
		t.Errorf("%d and %d of %d new customers reported seen", early, falsely, n)
	}
}

// BenchmarkSeenFilter is the filter's cost per row of a million-row list.
func BenchmarkSeenFilter(b *testing.B) {
	ids := make([]string, 1_000_000)
	for i := range ids {
		ids[i] = "AC-" + strconv.Itoa(10_000_000+i)
	}
	f := newSeenFilter()
	b.ResetTimer()
	for i := range b.N {
		f.testAndAdd(ids[i%len(ids)])
	}
}

// BenchmarkSeenFilterBatch is the filter's cost per batch of 1,024 rows as the import meets
// it: between two tests the COPY goroutine encodes a row, and the list streams through the
// caches (here, 300 bytes a row of a 64 MiB buffer, twice the L3 of the benchmark machine),
// which pushes the filter's blocks out of them. warmed reads the batch's blocks first
// (seenFilter.warm), as the import does; cold tests the rows one by one.
func BenchmarkSeenFilterBatch(b *testing.B) {
	for _, warmed := range []bool{false, true} {
		b.Run(map[bool]string{false: "cold", true: "warmed"}[warmed], func(b *testing.B) {
			rows := make([]breach.ImportRow, 1024)
			ids := make([]string, 1<<20)
			for i := range ids {
				ids[i] = "AC-" + strconv.Itoa(10_000_000+i)
			}
			f := newSeenFilter()
			stream := make([]byte, 64<<20)
			n, at := 0, 0
			for b.Loop() {
				for i := range rows {
					rows[i].CustomerID = ids[n%len(ids)]
					n++
				}
				if warmed {
					f.warm(rows)
				}
				for i := range rows {
					for j := 0; j < 300; j += 64 {
						stream[(at+j)%len(stream)]++
					}
					at += 300
					f.testAndAdd(rows[i].CustomerID)
				}
			}
		})
	}
}
