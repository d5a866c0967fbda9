package importer

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Excel shows a merged range's value across the whole range but keeps it only in the range's
// top-left cell: excelize gives the range's other cells as empty. Grouped reports merge a
// Country (or State, Exposed) cell down each block of customers, and every customer of a block
// but the first would be read with no country, silently taking the campaign's default (the
// wrong region for their phone, the wrong locale, the wrong regulator's count).
//
// So the sheet's merged ranges are read before its rows, and as the rows are read each cell
// under a range's top-left cell, in the same column, takes that cell's value: copied down, as
// the eye reads a merged column, and never across (a note merged over the columns to its right
// must not become the email), and only among the data rows (the header's name is no
// customer's value, and a header cell is no customer's). Nor in a column that is one person's
// own — customer_id, email, phone, name, address lines: a merged email cell gave the second
// customer the first one's address, and their notice, with their name and what was exposed of
// them, went to someone else (review). Those cells stay as the file keeps them, empty.
//
// The ranges are listed in the worksheet's <mergeCells> element, after all its rows, so the
// worksheet part is read once more for them, as a stream (scanWorksheet, sheetscan.go):
// excelize's GetMergeCells would parse the whole sheet into memory. Only the ranges that span
// rows are kept (12 bytes each), at most maxMergedRanges.

// maxMergedRanges bounds the ranges merged down a column that a sheet may have: a grouped
// report has one a block of customers, far fewer than this. Past it the list is refused
// rather than read with part of its merged cells empty. A variable for the tests.
var maxMergedRanges = 200_000

// mergedRange is a range of cells merged over more than one row, by its top-left cell's
// column (0 = A) and its first and last rows (1 = the sheet's first).
type mergedRange struct {
	col         uint16
	top, bottom uint32
}

// mergedCells fills the cells of a sheet's rows that lie under a merged range's top-left cell
// (see above). Rows are given in increasing order.
type mergedCells struct {
	ranges []mergedRange // sorted by top
	next   int           // ranges[next:] start below the rows seen so far
	header int64         // the header's row: ranges starting on or above it are not data
	own    []bool        // the columns of one person's own values: never filled
	// active are the ranges covering the current row, one a column (overlapping ranges, which
	// Excel does not make, leave the later one), with their top-left cell's value.
	active []activeMerge
}

type activeMerge struct {
	mergedRange
	value string
}

// fill gives the cells of row that lie under an active range's top-left cell, within the
// header's width, the top-left cell's value. cells may grow to width.
func (m *mergedCells) fill(row int64, cells []string, width int) []string {
	for m.next < len(m.ranges) && int64(m.ranges[m.next].top) <= row {
		r := m.ranges[m.next]
		m.next++
		if int64(r.top) <= m.header || int(r.col) >= width || int(r.col) < len(m.own) && m.own[r.col] {
			continue
		}
		if i := slices.IndexFunc(m.active, func(a activeMerge) bool { return a.col == r.col }); i >= 0 {
			m.active[i] = activeMerge{mergedRange: r}
		} else {
			m.active = append(m.active, activeMerge{mergedRange: r})
		}
	}
	m.active = slices.DeleteFunc(m.active, func(a activeMerge) bool { return int64(a.bottom) < row })
	for _, a := range m.active {
		if int64(a.top) == row {
			continue
		}
		for len(cells) <= int(a.col) {
			cells = append(cells, "")
		}
		cells[a.col] = a.value
	}
	return cells
}

// useHeader records the header's row and which of its columns hold one person's own values.
func (m *mergedCells) useHeader(row int64, cols columns, width int) {
	m.header = row
	m.own = make([]bool, width)
	for _, f := range []field{fieldCustomerID, fieldEmail, fieldPhone, fieldName, fieldFirstName, fieldLastName,
		fieldAddress1, fieldAddress2, fieldAddress3} {
		if i := cols.index[f]; i >= 0 && i < width {
			m.own[i] = true
		}
	}
}

// add appends a range that starts on the row being read, for a sheet whose ranges are met as
// its rows are read (an .ods's, ods.go) rather than listed before them. The ranges already
// taken up are let go, so that the slice holds no more than one row's.
func (m *mergedCells) add(r mergedRange) {
	m.ranges, m.next = append(m.ranges[m.next:], r), 0
}

// keep remembers the values of the top-left cells on row, once read (digits restored), for the
// rows below them.
func (m *mergedCells) keep(row int64, cells []string) {
	for i, a := range m.active {
		if int64(a.top) == row && int(a.col) < len(cells) {
			m.active[i].value = cells[a.col]
		}
	}
}

