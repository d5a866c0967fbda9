package importer

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// limitsHeader has enough attribute columns for a row of about 1 MiB within the field limit
// (MaxFieldBytes): 18 attributes of at most 64 KiB.
var limitsHeader = "customer_id,email," + strings.Join(attributeNames(18), ",") + "\n"

func attributeNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("a%d", i+1)
	}
	return names
}

// rowOfSize is a valid row of limitsHeader's shape that is exactly size bytes long (without its
// line terminator), its attributes filled with x.
func rowOfSize(t testing.TB, id string, size int) string {
	t.Helper()
	const attrs = 18
	prefix := id + "," + strings.ToLower(id) + "@example.com,"
	fill := size - len(prefix) - (attrs - 1) // the commas between the attributes
	if fill < 0 || fill > attrs*MaxFieldBytes {
		t.Fatalf("rowOfSize(%d): cannot fill %d bytes", size, fill)
	}
	fields := make([]string, attrs)
	for i := range fields {
		n := fill / attrs
		if i < fill%attrs {
			n++
		}
		fields[i] = strings.Repeat("x", n)
	}
	row := prefix + strings.Join(fields, ",")
	if len(row) != size {
		t.Fatalf("rowOfSize(%d) built %d bytes", size, len(row))
	}
	return row
}

