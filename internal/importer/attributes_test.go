package importer

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestParse_WrittenBatchesAreNotKeptAlive: once a batch is written (and dropped by the store),
// nothing in the importer may keep its rows' text alive, even while the workers wait for more
// of the list (a slow upload). A worker's attribute arena reset only when its next chunk
// arrived let an idle worker keep the chunk of its last batch, and with it the text of every
// row of that batch that had an attribute: up to a chunk (1 MiB+) per worker, outside the
// pipeline's inFlightCost budget.
func TestParse_WrittenBatchesAreNotKeptAlive(t *testing.T) {
	const workers, rows = 4, 64
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprint(pw, "customer_id,email,plan\n")
		for i := range rows {
			// 60 KiB of attribute: a chunk (chunkCost) holds ~16 rows.
			fmt.Fprintf(pw, "C%d,c%d@example.com,%s\n", i, i, strings.Repeat(string(rune('a'+i%26)), 60<<10))
		}
		// The rest of the list is slow to come: the pipeline waits.
	}()

	var mu sync.Mutex
	var weaks []weak.Pointer[byte]
	var written atomic.Int64
	write := func(_ context.Context, b *breach.ImportBatch) error {
		mu.Lock()
		defer mu.Unlock()
		for i := range b.Rows {
			weaks = append(weaks, weak.Make(unsafe.StringData(b.Rows[i].Extra[0].Value)))
		}
		written.Add(int64(len(b.Rows)))
		return nil // the store has sent the batch on and forgotten it
	}
	done := make(chan error, 1)
	go func() {
		done <- newTestImporter(t).parse(context.Background(), &breach.Campaign{DefaultCountry: "PE"}, &breach.Import{}, pr,
			Options{Workers: workers, BatchRows: 1024}, write, func(context.Context, int64) {})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for written.Load() < rows-16 && time.Now().Before(deadline) { // all but the last, partial chunk
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the workers go idle
	for range 3 {
		runtime.GC()
	}
	mu.Lock()
	alive := 0
	for _, w := range weaks {
		if w.Value() != nil {
			alive++
		}
	}
	n := len(weaks)
	mu.Unlock()
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if alive > 0 {
		t.Errorf("%d of the %d rows written and dropped are still alive (%d KiB of their text) while the workers wait for input", alive, n, alive*61)
	}
}

// TestParse_RowsNeverShareAttributes: many small batches, several workers, rows rejected after
// their attributes were appended, address-less city/zip columns and a state: every row keeps
// exactly its own attributes, in column order.
func TestParse_RowsNeverShareAttributes(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,email,city,zip,state,a1,a2,a3\n")
	const n = 5000
	for i := range n {
		email := fmt.Sprintf("c%d@example.com", i)
		if i%3 == 1 {
			email = "not-an-email" // rejected after every attribute was appended
		}
		val := func(k string, present bool) string {
			if !present {
				return ""
			}
			return fmt.Sprintf("%s-%d", k, i)
		}
		fmt.Fprintf(&b, "C%d,%s,%s,%s,%s,%s,%s,%s\n", i, email,
			val("city", i%2 == 0), val("zip", i%5 != 0), val("st", i%7 != 0), val("a1", true), val("a2", i%4 == 0), val("a3", i%11 != 0))
	}
	for _, batch := range []int{1, 3, 7, 64, 1024} {
		rows, rejects, _ := mustParse(t, b.String(), Options{Workers: 4, BatchRows: batch})
		if len(rows)+len(rejects) != n {
			t.Fatalf("%d rows + %d rejects", len(rows), len(rejects))
		}
		for _, r := range rows {
			var i int
			fmt.Sscanf(r.CustomerID, "C%d", &i)
			var want []breach.Attribute
			add := func(name, k string, present bool) {
				if present {
					want = append(want, breach.Attribute{Name: name, Value: fmt.Sprintf("%s-%d", k, i)})
				}
			}
			add("city", "city", i%2 == 0)
			add("zip", "zip", i%5 != 0)
			add("state", "st", i%7 != 0)
			add("a1", "a1", true)
			add("a2", "a2", i%4 == 0)
			add("a3", "a3", i%11 != 0)
			if fmt.Sprint(r.Extra) != fmt.Sprint(want) || cap(r.Extra) != len(r.Extra) {
				t.Fatalf("batch %d: %s: attributes %v (cap %d), want %v", batch, r.CustomerID, r.Extra, cap(r.Extra), want)
			}
		}
	}
}
