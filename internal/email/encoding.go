package email

import (
	"strings"

	mail "github.com/wneessen/go-mail"
)

// A notice's parts are UTF-8 text, and which transfer encoding is smaller depends on the
// language: quoted-printable keeps ASCII as it is but spends three bytes on every other byte,
// base64 spends 4/3 of a byte on every byte. Spanish, French or English text is mostly ASCII
// and travels as quoted-printable, readable in the raw message and about 1.05 × its size;
// Korean is three-byte UTF-8 almost throughout and would take about 2.9 × its size as
// quoted-printable, against 1.37 × as base64. Every byte on the wire is paid for in relay
// bandwidth, in DKIM body hashing and, at a commercial relay, per gigabyte, so each part gets
// whichever encoding makes it smaller (go-mail takes the encoding per part).

// bodyEncoding returns the smaller transfer encoding for a text part, and the text to give
// go-mail for it: as it is for quoted-printable (whose writer turns line breaks into CRLF), with
// its line breaks made CRLF for base64, which carries bytes as they are — and text travels in
// its canonical form, CRLF line breaks (RFC 2045 §6.8, RFC 2046 §4.1.1). Ties go to
// quoted-printable, which a person can read.
//
// It runs for every part of every notice, so one quick pass bounds the quoted-printable size
// from below (each escaped byte is three) and from above (soft line breaks, under 5 %, and
// spaces before line breaks), and only text between the bounds — rare: real text is far on one
// side — pays for the exact count.
func bodyEncoding(s string) (mail.Encoding, string) {
	escaped, bare, breaks := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= 0x80 || b == '=' || b < ' ' && b != '\n' && b != '\r' && b != '\t' || b == 0x7f:
			escaped++
		case b == '\n':
			breaks++
			if i == 0 || s[i-1] != '\r' {
				bare++
			}
		case b == '\r':
			breaks++
		}
	}
	crlf := len(s) + bare
	b64 := base64Size(crlf)
	low := len(s) + 2*escaped + bare
	high := low + low/20 + 4*breaks + 6
	if b64 < low || b64 < high && b64 < qpSize(s) {
		if crlf != len(s) {
			s = canonicalLineBreaks(s, crlf)
		}
		return mail.EncodingB64, s
	}
	return mail.EncodingQP, s
}

// headerEncoding returns the encoding of the encoded words (RFC 2047) of a message's header
// text, Subject and the sender's name: Q ("quoted-printable" words) unless B (base64 words)
// makes text shorter, as for a Korean subject.
func headerEncoding(text ...string) mail.Encoding {
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
		return mail.EncodingB64
	}
	return mail.EncodingQP
}

// base64Size is the size of n bytes in base64 as go-mail writes a part: 4 characters per 3
// bytes, in lines of 76 each ended by CRLF.
func base64Size(n int) int {
	chars := (n + 2) / 3 * 4
	return chars + 2*((chars+mail.MaxBodyLength-1)/mail.MaxBodyLength)
}

// qpSize is the exact size of s in quoted-printable as mime/quotedprintable's Writer (which
// go-mail uses) writes it: printable ASCII and inner spaces as they are, other bytes as =XX,
// line breaks as CRLF, a space or tab before a line break encoded, and a soft line break ("="
// CRLF) wherever a line would pass 76 characters. It follows the Writer step by step, so that
// the choice is made on the real sizes (TestQPSize_MatchesTheWriter holds it to it).
func qpSize(s string) int {
	size := 0
	line := 0      // characters on the current line
	var last byte  // the last character on the current line
	cr := false    // the previous input byte was a \r, whose line break is written
	const max = 76 // mime/quotedprintable's lineMaxLen
	encode := func() {
		if max-1-line < 3 {
			size += line + 3 // the line, "=" and CRLF
			line = 0
		}
		line += 3
		last = 'X' // a hex digit
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b == '\n' || b == '\r':
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
		case b >= '!' && b <= '~' && b != '=', b == ' ', b == '\t':
			if line == max-1 {
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

// canonicalLineBreaks makes every bare \n of s a \r\n; size is the result's length
// (crlfSize(s)).
func canonicalLineBreaks(s string, size int) string {
	var b strings.Builder
	b.Grow(size)
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b.WriteString(s[start:i])
			b.WriteString("\r\n")
			start = i + 1
		}
	}
	b.WriteString(s[start:])
	return b.String()
}