// parseMergeRef reads a mergeCell's ref ("A2:A4") as a range, when it spans rows and starts
// within the columns a header may have.
func parseMergeRef(ref string) (mergedRange, bool) {
	from, to, ok := strings.Cut(ref, ":")
	if !ok {
		return mergedRange{}, false
	}
	c1, r1, err1 := excelize.CellNameToCoordinates(from)
	c2, r2, err2 := excelize.CellNameToCoordinates(to)
	if err1 != nil || err2 != nil {
		return mergedRange{}, false
	}
	col, top, bottom := min(c1, c2)-1, min(r1, r2), max(r1, r2)
	if top == bottom || col >= maxColumns {
		return mergedRange{}, false
	}
	return mergedRange{col: uint16(col), top: uint32(top), bottom: uint32(bottom)}, true
}

// peekedName returns the local name of the tag that head starts (after its '<'), and whether
// it is an end tag; nil when the name runs past head (no name of ours is that long).
func peekedName(head []byte) (local []byte, isEnd bool) {
	if isEnd = bytes.HasPrefix(head, []byte("/")); isEnd {
		head = head[1:]
	}
	end := bytes.IndexAny(head, " \t\r\n/>")
	if end < 0 {
		return nil, isEnd
	}
	qname := head[:end]
	if i := bytes.IndexByte(qname, ':'); i >= 0 {
		qname = qname[i+1:]
	}
	return qname, isEnd
}

// sheetPart finds the zip entry of the worksheet named sheet, as excelize does: the workbook
// part named by the package's relationships, the sheet's r:id in it, and that relationship's
// target in the workbook's relationships.
func sheetPart(z *zip.ReadCloser, sheet string) (*zip.File, error) {
	workbook := "xl/workbook.xml"
	rels, err := readRelationships(z, "_rels/.rels")
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		if strings.HasSuffix(r.kind, "/officeDocument") {
			workbook = strings.TrimPrefix(r.target, "/")
		}
	}
	id, err := sheetRelID(z, workbook, sheet)
	if err != nil {
		return nil, err
	}
	rels, err = readRelationships(z, path.Join(path.Dir(workbook), "_rels", path.Base(workbook)+".rels"))
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		if r.id != id {
			continue
		}
		name := path.Clean(path.Join(path.Dir(workbook), strings.ReplaceAll(r.target, `\`, "/")))
		if strings.HasPrefix(r.target, "/") {
			name = path.Clean(strings.ReplaceAll(r.target, `\`, "/"))
		}
		if e := zipPart(z, strings.TrimPrefix(name, "/")); e != nil {
			return e, nil
		}
		return nil, fmt.Errorf("sheet %q: the workbook has no part %s", sheet, name)
	}
	return nil, fmt.Errorf("sheet %q: the workbook's relationships have no %s", sheet, id)
}

// zipPart returns the entry named name (with '\' read as '/'), or nil.
func zipPart(z *zip.ReadCloser, name string) *zip.File {
	for _, e := range z.File {
		if strings.ReplaceAll(e.Name, `\`, "/") == name {
			return e
		}
	}
	return nil
}

type relationship struct{ id, kind, target string }

// readRelationships reads a relationships part, which is small; a missing part has none.
func readRelationships(z *zip.ReadCloser, name string) ([]relationship, error) {
	var rels []relationship
	err := eachStartElement(z, name, func(el xml.StartElement) bool {
		if el.Name.Local == "Relationship" {
			rels = append(rels, relationship{id: xmlAttr(el, "Id"), kind: xmlAttr(el, "Type"), target: xmlAttr(el, "Target")})
		}
		return true
	})
	return rels, err
}

// sheetRelID returns the relationship ID (r:id) of the sheet named sheet in the workbook part.
func sheetRelID(z *zip.ReadCloser, workbook, sheet string) (string, error) {
	id := ""
	err := eachStartElement(z, workbook, func(el xml.StartElement) bool {
		if el.Name.Local == "sheet" && xmlAttr(el, "name") == sheet {
			id = xmlAttr(el, "id")
			return false
		}
		return true
	})
	if err == nil && id == "" {
		err = fmt.Errorf("%s has no sheet %q", workbook, sheet)
	}
	return id, err
}

// eachStartElement calls fn with each start element of the zip entry named name until fn
// returns false. A missing entry has none.
func eachStartElement(z *zip.ReadCloser, name string, fn func(xml.StartElement) bool) error {
	e := zipPart(z, name)
	if e == nil {
		return nil
	}
	rc, err := e.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	d := xml.NewDecoder(io.LimitReader(rc, maxInMemoryParts))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if el, ok := tok.(xml.StartElement); ok && !fn(el) {
			return nil
		}
	}
}

// xmlAttr returns the value of el's attribute of local name local (whatever its namespace).
func xmlAttr(el xml.StartElement, local string) string {
	for _, a := range el.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
