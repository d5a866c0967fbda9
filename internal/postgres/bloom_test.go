package postgres

import (
	"strconv"
	"testing"
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
