// Package plaintext makes what a customer list gives into text that can only show as text: a
// name for a notice's greeting, and the test for the control and format characters that no
// value may carry. The importer neutralises names as it reads a list (and reports what it
// changed); the notice renderer applies the same to every name it greets, so that a name stored
// before a rule existed, or by any other road, reaches no notice as a link or markup.
package plaintext

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// MaxName is the longest name a notice greets, in characters; a longer one is cut there (at a
// character boundary and then at the last space, if there is one in its second half).
const MaxName = 200

// A name never costs a customer their notice: the name only makes the greeting personal, and a
// row with a valid way to reach the person is kept whatever its name column holds. What a name
// must not do is reach the notice as anything but a line of plain text, so Name makes it one,
// and says what it changed, for the import report:
//
//   - HTML character references ("O&#39;Brien", "&lt;b&gt;"), as web forms and HTML reports
//     export names, are decoded first: to the name they stand for, or to the markup that the
//     next step removes.
//   - Markup is removed: tags (<b>, </b>, <img …>, <!-- … -->), and the whole of a <script> or
//     <style> element, whose content is code, not a name. What is left of "<b>Ana</b> Quispe"
//     is "Ana Quispe"; a stray '<' or '>' goes too. (The email's HTML is escaped by
//     html/template whatever it holds; this is for the text and SMS, where an escaped tag would
//     show as the tag, and for a human reading the list.)
//   - Control and format characters (line breaks, tabs, NUL, bidi overrides…) become spaces,
//     and a terminal's escape sequence (ESC [ 31 m) one space; runs of spaces become one.
//   - Invalid UTF-8 is dropped; a name of nothing visible (joiners, blank characters) too.
//   - A name longer than MaxName characters is cut.
//   - A name that holds a web or email address ("https://…", "www.…", "help@evil.com",
//     "evil.com") or a phone number (7 digits or more) is dropped: mail and SMS apps make them
//     links wherever they stand, and a notice from the company's own, signed domain would
//     carry the lure to its reader ("call this number to verify" is the callback scam).
//   - A spreadsheet's error value ("#N/A", "#REF!": a formula that found no name) is dropped.
//   - When something was removed, what is left is dropped if it holds no letter at all
//     (nothing, "!!"): the notice then uses its generic greeting ("Dear Customer"). A name
//     that needed no neutralising is kept as the list gave it, letters or not.
//
// warning is empty when the name was already clean.
func Name(raw string) (name, warning string) {
	if t := strings.TrimSpace(raw); len(t) > 0 && t[0] == '#' && spreadsheetErrors[strings.ToUpper(t)] {
		return "", "a spreadsheet's error value, not a name: the notice greets the customer generically"
	}
	if isPlainName(raw) {
		return raw, ""
	}
	var what []string
	s := raw
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
		what = append(what, "invalid UTF-8 removed (if the file is Latin-1 or Windows-1252, import it with --encoding windows-1252)")
	}
	if decoded, changed := decodeEntities(s); changed {
		// Exported from a web form or an HTML report, "O&#39;Brien" is O'Brien; decoded
		// before the markup is looked for, "&lt;b&gt;" is the tag it stands for.
		s = decoded
		what = append(what, "HTML character references decoded")
	}
	if strings.ContainsAny(s, "<>") {
		s = stripMarkup(s)
		what = append(what, "markup removed")
	}
	if cleaned, changed := spaceControls(s); changed {
		s = cleaned
		what = append(what, "control characters removed")
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxName {
		s = cutRunes(s, MaxName)
		what = append(what, "longer than "+strconv.Itoa(MaxName)+" characters: cut")
	}
	if holdsLink(s) {
		what = append(what, "a web or email address or a phone number, which mail apps make a link: the notice greets the customer generically")
		return "", strings.Join(what, "; ")
	}
	if s != "" && !strings.ContainsFunc(s, visible) {
		what = append(what, "nothing visible (only joiners or blank characters): the notice greets the customer generically")
		return "", strings.Join(what, "; ")
	}
	if len(what) == 0 {
		return s, "" // only its spacing was tidied
	}
	if !strings.ContainsFunc(s, unicode.IsLetter) {
		// What neutralising left is debris ("alert(1)" is not, as the script's content went
		// with it, but "" or "!!" is).
		what = append(what, "nothing usable as a name is left, the notice greets the customer generically")
		return "", strings.Join(what, "; ")
	}
	return s, strings.Join(what, "; ")
}

