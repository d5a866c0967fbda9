// Package gsm tells, before an SMS is handed to a provider, which encoding
// its body will travel in and how many segments it will take.
//
// Providers bill per segment, and the encoding decides the segment size: a
// body made only of GSM 03.38 characters (3GPP TS 23.038 default alphabet
// plus its extension table) goes as GSM-7, 160 septets in one segment; a
// single character outside that set (an accented 'ú', an emoji, Hangul)
// switches the whole body to UCS-2, 70 code units in one segment. A
// 150-character Spanish notice is therefore one segment or three depending on
// a single 'ó'. Measure reports the cost, Transliterate removes the
// characters that needlessly force UCS-2.
//
// Dependency-free on purpose: the tables are small and fixed by the
// standard, and this runs on every notice before it is queued.
package gsm

import "unicode/utf8"

// Encoding is how an SMS body is sent.
type Encoding string

const (
	// GSM7 is the 7-bit GSM 03.38 default alphabet (with the extension
	// table reached through ESC).
	GSM7 Encoding = "GSM-7"
	// UCS2 is 16-bit UCS-2/UTF-16, used as soon as one character is not
	// in GSM-7.
	UCS2 Encoding = "UCS-2"
)

// Segment sizes. A body that fits in one SMS has the whole 140-octet user
// data; a longer body is sent as a concatenated SMS whose every part carries
// a 6-octet user data header (8-bit reference number, the form providers
// use), leaving 134 octets: 153 septets or 67 UCS-2 units.
const (
	gsm7Single  = 160
	gsm7Multi   = 153
	ucs2Single  = 70
	ucs2Multi   = 67
	escapeRune  = 0x1B // ESC: the GSM-7 code that introduces an extension character
	extSeptets  = 2    // ESC + code
	baseSeptets = 1
)

// Info is what sending a body costs.
type Info struct {
	Encoding Encoding `json:"encoding"`
	Units    int      `json:"units"` // GSM-7 septets (extension characters count 2) or UCS-2 code units (UTF-16, so a character outside the BMP counts 2)
	Segments int      `json:"segments"`
}

// defaultAlphabet is the GSM 03.38 / 3GPP TS 23.038 default alphabet in code
// order (index = 7-bit code), so it can be checked row by row against the
// standard's table. Position 0x1B is ESC, the escape to the extension table;
// it is not a character a body can contain and is excluded from the set (a
// literal U+001B in a body would be read by the handset as an escape).
var defaultAlphabet = [128]rune{
	// 0x00
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	// 0x10
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', escapeRune, 'Æ', 'æ', 'ß', 'É',
	// 0x20
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	// 0x30
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	// 0x40
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	// 0x50
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	// 0x60
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	// 0x70
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// extensionTable is the GSM 03.38 extension table: each is sent as ESC
// followed by the code shown, so it costs 2 septets. (0x0D CR2 and 0x1B, the
// reserved single-shift escape, are control codes with no Unicode character.)
var extensionTable = map[rune]byte{
	'\f': 0x0A, // form feed (page break)
	'^':  0x14,
	'{':  0x28,
	'}':  0x29,
	'\\': 0x2F,
	'[':  0x3C,
	'~':  0x3D,
	']':  0x3E,
	'|':  0x40,
	'€':  0x65,
}

// septetTable maps every GSM-7 character to its cost in septets; built once
// from the two tables above so there is a single source of truth.
var septetTable = func() map[rune]int {
	m := make(map[rune]int, len(defaultAlphabet)+len(extensionTable))
	for _, r := range defaultAlphabet {
		if r != escapeRune {
			m[r] = baseSeptets
		}
	}
	for r := range extensionTable {
		m[r] = extSeptets
	}
	return m
}()

// septets returns the GSM-7 cost of r, or 0 if r is not in GSM-7.
func septets(r rune) int {
	if r < rune(len(latinSeptets)) {
		return int(latinSeptets[r])
	}
	return septetTable[r]
}

// latinSeptets is septetTable for the first 256 code points, where nearly every character of a
// Latin-script notice falls: an array index instead of a map lookup per character, which made
// measuring an SMS most of the cost of a cached notice.
var latinSeptets = func() (t [256]byte) {
	for r := range t {
		t[r] = byte(septetTable[rune(r)])
	}
	return t
}()

// IsGSM7 reports whether r is in the default alphabet or the extension table.
// One rune for which this is false turns the whole body into UCS-2, which
// more than halves the characters per segment.
func IsGSM7(r rune) bool {
	return septets(r) != 0
}

// Measure reports the encoding (GSM-7 if every character is in the GSM 03.38
// default alphabet or its extension table, else UCS-2), the units and the
// segment count: GSM-7 160 septets in one segment, else 153 per segment;
// UCS-2 70 units in one segment, else 67 per segment. An empty body is 0
// segments.
//
// Segments are counted by filling each one greedily, never splitting an
// extension character (ESC + code, 2 septets) or a UTF-16 surrogate pair
// across a segment boundary, as senders and handsets do; the count can
// therefore be one higher than Units divided by 153 (or 67). That extra
// segment is real: it is billed.
//
// Invalid UTF-8 is measured as U+FFFD per bad byte (how it will be sent),
// which forces UCS-2.
func Measure(body string) Info {
	if body == "" {
		return Info{Encoding: GSM7}
	}
	if costs, total, ok := gsm7Costs(body); ok {
		return Info{Encoding: GSM7, Units: total, Segments: segments(costs, total, gsm7Single, gsm7Multi)}
	}
	costs, total := ucs2Costs(body)
	return Info{Encoding: UCS2, Units: total, Segments: segments(costs, total, ucs2Single, ucs2Multi)}
}

// gsm7Costs returns each character's septet cost and the total, or ok=false
// at the first character outside GSM-7.
func gsm7Costs(body string) (costs []int, total int, ok bool) {
	costs = make([]int, 0, len(body))
	for _, r := range body {
		c := septets(r)
		if c == 0 {
			return nil, 0, false
		}
		costs = append(costs, c)
		total += c
	}
	return costs, total, true
}

// ucs2Costs returns each character's UTF-16 code-unit cost (2 for a
// character outside the Basic Multilingual Plane) and the total.
func ucs2Costs(body string) (costs []int, total int) {
	costs = make([]int, 0, utf8.RuneCountInString(body))
	for _, r := range body {
		c := 1
		if r > 0xFFFF {
			c = 2
		}
		costs = append(costs, c)
		total += c
	}
	return costs, total
}

// segments counts segments: one if total fits in single, else greedy
// filling of multi-sized segments where no character's units are split.
func segments(costs []int, total, single, multi int) int {
	if total == 0 {
		return 0
	}
	if total <= single {
		return 1
	}
	n, used := 1, 0
	for _, c := range costs {
		if used+c > multi {
			n++
			used = 0
		}
		used += c
	}
	return n
}
