package importer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// readRecords reads every record of in. width is the header's number of fields (0: unknown, as
// while reading the header itself).
func readRecords(t *testing.T, in string, comma byte, width int) []record {
	t.Helper()
	rr := newRecordReader(bufio.NewReaderSize(strings.NewReader(in), 16), comma)
	rr.width = width
	return readAll(t, rr)
}

// readAll reads every record of rr.
func readAll(t *testing.T, rr *recordReader) []record {
	t.Helper()
	var out []record
	for {
		rec, err := rr.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		out = append(out, rec)
		if len(out) > 10000 {
			t.Fatal("reader does not stop")
		}
	}
}

// wantRecord is a record as the tests spell it: a problem substring instead of fields.
type wantRecord struct {
	line    int64
	fields  []string
	problem string
	column  int
}

func okRec(line int64, fields ...string) wantRecord {
	return wantRecord{line: line, fields: fields, column: -1}
}
func brokenRec(line int64, problem string, column int) wantRecord {
	return wantRecord{line: line, problem: problem, column: column}
}

func TestRecordReader_SplitsRecords(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		comma byte
		width int
		want  []wantRecord
	}{
		{"plain", "a,b,c\n1,2,3\n", ',', 3, []wantRecord{okRec(1, "a", "b", "c"), okRec(2, "1", "2", "3")}},
		{"no final newline", "a,b\n1,2", ',', 2, []wantRecord{okRec(1, "a", "b"), okRec(2, "1", "2")}},
		{"CRLF", "a,b\r\n1,2\r\n", ',', 2, []wantRecord{okRec(1, "a", "b"), okRec(2, "1", "2")}},
		{"CR inside a field is kept", "a\rb,c\n", ',', 2, []wantRecord{okRec(1, "a\rb", "c")}},
		{"blank lines skipped, numbers kept", "\na,b\n\r\n\n1,2\n\n", ',', 2, []wantRecord{okRec(2, "a", "b"), okRec(5, "1", "2")}},
		{"empty fields", ",,\n", ',', 3, []wantRecord{okRec(1, "", "", "")}},
		{"semicolon", "a;b,c\n", ';', 2, []wantRecord{okRec(1, "a", "b,c")}},
		{"tab", "a\tb c\n", '\t', 2, []wantRecord{okRec(1, "a", "b c")}},
		{"quoted delimiter", `"a,b",c` + "\n", ',', 2, []wantRecord{okRec(1, "a,b", "c")}},
		{"escaped quotes", `"say ""hi""",""""` + "\n", ',', 2, []wantRecord{okRec(1, `say "hi"`, `"`)}},
		{"empty quoted fields", `"","",""` + "\n", ',', 3, []wantRecord{okRec(1, "", "", "")}},
		{"stray quote inside an unquoted field is text", `5'10",O"Brien` + "\n", ',', 2, []wantRecord{okRec(1, `5'10"`, `O"Brien`)}},
		{"text after a closing quote is kept", `"ab"cd,e` + "\n", ',', 2, []wantRecord{okRec(1, "abcd", "e")}},
		{"spaces before a quote open it", ` "a,b"` + "\n", ',', 3, []wantRecord{okRec(1, `a,b`)}},
		{"a space inside an unquoted field is text", `a "b",c` + "\n", ',', 2, []wantRecord{okRec(1, `a "b"`, "c")}},
		{"embedded newline", "id,addr\n1,\"line one\nline two\"\n2,x\n", ',', 2,
			[]wantRecord{okRec(1, "id", "addr"), okRec(2, "1", "line one\nline two"), okRec(4, "2", "x")}},
		{"embedded CRLF reads as LF", "1,\"a\r\nb\"\r\n2,x\r\n", ',', 2, []wantRecord{okRec(1, "1", "a\nb"), okRec(3, "2", "x")}},
		{"embedded blank line", "1,\"a\n\nb\"\n2,x\n", ',', 2, []wantRecord{okRec(1, "1", "a\n\nb"), okRec(4, "2", "x")}},
		{"unterminated quote at the end", "1,x\n2,\"y\n3,z\n", ',', 2,
			[]wantRecord{okRec(1, "1", "x"), brokenRec(2, "unterminated", 1), okRec(3, "3", "z")}},
		{"unterminated quote on the last line", "1,x\n2,\"y", ',', 2, []wantRecord{okRec(1, "1", "x"), brokenRec(2, "unterminated", 1)}},
		{"closing the quote leaves too many fields", "1,\"x\n2,y\n3,\"z,a\"\n4,w\n", ',', 2,
			[]wantRecord{brokenRec(1, "unterminated", 1), okRec(2, "2", "y"), okRec(3, "3", "z,a"), okRec(4, "4", "w")}},
		{"closing the quote leaves too few fields", "a,b,c\n1,2,\"x\n\"4,5,6\n7,8,9\n", ',', 3,
			[]wantRecord{okRec(1, "a", "b", "c"), brokenRec(2, "unterminated", 2), brokenRec(3, "unterminated", 0), okRec(4, "7", "8", "9")}},
		{"resynced line itself opens a quote", "1,\"x\n2,\"y,q\n3,z\n", ',', 2,
			[]wantRecord{brokenRec(1, "unterminated", 1), brokenRec(2, "unterminated", 1), okRec(3, "3", "z")}},
		{"header (width unknown) may span lines", "\"a\nb\",c\n1,2\n", ',', 0, []wantRecord{okRec(1, "a\nb", "c"), okRec(3, "1", "2")}},
		{"short and long rows are returned as they are", "1\n1,2,3\n", ',', 2, []wantRecord{okRec(1, "1"), okRec(2, "1", "2", "3")}},
		{"extra fields that are all empty are dropped", "1,2,,\n1,2, ,\"\"\n", ',', 2, []wantRecord{okRec(1, "1", "2"), okRec(2, "1", "2")}},
		// A stray quote must cost one row even when a later row quotes the same column (see
		// TestParse_UnterminatedQuoteCostsOneRow).
		{"later row quotes the same column", "1,\"x\n2,y\n3,\"z\"\n4,w\n", ',', 2,
			[]wantRecord{brokenRec(1, "unterminated", 1), okRec(2, "2", "y"), okRec(3, "3", "z"), okRec(4, "4", "w")}},
		{"second stray quote in the same column", "1,\"x\n2,\"y\n3,z\n", ',', 2,
			[]wantRecord{brokenRec(1, "unterminated", 1), brokenRec(2, "unterminated", 1), okRec(3, "3", "z")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRecords(t, readRecords(t, tt.in, tt.comma, tt.width), tt.want)
		})
	}
}