// spreadsheetErrors are the error values a spreadsheet shows, and exports, for a formula that
// failed.
var spreadsheetErrors = map[string]bool{"#N/A": true, "#REF!": true, "#VALUE!": true, "#NAME?": true, "#DIV/0!": true,
	"#NULL!": true, "#NUM!": true, "#SPILL!": true, "#CALC!": true, "#FIELD!": true, "#BLOCKED!": true, "#GETTING_DATA": true}

// isPlainName reports whether s needs no neutralising: valid UTF-8 without markup, a '&' (which
// may begin a character reference), control characters, leading, trailing or repeated spaces, more than MaxName characters, or a
// character of a web or email address or a phone number ('.', '@', ':', a digit, an
// ideographic or full-width full stop, which holdsLink looks at) — nearly every name, checked
// in one pass without allocating.
func isPlainName(s string) bool {
	prevSpace := true // a leading space is not plain either
	n := 0
	for i := 0; i < len(s); {
		c := rune(s[i])
		size := 1
		if c >= utf8.RuneSelf {
			c, size = utf8.DecodeRuneInString(s[i:])
			if c == utf8.RuneError && size == 1 {
				return false
			}
		}
		i += size
		n++
		switch {
		case c == ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
			continue
		case c == '<' || c == '>' || c == '&' || c == '.' || c == '@' || c == ':' || c >= '0' && c <= '9' || IsControl(c):
			return false
		case c == '\u3002' || c == '\uff0e' || c == '\uff61': // full stops IDNA reads as '.'
			return false
		case c >= utf8.RuneSelf && !visible(c):
			return false
		}
		prevSpace = false
	}
	return s == "" || !prevSpace && n <= MaxName
}

// visible reports whether r shows as something: not a space, a joiner, nor one of the
// characters that are letters or symbols but blank (the Hangul fillers, the blank Braille
// pattern).
func visible(r rune) bool {
	switch r {
	case '\u200c', '\u200d', '\u115f', '\u1160', '\u3164', '\uffa0', '\u2800':
		return false
	}
	return !unicode.IsSpace(r)
}

