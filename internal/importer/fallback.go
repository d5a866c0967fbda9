package importer

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// cp1252Fallback decodes a file detected as UTF-8 that turns out, past the sample the detection
// read (sniffBytes), to hold bytes that are not UTF-8: each such byte is read as Windows-1252,
// every valid UTF-8 sequence passes through unchanged.
//
// Why: Excel's "CSV (Comma delimited)" is Windows-1252, and in an English-speaking list the
// first "José" or "Düsseldorf" is often thousands of rows in, past the sample, which is then
// pure ASCII. Read as UTF-8, such a row was rejected (an address, an attribute) or its name
// mangled, with advice to import the whole file again with --encoding. A UTF-8 file never holds
// an invalid sequence, so reading one as Windows-1252 loses nothing a UTF-8 file could mean; and
// firstLine records that it happened, for the import's report (Format.encodingRead).
//
// It cannot read a Korean or Japanese list (CP949, Shift-JIS; see detectCodePage) whose first
// non-ASCII byte lies past the sample: a byte at a time, it cannot tell a two-byte Hangul or kana
// character from two Windows-1252 letters, and reads it as those (김 as ±è). Telling them apart
// takes a sample of such bytes, which a streaming decoder has not got when it must decide; the
// import's encoding ("utf-8 (windows-1252 from line N)") says where it happened, and --encoding
// euc-kr or shift_jis reads such a file right.
//
// It is used only when the encoding was detected: a byte-order mark or --encoding utf-8 says the
// file is UTF-8, and an invalid byte is then reported as such. It streams (transform.Reader), and
// a chunk of valid UTF-8 costs a validation and a copy.
type cp1252Fallback struct {
	transform.NopResetter
	// nl and cr count the line feeds and carriage returns passed before the first byte read as
	// Windows-1252, to name its line: by line feeds, or by CRs in a file whose lines end with a
	// bare CR (Format.CROnly).
	nl, cr int64
	// firstLine is the line of the first byte read as Windows-1252, 0 while there is none.
	firstLine int64
}

// cp1252High is the UTF-8 of each Windows-1252 byte from 0x80 up.
var cp1252High = func() (t [128]string) {
	for i := range t {
		t[i] = string(charmap.Windows1252.DecodeByte(byte(0x80 + i)))
	}
	return t
}()

// Transform implements transform.Transformer.
func (d *cp1252Fallback) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	// Nearly every chunk: valid UTF-8, perhaps ending in the first bytes of a character whose
	// rest is in the next chunk.
	body := src
	if !atEOF {
		body = src[:completeUTF8(src)]
	}
	if len(body) <= len(dst) && utf8.Valid(body) {
		n := copy(dst, body)
		d.count(body)
		if n < len(src) {
			return n, n, transform.ErrShortSrc
		}
		return n, n, nil
	}
	for nSrc < len(src) {
		c := src[nSrc]
		size := 1
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRune(src[nSrc:])
			if r == utf8.RuneError && size == 1 {
				if !atEOF && !utf8.FullRune(src[nSrc:]) {
					d.count(src[:nSrc])
					return nDst, nSrc, transform.ErrShortSrc // the rest comes with the next chunk
				}
				dec := cp1252High[c-0x80]
				if nDst+len(dec) > len(dst) {
					return nDst, nSrc, transform.ErrShortDst
				}
				if d.firstLine == 0 {
					d.count(src[:nSrc]) // what this loop passed before it, uncounted
					d.firstLine = 1 + d.nl
					if d.nl == 0 {
						d.firstLine = 1 + d.cr
					}
				}
				nDst += copy(dst[nDst:], dec)
				nSrc++
				continue
			}
		}
		if nDst+size > len(dst) {
			d.count(src[:nSrc])
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += copy(dst[nDst:], src[nSrc:nSrc+size])
		nSrc += size
	}
	d.count(src)
	return nDst, nSrc, nil
}

// count adds the line breaks of b, passed through, while no byte has been read as
// Windows-1252 yet.
func (d *cp1252Fallback) count(b []byte) {
	if d.firstLine != 0 {
		return
	}
	d.nl += int64(bytes.Count(b, []byte{'\n'}))
	if d.nl == 0 {
		d.cr += int64(bytes.Count(b, []byte{'\r'}))
	}
}

// completeUTF8 is the length of b less a UTF-8 character it ends in the middle of.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}