// TestImport_RowOverTheLimitsIsRejectedWithItsLine: a row over MaxRowBytes or MaxRowFields is
// rejected with its line and a reason naming the limit, rows within the limits (however close)
// are accepted, and the rows around a rejected one are kept with their own line numbers.
func TestImport_RowOverTheLimitsIsRejectedWithItsLine(t *testing.T) {
	wide := func(fields int) string { return "C2,b@example.com" + strings.Repeat(",", fields-2) }
	tests := []struct {
		name     string
		row      string // line 3, between two valid rows; may span lines
		lines    int    // physical lines the row takes
		rejected string // substring of the reason; "" when the row is accepted
		field    string // the reject's Field, if it names one
		id       string // the customer the reject names
	}{
		{"row one byte under 1 MiB is accepted", rowOfSize(t, "C2", MaxRowBytes-1), 1, "", "", ""},
		{"row of exactly 1 MiB is accepted", rowOfSize(t, "C2", MaxRowBytes), 1, "", "", ""},
		{"row of exactly 1 MiB with CRLF is accepted", rowOfSize(t, "C2", MaxRowBytes) + "\r", 1, "", "", ""},
		{"row one byte over 1 MiB is rejected", rowOfSize(t, "C2", MaxRowBytes+1), 1, "the row is longer than 1 MiB", "", "C2"},
		{"row of 4 MiB is rejected", "C2,b@example.com," + strings.Repeat("y,", 2<<20), 1, "the row is longer than 1 MiB", "", "C2"},
		{"row of 4 MiB of commas is rejected", strings.Repeat(",", 4<<20), 1, "the row is longer than 1 MiB", "", ""},
		{"row with a field over its limit names the field", "C2,b@example.com," + strings.Repeat("z", 2<<20), 1,
			"the row is longer than 1 MiB; its field is longer than 64 KiB", "a1", "C2"},
		{"over-long row whose quote never closes ends at its line", "C2,b@example.com,\"" + strings.Repeat("q", 2<<20), 1,
			"the row is longer than 1 MiB; its field is longer than 64 KiB", "a1", "C2"},
		{"row with 1,025 fields is rejected", wide(1025), 1, "the row has more than 1,024 fields", "", "C2"},
		{"row with 100,000 fields is rejected", wide(100_000), 1, "the row has more than 1,024 fields", "", "C2"},
		{"row with 1,024 fields is only of the wrong width", wide(1024) + "x", 1, "row has 1024 fields, the header has 20", "", "C2"},
		{"quoted field with newlines under the limit is accepted", "C2,b@example.com,\"Av. Arequipa 123\nDpto. 4\nLima\"" + strings.Repeat(",", 17), 3, "", "", ""},
		{"quoted field of 15 lines in a row of 180 KiB is accepted",
			"C2,b@example.com,\"" + strings.Repeat(strings.Repeat("w", 4<<10)+"\n", 15) + "end\"," + strings.Repeat("v", 60<<10) +
				"," + strings.Repeat("u", 60<<10) + strings.Repeat(",", 15), 16, "", "", ""},
		{"quoted field whose row goes past 1 MiB over lines is given up on", "C2,b@example.com,\"" + strings.Repeat(strings.Repeat("w", 60<<10)+"\n", 20) + "end\"" + strings.Repeat(",", 17), 21,
			"not closed within 64 lines or 1 MiB", "a1", "C2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := int64(3 + tt.lines)
			csv := limitsHeader + "C1,c1@example.com" + strings.Repeat(",", 18) + "\n" + tt.row + "\n" +
				fmt.Sprintf("C%d,c3@example.com", after) + strings.Repeat(",", 18) + "\n"
			rows, rejects, _ := mustParse(t, csv, Options{})
			if tt.rejected == "" {
				if len(rejects) != 0 {
					t.Fatalf("rejects: %s", describeRejects(rejects))
				}
				if !slices.Equal(rowLines(rows), []int64{2, 3, after}) {
					t.Fatalf("accepted lines %v, want 2, 3 and %d", rowLines(rows), after)
				}
				if len(tt.row) >= MaxRowBytes-1 && len(rows[1].Extra) != 18 {
					t.Errorf("the long row kept %d attributes, want its 18", len(rows[1].Extra))
				}
				return
			}
			// The row's continuation lines, read again after the resync, may be rejects of their
			// own; the row itself is the one at line 3.
			if len(rejects) == 0 || rejects[0].Line != 3 || !strings.Contains(rejects[0].Reason, tt.rejected) {
				t.Fatalf("rejects %s; want line 3 rejected for %q", describeRejects(rejects), tt.rejected)
			}
			if rejects[0].Field != tt.field || rejects[0].CustomerID != tt.id {
				t.Errorf("reject names field %q customer %q; want %q and %q", rejects[0].Field, rejects[0].CustomerID, tt.field, tt.id)
			}
			if len(rejects[0].Reason) > 200 {
				t.Errorf("reason is %d bytes long: it must not echo the row", len(rejects[0].Reason))
			}
			if lines := rowLines(rows); len(lines) != 2 || lines[0] != 2 || lines[1] != after {
				t.Errorf("accepted lines %v: the rows around the rejected one must be kept", rowLines(rows))
			}
		})
	}
}

// TestImport_HeaderOverTheLimitsRefusesTheFile: a header row over a row limit leaves no columns
// to read the rows by, so the file is refused, with an error naming the limit.
func TestImport_HeaderOverTheLimitsRefusesTheFile(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   string
	}{
		{"header of 1,025 columns", "customer_id,email" + strings.Repeat(",c", 1023), "the row has more than 1,024 fields"},
		{"header of 3 MiB", "customer_id,email," + strings.Repeat("c", 3<<20), "the row is longer than 1 MiB"},
		{"header of 800 KiB of commas", strings.Repeat(",", 800<<10), "the row has more than 1,024 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := parseString(t, tt.header+"\nC1,a@example.com\n", Options{})
			var be *breach.Error
			if !errors.As(err, &be) || be.Code != breach.EINVALID {
				t.Fatalf("err = %v, want an EINVALID error", err)
			}
			if !strings.Contains(err.Error(), "line 1 (header)") || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "not a customer list") {
				t.Errorf("err = %q; want it to name the header, %q and why the file is refused", err, tt.want)
			}
		})
	}
}