// spaceControls replaces every control or format character (see controlChar) with a space, and
// a terminal's escape sequence (ESC [ 31 m, ESC ] … BEL) with one space for the whole: its
// parameters are no part of the name ("Lee\x1b[31m" is Lee, not "Lee [31m").
func spaceControls(s string) (string, bool) {
	if _, bad := ControlChar(s, false); !bad {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if n := escapeSequence(s[i:]); n > 0 {
			b.WriteByte(' ')
			i += n
			continue
		}
		if IsControl(r) {
			b.WriteByte(' ')
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String(), true
}

// escapeSequence is the length of the ECMA-48 control sequence s begins with: CSI (ESC [ or
// U+009B, parameter and intermediate bytes, a final byte) or OSC (ESC ], up to BEL or ESC \);
// 0 when s begins with none. An unterminated one runs to the end of s.
func escapeSequence(s string) int {
	var i int
	switch {
	case strings.HasPrefix(s, "\x1b["):
		i = 2
	case strings.HasPrefix(s, "\u009b"):
		i = len("\u009b")
	case strings.HasPrefix(s, "\x1b]"):
		for i = 2; i < len(s); i++ {
			if s[i] == '\a' {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	default:
		return 0
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= 0x40 && c <= 0x7e {
			return i + 1
		} else if c < 0x20 || c >= 0x7f {
			return i // not a well-formed sequence: what follows is text
		}
	}
	return len(s)
}

// entity matches an HTML character reference ended by ';': named (&amp;), decimal (&#39;) or
// hexadecimal (&#x27;). Only these: HTML also reads "&not" without its ';', and a company
// named "Barnes&notice" would lose letters.
var entity = regexp.MustCompile(`&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});`)

// decodeEntities replaces the HTML character references in s with the characters they stand
// for, and says whether it found any that stands for one.
func decodeEntities(s string) (string, bool) {
	if !strings.Contains(s, "&") {
		return s, false
	}
	changed := false
	out := entity.ReplaceAllStringFunc(s, func(ref string) string {
		d := html.UnescapeString(ref)
		switch {
		case d == ref:
			return ref // no reference it knows
		case ref[1] != '#' && strings.ContainsFunc(d, isASCIILetter):
			// HTML reads "&notaria;" as "&not" and the rest ("¬aria;"): a name that is no
			// reference stands as written. (A reference to letters, &fjlig;, goes with it.)
			return ref
		case d == "\uFFFD":
			d = "" // &#0;, or past Unicode: nothing to show
		}
		changed = true
		return d
	})
	return out, changed
}

func isASCIILetter(r rune) bool { return r|0x20 >= 'a' && r|0x20 <= 'z' }

// StripFormat is s without its invisible format characters (Unicode Cf: zero-width spaces,
// direction marks, a byte order mark inside the text, soft hyphens), and whether it had any.
// Pasted from a web page, an email client or a right-to-left document, they sit unseen in a
// phone number or an email address: removed, the value reads as the person sees it; rejected,
// the customer lost their notice for a character no one could see. Kept: the joiners, which
// some scripts need, and the bidi embeddings, overrides and isolates, which change what the
// text shows (ControlChar still refuses those).
func StripFormat(s string) (string, bool) {
	if !strings.ContainsFunc(s, isFormat) {
		return s, false
	}
	return strings.Map(func(r rune) rune {
		if isFormat(r) {
			return -1
		}
		return r
	}, s), true
}

func isFormat(r rune) bool {
	return r >= 0x80 && unicode.Is(unicode.Cf, r) && r != '\u200d' && r != '\u200c' &&
		!(r >= '\u202a' && r <= '\u202e') && !(r >= '\u2066' && r <= '\u2069')
}

// stripMarkup removes tags, comments, and the content of script and style elements, and any
// '<' or '>' left over. A tag is '<' followed by a letter, '/', '!' or '?', up to the next '>'
// (or the end: an unclosed tag is markup too); a '<' followed by anything else ("<3", "a < b")
// is only dropped itself. Each removal leaves a space, so that "Ana<br>Quispe" keeps two words.
func stripMarkup(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == '>' {
			b.WriteByte(' ')
			i++
			continue
		}
		if c != '<' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) || !isTagStart(s[i+1]) {
			b.WriteByte(' ')
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			b.WriteByte(' ')
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			break // an unclosed tag: the rest is inside it
		}
		tag := strings.ToLower(s[i+1 : i+end])
		i += end + 1
		b.WriteByte(' ')
		for _, el := range [...]string{"script", "style"} {
			if strings.HasPrefix(tag, el) && (len(tag) == len(el) || !isNameByte(tag[len(el)])) {
				// Skip to the element's end tag, or to the end of the name.
				closing := strings.Index(strings.ToLower(s[i:]), "</"+el)
				if closing < 0 {
					i = len(s)
				} else if gt := strings.IndexByte(s[i+closing:], '>'); gt < 0 {
					i = len(s)
				} else {
					i += closing + gt + 1
				}
			}
		}
	}
	return b.String()
}

func isTagStart(c byte) bool {
	return c == '/' || c == '!' || c == '?' || c|0x20 >= 'a' && c|0x20 <= 'z'
}

func isNameByte(c byte) bool {
	return c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9' || c == '-'
}

// cutRunes cuts s to n characters, at the last space of its second half if there is one, so
// that a word is not cut in two.
func cutRunes(s string, n int) string {
	i := 0
	for k := 0; k < n; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	s = s[:i]
	if sp := strings.LastIndexByte(s, ' '); sp > len(s)/2 {
		s = s[:sp]
	}
	return strings.TrimSpace(s)
}

// holdsLink reports whether a name holds what a mail or SMS app would make a link: a URL
// ("https://…", "www.…"), an email address ("help@evil.com"), a domain name whose last label
// is a top-level domain ("evil.com", not "St.John" nor "J.R.R."), or a phone number (a run of
// 7 digits or more, spaces and ()+-./ between them). Joiners are ignored and the full stops
// IDNA reads as '.' are dots, as a lure would use them to pass.
func holdsLink(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			if digits++; digits >= 7 {
				return true
			}
		case !strings.ContainsRune(" ()+-./\u00a0", r):
			digits = 0
		}
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u200c', '\u200d':
			return -1
		case '\u3002', '\uff0e', '\uff61':
			return '.'
		}
		return unicode.ToLower(r)
	}, s)
	if strings.Contains(s, "://") || strings.Contains(s, "www.") {
		return true
	}
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !strings.ContainsRune(".-_+@", r)
	}) {
		tok = strings.Trim(tok, ".-")
		if at := strings.LastIndexByte(tok, '@'); at > 0 && strings.Contains(tok[at:], ".") {
			return true
		}
		if dot := strings.LastIndexByte(tok, '.'); dot > 0 && isTLD(tok[dot+1:]) {
			return true
		}
	}
	return false
}

