package letter

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/breachnotice/breachnotice/internal/notice"
)

// layout places l on pages: the first page's head (letterhead, return address, the
// recipient's address in the window, the date), then the notice, breaking pages where the
// text reaches the bottom margin and never leaving a heading alone at the foot of a page.
func (d *doc) layout(l *Letter) {
	g, c := d.g, l.Content
	d.newPage()

	if len(l.From) > 0 && !g.returnOneLine {
		// US Letter: the return address is the letterhead, in the upper window.
		y := g.returnY
		for i, s := range l.From {
			line, size := d.fit(clean(s, d.faces), sizeBody, sizeAddressMin, g.returnWidth)
			d.place(g.returnX, y, line, i == 0, size)
			y += lineHeight(size)
		}
	}
	if len(l.From) > 0 && g.returnOneLine {
		// A4: the organisation's name as letterhead, the return address as one small line
		// at the top of the window, where the post reads it.
		line, size := d.fit(clean(l.From[0], d.faces), sizeHeading, sizeBody, g.width-g.left-g.right)
		d.place(g.left, g.letterheadY, line, true, size)
		parts := make([]string, len(l.From))
		for i, s := range l.From {
			parts[i] = clean(s, d.faces)
		}
		line, _ = d.fit(strings.Join(parts, returnSeparator), sizeReturn, sizeReturnMin, g.returnWidth)
		d.place(g.returnX, g.returnY, line, false, sizeReturn)
	}
	y := g.addressY
	size, leading := g.addressSize(len(l.To))
	for _, s := range l.To {
		line, size := d.fit(clean(s, d.faces), size, sizeAddressMin, g.addressWidth)
		d.place(g.addressX, y, line, false, size)
		y += leading
	}
	date := clean(c.DateOf(dateOf(l)), d.faces)
	d.place(g.width-g.right-d.width(date, false, sizeBody), g.dateY, date, false, sizeBody)

	d.y = g.bodyY
	d.lines(c.Title, 0, true, sizeTitle)
	d.y += 3
	d.paragraph(c.Greeting, 0)
	for _, s := range c.Sections {
		if s.Heading != "" {
			// Keep the heading with at least two lines of what it heads.
			d.y += 2.5
			d.need(lineHeight(sizeHeading) + 2*lineHeight(sizeBody) + 1)
			d.lines(s.Heading, 0, true, sizeHeading)
			d.y += 0.8
		}
		for _, p := range s.Paragraphs {
			d.paragraph(p, 0)
		}
		for _, it := range s.Items {
			d.item(it)
		}
		if len(s.Items) > 0 {
			d.y += 1
		}
		for _, p := range s.After {
			d.paragraph(p, 0)
		}
		if s.Code != "" {
			d.lines(s.Code, 8, true, sizeCode)
			d.y += 2
		}
	}
	d.y += 3
	d.need(float64(len(c.Closing)) * lineHeight(sizeBody))
	for _, s := range c.Closing {
		d.lines(s, 0, false, sizeBody)
	}
	if c.Footer != "" {
		d.y += 6
		d.lines(c.Footer, 0, false, sizeBody)
	}
}

// item adds a bullet: its lead in bold, then its text; several texts (the steps of a
// category's guidance) are dashes below the lead.
func (d *doc) item(it notice.LetterItem) {
	switch {
	case it.Lead == "" && len(it.Text) == 1:
		d.marked(bullet, "", it.Text[0], 3)
	case len(it.Text) <= 1 && it.Lead != "":
		text := ""
		if len(it.Text) == 1 {
			text = it.Text[0]
		}
		d.marked(bullet, it.Lead, text, 3)
	default:
		if it.Lead != "" {
			d.need(lineHeight(sizeBody) * 2)
			d.marked(bullet, it.Lead, "", 3)
		}
		for _, t := range it.Text {
			d.marked(dash, "", t, 8)
		}
	}
}

// render draws the pages, each with the reference and "page/pages" at its foot, and writes
// the PDF.
func (d *doc) render(out io.Writer) error {
	pdf, g := d.pdf, d.g
	total := strconv.Itoa(len(d.pages))
	for i, page := range d.pages {
		pdf.AddPage()
		d.current.family = "" // a new page sets its font again
		for _, o := range page {
			d.draw(o)
		}
		footY := g.height - 12
		d.draw(op{x: g.left, y: footY, text: d.ref, size: sizeFooter, grey: true})
		n := strconv.Itoa(i+1) + "/" + total
		d.draw(op{x: g.width - g.right - d.width(n, false, sizeFooter), y: footY, text: n, size: sizeFooter, grey: true})
	}
	if err := pdf.Output(out); err != nil {
		return fmt.Errorf("%w: %v", errFPDF, err)
	}
	return nil
}

// draw writes one line, run by run, each in its face.
func (d *doc) draw(o op) {
	pdf := d.pdf
	if o.grey {
		pdf.SetTextColor(80, 80, 80)
	}
	x := o.x
	d.runs(o.text, func(f *face, text string) {
		d.setFont(f, o.bold, o.size)
		simulated := o.bold && f.simulatedBold()
		if simulated {
			// Fill and stroke the outline: a bold for a face shipped without one.
			pdf.SetLineWidth(o.size * ptToMM * 0.03)
			pdf.SetTextRenderingMode(2)
		}
		pdf.Text(x, o.y, text)
		if simulated {
			pdf.SetTextRenderingMode(0)
		}
		x += d.width(text, o.bold, o.size)
	})
	if o.grey {
		pdf.SetTextColor(0, 0, 0)
	}
}