// TestImport_FileOfOnlyOversizedRowsIsRefused: a list whose first rows are all over a row limit,
// with not one customer among them, is refused once maxLeadingOversized of them are read,
// rather than read to its end; one row within the limits first, and every oversized row is
// only a reject.
func TestImport_FileOfOnlyOversizedRowsIsRefused(t *testing.T) {
	wideRow := strings.Repeat(",", 2000) + "\n"
	body := strings.Repeat(wideRow, maxLeadingOversized+50)

	_, _, _, err := parseString(t, "customer_id,email\n"+body, Options{})
	var be *breach.Error
	if !errors.As(err, &be) || be.Code != breach.EINVALID || !errors.Is(err, errLeadingOversized) {
		t.Fatalf("err = %v, want an EINVALID error for the rows over the limits", err)
	}
	for _, want := range []string{"lines 2 to 101", "1 MiB", "1,024 fields", "not a customer list"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q; want it to say %q", err, want)
		}
	}

	rows, rejects, _ := mustParse(t, "customer_id,email\nC1,a@example.com\n"+body, Options{})
	if len(rows) != 1 || len(rejects) != maxLeadingOversized+50 || rejects[0].Line != 3 {
		t.Errorf("after a valid row: %d rows, %d rejects (first at line %d); want 1 and %d from line 3",
			len(rows), len(rejects), rejectLines(rejects)[0], maxLeadingOversized+50)
	}
}

// wideRowGzip is the upload of the issue "Memory exhaustion by upload": 200 lines of 4,000,000
// commas (about 800 MB unpacked, 1 MB packed), with valid rows before and after. Each part is
// a gzip member of its own, the line of commas compressed once and repeated: a concatenation of
// members is one gzip file to every reader (RFC 1952), and compressing 800 MB under the race
// detector would take a minute.
func wideRowGzip(t testing.TB) []byte {
	t.Helper()
	out := gzipMember(t, "customer_id,email,name\nW1,w1@example.com,Ann\nW2,w2@example.com,Bob\nW3,w3@example.com,Cid\n")
	out = append(out, bytes.Repeat(gzipMember(t, strings.Repeat(",", 4_000_000)+"\n"), 200)...)
	return append(out, gzipMember(t, "W4,w4@example.com,Dan\nW5,w5@example.com,Eve\nW6,w6@example.com,Fay\n")...)
}