func checkRecords(t *testing.T, got []record, want []wantRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d records, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.line != w.line {
			t.Errorf("record %d: line %d, want %d", i, g.line, w.line)
		}
		if w.problem == "" {
			if g.problem != "" || !slices.Equal(g.fields, w.fields) {
				t.Errorf("record %d (line %d): fields %q problem %q; want fields %q", i, g.line, g.fields, g.problem, w.fields)
			}
			continue
		}
		if !strings.Contains(g.problem, w.problem) || g.problemColumn != w.column {
			t.Errorf("record %d (line %d): problem %q in column %d; want %q in column %d", i, g.line, g.problem, g.problemColumn, w.problem, w.column)
		}
	}
	for i := len(want); i < len(got); i++ {
		t.Errorf("extra record at line %d: %q %q", got[i].line, got[i].fields, got[i].problem)
	}
}

// TestRecordReader_BoundsFieldsAndRecords: no input makes the reader hold more than its limits,
// and the limits turn into a problem on the record, not an error for the file.
func TestRecordReader_BoundsFieldsAndRecords(t *testing.T) {
	t.Run("field longer than MaxFieldBytes", func(t *testing.T) {
		in := "1,ok\n2," + strings.Repeat("x", MaxFieldBytes+1) + "\n3,ok\n"
		checkRecords(t, readRecords(t, in, ',', 2), []wantRecord{okRec(1, "1", "ok"), brokenRec(2, "longer than 64 KiB", 1), okRec(3, "3", "ok")})
	})
	t.Run("field of exactly MaxFieldBytes", func(t *testing.T) {
		big := strings.Repeat("x", MaxFieldBytes)
		checkRecords(t, readRecords(t, "1,"+big+"\n", ',', 2), []wantRecord{okRec(1, "1", big)})
	})
	t.Run("quoted multi-line field longer than MaxFieldBytes", func(t *testing.T) {
		in := "1,\"" + strings.Repeat("y", MaxFieldBytes-2) + "\nmore\"\n3,ok\n"
		checkRecords(t, readRecords(t, in, ',', 2), []wantRecord{brokenRec(1, "longer than 64 KiB", 1), okRec(3, "3", "ok")})
	})
	t.Run("line longer than the record limit", func(t *testing.T) {
		in := "1,ok\n2," + strings.Repeat("y", MaxRowBytes+100) + "\n3,ok\n"
		checkRecords(t, readRecords(t, in, ',', 2), []wantRecord{okRec(1, "1", "ok"), brokenRec(2, "the row is longer than 1 MiB; its field is longer than 64 KiB", 1), okRec(3, "3", "ok")})
	})
	t.Run("quote open for more than maxRecordLines", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("0,\"open\n")
		for range maxRecordLines + 10 {
			b.WriteString("n,x\n")
		}
		recs := readRecords(t, b.String(), ',', 2)
		if len(recs) != maxRecordLines+11 || recs[0].problem == "" {
			t.Fatalf("got %d records, first problem %q", len(recs), recs[0].problem)
		}
		for i, r := range recs[1:] {
			if r.line != int64(i+2) || r.problem != "" || !slices.Equal(r.fields, []string{"n", "x"}) {
				t.Fatalf("record %d: line %d %q %q", i+1, r.line, r.fields, r.problem)
			}
		}
	})
	// MaxRowBytes is meant to bound a record held open by a quote ("a stray quote in a 10 GB
	// file must not make it buffer 10 GB"). Here the quote stays open over 6 MiB of lines, in
	// fewer than maxRecordLines lines: the reader must give up on it past 1 MiB, reject line 1
	// as unterminated and read the following lines again, not hold them all and close the
	// quote on line 8.
	t.Run("quote open over more than MaxRowBytes", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("c,\"\n")
		for range 6 {
			b.WriteString(strings.Repeat("y", 1<<20) + "\n")
		}
		b.WriteString("\"\nd,ok\n")
		recs := readRecords(t, b.String(), ',', 2)
		if !strings.Contains(recs[0].problem, "unterminated") {
			t.Errorf("record at line %d: problem %q, want unterminated (the quote was given up on after %d MiB)",
				recs[0].line, recs[0].problem, MaxRowBytes>>20)
		}
		if len(recs) < 2 || recs[1].line != 2 {
			t.Errorf("line 2 was not read again as a record of its own: %d records", len(recs))
		}
		if last := recs[len(recs)-1]; last.line != 9 || !slices.Equal(last.fields, []string{"d", "ok"}) {
			t.Errorf("last record line %d %q", last.line, last.fields)
		}
	})
	t.Run("legitimate multi-line field within the limits", func(t *testing.T) {
		addr := strings.Repeat("line\n", maxRecordLines-1) + "end"
		checkRecords(t, readRecords(t, "1,\""+addr+"\"\n2,x\n", ',', 2), []wantRecord{okRec(1, "1", addr), okRec(int64(maxRecordLines+1), "2", "x")})
	})
}

