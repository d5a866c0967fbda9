package importer

import (
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/transform"
)

// detectCodePage picks the encoding of a sample that is neither UTF-8 nor UTF-16: the "ANSI"
// code page of the Windows that saved it, which Excel writes "CSV" in and which nothing in the
// file names: Windows-1252 on Western-European and American Windows, CP949 on Korean Windows,
// Shift-JIS on Japanese Windows.
//
// Why: every byte string is valid Windows-1252, so a Korean list was read as one — 김민준 as
// ±è¹ÎÁØ — and its customers greeted in it, without a warning. So a double-byte code page is
// chosen when the sample reads as text in its language through it (readsAs) and is shaped as
// that language's words are (koreanWords, japaneseWords); Windows-1252 stays the answer
// otherwise, whenever in doubt, as before.
//
// The two exclude each other: Japanese words are made of characters starting with 0x81–0x9F,
// Korean ones of bytes from 0xA1 (hiragana is valid CP949 too, as rare Hangul, but not shaped
// as Korean words are). The names are those lookupEncoding gives, so that --encoding accepts what the report says:
// "euc-kr" is the WHATWG (and browsers') name of CP949, which x/text's EUCKR decodes whole.
func detectCodePage(sample []byte) (string, encoding.Encoding) {
	switch {
	case readsAs(sample, japanese.ShiftJIS, isJapanese) && japaneseWords(sample):
		return "shift_jis", japanese.ShiftJIS
	case readsAs(sample, korean.EUCKR, isKorean) && koreanWords(sample):
		return "euc-kr", korean.EUCKR
	}
	return "windows-1252", charmap.Windows1252
}

// readsAs reports whether sample decodes through enc without an invalid sequence and into
// nearly all (19 in 20) of its non-ASCII characters in the script inScript says.
//
// Why: Windows-1252 text read as a double-byte code page nearly always breaks one of its
// rules: an accented lowercase letter at the end of a word, before a space, a comma or the
// line's end (José, André), is a lead byte without a valid second byte, in CP949 and Shift-JIS
// alike. Nearly, not all, of the
// characters: real lists hold the odd symbol (※, ·, ①) or hanja, and a lone one must not
// turn a Korean list back into mojibake. The sample may end in the middle of a character;
// that last byte is not held against it.
func readsAs(sample []byte, enc encoding.Encoding, inScript func(rune) bool) bool {
	dst := make([]byte, 3*len(sample)) // a byte decodes to at most 3 bytes of UTF-8
	nDst, nSrc, err := enc.NewDecoder().Transform(dst, sample, false)
	if err != nil && err != transform.ErrShortSrc || nSrc < len(sample)-1 {
		return false
	}
	var in, other int
	for _, r := range string(dst[:nDst]) {
		switch {
		case r < utf8.RuneSelf:
		case r == utf8.RuneError: // the decoders' mark of an invalid sequence
			return false
		case inScript(r):
			in++
		default:
			other++
		}
	}
	return in > 0 && other*20 <= in
}

// koreanWords reports whether most of the two-byte characters sample holds, read as CP949
// (any byte from 0x81 starts one), are syllables of KS X 1001 — both bytes from 0xA1 — that
// stand next to another.
//
// Why: Korean writes its words, names and addresses in two or more syllables (김민준, 서울시),
// and everyday Hangul is all in KS X 1001 (CP949's extension adds rare syllables, whose second
// byte may be ASCII). A Windows-1252 list that happens to decode as Hangul does so an accented
// capital or a curly apostrophe with the ASCII letter after it (JOÃO, O’Brien, or three in a
// row in HÄMÄLÄINEN), or two accented capitals together (CONCEIÇÃO): never two KS X 1001
// syllables in a row, which would take four accented letters in a row.
func koreanWords(sample []byte) bool {
	total, inWords := twoByteWords(sample,
		func(c byte) bool { return c >= 0x81 },
		func(lead, trail byte) bool { return lead >= 0xA1 && trail >= 0xA1 })
	return inWords*2 > total
}

// japaneseWords reports whether most of the two-byte characters sample holds, read as
// Shift-JIS, start with a byte from 0x81–0x9F and stand next to another such.
//
// Why: Shift-JIS starts every kana, the punctuation and the common kanji with those bytes, and
// Japanese words are two characters or more (田中, タナカ), as in Korean (koreanWords); while
// those bytes are curly quotes, dashes and the like in Windows-1252, and the accented letters
// Western names are made of (0xC0–0xFF) are Shift-JIS's half-width katakana and rarer kanji.
// Without it, a French name such as Hélène, whose é and è each take the letter after them,
// read as two kanji in a row. The second byte of a Shift-JIS character may be ASCII (0x40–0x7E:
// most katakana), so the check goes by characters, not by runs of high bytes.
func japaneseWords(sample []byte) bool {
	total, inWords := twoByteWords(sample,
		func(c byte) bool { return 0x81 <= c && c <= 0x9F || 0xE0 <= c && c <= 0xFC },
		func(lead, _ byte) bool { return lead <= 0x9F })
	return inWords*2 > total
}

// twoByteWords splits sample into characters as a double-byte code page does (a byte for which
// isLead is true starts a two-byte character, any other byte is one character), and counts the
// two-byte characters (total) and those that are typical of the language and stand next to
// another typical one (inWords).
func twoByteWords(sample []byte, isLead func(byte) bool, typical func(lead, trail byte) bool) (total, inWords int) {
	run := 0 // the typical two-byte characters of the current word
	endWord := func() {
		if run >= 2 {
			inWords += run
		}
		run = 0
	}
	for i := 0; i < len(sample); i++ {
		c := sample[i]
		if c < utf8.RuneSelf || !isLead(c) || i+1 == len(sample) {
			endWord()
			continue
		}
		total++
		if typical(c, sample[i+1]) {
			run++
		} else {
			endWord()
		}
		i++ // the second byte
	}
	endWord()
	return total, inWords
}

// isKorean reports Hangul (syllables, jamo), and the CJK punctuation and full-width forms
// Korean text is set with (「」, ㈜, （）).
func isKorean(r rune) bool {
	return 0xAC00 <= r && r <= 0xD7A3 || // Hangul syllables
		0x1100 <= r && r <= 0x11FF || // Hangul jamo
		0x3130 <= r && r <= 0x318F || // Hangul compatibility jamo
		isCJKPunct(r)
}

// isJapanese reports kana, kanji, and the CJK punctuation and full-width forms Japanese text
// is set with (including the half-width katakana of older systems' furigana columns).
func isJapanese(r rune) bool {
	return 0x3040 <= r && r <= 0x30FF || // hiragana, katakana
		0x31F0 <= r && r <= 0x31FF || // katakana phonetic extensions
		0x4E00 <= r && r <= 0x9FFF || // CJK unified ideographs
		0xF900 <= r && r <= 0xFAFF || // CJK compatibility ideographs
		0x3300 <= r && r <= 0x33FF || // CJK compatibility (㍉, ㌔)
		0x2460 <= r && r <= 0x24FF || // enclosed alphanumerics (①)
		isCJKPunct(r)
}

// isCJKPunct reports CJK symbols and punctuation (、。「」〒), enclosed CJK letters (㈜, ㈱) and
// the half- and full-width forms (（）, ＡＢＣ, ｶﾀｶﾅ).
func isCJKPunct(r rune) bool {
	return 0x3000 <= r && r <= 0x303F || 0x3200 <= r && r <= 0x32FF || 0xFF00 <= r && r <= 0xFFEF
}
