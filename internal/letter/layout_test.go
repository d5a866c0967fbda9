package letter

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/notice"
)

func TestUnits_FrenchPunctuationStaysWithItsWord(t *testing.T) {
	got := units("les informations suivantes : « Nom » ; date ? oui")
	want := []string{"les", "informations", "suivantes :", "« Nom » ;", "date ?", "oui"}
	if !slices.Equal(got, want) {
		t.Errorf("units = %q, want %q", got, want)
	}
}

func TestClean_DropsControlAndBidiCharactersKeepsNoBreakSpaces(t *testing.T) {
	w, err := NewWriter()
	if err != nil {
		t.Fatal(err)
	}
	faces := []*face{w.latin, w.korean}
	for in, want := range map[string]string{
		"  Ana\t\nPérez  ":           "Ana Pérez",
		"e\u0301":                    "é", // composed
		"a\u202eb\u200dc\u0000d\x1b": "abcd",
		"x\u00a0:":                   "x\u00a0:",
		"\U0001F600 smile":           "smile",              // a symbol no face has is left out
		"\u5343\u4ee3 smile":         "\ufffd\ufffd smile", // letters are not (Write refuses them first)
		"\ue000private":              "private",
	} {
		if got := clean(in, faces); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKoreanRepertoire_IsKSX1001(t *testing.T) {
	for r, want := range map[rune]bool{'가': true, '힝': true, '힣': false, '김': true, '똠': false, '햏': false, 'A': true, '漢': false} {
		if got := koreanRepertoire(r); got != want {
			t.Errorf("koreanRepertoire(%q) = %v, want %v", r, got, want)
		}
	}
}

func TestNewDoc_UsualLettersEmbedFromTheCutFontsAndOnlyTheBoldTheyUse(t *testing.T) {
	w, err := NewWriter()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		locale, name string
		whole, bold  []bool // per face, the letter's first
	}{
		{"en", "Hélène Œuvray-Łukasz Ελένη Жанна", []bool{false, false}, []bool{true, false}},
		{"ko", "김민준", []bool{false, false}, []bool{false, false}},
		{"ko", "Lucía 김", []bool{false, false}, []bool{false, false}}, // í is DejaVu's, in regular text
		{"ko", "똠방각하", []bool{true, false}, []bool{false, false}},
		{"en", "Անի", []bool{true, false}, []bool{true, false}},
		{"en", "Ana 漢字", []bool{false, false}, []bool{true, false}}, // Nanum Gothic has no Hanja: printed as U+FFFD
	} {
		l := &Letter{Paper: A4, To: []string{tc.name}, Content: &notice.Letter{Locale: tc.locale, Title: "Title", Greeting: tc.name}}
		d, err := w.newDoc(l, geometries[A4])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.whole, tc.whole) || !slices.Equal(d.bold, tc.bold) {
			t.Errorf("%s letter to %q: whole fonts %v, bold %v; want %v, %v", tc.locale, tc.name, d.whole, d.bold, tc.whole, tc.bold)
		}
	}
}

// BenchmarkWrite_WholeFonts is what a letter costs when it embeds from the whole fonts, as
// fpdf does by default; compare with BenchmarkWrite (the Writer's cuts).
func BenchmarkWrite_WholeFonts(b *testing.B) {
	w, err := NewWriter()
	if err != nil {
		b.Fatal(err)
	}
	latin, korean := *w.latin, *w.korean
	latin.cut, latin.cutBold, korean.cut = latin.full, latin.fullBold, korean.full
	whole := &Writer{latin: &latin, korean: &korean}
	for _, locale := range []string{"en", "ko"} {
		b.Run(locale, func(b *testing.B) {
			text := strings.Repeat("Notice of Data Breach: what happened, what information was involved. ", 60)
			if locale == "ko" {
				text = strings.Repeat("개인정보 유출 사실을 알려 드리며 진심으로 사과드립니다. 고객님의 성명, 전화번호가 유출되었습니다. ", 40)
			}
			for _, cut := range []struct {
				name string
				w    *Writer
			}{{"cut", w}, {"whole", whole}} {
				b.Run(cut.name, func(b *testing.B) {
					l := &Letter{Paper: A4, To: []string{"Ana", "Lima"}, Content: &notice.Letter{Locale: locale, Title: "Title",
						Sections: []notice.LetterSection{{Heading: "Heading", Paragraphs: []string{text, text}}}}}
					b.ReportAllocs()
					start := CPUTime()
					for b.Loop() {
						if _, err := cut.w.Write(io.Discard, l); err != nil {
							b.Fatal(err)
						}
					}
					ReportCPU(b, start)
				})
			}
		})
	}
}

// BenchmarkNewWriter is the once-per-program cost of parsing and cutting the fonts.
func BenchmarkNewWriter(b *testing.B) {
	b.ReportAllocs()
	start := CPUTime()
	for b.Loop() {
		if _, err := NewWriter(); err != nil {
			b.Fatal(err)
		}
	}
	ReportCPU(b, start)
}