// TestRecordReader_NameCutterLeavesTheSameRecords: what nameCutter takes out of a long line is
// what the scanner would drop anyway. Lines with names of up to 300 KB (over the cutter's
// threshold, under MaxRowBytes), quoted or not, full of quotes, escaped quotes, delimiters,
// CRs and line breaks, read with a 16-byte buffer (every line gathered piece by piece, through
// the cutter) and with one of 8 MiB (no line gathered, no cutter), give the same records.
func TestRecordReader_NameCutterLeavesTheSameRecords(t *testing.T) {
	bits := []string{"Ana", "é", " ", `"`, `""`, ",", "\r", "x", strings.Repeat(`""`, 3000), strings.Repeat("é", 3000)}
	for seed := range uint64(80) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var b strings.Builder
		for i := range 6 {
			fmt.Fprintf(&b, "C%d,", i)
			quoted := rng.IntN(2) == 0
			if quoted {
				b.WriteByte('"')
			}
			size := rng.IntN(300 << 10)
			lineBreak := -1 // a quoted name may span two lines
			if quoted && rng.IntN(4) == 0 {
				lineBreak = rng.IntN(size + 1)
			}
			for n := 0; n < size; {
				bit := bits[rng.IntN(len(bits))]
				if !quoted && strings.HasPrefix(bit, `""`) {
					bit = "Luz"
				}
				if lineBreak >= 0 && n >= lineBreak {
					bit, lineBreak = "\n", -1
				}
				if quoted && bit == `"` {
					bit = `""`
				}
				b.WriteString(bit)
				n += len(bit)
			}
			if quoted {
				b.WriteByte('"')
				if rng.IntN(3) == 0 {
					b.WriteString(`Q""z`) // text after the closing quote, as exports have
				}
			}
			fmt.Fprintf(&b, ",c%d@example.com,\"plan, \"\"%d\"\"\"\n", i, i)
		}
		read := func(bufSize int) []record {
			rr := newRecordReader(bufio.NewReaderSize(strings.NewReader(b.String()), bufSize), ',')
			rr.width, rr.cuttable = 4, []bool{false, true, false, false}
			return readAll(t, rr)
		}
		cut, whole := read(16), read(8<<20)
		if seed == 0 { // a name of escaped quotes alone, and one whose kept text ends inside a character
			b.Reset()
			b.WriteString("C1,\"" + strings.Repeat(`""`, 140_000) + "\",a@example.com,gold\n")
			b.WriteString("C2,\"" + strings.Repeat(`""`, MaxFieldBytes-2) + "\"é" + strings.Repeat("z", 200_000) + ",b@example.com,gold\n")
			cut, whole = read(16), read(8<<20)
			if len(cut) != 2 || len(cut[0].fields[1]) != MaxFieldBytes || !utf8.ValidString(cut[1].fields[1]) {
				t.Fatalf("escaped quotes: %d records, the first name of %d bytes, the second valid UTF-8: %v", len(cut), len(cut[0].fields[1]), utf8.ValidString(cut[1].fields[1]))
			}
		}
		if seed == 1 { // a line read again after a broken record, as the continuation of another
			b.Reset()
			b.WriteString("C1,\"Bob\nC2\",b@example.com,\"gold\nC3,\"," + strings.Repeat("z", 300_000) + "\"\nC4,Ana,d@example.com,gold\n")
			cut, whole = read(16), read(8<<20)
		}
		if len(cut) != len(whole) {
			t.Fatalf("seed %d: %d records through the cutter, %d without", seed, len(cut), len(whole))
		}
		for i := range cut {
			c, w := cut[i], whole[i]
			if c.line != w.line || c.problem != w.problem || c.problemColumn != w.problemColumn || c.fields[0] != w.fields[0] {
				t.Fatalf("seed %d record %d: through the cutter line %d %q col %d, without line %d %q col %d",
					seed, i, c.line, c.problem, c.problemColumn, w.line, w.problem, w.problemColumn)
			}
			if c.problem == "" && !slices.Equal(c.fields, w.fields) {
				t.Fatalf("seed %d line %d: the cutter changed the record's fields", seed, c.line)
			}
		}
	}
}
