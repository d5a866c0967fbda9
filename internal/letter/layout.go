package letter

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/text/unicode/norm"
)

// geometry is where things go on a paper, in millimetres from the top left corner.
type geometry struct {
	width, height                 float64
	left, right, top, bottom      float64
	letterheadY                   float64
	returnX, returnY, returnWidth float64 // the return address
	returnOneLine                 bool    // A4: the letterhead on top, the return address in small type at the top of the window
	addressX, addressY            float64 // the first line's top
	addressWidth, addressHeight   float64
	dateY, bodyY                  float64
}

// geometries place the address for a window envelope.
//
// A4 follows DIN 5008 form B, whose address field fits the windows of C5/6, DL and C4
// envelopes: 20 mm from the left, 45 mm from the top, 85 × 45 mm; its top 17.7 mm hold the
// return address as one small line, the 27.3 mm below it up to six lines of address.
//
// US Letter folds in three into a #10 double-window envelope: the recipient's window is
// 4 1/2 × 1 1/8 in, 7/8 in from the left and, once folded, about 2 in from the sheet's top; the
// return address sits in the upper window, above it at the top left.
var geometries = map[Paper]geometry{
	A4: {width: 210, height: 297, left: 25, right: 20, top: 20, bottom: 22, letterheadY: 20,
		returnX: 25, returnY: 55, returnWidth: 75, returnOneLine: true,
		addressX: 25, addressY: 63.5, addressWidth: 75, addressHeight: 26,
		dateY: 100, bodyY: 110},
	USLetter: {width: 215.9, height: 279.4, left: 25.4, right: 25.4, top: 19, bottom: 22, letterheadY: 0,
		returnX: 22.2, returnY: 12.7, returnWidth: 90,
		addressX: 24.2, addressY: 52, addressWidth: 110, addressHeight: 26,
		dateY: 92, bodyY: 102},
}

// Type sizes in points. The body is never below 10 pt, the least California allows
// (Cal. Civ. Code § 1798.82(d)(1)); only the return address line and the page footer are
// smaller, as they are not the notice's text.
const (
	sizeBody       = 10.5
	sizeHeading    = 12
	sizeTitle      = 15
	sizeCode       = 14
	sizeAddress    = 10
	sizeAddressMin = 8
	// maxAddressLines is how many lines fit a window in sizeAddressMin.
	maxAddressLines = 8
	sizeReturn      = 8
	sizeReturnMin   = 6.5
	// maxSenderLines is how many lines of the sender fit above the address window.
	maxSenderLines = 5
	sizeFooter     = 9
	ptToMM         = 25.4 / 72
)

// addressSize is the type size and leading (mm) of an address of n lines: 10 pt, or smaller
// so the lines fit the window's height.
func (g geometry) addressSize(n int) (size, leading float64) {
	size = sizeAddress
	for size > sizeAddressMin && float64(n)*size*ptToMM*addressLeading > g.addressHeight {
		size -= 0.5
	}
	return size, size * ptToMM * addressLeading
}

// addressLeading is the address block's line spacing, as a multiple of its type size.
const addressLeading = 1.15

// lineHeight is the distance between two lines of text of size pt, in millimetres.
func lineHeight(size float64) float64 { return size * ptToMM * 1.3 }

// op draws one line of text: x, the baseline y, its style.
type op struct {
	x, y       float64
	text       string
	bold, grey bool
	size       float64
}

// doc is one letter being laid out: pages of lines, measured with the fonts it embeds.
type doc struct {
	pdf    *fpdf.Fpdf
	g      geometry
	faces  []*face // in order of preference
	widths map[widthKey]float64
	pages  [][]op
	// whole[i]: the letter has a character outside faces[i]'s cut, so it embeds from the
	// whole font.
	whole []bool
	// bold[i]: the document has faces[i]'s own bold; bold text in a face without one is
	// simulated.
	bold    []bool
	y       float64 // the top of the next line on the last page
	ref     string
	current struct {
		family string
		bold   bool
		size   float64
	}
}

type widthKey struct {
	r    rune
	bold bool
	size float64
}

