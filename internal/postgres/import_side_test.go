package postgres_test

import (
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
)

// listReader generates a list of rows rows of about 1 MiB, all of one customer, each with one
// small attribute and fifteen 64-KB columns the import drops (--map pad_N=-).
type listReader struct {
	rows, i int
	reject  bool // every row has a bad email (and its own customer): rejects, not repeats
	buf     []byte
}

func (l *listReader) Read(p []byte) (int, error) {
	for len(l.buf) == 0 {
		if l.i > l.rows {
			return 0, io.EOF
		}
		var b strings.Builder
		if l.i == 0 {
			b.WriteString("customer_id,email,plan")
			for k := range 15 {
				fmt.Fprintf(&b, ",pad_%d", k)
			}
		} else {
			if l.reject {
				fmt.Fprintf(&b, "C%d,not-an-email,plan-%d", l.i, l.i)
			} else {
				fmt.Fprintf(&b, "C1,c1@example.com,plan-%d", l.i)
			}
			pad := strings.Repeat("x", 65000)
			for range 15 {
				b.WriteString("," + pad)
			}
		}
		b.WriteByte('\n')
		l.buf = []byte(b.String())
		l.i++
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

// TestImport_HeldBackRowsAreBoundedInBytes: rows held back for the staging table (here, every
// repeat of one customer, or rejects) must not keep their whole row's text alive through a
// value (1 MiB each here, the columns the import drops included), nor be held by the thousand
// when they are big: before detach and sideByteLimit, up to sideLimit (4096) of them made the
// import's heap grow by a megabyte a row.
func TestImport_HeldBackRowsAreBoundedInBytes(t *testing.T) {
	for _, reject := range []bool{false, true} {
		t.Run(fmt.Sprintf("rejects=%v", reject), func(t *testing.T) { sideBounded(t, reject) })
	}
}

func sideBounded(t *testing.T, reject bool) {
	db := open(t)
	c := newCampaign(t, db)
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	opts := importer.Options{Map: map[string]string{}}
	for k := range 15 {
		opts.Map[fmt.Sprintf("pad_%d", k)] = "-"
	}
	const rows = 300
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	runtime.GC()
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
		}
	})
	imp := &breach.Import{Filename: "list.csv", CreatedBy: "test"}
	_, err = im.Run(t.Context(), c, imp, &listReader{rows: rows, reject: reject}, opts)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if imp.Read != rows || (!reject && imp.Merged != rows-1) || (reject && imp.Rejected != rows) {
		t.Fatalf("import %+v", imp)
	}
	growth := (max(peak, base) - base) >> 20
	t.Logf("peak live heap growth %d MiB for %d rows of 1 MiB", growth, rows)
	// 35-48 MiB alone, up to 77 MiB with other packages' tests on the same two cores (the live
	// heap is measured at collections, which lag then); 279-286 MiB when held-back rows kept
	// their records.
	if growth > 128 {
		t.Errorf("peak live heap grew by %d MiB, want the import's memory flat (< 128 MiB; 300 MiB were held before detach)", growth)
	}
}

// TestImport_WarnsOfACustomerIDGivenToDifferentPeople: the review's list gave John Smith and
// Kim Minji one customer_id; the merge made one person of them (his name and email, her phone
// and language) without a word. Rows of one customer that disagree on the name or the email
// are now warned of, at the customer's latest row, whichever road the rows took (copied
// straight into a new partition, or staged into one that exists); a telecom's rows — the same
// person on each, one phone per line — are not, nor are changes a later list brings.
func TestImport_WarnsOfACustomerIDGivenToDifferentPeople(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	run := func(list string) *breach.Import {
		t.Helper()
		imp := &breach.Import{Filename: "list.csv", CreatedBy: "test"}
		if _, err := im.Run(t.Context(), c, imp, strings.NewReader(list), importer.Options{}); err != nil {
			t.Fatal(err)
		}
		return imp
	}
	mixed := func(imp *breach.Import) map[int64]string {
		out := map[int64]string{}
		for _, w := range imp.Warnings {
			if w.Field == "customer_id" {
				out[w.Line] = w.Reason
			}
		}
		return out
	}
	first := run(`customer_id,name,email,phone,country
M-1,John Smith,john@example.com,,US
T-1,Ana Quispe,ana@example.pe,+51987654321,PE
T-1,Ana Quispe,ana@example.pe,+51987654322,PE
M-1,Kim Minji,,+821012345678,KR
E-1,Luis Rojas,luis@example.pe,,PE
E-1,luis rojas,rojas@example.pe,,PE
`)
	got := mixed(first)
	if len(got) != 2 || !strings.Contains(got[5], `"M-1"`) || !strings.Contains(got[5], "different names") ||
		!strings.Contains(got[7], `"E-1"`) || !strings.Contains(got[7], "different email addresses") || first.Warned != 2 {
		t.Fatalf("first list: warned %d, %v; want M-1 (names) at line 5 and E-1 (email addresses) at line 7, and not the telecom's T-1", first.Warned, got)
	}
	for _, w := range first.Warnings {
		if strings.Contains(w.Reason, "Smith") || strings.Contains(w.Reason, "Minji") || strings.Contains(w.Reason, "@") {
			t.Errorf("a warning quotes personal data: %s", w.Reason)
		}
	}
	// The partition exists now: every row is staged. A new person under an ID of the first
	// list is a change a corrected list may bring, not warned of; two people on this list are.
	second := run(`customer_id,name,email,country
M-1,Kim Minji,kim@example.kr,KR
N-1,Paul Martin,paul@example.fr,FR
N-1,Marie Curie,marie@example.fr,FR
`)
	if got := mixed(second); len(got) != 1 || !strings.Contains(got[4], `"N-1"`) || !strings.Contains(got[4], "names and email addresses") {
		t.Errorf("second list: %v; want N-1 at line 4 only", got)
	}
	// A row warned of for its name's markup and for its customer's mixed rows counts once.
	third := run("customer_id,name,email,country\nD-1,<b>Ana</b>,d1@example.com,PE\nD-1,<i>Bea</i>,d1@example.com,PE\n")
	if got := mixed(third); len(got) != 1 || third.Warned != 2 || third.Read != 2 {
		t.Errorf("third list: read %d, warned %d, mixed %v; want 2 rows, 2 warned, D-1 at line 3", third.Read, third.Warned, got)
	}
}
