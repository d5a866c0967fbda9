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
func (d *doc) layout(l *Letter, address []addressLine) {
	g, c := d.g, l.Content
	d.newPage()

	if len(l.From) > 0 {
		d.sender(l.From)
	}
	y := g.addressY
	for _, line := range address {
		d.place(g.addressX, y, line.text, false, line.size)
		y += line.leading
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

// sender places the sender: on US Letter its lines are the letterhead, in the envelope's upper
// window; on A4 the letterhead is the same lines at the top, and the window shows them again
// as the return address, in one or two small lines where the post reads it.
func (d *doc) sender(from []string) {
	g := d.g
	lines := make([]string, 0, len(from))
	for _, s := range from {
		if s = clean(s, d.faces); s != "" {
			lines = append(lines, s)
		}
	}
	if len(lines) > maxSenderLines {
		lines = lines[:maxSenderLines]
	}
	x, y, width, size := g.returnX, g.returnY, g.returnWidth, sizeBody
	if g.returnOneLine {
		x, y, width, size = g.left, g.letterheadY, g.width-g.left-g.right, sizeFooter
	}
	for i, s := range lines {
		first := i == 0
		lineSize := size
		if first && g.returnOneLine {
			lineSize = sizeHeading
		}
		line, lineSize := d.fit(s, lineSize, sizeReturnMin, width)
		d.place(x, y, line, first, lineSize)
		y += lineHeight(lineSize)
	}
	if !g.returnOneLine {
		return
	}
	// The sender's lines joined by " · ", broken between them where a line is full.
	var ret []string
	for _, s := range lines {
		if n := len(ret); n > 0 && d.width(ret[n-1]+returnSeparator+s, false, sizeReturn) <= g.returnWidth {
			ret[n-1] += returnSeparator + s
		} else {
			ret = append(ret, s)
		}
	}
	if len(ret) > 2 {
		ret[1] = strings.Join(ret[1:], returnSeparator)
		ret = ret[:2]
	}
	for i := range ret {
		ret[i], _ = d.fit(ret[i], sizeReturn, sizeReturnMin, g.returnWidth)
	}
	lh := lineHeight(sizeReturn)
	for i, s := range ret {
		d.place(g.returnX, g.returnY-float64(len(ret)-1-i)*lh, s, false, sizeReturn)
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
		simulated := o.bold && !d.hasBold(f)
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
