// Package letter writes print-ready PDF letters: one customer's notice, laid out for a window
// envelope on the paper of the customer's country.
//
// The PDF is made with codeberg.org/go-pdf/fpdf (pure Go, UTF-8 TrueType fonts embedded as
// subsets with a ToUnicode map, so the text can be searched and extracted). Text is laid out
// here, not by fpdf: each character is drawn in the first embedded typeface that has it
// (DejaVu Sans for Latin, Greek and Cyrillic; Nanum Gothic for Hangul, first in Korean
// letters), lines are broken between words and inside a word too long for a line, and pages
// are counted before they are drawn so every page says "2/3" next to the reference.
package letter

import (
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/bidi"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// Paper is a sheet size.
type Paper string

const (
	A4       Paper = "A4"
	USLetter Paper = "Letter"
)

// PaperFor is the paper letters to country (ISO 3166-1 alpha-2) are printed on: US Letter in
// North America and the countries that use it, A4 elsewhere.
func PaperFor(country string) Paper {
	switch country {
	case "US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PA", "DO", "PR", "SV", "NI":
		return USLetter
	}
	return A4
}

// Letter is one customer's letter, its text already in the customer's language.
type Letter struct {
	Paper Paper
	// From is the sender's return address, one line each (the organisation).
	From []string
	// To is the recipient's address block as the post of their country wants it printed,
	// one line each, name first.
	To []string
	// Date is the date printed on the letter, in the content's locale; zero is today.
	Date time.Time
	// Content is the notice: title, headings, exposed data with guidance, reference, offer,
	// contacts (notice.Renderer.Letter).
	Content *notice.Letter
}

// Writer writes letters. It holds the parsed fonts, so a campaign's thousands of letters parse
// them once; it is safe for concurrent use.
type Writer struct {
	latin, korean *face
}

// NewWriter parses the embedded fonts (about 0.1 s).
func NewWriter() (*Writer, error) {
	latin, err := newFace("dejavu", dejaVuSans, dejaVuSansBold, latinRepertoire)
	if err != nil {
		return nil, err
	}
	korean, err := newFace("nanum", nanumGothic, nil, koreanRepertoire)
	if err != nil {
		return nil, err
	}
	return &Writer{latin: latin, korean: korean}, nil
}

// defaultWriter is the Writer of the package function Write, built on first use; it is
// read-only once built.
var defaultWriter = sync.OnceValues(NewWriter)

// Write writes l as a PDF to w and returns its number of pages, with a Writer shared by the
// whole program. Writing many letters, keep a Writer of your own.
func Write(w io.Writer, l *Letter) (pages int, err error) {
	wr, err := defaultWriter()
	if err != nil {
		return 0, err
	}
	return wr.Write(w, l)
}

// Write writes l as a PDF to out and returns its number of pages. A letter without content or
// address, or whose address has more lines than the envelope's window shows (8), is EINVALID;
// one that would not print as written — characters its typefaces lack, right-to-left script,
// an address line too long for the window — is an *UnprintableError (EINVALID too), and
// nothing is written: a letter is never printed with "�" for a name or a street cut short.
func (wr *Writer) Write(out io.Writer, l *Letter) (pages int, err error) {
	if l == nil || l.Content == nil {
		return 0, breach.Errorf(breach.EINVALID, "a letter needs its content")
	}
	g, ok := geometries[l.Paper]
	if !ok {
		return 0, breach.Errorf(breach.EINVALID, "paper %q is not A4 or Letter", l.Paper)
	}
	if len(l.To) == 0 {
		return 0, breach.Errorf(breach.EINVALID, "a letter needs an address")
	}
	if len(l.To) > maxAddressLines {
		return 0, breach.Errorf(breach.EINVALID, "the address has %d lines; the window of an envelope shows %d", len(l.To), maxAddressLines)
	}
	if err := wr.printable(l); err != nil {
		return 0, err
	}
	d, err := wr.newDoc(l, g)
	if err != nil {
		return 0, err
	}
	address, err := d.addressBlock(l.To)
	if err != nil {
		return 0, err
	}
	d.layout(l, address)
	if err := d.render(out); err != nil {
		return 0, err
	}
	return len(d.pages), nil
}

// UnprintableError is why one letter cannot be printed as written. Its reason names no
// personal data — scripts, not characters (the code points of a two-character name are the
// name) — so that it can be listed: the letters run holds such a letter back.
type UnprintableError struct {
	Reason string
}

func (e *UnprintableError) Error() string {
	return "the letter cannot be printed as written: " + e.Reason
}

// Unwrap makes it an EINVALID breach error, with the same message.
func (e *UnprintableError) Unwrap() error { return breach.Errorf(breach.EINVALID, "%s", e.Error()) }

// printable checks that every text of l can be drawn as written with wr's typefaces, left to
// right: characters no typeface has (Chinese and Japanese, Thai, Devanagari…, or a U+FFFD the
// list's decoding left) and right-to-left scripts (Hebrew, Arabic, drawn mirrored and unshaped
// by this layout) make it unprintable. Symbols no face has (emoji) are left out instead
// (clean), as they change nothing the post or the customer needs.
func (wr *Writer) printable(l *Letter) error {
	faces := []*face{wr.latin, wr.korean}
	var scripts []string
	rtl := false
	// Every text once (eachText has the addresses too); a letter's text is mostly ASCII,
	// which both needs nothing and is looked at no further.
	eachText(l, func(s string, _ bool) {
		if !strings.ContainsFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }) {
			return
		}
		for _, r := range clean(s, nil) {
			switch {
			case r < utf8.RuneSelf:
			case r >= firstRTL && isRTL(r):
				rtl = true
			case r != unicode.ReplacementChar && !covered(r, faces) && !droppable(r):
				if name := scriptOf(r); !slices.Contains(scripts, name) {
					scripts = append(scripts, name)
				}
			}
		}
	})
	lost := slices.ContainsFunc(l.To, func(s string) bool { return strings.ContainsRune(s, unicode.ReplacementChar) })
	switch {
	case rtl:
		return &UnprintableError{Reason: "the name or address is in a right-to-left script (Hebrew, Arabic), which the letter's layout cannot set"}
	case lost:
		return &UnprintableError{Reason: "the name or address holds U+FFFD, a character the list's decoding lost: correct the list's encoding"}
	case len(scripts) > 0:
		slices.Sort(scripts)
		return &UnprintableError{Reason: "the letter's typefaces lack the " + strings.Join(scripts, ", ") + " characters of the name or address: give it in Latin script or Hangul"}
	}
	return nil
}

// firstRTL is where the right-to-left scripts begin (Hebrew); no rune below it is one.
const firstRTL = 0x0590

// isRTL reports whether r is a right-to-left letter (bidi class R or AL).
func isRTL(r rune) bool {
	p, _ := bidi.LookupRune(r)
	return p.Class() == bidi.R || p.Class() == bidi.AL
}

// scriptOf names r's Unicode script ("Han", "Thai"), or "other" for one without.
func scriptOf(r rune) string {
	for name, table := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && unicode.Is(table, r) {
			return name
		}
	}
	return "other"
}

// errFPDF wraps what fpdf reports: a broken embedded font or a failed write.
var errFPDF = errors.New("letter: PDF")
