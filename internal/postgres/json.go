package postgres

import (
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// appendAttributesJSON appends a row's attributes as a JSON object, in their order. It is
// written by hand because it runs once per imported row, on the one goroutine that feeds COPY,
// where encoding/json's reflection cost ~1 µs a row. A name given twice keeps its last value, as
// in jsonb (and as Recipient.Attributes would).
func appendAttributesJSON(b []byte, attrs []breach.Attribute) []byte {
	b = append(b, '{')
	for i, a := range attrs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, a.Name)
		b = append(b, ':')
		b = appendJSONString(b, a.Value)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string (RFC 8259): quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendPostalJSON appends a postal address as breach.PostalAddress marshals to JSON (empty
// fields left out), without encoding/json's reflection: the import writes one per row that has
// an address.
func appendPostalJSON(b []byte, a *breach.PostalAddress) []byte {
	b = append(b, '{')
	first := true
	for _, f := range [...]struct{ key, value string }{
		{"line1", a.Line1}, {"line2", a.Line2}, {"line3", a.Line3}, {"city", a.City},
		{"region", a.Region}, {"postal_code", a.PostalCode}, {"country", a.Country},
	} {
		if f.value == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, f.key...)
		b = append(b, '"', ':')
		b = appendJSONString(b, f.value)
	}
	return append(b, '}')
}
