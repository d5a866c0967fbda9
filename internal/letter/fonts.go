package letter

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/text/encoding/korean"
)

// The fonts are in the repository (fonts/README.md says where from and under which licence),
// so a letter prints the same on every machine and nothing is fetched at run time.
var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVuSans []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuSansBold []byte
	//go:embed fonts/NanumGothic-Regular.ttf
	nanumGothic []byte
)

// face is one typeface, parsed once by NewWriter and read-only afterwards.
//
// fpdf parses a TrueType file again for every document it is added to, and a document's cost is
// mostly that parse (about 20 ms for a 2 MB font). So the Writer cuts each font once to the
// repertoire nearly every letter keeps to (Latin, Greek and Cyrillic for DejaVu; the 2,350
// Hangul syllables of KS X 1001 for Nanum Gothic), and a letter adds that small cut. A letter
// with a character outside it (a rare Hangul syllable, a Hanja in a name) adds the whole font.
type face struct {
	family string
	// full and fullBold are the whole fonts; fullBold is nil when bold is simulated.
	full, fullBold []byte
	// cut and cutBold are the fonts cut to the common repertoire.
	cut, cutBold []byte
	// covers: the font has a glyph for the rune. common: the rune is in the cut.
	covers, common *runeSet
}

// runeSet is a set of runes of the Basic Multilingual Plane: fpdf maps runes through a font's
// format-4 cmap, which covers nothing beyond it.
type runeSet [0x10000 / 8]byte

func (s *runeSet) has(r rune) bool { return r >= 0 && r < 0x10000 && s[r>>3]&(1<<(r&7)) != 0 }
func (s *runeSet) add(r rune) {
	if r >= 0 && r < 0x10000 {
		s[r>>3] |= 1 << (r & 7)
	}
}

// newFace parses a font's coverage and cuts it to repertoire.
func newFace(family string, full, fullBold []byte, repertoire func(rune) bool) (*face, error) {
	f := &face{family: family, full: full, fullBold: fullBold, covers: &runeSet{}, common: &runeSet{}}
	if err := cmapCoverage(full, f.covers); err != nil {
		return nil, fmt.Errorf("letter: font %s: %w", family, err)
	}
	var cutset strings.Builder
	for r := rune(0); r < 0x10000; r++ {
		if f.covers.has(r) && repertoire(r) {
			f.common.add(r)
			cutset.WriteRune(r)
		}
	}
	if f.cut = fpdf.UTF8CutFont(full, cutset.String()); len(f.cut) == 0 {
		return nil, fmt.Errorf("letter: font %s could not be cut", family)
	}
	if fullBold != nil {
		if f.cutBold = fpdf.UTF8CutFont(fullBold, cutset.String()); len(f.cutBold) == 0 {
			return nil, fmt.Errorf("letter: font %s bold could not be cut", family)
		}
	}
	return f, nil
}

// latinRepertoire is what Western letters use: Latin with its extensions and combining
// accents, Greek, Cyrillic, punctuation, currency and a few symbols (the bullet, the
// replacement character).
func latinRepertoire(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0x24f, r >= 0x300 && r <= 0x36f, r >= 0x370 && r <= 0x52f,
		r >= 0x1e00 && r <= 0x1eff, r >= 0x2000 && r <= 0x206f, r >= 0x20a0 && r <= 0x20cf,
		r >= 0x2100 && r <= 0x214f, r >= 0x2190 && r <= 0x21ff, r == 0xfffd:
		return true
	}
	return false
}

// koreanRepertoire is what Korean letters use: the 2,350 Hangul syllables of KS X 1001 (the
// set of EUC-KR, which covers nearly all Korean text and names), the compatibility jamo, CJK
// punctuation and full-width forms, and ASCII and Latin-1 so Korean letters keep one typeface
// for their digits and Latin words.
func koreanRepertoire(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xff, r >= 0x2000 && r <= 0x206f,
		r >= 0x3000 && r <= 0x303f, r >= 0x3131 && r <= 0x318e, r >= 0xff01 && r <= 0xff5e:
		return true
	case r >= 0xac00 && r <= 0xd7a3:
		b, err := korean.EUCKR.NewEncoder().Bytes([]byte(string(r)))
		// x/text's EUC-KR is Microsoft's CP949, which adds the other 8,822 syllables with
		// lead or trail bytes below 0xA1; KS X 1001 itself has both bytes in 0xA1–0xFE.
		return err == nil && len(b) == 2 && b[0] >= 0xa1 && b[1] >= 0xa1
	}
	return false
}

// cmapCoverage adds to s every rune the font's Unicode format-4 cmap maps to a glyph: the
// subtable fpdf itself reads, so a rune is drawn by the face that claims it.
func cmapCoverage(ttf []byte, s *runeSet) error {
	u16 := func(off int) int {
		if off < 0 || off+2 > len(ttf) {
			return 0
		}
		return int(binary.BigEndian.Uint16(ttf[off:]))
	}
	u32 := func(off int) int {
		if off < 0 || off+4 > len(ttf) {
			return 0
		}
		return int(binary.BigEndian.Uint32(ttf[off:]))
	}
	cmap := -1
	for i, n := 0, u16(4); i < n; i++ {
		rec := 12 + 16*i
		if string(ttf[rec:rec+4]) == "cmap" {
			cmap = u32(rec + 8)
		}
	}
	if cmap < 0 {
		return errors.New("no cmap table")
	}
	sub := -1
	for i, n := 0, u16(cmap+2); i < n; i++ {
		rec := cmap + 4 + 8*i
		platform, encoding, off := u16(rec), u16(rec+2), u32(rec+4)
		if (platform == 3 && encoding == 1 || platform == 0) && u16(cmap+off) == 4 {
			sub = cmap + off
			break
		}
	}
	if sub < 0 {
		return errors.New("no Unicode format-4 cmap")
	}
	segs := u16(sub+6) / 2
	ends, starts, deltas, rangeOffs := sub+14, sub+16+2*segs, sub+16+4*segs, sub+16+6*segs
	for i := range segs {
		end, start, delta, ro := u16(ends+2*i), u16(starts+2*i), u16(deltas+2*i), u16(rangeOffs+2*i)
		for c := start; c <= end && c < 0xffff; c++ {
			glyph := (c + delta) & 0xffff
			if ro != 0 {
				if glyph = u16(rangeOffs + 2*i + ro + 2*(c-start)); glyph != 0 {
					glyph = (glyph + delta) & 0xffff
				}
			}
			if glyph != 0 {
				s.add(rune(c))
			}
		}
	}
	return nil
}
