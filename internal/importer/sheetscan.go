package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Before excelize reads a worksheet's rows, the worksheet's XML is read once as a stream, at
// the speed of a byte search (scanWorksheet), for what excelize's stream of rows does not say
// or gets wrong:
//
//   - The ranges merged down a column (merged.go), listed after all the rows.
//
//   - The rows' order. excelize's Rows reads a <row> whose number (its r attribute, else the
//     row above's plus one) is not past the last row's as more cells of that row: with rows
//     numbered 1, 2, 4, 3, 5, row 3's cells were appended to row 4's, a customer vanished
//     (neither imported nor rejected nor counted) and their neighbour was rejected as "row has
//     6 fields, the header has 3". Cells out of order within a row are appended wherever they
//     fall, in another column. Excel, LibreOffice and every library that writes workbooks
//     write both in increasing order: a sheet that does not is hand-made or hostile, and is
//     refused, saying where, rather than read with its rows merged.
//
//   - The formula cells saved without their value. A cell's formula is kept beside the value
//     it last computed (<c><f>A2*2</f><v>84</v></c>), and only the value is read. Excel and
//     LibreOffice always write it; openpyxl and ETL tools write the formula alone (no <v>, or an
//     empty one) since they compute nothing, and excelize reads that cell as empty: an exposed
//     formula gave the customer the campaign's default categories, an email formula was dropped
//     without a word. excelize's Rows does not say which cells hold a formula, so the scan
//     lists those that have no value, and their rows are rejected (sheetReader.Read) naming the
//     cell and what to do; past maxUncalculatedCells of them, the file is refused instead. An
//     empty value counts as none, except in a text cell (t="str"): that is how Excel and
//     LibreOffice write a formula whose result is "" (a helper column's =IF(A2="","",…)), which
//     reads, as before, as empty.
//
// One pass does all three, since the merged ranges needed it already: its cost is inflating the
// part once more and looking at each tag's name, a few percent of excelize's reading of the
// same rows (which decodes every token with encoding/xml). Reading the rows ourselves instead
// of through excelize would have meant redoing its cell reading — number formats, dates, shared
// and rich strings — which the rest of the importer relies on. A '<' in a worksheet starts
// markup, since XML allows none in text or attribute values, except inside comments, CDATA
// sections and processing instructions, which are read whole so that what they hold is not
// taken for an element; rows and cells are looked for only inside <sheetData>, so that the
// formulas of the data validations after it (<xm:f>) are none of a cell's.

// maxUncalculatedCells bounds the cells whose formula was never calculated that reject their
// rows one by one; past it, the whole file is refused. A variable for the tests.
var maxUncalculatedCells = 1000

// cellPos is a cell of a sheet: its row (1 = the first) and column (1 = A).
type cellPos struct {
	row uint32
	col uint16
}

// name returns the cell's reference, as Excel shows it: H7.
func (c cellPos) name() string {
	return cellName(int(c.col)-1, int64(c.row))
}

// cellName returns the reference of the cell at column col (0 = A) of row row.
func cellName(col int, row int64) string {
	letters, err := excelize.ColumnNumberToName(col + 1)
	if err != nil {
		letters = "column " + strconv.Itoa(col+1) + " of row "
	}
	return letters + strconv.FormatInt(row, 10)
}

// uncalculatedReason is why a row with a formula never calculated, in cell (and others more of
// the row's columns), is rejected.
func uncalculatedReason(cell string, others int) string {
	const why = "(the file was written by a program that does not compute formulas): open the file in Excel or LibreOffice and save it, or export values"
	switch others {
	case 0:
		return "cell " + cell + " holds a formula whose value was never calculated " + why
	case 1:
		return "cell " + cell + " and 1 other cell of the row hold formulas whose values were never calculated " + why
	}
	return fmt.Sprintf("cell %s and %d other cells of the row hold formulas whose values were never calculated %s", cell, others, why)
}

// worksheetFacts is what scanWorksheet finds in a worksheet.
type worksheetFacts struct {
	merged []mergedRange // the ranges merged down a column, sorted by their first row
	// uncalculated are the cells whose formula has no value, in the sheet's order; there are
	// at most maxUncalculatedCells of them.
	uncalculated []cellPos
}

