package letter

import (
	"slices"
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
		"\U0001F600 smile":           "\ufffd smile",
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

func TestNewDoc_UsualLettersEmbedFromTheCutFonts(t *testing.T) {
	w, err := NewWriter()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		locale, name string
		whole        []bool
	}{
		{"en", "Hélène Œuvray-Łukasz Ελένη Жанна", []bool{false, false}},
		{"ko", "김민준", []bool{false, false}},
		{"ko", "똠방각하", []bool{true, false}},
		{"en", "Անի", []bool{true, false}},
		{"en", "Ana 漢字", []bool{false, false}}, // Nanum Gothic has no Hanja: printed as U+FFFD
	} {
		l := &Letter{Paper: A4, To: []string{tc.name}, Content: &notice.Letter{Locale: tc.locale, Title: "Title", Greeting: tc.name}}
		d, err := w.newDoc(l, geometries[A4])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.whole, tc.whole) {
			t.Errorf("%s letter to %q: whole fonts %v, want %v", tc.locale, tc.name, d.whole, tc.whole)
		}
	}
}
