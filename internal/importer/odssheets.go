package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
)

// An .ods keeps all its sheets in one part, content.xml, one after the other. To choose the
// sheet as pickSheet does for a workbook (the one visible sheet that has rows, or the sheets
// named when there are several), that part is read once before the chosen sheet is, by
// odsSheets: at the speed of a byte search, as scanWorksheet reads a worksheet, and only the
// first rows of each sheet are looked into. A second reading with the XML decoder would double
// the time an import takes.

// Bounds of odsSheets, against a content.xml made to exhaust memory: LibreOffice allows 10,000
// sheets, and a list's header is at most maxColumns wide.
const (
	maxODSSheets       = 10_000
	maxODSHiddenStyles = 10_000
	maxODSHeaderText   = 256 // bytes kept of a header cell
)

// odsSheets lists the sheets of an .ods's content.xml, in the order of their tabs, with what
// chooseSheet needs to know of them. A sheet is hidden when its table style says
// table:display="false" (in the part's automatic styles, which come before the sheets); it
// has rows when two of its first maxSheetProbe rows have a value (see hasRows), repeated rows
// counted as many times as they are shown. Names are matched whatever their prefix.
func odsSheets(r io.Reader) ([]sheetInfo, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var (
		sheets       []sheetInfo
		hiddenStyles = map[string]bool{}
		style        string // the table style being read, among the automatic styles
		depth        int    // table:table elements open (a sheet, and tables inside its cells)
		p            odsProbe
		tag          []byte
	)
	for {
		text, err := br.ReadSlice('<')
		if errors.Is(err, bufio.ErrBufferFull) {
			p.text(text)
			continue
		}
		if errors.Is(err, io.EOF) {
			if depth > 0 {
				return nil, fmt.Errorf("content.xml ends inside sheet %q", sheets[len(sheets)-1].name)
			}
			return sheets, nil
		}
		if err != nil {
			return nil, err
		}
		p.text(text[:len(text)-1])
		head, _ := br.Peek(64)
		if bytes.HasPrefix(head, []byte("!")) || bytes.HasPrefix(head, []byte("?")) {
			if tag, err = readMarkup(br, tag[:0]); err != nil {
				return nil, err
			}
			if cdata, ok := bytes.CutPrefix(tag, []byte("<![CDATA[")); ok {
				p.cdata(bytes.TrimSuffix(cdata, []byte("]]>")))
			}
			continue
		}
		if local, _ := peekedName(head); depth > 0 && p.done && string(local) != "table" {
			continue // the sheet is known: only its end is looked for
		}
		if tag, err = readMarkup(br, tag[:0]); err != nil {
			return nil, err
		}
		local, isEnd, isEmpty := tagName(tag)
		switch {
		case local == "table" && !isEnd:
			if depth == 0 {
				if len(sheets) == maxODSSheets {
					return nil, fmt.Errorf("more than %d sheets", maxODSSheets)
				}
				name, _ := localAttr(tag, "name")
				styleName, _ := localAttr(tag, "style-name")
				sheets = append(sheets, sheetInfo{name: name, hidden: hiddenStyles[styleName]})
				p = odsProbe{}
			}
			if !isEmpty {
				depth++
			}
		case local == "table" && depth > 0:
			if depth--; depth == 0 {
				s := &sheets[len(sheets)-1]
				s.rows = p.valued >= 2
				s.heads = p.heads
			}
		case depth == 0 && local == "style" && !isEnd:
			if family, _ := localAttr(tag, "family"); family == "table" {
				style, _ = localAttr(tag, "name")
			} else {
				style = ""
			}
		case depth == 0 && local == "table-properties" && style != "":
			if display, _ := localAttr(tag, "display"); display == "false" && len(hiddenStyles) < maxODSHiddenStyles {
				hiddenStyles[style] = true
			}
		case depth == 1 && !p.done:
			p.element(local, tag, isEnd, isEmpty)
		}
	}
}