// newDoc starts l's PDF with the fonts its text needs: for each face, the cut to its common
// repertoire when every character the letter draws with it is in there, else the whole font.
func (wr *Writer) newDoc(l *Letter, g geometry) (*doc, error) {
	d := &doc{g: g, widths: map[widthKey]float64{}, ref: clean(l.Content.Reference, nil), bold: make([]bool, 2)}
	d.faces = []*face{wr.latin, wr.korean}
	if strings.HasPrefix(l.Content.Locale, "ko") {
		d.faces = []*face{wr.korean, wr.latin}
	}
	used := make([]bool, len(d.faces))
	usedBold := make([]bool, len(d.faces))
	rare := make([]bool, len(d.faces))
	d.whole = rare
	eachText(l, func(s string, bold bool) {
		for _, r := range clean(s, d.faces) {
			i := d.faceOf(r)
			used[i] = true
			usedBold[i] = usedBold[i] || bold
			if !d.faces[i].common.has(r) {
				rare[i] = true
			}
		}
	})
	used[0] = true // the page numbers
	pdf := fpdf.New("P", "mm", string(l.Paper), "")
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCatalogSort(true)
	date := l.Date
	if date.IsZero() {
		date = time.Now()
	}
	pdf.SetCreationDate(date)
	pdf.SetModificationDate(date)
	pdf.SetTitle(clean(l.Content.Title, nil), true)
	pdf.SetCreator("breachnotice", true)
	for i, f := range d.faces {
		if !used[i] {
			continue
		}
		regular, bold := f.cut, f.cutBold
		if rare[i] {
			regular, bold = f.full, f.fullBold
		}
		pdf.AddUTF8FontFromBytes(f.family, "", regular)
		// A face's bold is added only when bold text uses it: a Korean letter draws its
		// headings in Nanum Gothic and only an accent or two of its body in DejaVu Sans.
		if bold != nil && usedBold[i] {
			pdf.AddUTF8FontFromBytes(f.family, "B", bold)
			d.bold[i] = true
		}
	}
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("%w: %v", errFPDF, err)
	}
	d.pdf = pdf
	return d, nil
}

// eachText calls fn with every text of l that the letter prints, saying whether it is bold.
func eachText(l *Letter, fn func(s string, bold bool)) {
	for i, s := range l.From {
		fn(s, i == 0)
	}
	for _, s := range l.To {
		fn(s, false)
	}
	c := l.Content
	fn(c.Title, true)
	fn(c.Greeting, false)
	fn(c.Reference, false)
	fn(c.Footer, false)
	fn(c.DateOf(dateOf(l)), false)
	for _, s := range c.Closing {
		fn(s, false)
	}
	for _, s := range c.Sections {
		fn(s.Heading, true)
		fn(s.Code, true)
		for _, p := range s.Paragraphs {
			fn(p, false)
		}
		for _, p := range s.After {
			fn(p, false)
		}
		for _, it := range s.Items {
			fn(it.Lead, true)
			for _, t := range it.Text {
				fn(t, false)
			}
		}
	}
	fn(bullet+dash+ellipsis+returnSeparator, false)
}

// dateOf is the letter's date: l.Date, or today.
func dateOf(l *Letter) time.Time {
	if l.Date.IsZero() {
		return time.Now()
	}
	return l.Date
}

const (
	bullet   = "•"
	dash     = "–"
	ellipsis = "…"
	// returnSeparator joins the lines of the return address on A4.
	returnSeparator = " · "
)

// clean makes s printable on one line: composed (NFC), white space of any kind a space,
// control, format (bidi overrides, zero-width joiners), private-use, unassigned and unpaired
// surrogate characters dropped, a symbol or mark no face has (an emoji, its variation selector) dropped,
// and any other character no face has drawn as U+FFFD — which Write refuses beforehand
// (unprintable), so that no letter goes out with one. faces nil keeps every character a face
// might lack.
func clean(s string, faces []*face) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	space := true // drops leading spaces and runs of them
	for _, r := range s {
		switch {
		case r == '\u00a0' || r == '\u202f':
			// No-break spaces stay: they hold a French « : » to its word.
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs):
			continue
		case !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z):
			continue // unassigned, or a noncharacter (U+FFFE, U+10FFFF): nothing to print
		case faces != nil && !covered(r, faces):
			if droppable(r) {
				continue
			}
			r = unicode.ReplacementChar
		}
		b.WriteRune(r)
		space = false
	}
	return strings.TrimRight(b.String(), " ")
}