// scanWorksheet reads the worksheet named sheet of the workbook at path (see above). A merged
// range whose reference cannot be read, or which lies past the columns a header may have, is
// left out: its cells read as excelize gives them. Its errors are EINVALID *breach.Error for a
// sheet that is refused, others for a part that could not be read.
func scanWorksheet(path, sheet string) (worksheetFacts, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return worksheetFacts{}, err
	}
	defer z.Close()
	part, err := sheetPart(z, sheet)
	if err != nil {
		return worksheetFacts{}, err
	}
	rc, err := part.Open()
	if err != nil {
		return worksheetFacts{}, fmt.Errorf("%s: %w", part.Name, err)
	}
	defer rc.Close()
	var facts worksheetFacts
	s := worksheetScan{mergeRef: func(ref string) error {
		r, ok := parseMergeRef(ref)
		if !ok {
			return nil
		}
		if len(facts.merged) == maxMergedRanges {
			return breach.Errorf(breach.EINVALID, "sheet %q has more than %d ranges of cells merged down a column: unmerge them (filling each value down) or split the list",
				sheet, maxMergedRanges)
		}
		facts.merged = append(facts.merged, r)
		return nil
	}}
	err = s.scan(bufio.NewReaderSize(rc, 256<<10))
	var order *outOfOrder
	switch {
	case errors.As(err, &order):
		return worksheetFacts{}, breach.Errorf(breach.EINVALID, "sheet %q of the workbook has its rows out of order: %s (Excel and LibreOffice write them in order, and read out of order they would be merged or lost): open the file in Excel or LibreOffice and save it again",
			sheet, order.what)
	case err != nil:
		var be *breach.Error
		if errors.As(err, &be) {
			return worksheetFacts{}, err
		}
		return worksheetFacts{}, fmt.Errorf("%s: %w", part.Name, err)
	case s.nUncalculated > maxUncalculatedCells:
		return worksheetFacts{}, breach.Errorf(breach.EINVALID, "sheet %q of the workbook has %d cells holding a formula whose value was never calculated, the first in cell %s (the file was written by a program that does not compute formulas, and they would read as empty): open the file in Excel or LibreOffice and save it, or export values",
			sheet, s.nUncalculated, s.uncalculated[0].name())
	}
	slices.SortStableFunc(facts.merged, func(a, b mergedRange) int { return cmp.Compare(a.top, b.top) })
	facts.uncalculated = s.uncalculated
	return facts, nil
}

// outOfOrder says where a worksheet's rows or cells are out of order.
type outOfOrder struct{ what string }

func (e *outOfOrder) Error() string { return e.what }

// worksheetScan reads a worksheet's XML (see above). mergeRef, when set, is called with the
// ref of each <mergeCell>.
type worksheetScan struct {
	mergeRef func(ref string) error

	inData bool  // inside <sheetData>
	row    int64 // the number of the row being read, as excelize numbers it; 0 before the first
	col    int   // the column of the row's last cell (1 = A), 0 before its first

	// The cell being read: it holds a formula, a value, an empty <v>; it is a text (t="str").
	inCell, formula, value, emptyV, text bool

	uncalculated  []cellPos // the first maxUncalculatedCells+1
	nUncalculated int
}

// scanPeek is how much of a tag is looked at in place: a row's or a cell's start tag is
// shorter; a longer one is read whole.
const scanPeek = 256

// scan reads the worksheet's XML from r.
func (s *worksheetScan) scan(r *bufio.Reader) error {
	var tag []byte
	for {
		_, err := r.ReadSlice('<')
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		head, _ := r.Peek(scanPeek)
		if bytes.HasPrefix(head, []byte("!")) || bytes.HasPrefix(head, []byte("?")) {
			if tag, err = readMarkup(r, tag[:0]); err != nil {
				return err
			}
			continue
		}
		local, isEnd := peekedName(head)
		if !s.inData {
			switch {
			case !isEnd && string(local) == "sheetData": // no allocation: compared, not kept
				s.inData = !bytes.HasSuffix(startTag(head, r, &tag), []byte("/>"))
			case !isEnd && string(local) == "mergeCell" && s.mergeRef != nil:
				if tag, err = readMarkup(r, tag[:0]); err != nil {
					return err
				}
				if ref, ok := attr(tag, "ref"); ok {
					if err := s.mergeRef(ref); err != nil {
						return err
					}
				}
			case isEnd && string(local) == "mergeCells":
				return nil // the sheet's only list of them is over
			}
			continue
		}
		switch string(local) {
		case "row":
			s.endCell()
			if !isEnd {
				if err := s.startRow(startTag(head, r, &tag)); err != nil {
					return err
				}
			}
		case "c":
			if isEnd {
				s.endCell()
			} else if err := s.startCell(startTag(head, r, &tag)); err != nil {
				return err
			}
		case "f":
			s.formula = s.formula || s.inCell && !isEnd
		case "is":
			s.value = s.value || s.inCell && !isEnd
		case "v":
			if !s.inCell || isEnd {
				continue
			}
			t := startTag(head, r, &tag)
			if bytes.HasSuffix(t, []byte("/>")) {
				s.emptyV = true
				continue
			}
			// Past the start tag (unless read whole already), an end tag next means no value.
			if len(t) > 0 && len(head) > 0 && &t[0] == &head[0] {
				r.Discard(len(t))
			}
			next, _ := r.Peek(2)
			if bytes.Equal(next, []byte("</")) {
				s.emptyV = true
			} else {
				s.value = true
			}
		case "sheetData":
			if isEnd {
				s.endCell()
				s.inData = false
			}
		}
	}
}

