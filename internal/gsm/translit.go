package gsm

import "unicode/utf8"

// Transliterate replaces characters outside GSM-7 with their closest GSM-7
// equivalents where a reader would not be misled, and returns the new
// string.
//
// Why: one 'ó' or one curly apostrophe pasted from a word processor turns a
// whole Spanish or French notice into UCS-2 (70 units per segment instead
// of 160 septets), typically tripling its cost. Accented letters that GSM-7
// has (é è à ù ì ò ñ Ñ ü Ü ö Ö ä Ä å Å ø Ø æ Æ ß É Ç) are kept; the others
// lose the accent (á→a, ú→u, ç→c, È→E), ligatures are spelled out (œ→oe),
// typographic punctuation becomes its plain form (’→', «»→", –—→-, …→...),
// every kind of space becomes a plain space and invisible characters (zero
// width space, soft hyphen, BOM) are removed. A combining accent (text in
// decomposed form, as some keyboards produce) is merged with its letter
// when the result is in GSM-7 (n + U+0303 → ñ) and otherwise dropped after a
// Latin letter.
//
// Characters with no honest equivalent (Hangul, CJK, Cyrillic, emoji, ...)
// are left as they are, so such a body stays UCS-2: Korean notices are
// UCS-2 by nature. Note that transliterating a body that stays UCS-2 gains
// nothing and can cost more (œ→oe, …→... add units): compare Measure of the
// original and the result and send the transliteration only when it is
// cheaper.
//
// Every replacement is made of GSM-7 characters, so Transliterate is
// idempotent.
func Transliterate(s string) string {
	if allGSM7(s) {
		return s
	}
	out := make([]byte, 0, len(s))
	var prev rune = -1 // last rune written, to attach combining marks
	for _, r := range s {
		if IsGSM7(r) {
			out = utf8.AppendRune(out, r)
			prev = r
			continue
		}
		if isCombiningMark(r) && isGSM7Letter(prev) {
			if c, ok := compose(prev, r); ok {
				out = utf8.AppendRune(out[:len(out)-utf8.RuneLen(prev)], c)
				prev = c
			}
			// Otherwise drop the accent, as á→a does.
			continue
		}
		rep, ok := translit[r]
		if !ok {
			out = utf8.AppendRune(out, r)
			prev = r
			continue
		}
		out = append(out, rep...)
		if rep != "" {
			prev, _ = utf8.DecodeLastRuneInString(rep)
		}
	}
	return string(out)
}

func allGSM7(s string) bool {
	for _, r := range s {
		if !IsGSM7(r) {
			return false
		}
	}
	return true
}

// isCombiningMark reports whether r is in Combining Diacritical Marks.
func isCombiningMark(r rune) bool { return r >= 0x0300 && r <= 0x036F }

// isGSM7Letter reports whether r is a Latin letter of the GSM-7 default
// alphabet, the only bases whose combining accents are merged or dropped.
func isGSM7Letter(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		return true
	}
	switch r {
	case 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å', 'Æ', 'æ', 'ß', 'É',
		'Ä', 'Ö', 'Ñ', 'Ü', 'ä', 'ö', 'ñ', 'ü', 'à':
		return true
	}
	return false
}

// compose returns the precomposed GSM-7 letter for base + combining mark.
func compose(base, mark rune) (rune, bool) {
	c, ok := compositions[[2]rune{base, mark}]
	return c, ok
}

const (
	combGrave     = 0x0300
	combAcute     = 0x0301
	combTilde     = 0x0303
	combDiaeresis = 0x0308
	combRing      = 0x030A
	combCedilla   = 0x0327
)

// compositions lists every GSM-7 letter reachable as base + one combining
// mark (the canonical decompositions of the default alphabet's letters).
var compositions = map[[2]rune]rune{
	{'a', combGrave}: 'à', {'e', combGrave}: 'è', {'i', combGrave}: 'ì',
	{'o', combGrave}: 'ò', {'u', combGrave}: 'ù',
	{'e', combAcute}: 'é', {'E', combAcute}: 'É',
	{'n', combTilde}: 'ñ', {'N', combTilde}: 'Ñ',
	{'a', combDiaeresis}: 'ä', {'o', combDiaeresis}: 'ö', {'u', combDiaeresis}: 'ü',
	{'A', combDiaeresis}: 'Ä', {'O', combDiaeresis}: 'Ö', {'U', combDiaeresis}: 'Ü',
	{'a', combRing}: 'å', {'A', combRing}: 'Å',
	{'C', combCedilla}: 'Ç',
}

