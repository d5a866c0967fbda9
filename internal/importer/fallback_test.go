package importer

import (
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