// startTag returns the start tag that head (peeked after its '<') starts, without its '<': in
// head when it ends there, else read whole from r into *buf. Its bytes are valid until r is
// read again.
func startTag(head []byte, r *bufio.Reader, buf *[]byte) []byte {
	var quote byte
	for i, c := range head {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return head[:i+1]
		}
	}
	t, err := readMarkup(r, (*buf)[:0])
	*buf = t
	if err != nil || len(t) == 0 {
		return nil
	}
	return t[1:]
}

// startRow takes a row's start tag: its number is its r, else the last row's plus one, as
// excelize's Rows numbers it (an r that is no number too); it must be past the last row's.
func (s *worksheetScan) startRow(tag []byte) error {
	s.col = 0
	n := s.row + 1
	if from, to, ok := attrSpan(tag, "r"); ok {
		if v, err := strconv.Atoi(string(tag[from:to])); err == nil && v != 0 {
			n = int64(v)
		}
	}
	switch {
	case n == s.row:
		return &outOfOrder{fmt.Sprintf("row %d comes twice", n)}
	case n < 1:
		return &outOfOrder{fmt.Sprintf("a row is numbered %d", n)}
	case n < s.row:
		return &outOfOrder{fmt.Sprintf("row %d comes after row %d", n, s.row)}
	}
	s.row = n
	return nil
}

// startCell takes a cell's start tag: its column is its r's, else the last cell's plus one (as
// excelize reads it; a reference excelize cannot read makes it reject the row); it must be past
// the last cell's.
func (s *worksheetScan) startCell(tag []byte) error {
	s.endCell()
	ref, t := cellAttrs(tag)
	col := s.col + 1
	if c, ok := refColumn(ref); ok {
		col = c
	}
	if col <= s.col {
		return &outOfOrder{fmt.Sprintf("cell %s comes after cell %s", cellName(col-1, s.row), cellName(s.col-1, s.row))}
	}
	s.col = col
	if bytes.HasSuffix(tag, []byte("/>")) {
		return nil // no content: no formula
	}
	s.inCell, s.formula, s.value, s.emptyV = true, false, false, false
	s.text = string(t) == "str"
	return nil
}

// cellAttrs returns the values of a cell's start tag's r and t attributes (nil when absent),
// in one pass over it: a cell's tag is read for every cell of the sheet.
func cellAttrs(tag []byte) (r, t []byte) {
	i := bytes.IndexAny(tag, " \t\r\n")
	for i >= 0 && i < len(tag) {
		eq := bytes.IndexByte(tag[i:], '=')
		if eq < 0 {
			return r, t
		}
		name := bytes.TrimSpace(tag[i : i+eq])
		j := i + eq + 1
		for j < len(tag) && tag[j] != '"' && tag[j] != '\'' {
			j++
		}
		if j >= len(tag) {
			return r, t
		}
		k := bytes.IndexByte(tag[j+1:], tag[j])
		if k < 0 {
			return r, t
		}
		switch string(name) {
		case "r":
			r = tag[j+1 : j+1+k]
		case "t":
			t = tag[j+1 : j+1+k]
		}
		i = j + 1 + k + 1
	}
	return r, t
}

// refColumn reads the column (1 = A) of a cell reference such as "H7".
func refColumn(ref []byte) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		if col = col*26 + int(c-'a'+1); col > excelize.MaxColumns {
			return 0, false
		}
	}
	if i == 0 || i == len(ref) {
		return 0, false
	}
	for _, c := range ref[i:] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	return col, true
}

// endCell ends the cell being read, if any: a formula without a value is listed (see above).
func (s *worksheetScan) endCell() {
	if !s.inCell {
		return
	}
	s.inCell = false
	if !s.formula || s.value || s.emptyV && s.text {
		return
	}
	if s.nUncalculated++; len(s.uncalculated) <= maxUncalculatedCells {
		s.uncalculated = append(s.uncalculated, cellPos{row: uint32(min(s.row, 1<<32-1)), col: uint16(min(s.col, 1<<16-1))})
	}
}