// translit maps characters outside GSM-7 to GSM-7 text. Only replacements a
// reader would not misread are listed; currency signs, degrees, superscripts
// and fractions are deliberately absent (m² → m2 or ¢ → c would change
// meaning).
var translit = map[rune]string{
	// Latin-1 Supplement letters missing from GSM-7.
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A",
	'È': "E", 'Ê': "E", 'Ë': "E",
	'Ì': "I", 'Í': "I", 'Î': "I", 'Ï': "I",
	'Ð': "D",
	'Ò': "O", 'Ó': "O", 'Ô': "O", 'Õ': "O",
	'Ù': "U", 'Ú': "U", 'Û': "U",
	'Ý': "Y", 'Þ': "TH",
	'á': "a", 'â': "a", 'ã': "a",
	'ç': "c", // only the capital Ç is in GSM-7 (0x09)
	'ê': "e", 'ë': "e",
	'í': "i", 'î': "i", 'ï': "i",
	'ð': "d",
	'ó': "o", 'ô': "o", 'õ': "o",
	'ú': "u", 'û': "u",
	'ý': "y", 'þ': "th", 'ÿ': "y",
	'ª': "a", 'º': "o", // Spanish/Portuguese ordinals: 1ª, N.º
	'×': "x",

	// Latin Extended-A (Central European, Baltic, Turkish, ...).
	'Ā': "A", 'ā': "a", 'Ă': "A", 'ă': "a", 'Ą': "A", 'ą': "a",
	'Ć': "C", 'ć': "c", 'Ĉ': "C", 'ĉ': "c", 'Ċ': "C", 'ċ': "c", 'Č': "C", 'č': "c",
	'Ď': "D", 'ď': "d", 'Đ': "D", 'đ': "d",
	'Ē': "E", 'ē': "e", 'Ĕ': "E", 'ĕ': "e", 'Ė': "E", 'ė': "e", 'Ę': "E", 'ę': "e", 'Ě': "E", 'ě': "e",
	'Ĝ': "G", 'ĝ': "g", 'Ğ': "G", 'ğ': "g", 'Ġ': "G", 'ġ': "g", 'Ģ': "G", 'ģ': "g",
	'Ĥ': "H", 'ĥ': "h", 'Ħ': "H", 'ħ': "h",
	'Ĩ': "I", 'ĩ': "i", 'Ī': "I", 'ī': "i", 'Ĭ': "I", 'ĭ': "i", 'Į': "I", 'į': "i", 'İ': "I", 'ı': "i",
	'Ĳ': "IJ", 'ĳ': "ij",
	'Ĵ': "J", 'ĵ': "j",
	'Ķ': "K", 'ķ': "k",
	'Ĺ': "L", 'ĺ': "l", 'Ļ': "L", 'ļ': "l", 'Ľ': "L", 'ľ': "l", 'Ŀ': "L", 'ŀ': "l", 'Ł': "L", 'ł': "l",
	'Ń': "N", 'ń': "n", 'Ņ': "N", 'ņ': "n", 'Ň': "N", 'ň': "n", 'ŉ': "'n",
	'Ō': "O", 'ō': "o", 'Ŏ': "O", 'ŏ': "o", 'Ő': "O", 'ő': "o",
	'Œ': "OE", 'œ': "oe",
	'Ŕ': "R", 'ŕ': "r", 'Ŗ': "R", 'ŗ': "r", 'Ř': "R", 'ř': "r",
	'Ś': "S", 'ś': "s", 'Ŝ': "S", 'ŝ': "s", 'Ş': "S", 'ş': "s", 'Š': "S", 'š': "s",
	'Ţ': "T", 'ţ': "t", 'Ť': "T", 'ť': "t", 'Ŧ': "T", 'ŧ': "t",
	'Ũ': "U", 'ũ': "u", 'Ū': "U", 'ū': "u", 'Ŭ': "U", 'ŭ': "u", 'Ů': "U", 'ů': "u",
	'Ű': "U", 'ű': "u", 'Ų': "U", 'ų': "u",
	'Ŵ': "W", 'ŵ': "w", 'Ŷ': "Y", 'ŷ': "y", 'Ÿ': "Y",
	'Ź': "Z", 'ź': "z", 'Ż': "Z", 'ż': "z", 'Ž': "Z", 'ž': "z",
	'ſ': "s",
	// Romanian comma-below letters (Latin Extended-B).
	'Ș': "S", 'ș': "s", 'Ț': "T", 'ț': "t",

	// Quotes and apostrophes.
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", 'ʼ': "'", '´': "'", '`': "'",
	'‹': "'", '›': "'",
	'“': "\"", '”': "\"", '„': "\"", '‟': "\"", '″': "\"",
	'«': "\"", '»': "\"",

	// Dashes and hyphens.
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '−': "-",
	'•': "-",

	// Ellipsis and trademark signs.
	'…': "...",
	'©': "(c)", '®': "(R)", '™': "TM",

	// Spaces (no-break, typographic, narrow no-break used in French before
	// ; : ! ?, ideographic) and tab.
	'\t': " ", '\u00A0': " ",
	'\u2000': " ", '\u2001': " ", '\u2002': " ", '\u2003': " ", '\u2004': " ",
	'\u2005': " ", '\u2006': " ", '\u2007': " ", '\u2008': " ", '\u2009': " ",
	'\u200A': " ", '\u202F': " ", '\u205F': " ", '\u3000': " ",

	// Invisible characters: zero width space, soft hyphen, BOM / zero width
	// no-break space. (ZWJ and ZWNJ are kept: they shape scripts and emoji.)
	'\u200B': "", '\u00AD': "", '\uFEFF': "",
}
