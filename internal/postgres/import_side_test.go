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