// gzipMember is s compressed as one gzip member.
func gzipMember(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// peakHeapGrowth runs fn and returns the peak, sampled every millisecond, of the live and
// not-yet-swept heap above what it was before fn.
func peakHeapGrowth(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h := read(); h > peak {
				peak = h
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	if h := read(); h > peak {
		peak = h
	}
	return max(peak, base) - base
}

// TestImport_WideRowGzipIsRejectedInBoundedMemory is the upload: a 1 MB gzip of 200
// lines of 4,000,000 commas took serve to 14 GB. Each such line is rejected with its line
// number and the limit, the valid rows around them are accepted, and the heap never grows by
// more than maxGrowth.
func TestImport_WideRowGzipIsRejectedInBoundedMemory(t *testing.T) {
	const maxGrowth = 64 << 20
	data := wideRowGzip(t)
	var rows []breach.ImportRow
	var rejects []breach.Reject
	var imp *breach.Import
	var err error
	growth := peakHeapGrowth(func() { rows, rejects, imp, err = runParse(newTestImporter(t), data, Options{}) })
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	checkCounts(t, imp, rows, rejects)
	t.Logf("gzip %d bytes; peak heap growth %.1f MiB", len(data), float64(growth)/(1<<20))
	if growth > maxGrowth {
		t.Errorf("peak heap growth %.1f MiB, want at most %d MiB", float64(growth)/(1<<20), maxGrowth>>20)
	}
	if !slices.Equal(rowLines(rows), []int64{2, 3, 4, 205, 206, 207}) {
		t.Errorf("accepted lines %v, want 2–4 and 205–207", rowLines(rows))
	}
	if len(rejects) != 200 {
		t.Fatalf("%d rejects, want 200", len(rejects))
	}
	for i, r := range rejects {
		if r.Line != int64(5+i) || r.Reason != "the row is longer than 1 MiB" {
			t.Fatalf("reject %d: line %d %q; want line %d, the row is longer than 1 MiB", i, r.Line, r.Reason, 5+i)
		}
	}
}

// TestImport_LongRowsTravelInBoundedBytes: rows within the limits but long (half a megabyte)
// are all accepted, in batches bounded in bytes rather than only in rows, so that the heap
// stays flat: 200 such rows are 100 MB, which the default batch of 1024 rows would hold at
// once.
func TestImport_LongRowsTravelInBoundedBytes(t *testing.T) {
	const maxGrowth = 64 << 20
	const n = 200
	data := gzipMember(t, limitsHeader)
	for i := range 10 { // ten rows, each twenty times (see wideRowGzip)
		data = append(data, bytes.Repeat(gzipMember(t, rowOfSize(t, fmt.Sprintf("L%d", i), 512<<10)+"\n"), n/10)...)
	}

	var read, batches, biggest int
	write := func(_ context.Context, b *breach.ImportBatch) error {
		read += len(b.Rows) + len(b.Rejects)
		batches++
		size := 0
		for _, r := range b.Rows {
			for _, a := range r.Extra {
				v := a.Value
				size += len(v)
			}
		}
		biggest = max(biggest, size)
		return nil
	}
	imp := &breach.Import{}
	var err error
	growth := peakHeapGrowth(func() {
		err = newTestImporter(t).parse(context.Background(), &breach.Campaign{}, imp, bytes.NewReader(data), Options{}, write,
			func(context.Context, int64) {})
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if read != n || imp.Read != n || imp.Rejected != 0 {
		t.Fatalf("read %d (imp %d, rejected %d), want %d rows all accepted", read, imp.Read, imp.Rejected, n)
	}
	t.Logf("%d batches, the biggest holding %.1f MiB; peak heap growth %.1f MiB", batches, float64(biggest)/(1<<20), float64(growth)/(1<<20))
	if biggest > chunkCost+MaxRowBytes {
		t.Errorf("a batch held %d bytes of values, want at most %d", biggest, chunkCost+MaxRowBytes)
	}
	if growth > maxGrowth {
		t.Errorf("peak heap growth %.1f MiB, want at most %d MiB", float64(growth)/(1<<20), maxGrowth>>20)
	}
}

// TestRecordReader_RowLimitsAtTheirEdges reads rows at and just past the row limits through a
// 16-byte buffer, so that every long line is gathered piece by piece: the limit is on the row
// without its line terminator, a row past it is cut and rejected without taking the next line
// with it, and a row wider than MaxRowFields is rejected whatever its length.
func TestRecordReader_RowLimitsAtTheirEdges(t *testing.T) {
	exact := rowOfSize(t, "C2", MaxRowBytes)
	over := rowOfSize(t, "C2", MaxRowBytes+1)
	fields := func(row string) []string { return strings.Split(row, ",") }
	wide := strings.Repeat("f,", MaxRowFields-1) + "f"
	tests := []struct {
		name string
		in   string
		want []wantRecord
	}{
		{"1 MiB at the end of the file", exact, []wantRecord{okRec(1, fields(exact)...)}},
		{"1 MiB and LF", exact + "\n3,ok\n", []wantRecord{okRec(1, fields(exact)...), okRec(2, "3", "ok")}},
		{"1 MiB and CRLF", exact + "\r\n3,ok\r\n", []wantRecord{okRec(1, fields(exact)...), okRec(2, "3", "ok")}},
		{"1 MiB and a byte at the end of the file", over, []wantRecord{brokenRec(1, rowTooLong, -1)}},
		{"1 MiB and a byte and LF", over + "\n3,ok\n", []wantRecord{brokenRec(1, rowTooLong, -1), okRec(2, "3", "ok")}},
		{"1 MiB and a byte and CRLF", over + "\r\n3,ok\r\n", []wantRecord{brokenRec(1, rowTooLong, -1), okRec(2, "3", "ok")}},
		{"over-long row whose quote closes on the next line ends at its own", over + ",\"open\nclose\",x\n3,ok\n",
			[]wantRecord{brokenRec(1, rowTooLong, -1), okRec(2, `close"`, "x"), okRec(3, "3", "ok")}},
		{"1,024 fields", wide + "\n3,ok\n", []wantRecord{okRec(1, fields(wide)...), okRec(2, "3", "ok")}},
		{"1,025 fields", wide + ",f\n3,ok\n", []wantRecord{brokenRec(1, rowTooWide, -1), okRec(2, "3", "ok")}},
		{"1,025 fields, the last quoted over two lines", wide + ",\"f\nf\"\n3,ok\n", []wantRecord{brokenRec(1, rowTooWide, -1), okRec(3, "3", "ok")}},
		{"a million fields in under 1 MiB", strings.Repeat(",", 1000_000) + "\n3,ok\n", []wantRecord{brokenRec(1, rowTooWide, -1), okRec(2, "3", "ok")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readRecords(t, tt.in, ',', 0)
			checkRecords(t, got, tt.want)
			for _, r := range got {
				if r.problem != "" && (!r.oversize || len(r.fields) > MaxRowFields) {
					t.Errorf("line %d: oversize %v, %d fields kept", r.line, r.oversize, len(r.fields))
				}
			}
		})
	}
}

// TestParse_LongBadValuesAreClippedInReasonsAndNotCached: a reject's reason quotes its values
// clipped (a 60 KB phone, jurisdiction or category list quoted whole made each reason three
// times its row, in memory and in import_rejects), and the worker's parse cache keeps no long
// value (1,024 distinct 64 KiB values per column and worker were hundreds of megabytes).
func TestParse_LongBadValuesAreClippedInReasonsAndNotCached(t *testing.T) {
	long := strings.Repeat("7", 60_000)
	var b strings.Builder
	b.WriteString("customer_id,email,phone,jurisdiction,exposed,locale,country\n")
	fmt.Fprintf(&b, "L1,a@example.com,%s,,,,\n", long)
	fmt.Fprintf(&b, "L2,a@example.com,,j%s,,,\n", long)
	fmt.Fprintf(&b, "L3,a@example.com,,,x%s,,\n", long)
	fmt.Fprintf(&b, "L4,a@example.com,,,,x%s,\n", long)
	fmt.Fprintf(&b, "L5,a@example.com,,,,,x%s\n", long)
	_, rejects, imp := mustParse(t, b.String(), Options{})
	// L2's jurisdiction, no profile, is left out with a warning: the row is kept.
	if len(rejects) != 4 || len(imp.Warnings) != 1 || imp.Warnings[0].Field != "jurisdiction" {
		t.Fatalf("rejects %s, warnings %+v; want the 4 rows refused and L2's jurisdiction warned of", describeRejects(rejects), imp.Warnings)
	}
	for _, r := range rejects {
		if len(r.Reason) > 1024 {
			t.Errorf("%s: a reason of %d bytes (%.60q…), want the value clipped", r.CustomerID, len(r.Reason), r.Reason)
		}
	}
	if w := imp.Warnings[0]; len(w.Reason) > 1024 {
		t.Errorf("L2's warning of %d bytes (%.60q…), want the value clipped", len(w.Reason), w.Reason)
	}

	cache := newParseCache()
	for i := range 10 {
		raw := fmt.Sprintf("%d%s", i, long)
		_, _ = lookup(cache.locales, raw, breach.ParseLocale)
	}
	_, _ = lookup(cache.locales, "es-PE", breach.ParseLocale)
	if len(cache.locales) != 1 {
		t.Errorf("the cache holds %d values, want only the short one", len(cache.locales))
	}
}
