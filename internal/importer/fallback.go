package importer

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/korean"
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
// It cannot read a Korean list (CP949; see detectCodePage) whose first non-ASCII byte lies past
// the sample: a byte at a time, it cannot tell a two-byte Hangul syllable from two Windows-1252
// characters (김 is ±è), and every Korean name past that line was mangled in its notice's
// greeting. So the first time a line holds a byte that is not UTF-8, the line is weighed whole
// (koreanLine): when it reads as Korean words through CP949, the reader stops with an error
// naming the line and --encoding euc-kr, and the import stores nothing. Only Korean: Shift-JIS
// and Big5 put ASCII bytes inside their characters and read a line of Windows-1252 symbols
// (•••• in a masked card number) as kanji just as well, which one line cannot settle.
//
// It is used only when the encoding was detected: a byte-order mark or --encoding utf-8 says the
// file is UTF-8, and an invalid byte is then reported as such. It streams (transform.Reader), and
// a chunk of valid UTF-8 costs a validation and a copy.
type cp1252Fallback struct {
	transform.NopResetter
	// nl and cr count the line feeds and carriage returns passed, to name a line (see line).
	nl, cr int64
	// firstLine is the line of the first byte read as Windows-1252, 0 while there is none;
	// weighed the last line koreanLine was asked about.
	firstLine, weighed int64
}

// notWindows1252Error is the error of a file, detected as UTF-8, that holds Korean CP949 text
// past the detection's sample.
type notWindows1252Error struct{ line int64 }

func (e *notWindows1252Error) Error() string {
	return fmt.Sprintf("line %d: the file was read as UTF-8 (its first %d KiB are), but this line reads as Korean text in CP949 (EUC-KR), "+
		"which read as Windows-1252 would mangle the names; nothing was imported: import the file again with --encoding euc-kr "+
		"(or, if it is not Korean, with the encoding it is in, such as --encoding windows-1252)", e.line, sniffBytes>>10)
}

// koreanLine reports whether a line (or the part of it at hand) that holds bytes not UTF-8 is
// Korean written in CP949: it reads as Korean through it (readsAs) and is shaped as Korean words
// are (koreanWords), and its high bytes, read as Windows-1252, are letters and symbols mixed, as
// two-byte syllables make them — Windows-1252 text puts symbols together (°°°°, ¡¡¡¡, «  »
// with no-break spaces) or letters together (ÁÉÍÓ), which CP949 also reads as syllables.
func koreanLine(line []byte) bool {
	var letters, symbols int
	for _, c := range line {
		switch {
		case c >= 0xC0 && c != 0xD7 && c != 0xF7:
			letters++
		case c >= 0xA1:
			symbols++
		}
	}
	high := letters + symbols
	if high < 4 || letters*5 < high || symbols*5 < high {
		return false
	}
	return readsAs(line, korean.EUCKR, isKorean) && koreanWords(line)
}

// lineAround is the line of src holding src[i], without its line break: as much of it as src
// has. whole says it ends in src (or src is the file's end).
func lineAround(src []byte, i int, atEOF bool) (line []byte, whole bool) {
	start := bytes.LastIndexByte(src[:i], '\n') + 1
	end := bytes.IndexByte(src[i:], '\n')
	if end < 0 {
		return src[start:], atEOF
	}
	return src[start : i+end], true
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
	counted := 0 // src[:counted] has had its line breaks counted
	pass := func(end int) {
		d.count(src[counted:end])
		counted = end
	}
	for nSrc < len(src) {
		c := src[nSrc]
		size := 1
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRune(src[nSrc:])
			if r == utf8.RuneError && size == 1 {
				if !atEOF && !utf8.FullRune(src[nSrc:]) {
					pass(nSrc)
					return nDst, nSrc, transform.ErrShortSrc // the rest comes with the next chunk
				}
				pass(nSrc)
				if line := d.line(); line != d.weighed {
					text, whole := lineAround(src, nSrc, atEOF)
					if !whole && len(text) < 256 {
						return nDst, nSrc, transform.ErrShortSrc // the rest of the line comes with the next chunk
					}
					d.weighed = line
					if koreanLine(text) {
						return nDst, nSrc, &notWindows1252Error{line: line}
					}
				}
				dec := cp1252High[c-0x80]
				if nDst+len(dec) > len(dst) {
					pass(nSrc)
					return nDst, nSrc, transform.ErrShortDst
				}
				if d.firstLine == 0 {
					pass(nSrc)
					d.firstLine = d.line()
				}
				nDst += copy(dst[nDst:], dec)
				nSrc++
				continue
			}
		}
		if nDst+size > len(dst) {
			pass(nSrc)
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += copy(dst[nDst:], src[nSrc:nSrc+size])
		nSrc += size
	}
	pass(len(src))
	return nDst, nSrc, nil
}

// count adds the line feeds and carriage returns of b, passed through.
func (d *cp1252Fallback) count(b []byte) {
	d.nl += int64(bytes.Count(b, []byte{'\n'}))
	d.cr += int64(bytes.Count(b, []byte{'\r'}))
}

// line is the line of the byte after those counted: by line feeds, or by carriage returns in a
// file whose lines end with a bare CR (Excel for Mac's), which has more of them than of the line
// feeds a cell's own line breaks put in it (a review: such a file's line 3,003 was "line 2").
func (d *cp1252Fallback) line() int64 {
	return 1 + max(d.nl, d.cr)
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