// isTLD reports whether label (lower case) is a top-level domain: one of the ICANN section of
// the Public Suffix List, or a label of letters outside ASCII and outside the Latin script (an
// internationalized TLD, such as рф or 한국), taken as one rather than looked up. A Latin word
// with an accent is looked up: "José M.Rodríguez" was greeted generically for a "domain"
// rodríguez.
func isTLD(label string) bool {
	if utf8.RuneCountInString(label) < 2 || !strings.ContainsFunc(label, unicode.IsLetter) {
		return false
	}
	if !strings.ContainsFunc(label, func(r rune) bool { return r < utf8.RuneSelf || unicode.Is(unicode.Latin, r) }) {
		return true
	}
	if !printableASCIIOnly(label) {
		// The list spells internationalized TLDs in Punycode (.vermögensberater is
		// xn--vermgensberater-ctb).
		ascii, err := idna.ToASCII(label)
		if err != nil {
			return false
		}
		label = ascii
	}
	suffix, icann := publicsuffix.PublicSuffix("x." + label)
	return icann && suffix == label
}

// printableASCIIOnly reports whether s is made of ASCII bytes only.
func printableASCIIOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ControlChar returns the first control or format character in s (line breaks and tabs allowed
// when multiline): C0 and C1 controls, DEL, the line and paragraph separators, and the format
// characters (Unicode Cf: bidi overrides, zero-width spaces…) but for the joiners, which some
// scripts' names need.
func ControlChar(s string, multiline bool) (rune, bool) {
	for _, c := range s {
		if c >= 0x20 && c < 0x7f {
			continue
		}
		if multiline && (c == '\n' || c == '\r' || c == '\t') {
			continue
		}
		if IsControl(c) {
			return c, true
		}
	}
	return 0, false
}

// IsControl reports whether c is a control or format character (see ControlChar).
func IsControl(c rune) bool {
	if c >= 0x20 && c < 0x7f {
		return false
	}
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029' || unicode.Is(unicode.Cf, c) && c != '\u200d' && c != '\u200c'
}

// ReplaceControls is s with each C0 or C1 control character (unicode.IsControl: NUL, ESC, DEL…)
// replaced by with: text from outside — a remote server's refusal, a stored value printed on a
// terminal — shown without the bytes a database refuses or a terminal acts on. s itself when it
// holds none.
func ReplaceControls(s string, with rune) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return with
		}
		return r
	}, s)
}
