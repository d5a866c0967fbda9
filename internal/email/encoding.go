package email

import (
	"encoding/base64"
	"mime"
	"strings"
)

// A notice's parts are UTF-8 text, and which transfer encoding is smaller depends on the
// language: quoted-printable keeps ASCII as it is but spends three bytes on every other byte,
// base64 spends 4/3 of a byte on every byte. Spanish, French or English text is mostly ASCII
// and travels as quoted-printable, readable in the raw message and about 1.05 × its size;
// Korean is three-byte UTF-8 almost throughout and would take about 2.9 × its size as
// quoted-printable, against 1.37 × as base64. Every byte on the wire is paid for in relay
// bandwidth, in DKIM body hashing and, at a commercial relay, per gigabyte, so each part gets
// whichever encoding makes it smaller.
//
// The encoders append to the message's one buffer (see writer): they write exactly what
// mime/quotedprintable's Writer and a base64 encoder broken into 76-character lines write —
// the bytes go-mail's message writer sent before this package wrote MIME itself — without
// go-mail's intermediate buffers, which cost a notice about six times its size in allocations.

// transferEncoding is a part's Content-Transfer-Encoding.
type transferEncoding string

const (
	qpTransfer     transferEncoding = "quoted-printable"
	base64Transfer transferEncoding = "base64"
)

// maxLine is the longest line of an encoded body, CRLF not counted (RFC 2045 §6.7, §6.8).
const maxLine = 76

// bodyEncoding returns the smaller transfer encoding for a text part. base64 carries the text
// with its line breaks made CRLF (appendBase64): text travels in its canonical form (RFC 2045
// §6.8, RFC 2046 §4.1.1). Ties go to quoted-printable, which a person can read.
//
// It runs for every part of every notice, so one quick pass bounds the quoted-printable size
// from below (each escaped byte is three) and from above (soft line breaks, under 5 %, and
// spaces before line breaks), and only text between the bounds — rare: real text is far on one
// side — pays for the exact count.
func bodyEncoding(s string) transferEncoding {
	// Branch-free: a table lookup per byte, and the line breaks counted by strings.Count's
	// vector code. (A switch per byte took longer than encoding the text.)
	escaped := 0
	for i := 0; i < len(s); i++ {
		escaped += int(qpEscapes[s[i]])
	}
	lf, cr := strings.Count(s, "\n"), strings.Count(s, "\r")
	bare := lf
	if cr > 0 {
		bare -= strings.Count(s, "\r\n")
	}
	breaks := lf + cr
	b64 := base64Size(len(s) + bare)
	low := len(s) + 2*escaped + bare
	high := low + low/20 + 4*breaks + 6
	if b64 < low || b64 < high && b64 < qpSize(s) {
		return base64Transfer
	}
	return qpTransfer
}

// qpEscapes is 1 for the bytes quoted-printable escapes as =XX, 0 for the others.
var qpEscapes = func() (e [256]uint8) {
	for b := range e {
		if qpClass[b] == qpEscaped {
			e[b] = 1
		}
	}
	return e
}()

// Byte classes of quoted-printable: kept as they are, escaped as =XX, or line breaks.
const (
	qpPlain byte = iota
	qpEscaped
	qpLF
	qpCR
)

// qpClass is each byte's class: printable ASCII but '=', space and tab are plain.
var qpClass = func() (c [256]byte) {
	for b := range c {
		switch {
		case b == '\n':
			c[b] = qpLF
		case b == '\r':
			c[b] = qpCR
		case b >= '!' && b <= '~' && b != '=', b == ' ', b == '\t':
			c[b] = qpPlain
		default:
			c[b] = qpEscaped
		}
	}
	return c
}()

// headerWords returns the encoder of the encoded words (RFC 2047) of a message's header
// text, Subject and the sender's name: Q ("quoted-printable" words) unless B (base64 words)
// makes text shorter, as for a Korean subject.
func headerWords(text ...string) mime.WordEncoder {
	n, q := 0, 0
	for _, s := range text {
		for i := 0; i < len(s); i++ {
			n++
			if b := s[i]; b < ' ' || b > '~' || b == '=' || b == '?' || b == '_' {
				q += 3
			} else {
				q++
			}
		}
	}
	if (n+2)/3*4 < q {
		return mime.BEncoding
	}
	return mime.QEncoding
}

// base64Size is the size of n bytes in base64 as appendBase64 writes them: 4 characters per 3
// bytes, in lines of 76 each ended by CRLF.
func base64Size(n int) int {
	chars := (n + 2) / 3 * 4
	return chars + 2*((chars+maxLine-1)/maxLine)
}