// odsProbe looks into the first rows of a sheet, for odsSheets.
type odsProbe struct {
	row    int64 // rows read, repeats counted
	valued int   // rows with a value among them, repeats counted (up to 2)
	done   bool  // the sheet is known to have rows, or not to have them in its first rows

	inRow, inCell bool
	rowValued     bool
	repeat        int64
	annotation    int // office:annotation elements open in the cell: a comment is no value

	// cells are the texts of the current row's cells, while fewer than headRows rows have had
	// a value; heads those of the first headRows rows that had one (a title may sit above
	// the header).
	cells []string
	cell  []byte
	heads [][]string
}

// element takes a tag of the sheet's (not of a table inside one of its cells).
func (p *odsProbe) element(local string, tag []byte, isEnd, isEmpty bool) {
	switch {
	case local == "table-row" && !isEnd:
		if p.row >= maxSheetProbe {
			p.done = true
			return
		}
		p.inRow, p.rowValued, p.cells = true, false, p.cells[:0]
		p.repeat = repeatAttr(tag, "number-rows-repeated")
		if isEmpty {
			p.endRow()
		}
	case local == "table-row":
		p.endRow()
	case (local == "table-cell" || local == "covered-table-cell") && p.inRow && !isEnd:
		if _, ok := localAttr(tag, "value-type"); ok {
			p.rowValued = true
		}
		p.inCell, p.cell, p.annotation = !isEmpty, p.cell[:0], 0
		if isEmpty {
			p.endCell()
		}
	case local == "table-cell" || local == "covered-table-cell":
		p.endCell()
	case local == "annotation" && p.inCell && !isEmpty:
		if isEnd {
			p.annotation--
		} else {
			p.annotation++
		}
	}
}

// text takes character data (escaped as in the XML).
func (p *odsProbe) text(b []byte) {
	if !p.inCell || p.annotation > 0 || p.done || len(bytes.TrimSpace(b)) == 0 {
		return
	}
	p.rowValued = true
	if p.valued < headRows && len(p.cell) < maxODSHeaderText {
		p.cell = append(p.cell, b[:min(len(b), maxODSHeaderText-len(p.cell))]...)
	}
}

// cdata takes a CDATA section's content, which is not escaped.
func (p *odsProbe) cdata(b []byte) {
	p.text([]byte(html.EscapeString(string(b[:min(len(b), maxODSHeaderText)]))))
}

func (p *odsProbe) endCell() {
	if p.inRow && p.valued < headRows && len(p.cells) < maxColumns {
		p.cells = append(p.cells, html.UnescapeString(string(p.cell)))
	}
	p.inCell = false
}

func (p *odsProbe) endRow() {
	if !p.inRow {
		return
	}
	p.inRow = false
	if p.rowValued {
		if p.valued < headRows {
			p.heads = append(p.heads, slices.Clone(p.cells))
		}
		p.valued += int(min(p.repeat, headRows))
	}
	p.row += p.repeat
	p.done = p.valued >= headRows || p.row >= maxSheetProbe
}

// maxODSRepeat bounds a number-rows-repeated or number-columns-repeated: LibreOffice's
// largest sheet has 16,777,216 rows (and 16,384 columns).
const maxODSRepeat = 1 << 24

// repeatAttr reads a tag's repeat count (number-rows-repeated, number-columns-repeated): 1
// when absent or unreadable, at most maxODSRepeat.
func repeatAttr(tag []byte, local string) int64 {
	v, ok := localAttr(tag, local)
	if !ok {
		return 1
	}
	return repeatCount(v)
}

// repeatCount reads a repeat count's value (see repeatAttr).
func repeatCount(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 1
	}
	return min(n, maxODSRepeat)
}

// localAttr returns the value of a start tag's attribute whose local name is local, whatever
// its prefix (table:name, or name), unescaped.
func localAttr(tag []byte, local string) (string, bool) {
	from, to, ok := findAttr(tag, func(name []byte) bool {
		if c := bytes.IndexByte(name, ':'); c >= 0 {
			name = name[c+1:]
		}
		return string(name) == local
	})
	if !ok {
		return "", false
	}
	return html.UnescapeString(string(tag[from:to])), true
}