// droppable reports whether r, when no face draws it, may be left out of a letter without
// changing what the letter says: a symbol (an emoji, a dingbat) or a mark that goes with one.
func droppable(r rune) bool {
	return unicode.In(r, unicode.So, unicode.Sk, unicode.Mn, unicode.Me)
}

func covered(r rune, faces []*face) bool {
	for _, f := range faces {
		if f.covers.has(r) {
			return true
		}
	}
	return false
}

// faceOf is the index of the first face that draws r.
func (d *doc) faceOf(r rune) int {
	for i, f := range d.faces {
		if f.covers.has(r) {
			return i
		}
	}
	return 0
}

// runs splits s into the parts drawn by one face each; a space stays with the text before it.
func (d *doc) runs(s string, fn func(f *face, text string)) {
	start, cur := 0, -1
	for i, r := range s {
		if r == ' ' && cur >= 0 {
			continue
		}
		if fi := d.faceOf(r); fi != cur {
			if cur >= 0 {
				fn(d.faces[cur], s[start:i])
			}
			start, cur = i, fi
		}
	}
	if cur >= 0 {
		fn(d.faces[cur], s[start:])
	}
}

// setFont makes f the current font, bold drawn as the face has it or simulated.
func (d *doc) setFont(f *face, bold bool, size float64) {
	if d.current.family == f.family && d.current.bold == bold && d.current.size == size {
		return
	}
	style := ""
	if bold && d.hasBold(f) {
		style = "B"
	}
	d.pdf.SetFont(f.family, style, size)
	d.current.family, d.current.bold, d.current.size = f.family, bold, size
}

// hasBold says whether the document has f's own bold; without, bold is simulated.
func (d *doc) hasBold(f *face) bool {
	for i, g := range d.faces {
		if g == f {
			return d.bold[i]
		}
	}
	return false
}

// runeWidth is the advance of r in millimetres; fpdf does not kern, so a string is as wide as
// its characters.
func (d *doc) runeWidth(r rune, bold bool, size float64) float64 {
	k := widthKey{r, bold, size}
	if w, ok := d.widths[k]; ok {
		return w
	}
	d.setFont(d.faces[d.faceOf(r)], bold, size)
	w := d.pdf.GetStringWidth(string(r))
	d.widths[k] = w
	return w
}

func (d *doc) width(s string, bold bool, size float64) float64 {
	var w float64
	for _, r := range s {
		w += d.runeWidth(r, bold, size)
	}
	return w
}

// wrap breaks s into lines no wider than width: between words, and inside a word wider than
// a line (a URL, a name without spaces).
func (d *doc) wrap(s string, bold bool, size, width float64) []string {
	var lines []string
	var line strings.Builder
	lineW, space := 0.0, d.runeWidth(' ', bold, size)
	flush := func() {
		if line.Len() > 0 {
			lines = append(lines, line.String())
			line.Reset()
			lineW = 0
		}
	}
	for _, word := range units(s) {
		ww := d.width(word, bold, size)
		switch {
		case line.Len() > 0 && lineW+space+ww <= width:
			line.WriteByte(' ')
			line.WriteString(word)
			lineW += space + ww
			continue
		case ww <= width:
			flush()
			line.WriteString(word)
			lineW = ww
			continue
		}
		flush()
		for _, r := range word {
			rw := d.runeWidth(r, bold, size)
			if lineW+rw > width && line.Len() > 0 {
				flush()
			}
			line.WriteRune(r)
			lineW += rw
		}
	}
	flush()
	return lines
}

// units are the words of s that a line may break between: a word is kept with the
// punctuation that French sets after a space (« : », « ; », « ? », « ! », « ») and with the
// opening « before it, as if those spaces were no-break spaces.
func units(s string) []string {
	var out []string
	glue := false
	for _, w := range strings.Fields(s) {
		r, _ := utf8.DecodeRuneInString(w)
		if len(out) > 0 && (glue || strings.ContainsRune(":;!?»", r) && len(w) <= 3) {
			out[len(out)-1] += " " + w
		} else {
			out = append(out, w)
		}
		glue = w == "«"
	}
	return out
}

