package importer

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/transform"
)

// TestCP1252Fallback_DecodesByteByByte: valid UTF-8 passes through unchanged, each byte that is
// not UTF-8 is read as Windows-1252, whether the input arrives whole or a byte at a time (a
// character split between two reads is not taken for an invalid one), and the first such byte's
// line is recorded.
func TestCP1252Fallback_DecodesByteByByte(t *testing.T) {
	tests := []struct {
		name, in, want string
		line           int64
	}{
		{"ascii", "a,b\nc,d\n", "a,b\nc,d\n", 0},
		{"utf-8", "Jos\u00e9,\u20ac,\U0001F600\n\ufffd\n", "Jos\u00e9,\u20ac,\U0001F600\n\ufffd\n", 0},
		{"windows-1252 on line 2", "a\nJos\xe9 \x80 \x9c\n", "a\nJos\u00e9 \u20ac \u0153\n", 2},
		{"mixed", "\u00e9\n\n\xe9\u00e9\xe9\n", "\u00e9\n\n\u00e9\u00e9\u00e9\n", 3},
		{"a lead byte then ASCII", "\xe2x\xc3", "\u00e2x\u00c3", 1},
		{"a truncated sequence at the end", "ok\r\xe2\x82", "ok\r\u00e2\u201a", 2},
		{"a long run past a chunk", strings.Repeat("\u00e9", 5000) + "\xe9", strings.Repeat("\u00e9", 5001), 1},
		{"three together", "a\n\xc9\xc0\xd4\n", "a\n\u00c9\u00c0\u00d4\n", 2},
		{"a bare-CR file with a line feed in a cell", "a\rb\"x\ny\"\rc\r\xe9\r", "a\rb\"x\ny\"\rc\r\u00e9\r", 4},
		{"three at a chunk's end", strings.Repeat("x", 4093) + "\xc9\xc0\xd4", strings.Repeat("x", 4093) + "\u00c9\u00c0\u00d4", 1},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			d := &cp1252Fallback{}
			var r io.Reader = strings.NewReader(tt.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			got, err := io.ReadAll(transform.NewReader(r, d))
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if string(got) != tt.want || d.firstLine != tt.line {
				t.Errorf("%s (one byte at a time: %v): %q from line %d, want %q from line %d", tt.name, oneByte, got, d.firstLine, tt.want, tt.line)
			}
		}
	}
}

// TestCP1252Fallback_StopsAtKoreanText: a line that reads as Korean words through CP949 (김민준)
// is not read as Windows-1252: the reader stops with its line, whichever way the bytes arrive,
// even split across chunks, and whatever bytes of it happen to be valid UTF-8 (이서연's).
func TestCP1252Fallback_StopsAtKoreanText(t *testing.T) {
	euckr := func(s string) string {
		b, err := korean.EUCKR.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, in := range []string{
		"a\nb\n\xb1\xe8\xb9\xce\xc1\xd8\n",
		"a\r\nb\r\n" + strings.Repeat("y", 4094) + "\xb1\xe8\xb9\xce",
		"a\nb\nK1," + euckr("이서연") + ",Seoul\n",
		"a\nb\nK2," + euckr("홍길동") + ",Busan\n",
		"a\nb\nK3," + euckr("장서준") + ",Daegu\n",
		"a\nb\nK4," + euckr("최수아") + "," + euckr("서울시 강남구") + "\n",
		"a\nb\nK5," + euckr("안수빈") + ",x\n",
	} {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			_, err := io.ReadAll(transform.NewReader(r, &cp1252Fallback{}))
			var nw *notWindows1252Error
			if !errors.As(err, &nw) || nw.line != 3 {
				t.Errorf("%q (one byte at a time: %v): %v, want the text refused at line 3", in[max(0, len(in)-24):], oneByte, err)
			}
		}
	}
}

// TestCP1252Fallback_ReadsWindows1252SymbolsAndCapitals: what Windows-1252 lists hold past the
// sample — masked card numbers, dashes, French typography with no-break spaces, runs of
// accented capitals — is read, not taken for Korean (a review: each of these refused a list).
func TestCP1252Fallback_ReadsWindows1252SymbolsAndCapitals(t *testing.T) {
	nbsp := "\xa0"
	for _, line := range []string{
		"Ana Dupont,Paris,carte \x95\x95\x95\x95 4242", "x,\x97\x97\x97\x97", "x,\x80\x80\x80\x80", "x,\xa1\xa1\xa1\xa1Urgente!!!!",
		"x,\x93\x94\x91\x92", "x,\xb7\xb7\xb7\xb7\xb7", "x,\xb0\xb0\xb0\xb0", "12 rue X" + strings.Repeat(nbsp, 4) + "b\xe2t B",
		"\xab" + nbsp + "\x85" + nbsp + "\xbb", "voir n\xb0" + nbsp + "\xab" + nbsp + "12" + nbsp + "\xbb",
		"\xab" + nbsp + "1" + nbsp + "234" + nbsp + "\x80" + nbsp + "\xbb", "J. \xc1\xc9\xcd\xd3", "M\xdc\xd1\xd3Z",
		"Gu\xf0r\xfan \xde\xf3r\xf0ard\xf3ttir", "\xc6\xd8\xc5 \xd8STERG\xc5RD", "n\xb0 5 \xbd 3\xba D\xaa", "S\xe3o Jo\xe3o",
	} {
		in := "a\nb\n" + line + "\n"
		got, err := io.ReadAll(transform.NewReader(strings.NewReader(in), &cp1252Fallback{}))
		want, _ := charmap.Windows1252.NewDecoder().String(in)
		if err != nil || string(got) != want {
			t.Errorf("%q: %q, %v; want it read as Windows-1252", line, got, err)
		}
	}
}