// qpSize is the exact size of s in quoted-printable as appendQP (and mime/quotedprintable's
// Writer) writes it: printable ASCII and inner spaces as they are, other bytes as =XX, line
// breaks as CRLF, a space or tab before a line break encoded, and a soft line break ("=" CRLF)
// wherever a line would pass 76 characters. It follows the Writer step by step, so that the
// choice is made on the real sizes (TestQPSize_MatchesTheWriter holds it to it).
func qpSize(s string) int {
	size := 0
	line := 0     // characters on the current line
	var last byte // the last character on the current line
	cr := false   // the previous input byte was a \r, whose line break is written
	encode := func() {
		if maxLine-1-line < 3 {
			size += line + 3 // the line, "=" and CRLF
			line = 0
		}
		line += 3
		last = 'X' // a hex digit
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; qpClass[b] {
		case qpLF, qpCR:
			if cr && b == '\n' {
				cr = false
				continue
			}
			cr = b == '\r'
			if line > 0 && (last == ' ' || last == '\t') {
				line--
				encode()
			}
			size += line + 2
			line = 0
		case qpPlain:
			if line == maxLine-1 {
				size += line + 3
				line = 0
			}
			line++
			last = b
			cr = false
		default:
			encode()
		}
	}
	if line > 0 && (last == ' ' || last == '\t') {
		line--
		encode()
	}
	return size + line
}

const upperHex = "0123456789ABCDEF"

// appendQP appends s in quoted-printable to dst, byte for byte as mime/quotedprintable's Writer
// (in text mode) writes it: line breaks (LF, CRLF or a lone CR) as CRLF, a space or tab before
// a line break or at the end escaped, a soft line break before a line would pass 76
// characters. Runs of plain bytes are copied at once rather than a byte at a time.
func appendQP(dst []byte, s string) []byte {
	line := 0   // characters on the current line
	cr := false // the previous input byte was a \r, whose line break is written
	for i := 0; i < len(s); {
		b := s[i]
		switch qpClass[b] {
		case qpPlain:
			if line == maxLine-1 {
				dst = append(dst, '=', '\r', '\n')
				line = 0
			}
			j := i + 1
			for end := min(len(s), i+maxLine-1-line); j < end && qpClass[s[j]] == qpPlain; j++ {
			}
			dst = append(dst, s[i:j]...)
			line += j - i
			i = j
			cr = false
			continue
		case qpLF, qpCR:
			if cr && b == '\n' {
				cr = false
				break
			}
			cr = b == '\r'
			dst, line = qpEscapeTrailingSpace(dst, line)
			dst = append(dst, '\r', '\n')
			line = 0
		default:
			// The Writer leaves cr as it is here: "\r", an escaped byte, "\n" is one break.
			dst, line = qpEscape(dst, line, b)
		}
		i++
	}
	dst, _ = qpEscapeTrailingSpace(dst, line)
	return dst
}

// qpEscape appends b as =XX, after a soft line break if the line has no room for it.
func qpEscape(dst []byte, line int, b byte) ([]byte, int) {
	if maxLine-1-line < 3 {
		dst = append(dst, '=', '\r', '\n')
		line = 0
	}
	return append(dst, '=', upperHex[b>>4], upperHex[b&0x0f]), line + 3
}

// qpEscapeTrailingSpace escapes the line's last character if it is a space or a tab, which a
// line break would otherwise leave trailing (and relays strip).
func qpEscapeTrailingSpace(dst []byte, line int) ([]byte, int) {
	if line == 0 {
		return dst, line
	}
	if b := dst[len(dst)-1]; b == ' ' || b == '\t' {
		return qpEscape(dst[:len(dst)-1], line-1, b)
	}
	return dst, line
}

// base64Chunk is how many bytes of text make one 76-character line of base64.
const base64Chunk = maxLine / 4 * 3

// appendBase64 appends s in base64 to dst, its bare line feeds made CRLF first, in lines of 76
// characters each ended by CRLF (the last one too). The text between line feeds is copied a
// line's worth of bytes at a time.
func appendBase64(dst []byte, s string) []byte {
	var chunk [base64Chunk]byte
	n := 0
	put := func(p string) {
		for len(p) > 0 {
			c := copy(chunk[n:], p)
			n, p = n+c, p[c:]
			if n == base64Chunk {
				dst = append(base64.StdEncoding.AppendEncode(dst, chunk[:]), '\r', '\n')
				n = 0
			}
		}
	}
	for start := 0; start < len(s); {
		i := strings.IndexByte(s[start:], '\n')
		if i < 0 {
			put(s[start:])
			break
		}
		i += start
		if i > 0 && s[i-1] == '\r' {
			put(s[start : i+1])
		} else {
			put(s[start:i])
			put("\r\n")
		}
		start = i + 1
	}
	if n > 0 {
		dst = append(base64.StdEncoding.AppendEncode(dst, chunk[:n]), '\r', '\n')
	}
	return dst
}