// addressBlock lays the recipient's address out in the envelope's window: each line whole, in
// the type the window's height allows (10 pt, down to 8), smaller still where a line is too
// wide, down to 8 pt; and when a line is too wide even then, every line in one type, the long
// ones broken between words onto the next line, as long as the lines fit the window. An
// address that cannot be shown whole is unprintable: a letter with its street cut short
// does not arrive, and nobody would know.
func (d *doc) addressBlock(to []string) ([]addressLine, error) {
	g := d.g
	size, leading := g.addressSize(len(to))
	lines := make([]addressLine, 0, len(to))
	whole := true
	for _, s := range to {
		s = clean(s, d.faces)
		ls := size
		for ls > sizeAddressMin && d.width(s, false, ls) > g.addressWidth {
			ls -= 0.5
		}
		if d.width(s, false, ls) > g.addressWidth {
			whole = false
			break
		}
		lines = append(lines, addressLine{s, ls, leading})
	}
	if whole {
		return lines, nil
	}
	for size := float64(sizeAddress); size >= sizeAddressMin; size -= 0.5 {
		leading := size * ptToMM * addressLeading
		lines, fits := lines[:0], true
		for _, s := range to {
			s = clean(s, d.faces)
			for _, w := range units(s) {
				if d.width(w, false, size) > g.addressWidth {
					fits = false
				}
			}
			for _, part := range d.wrap(s, false, size, g.addressWidth) {
				lines = append(lines, addressLine{part, size, leading})
			}
		}
		if fits && len(lines) <= maxAddressLines && float64(len(lines))*leading <= g.addressHeight {
			return lines, nil
		}
	}
	return nil, &UnprintableError{Reason: fmt.Sprintf("a line of the address is too long for the envelope's window (%.0f mm wide), even broken in two in 8 pt type", g.addressWidth)}
}

// addressLine is one line of the address block as placed: its text, type size and leading.
type addressLine struct {
	text          string
	size, leading float64
}

// fit is s on one line of at most width: in a smaller type down to min, then cut
// with an ellipsis. It sets the sender's lines, which come from the campaign file; the
// recipient's are never cut (addressBlock).
func (d *doc) fit(s string, size, min, width float64) (string, float64) {
	for ; size > min; size -= 0.5 {
		if d.width(s, false, size) <= width {
			return s, size
		}
	}
	size = min
	if d.width(s, false, size) <= width {
		return s, size
	}
	limit := width - d.width(ellipsis, false, size)
	var b strings.Builder
	w := 0.0
	for _, r := range s {
		if w += d.runeWidth(r, false, size); w > limit {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ") + ellipsis, size
}

// newPage starts a page; the body continues at its top margin.
func (d *doc) newPage() {
	d.pages = append(d.pages, nil)
	d.y = d.g.top
}

// place draws a line whose top is at y on the current page.
func (d *doc) place(x, y float64, text string, bold bool, size float64) {
	p := &d.pages[len(d.pages)-1]
	*p = append(*p, op{x: x, y: y + size*ptToMM*0.8, text: text, bold: bold, size: size})
}

// need starts a new page unless h millimetres of body are left on this one.
func (d *doc) need(h float64) {
	if d.y+h > d.g.height-d.g.bottom {
		d.newPage()
	}
}

// lines adds wrapped body text at indent x from the left margin.
func (d *doc) lines(s string, x float64, bold bool, size float64) {
	lh := lineHeight(size)
	for _, line := range d.wrap(clean(s, d.faces), bold, size, d.bodyWidth()-x) {
		d.need(lh)
		d.place(d.g.left+x, d.y, line, bold, size)
		d.y += lh
	}
}

func (d *doc) bodyWidth() float64 { return d.g.width - d.g.left - d.g.right }

// paragraph adds a paragraph and the space after it.
func (d *doc) paragraph(s string, x float64) {
	d.lines(s, x, false, sizeBody)
	d.y += 1.8
}

// marked adds text after a bullet or dash hanging at indent x.
func (d *doc) marked(mark, lead string, text string, x float64) {
	lh := lineHeight(sizeBody)
	d.need(lh)
	d.place(d.g.left+x, d.y, mark, false, sizeBody)
	if lead != "" {
		d.lines(lead, x+5, true, sizeBody)
	}
	if text != "" {
		d.lines(text, x+5, false, sizeBody)
	}
	d.y += 0.8
}
