package importer

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

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

// TestCP1252Fallback_StopsAtDoubleByteText: four bytes together none of which is UTF-8 are a
// double-byte code page's text (EUC-KR's 김민), not Windows-1252: the reader stops with the
// line, whichever way the bytes arrive, even split across chunks.
func TestCP1252Fallback_StopsAtDoubleByteText(t *testing.T) {
	for _, in := range []string{
		"a\nb\n\xb1\xe8\xb9\xce\xc1\xd8\n",
		"a\r\nb\r\n" + strings.Repeat("y", 4094) + "\xb1\xe8\xb9\xce",
	} {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			_, err := io.ReadAll(transform.NewReader(r, &cp1252Fallback{}))
			var nw *notWindows1252Error
			if !errors.As(err, &nw) || nw.line != 3 {
				t.Errorf("%q (one byte at a time: %v): %v, want the text refused at line 3", in[:min(len(in), 12)], oneByte, err)
			}
		}
	}
}
