package importer

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// OpenDocument spreadsheets (.ods: LibreOffice's and OpenOffice's own format, and one Google
// Sheets and Excel save) are read with the standard library, as a stream: no maintained Go
// library reads them without holding the whole sheet in memory. An .ods is a zip archive like
// an .xlsx, told apart by its mimetype entry (checkArchive), and spooled to a temporary file in
// the same way (workbookFile); its sheets are all in one part, content.xml, which is never
// unzipped whole: odsSheets reads it once to choose the sheet (odssheets.go), and odsReader
// reads the chosen sheet's rows from it with encoding/xml's token decoder, one row at a time.
//
// A row becomes a record like a workbook's (sheetColumns.cellRecord: the same limits, and the
// same reading of numbers in the phone and customer_id columns), with the spreadsheet's row
// number as its line. Each cell reads as the user sees it: its paragraphs (text:p), which hold
// the value as its format shows it — a date as a date — except that a number in the phone or
// customer_id column shown in scientific notation (5.20E+10), or a phone shown with thousands
// separators or decimals, reads as the integer its office:value holds. A cell written without
// paragraphs (by a program, not a spreadsheet) reads as its value.
//
// LibreOffice writes the blank rows and cells it keeps (formatted, or the rest of the sheet) as
// one element with a repeat count: a sheet ends with a row repeated a million times. Blank rows
// are skipped whatever their count, as blank lines are in a CSV, and blank cells are not
// expanded past the last cell with a value; a row or cell with a value that is repeated is
// read as many times as it is shown (a cell up to MaxRowFields+1 times; rows up to row
// maxODSRows).
//
// Memory: one row at a time, whatever the sheet's size. A cell's text is kept up to one byte
// over MaxFieldBytes and a row's up to MaxRowBytes, the bytes past them only counted; a token
// of the XML (a text, a tag) over maxODSToken, or elements nested deeper than maxODSDepth,
// make the spreadsheet unreadable rather than held.

// odsContent is the part of an .ods that holds its sheets.
const odsContent = "content.xml"

const (
	// maxODSToken bounds one token of content.xml that the XML decoder holds whole: a cell's
	// text between two tags, or a tag. A customer's row is at most MaxRowBytes.
	maxODSToken = 16 << 20
	// maxODSDepth bounds the elements open at once: a sheet's rows are six deep.
	maxODSDepth = 256
	// maxODSRows is the last row a value may be on: the rows of Excel's and of LibreOffice's
	// usual sheet. A row's repeat count makes many rows of one element, and past a million
	// the work of reading them would no longer be bounded by a list's.
	maxODSRows = 1 << 20
)

// odsReader reads a sheet of an OpenDocument spreadsheet as records. Build one with openODS;
// Close it.
type odsReader struct {
	name    string
	z       *zip.ReadCloser
	part    io.ReadCloser
	in      *boundedTokens
	d       *xml.Decoder
	cleanup func()
	open    int // elements open in content.xml

	sheetColumns
	// merged fills the cells under ranges merged down a column, as for a workbook.
	merged mergedCells

	row   int64 // the number of the row last read or skipped (1 = the sheet's first)
	depth int   // row containers (table:table-header-rows, …) open in the sheet
	done  bool  // the sheet's end was read

	// A row with values repeated: the repeats still to read, its cells, their numbers' raw
	// values, its bytes not kept and whether it is hidden.
	repeat int64
	last   odsRow

	text    []byte // the cell being read's text
	dropped int    // its bytes past what text keeps
}

// odsRow is a row of an .ods as read, before the row limits are applied.
type odsRow struct {
	cells []string
	// raw are the office:value of the cells that hold a number (float), aligned with cells;
	// nil when none does.
	raw    []string
	over   int // bytes of the row not kept
	kept   int
	hidden bool
	// spans are the columns of the row's cells merged down over more rows, and how many.
	spans []odsSpan
	// formulas are the columns of the row's cells whose formula was never calculated (see
	// readCell), in order.
	formulas []int
}

type odsSpan struct{ col, rows int }

// openODS opens the sheet named sheet (chosen by chooseSheet when empty) of the OpenDocument
// spreadsheet at path, a file that cleanup removes: the reader's Close calls it, and so does
// openODS when it fails.
func openODS(path string, cleanup func(), sheet string) (_ *odsReader, err error) {
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, breach.Errorf(breach.EINVALID, "the OpenDocument spreadsheet (.ods) could not be read: it may be truncated or corrupt (%v)", err)
	}
	o := &odsReader{z: z, cleanup: func() {}}
	defer func() {
		if err != nil {
			o.Close()
		}
	}()
	encrypted := false
	if err := eachStartElement(z, "META-INF/manifest.xml", func(el xml.StartElement) bool {
		encrypted = el.Name.Local == "encryption-data"
		return !encrypted
	}); err != nil {
		return nil, breach.Errorf(breach.EINVALID, "the OpenDocument spreadsheet (.ods) could not be read: it may be truncated or corrupt (%v)", err)
	}
	if encrypted {
		return nil, breach.Errorf(breach.EINVALID, "the OpenDocument spreadsheet (.ods) is protected with a password, which cannot be read: save it without a password (as .ods, .xlsx or CSV)")
	}
	content := zipPart(z, odsContent)
	if content == nil {
		return nil, breach.Errorf(breach.EINVALID, "the OpenDocument spreadsheet (.ods) has no %s: it may be truncated or corrupt", odsContent)
	}
	rc, err := content.Open()
	if err != nil {
		return nil, breach.Errorf(breach.EINVALID, "the OpenDocument spreadsheet (.ods) could not be read: it may be truncated or corrupt (%v)", err)
	}
	sheets, err := odsSheets(rc)
	rc.Close()
	if err != nil {
		return nil, breach.Errorf(breach.EINVALID, "the OpenDocument spreadsheet (.ods) could not be read: it may be truncated or corrupt (%v)", err)
	}
	name, err := chooseSheet(sheets, sheet)
	if err != nil {
		return nil, err
	}
	index := slices.IndexFunc(sheets, func(s sheetInfo) bool { return s.name == name })
	if o.part, err = content.Open(); err != nil {
		return nil, breach.Errorf(breach.EINVALID, "the OpenDocument spreadsheet (.ods) could not be read: it may be truncated or corrupt (%v)", err)
	}
	o.name, o.phone = name, -1
	o.in = &boundedTokens{r: bufio.NewReaderSize(o.part, 256<<10)}
	o.d = xml.NewDecoder(o.in)
	if err := o.seekSheet(index); err != nil {
		return nil, breach.Errorf(breach.EINVALID, "sheet %q of the OpenDocument spreadsheet (.ods) could not be read: it may be truncated or corrupt (%v)", name, err)
	}
	o.cleanup = cleanup
	return o, nil
}

// seekSheet reads content.xml up to the start of its index'th sheet (0 = the first), counted
// as odsSheets counts them.
func (o *odsReader) seekSheet(index int) error {
	for n := 0; ; {
		tok, err := o.next()
		if err != nil {
			return err
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "table" {
			if n == index {
				return nil
			}
			n++
			if err := o.skip(); err != nil {
				return err
			}
		}
	}
}

// useHeader tells the reader the header's columns, once read.
func (o *odsReader) useHeader(cols columns, width int) {
	o.use(cols, width)
	o.merged.useHeader(o.row, cols, width)
}

// Read returns the next row that has a value, as a record, or io.EOF after the last. Rows
// without any value are skipped, as blank lines are in a CSV.
func (o *odsReader) Read() (record, error) {
	for {
		if o.repeat > 0 {
			o.repeat--
			o.row++
			return o.record(o.last, true), nil
		}
		if o.done {
			return record{}, io.EOF
		}
		row, n, err := o.nextRow()
		switch {
		case err != nil:
			return record{}, &readError{fmt.Errorf("sheet %q, row %d: %w", o.name, o.row+1, err)}
		case n == 0: // the sheet's end
			continue
		case allEmpty(row.cells) && !o.reads(row.formulas):
			o.row += n
			continue
		case o.row+n > maxODSRows:
			return record{}, &readError{fmt.Errorf("sheet %q has rows past row %d", o.name, maxODSRows)}
		}
		o.row++
		for _, s := range row.spans {
			o.merged.add(mergedRange{col: uint16(s.col), top: uint32(o.row), bottom: uint32(min(o.row+int64(s.rows)-1, maxODSRows))})
		}
		if o.repeat = n - 1; o.repeat > 0 {
			o.last = row
		}
		return o.record(row, o.repeat > 0), nil
	}
}

// record applies the row limits to a row read (see sheetReader.record); shared says that its
// cells are read again for the row's repeats, and are to be left as they are.
func (o *odsReader) record(row odsRow, shared bool) record {
	cells := row.cells
	if shared {
		cells = slices.Clone(cells)
	}
	if o.width > 0 {
		cells = o.merged.fill(o.row, cells, o.width)
	}
	rec := o.cellRecord(o.row, cells, row.over, row.formulas, func(col int) (string, bool) {
		if col >= len(row.raw) || row.raw[col] == "" {
			return "", false
		}
		return integerDigits(row.raw[col])
	})
	if o.width > 0 {
		o.merged.keep(o.row, rec.fields)
	}
	rec.hidden = row.hidden
	if rec.problem != "" {
		rec.shrink()
	}
	return rec
}

// nextRow reads the sheet's next row element and returns it with its repeat count, or a count
// of 0 at the sheet's end.
func (o *odsReader) nextRow() (odsRow, int64, error) {
	for {
		tok, err := o.next()
		if err != nil {
			return odsRow{}, 0, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "table-header-rows", "table-row-group", "table-rows":
				o.depth++
			case "table-row":
				return o.readRow(el)
			default: // columns, shapes, forms: no rows
				if err := o.skip(); err != nil {
					return odsRow{}, 0, err
				}
			}
		case xml.EndElement:
			if o.depth == 0 {
				o.done = true
				return odsRow{}, 0, nil
			}
			o.depth--
		}
	}
}

// readRow reads a table:table-row's cells, start read.
func (o *odsReader) readRow(start xml.StartElement) (odsRow, int64, error) {
	n := int64(1)
	var row odsRow
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "number-rows-repeated":
			n = repeatCount(a.Value)
		case "visibility":
			row.hidden = a.Value == "collapse" || a.Value == "filter"
		}
	}
	col, blanks := 0, 0 // the next cell's column, and the blank cells before it not yet added
	for {
		tok, err := o.next()
		if err != nil {
			return odsRow{}, 0, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local != "table-cell" && el.Name.Local != "covered-table-cell" {
				if err := o.skip(); err != nil {
					return odsRow{}, 0, err
				}
				continue
			}
			text, raw, repeat, spanned, uncalculated, err := o.readCell(el, col)
			if err != nil {
				return odsRow{}, 0, err
			}
			for k := 0; uncalculated && k < repeat && len(row.formulas) <= MaxRowFields; k++ {
				row.formulas = append(row.formulas, col+k)
			}
			if el.Name.Local == "covered-table-cell" {
				// Under a merged cell: the sheet shows the merge's value, filled down as a
				// workbook's is (mergedCells), never what LibreOffice keeps of the hidden
				// cells when asked to ("keep the contents of the hidden cells"): that text no
				// one sees was imported as a customer's email address (review).
				text, raw, spanned = "", "", 1
			}
			if spanned > 1 && col < maxColumns {
				row.spans = append(row.spans, odsSpan{col: col, rows: spanned})
			}
			col += repeat
			if text == "" {
				blanks += repeat // added only if a cell with a value follows
				continue
			}
			// Past MaxRowFields+1 cells, the row is rejected as too wide whatever follows.
			blanks = min(blanks, MaxRowFields+1-len(row.cells))
			row.put("", "", blanks)
			k := min(repeat, MaxRowFields+1-len(row.cells))
			row.put(text, raw, k)
			row.over += o.dropped * k
			blanks = 0
		case xml.EndElement:
			return row, n, nil
		}
	}
}

// put adds n cells of text, whose number's raw value is raw ("" when none), counting their
// bytes: once the row has more than MaxRowBytes, they are counted but not kept (it is
// rejected).
func (r *odsRow) put(text, raw string, n int) {
	for range n {
		if r.kept > MaxRowBytes {
			r.over += len(text)
			text, raw = "", ""
		}
		r.kept += len(text)
		r.cells = append(r.cells, text)
		if raw != "" && r.raw == nil {
			r.raw = make([]string, len(r.cells)-1, cap(r.cells))
		}
		if r.raw != nil {
			r.raw = append(r.raw, raw)
		}
	}
}

// readCell reads a cell, start read, at column col: its text as shown, the raw value of the
// number it holds (when a float), how many times it is repeated across and how many rows it
// is merged down over, and whether it holds a formula never calculated.
//
// A formula's cell keeps the value it last computed beside it (table:formula with
// office:value-type and its value and text), which is what is read; LibreOffice always writes
// it. A program that computes no formula may write the formula alone: no value type, or a
// number, date, time or boolean type without its value, and no text. That cell is not an
// empty one — its value is not known — and its row is rejected (cellRecord). A text formula
// whose result is "" (a string type, no text) reads as before, as empty: it is how LibreOffice
// writes one.
func (o *odsReader) readCell(start xml.StartElement, col int) (text, raw string, repeat, spanned int, uncalculated bool, err error) {
	repeat, spanned = 1, 1
	var valueType, value, typed string // typed: the value of a date, time, boolean or string
	formula := false
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "number-columns-repeated":
			repeat = int(repeatCount(a.Value))
		case "number-rows-spanned":
			spanned = int(repeatCount(a.Value))
		case "value-type":
			// office:value-type; LibreOffice's calcext:value-type beside it says "error"
			// for an error value, which is a string to office.
			if valueType == "" || strings.HasSuffix(a.Name.Space, ":office:1.0") {
				valueType = a.Value
			}
		case "value":
			value = a.Value
		case "date-value", "time-value", "boolean-value", "string-value":
			typed = a.Value
		case "formula":
			formula = a.Value != ""
		}
	}
	o.text, o.dropped = o.text[:0], 0
	if err := o.cellText(); err != nil {
		return "", "", 0, 0, false, err
	}
	text = string(o.text)
	if len(o.text) == 0 && o.dropped == 0 {
		// No paragraph: a cell written by a program, which only gave its value.
		switch valueType {
		case "float", "percentage", "currency":
			text = value
		case "date", "time", "boolean", "string":
			text = typed
		}
		if len(text) > MaxFieldBytes+1 {
			text, o.dropped = text[:MaxFieldBytes+1], len(text)-MaxFieldBytes-1
		}
		switch valueType {
		case "":
			uncalculated = formula
		case "float", "percentage", "currency":
			uncalculated = formula && value == ""
		case "date", "time", "boolean":
			uncalculated = formula && typed == ""
		}
	}
	if valueType == "float" {
		raw = value
	}
	if o.cuttableAt(col) {
		o.dropped = 0 // a name's bytes past what is kept of it cost its row nothing
	}
	return text, raw, repeat, spanned, uncalculated && start.Name.Local == "table-cell", nil
}

// reads reports whether one of formulas, a row's cells whose formula was never calculated, is
// in a column read (sheetColumns.uncalculatedIn): the row is then no blank one.
func (o *odsReader) reads(formulas []int) bool {
	first, _ := o.uncalculatedIn(formulas)
	return first >= 0
}

func (o *odsReader) cuttableAt(col int) bool { return col < len(o.cuttable) && o.cuttable[col] }

// cellText reads a cell's content, its start read, into o.text: its paragraphs (text:p, text:h,
// also in lists), one a line. Comments (office:annotation) and drawings are not its text.
func (o *odsReader) cellText() error {
	depth, paragraphs := 0, 0
	for {
		tok, err := o.next()
		if err != nil {
			return err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "p", "h":
				if paragraphs++; paragraphs > 1 {
					o.write("\n")
				}
				if err := o.paragraph(); err != nil {
					return err
				}
			case "list", "list-item", "list-header":
				depth++
			default:
				if err := o.skip(); err != nil {
					return err
				}
			}
		case xml.EndElement:
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
}

// paragraph reads a paragraph's content, its start read, into o.text, as OpenDocument says to
// show it: white space in the text collapsed to one space and left out at the paragraph's
// start and end; text:s, text:tab and text:line-break are the spaces, tab and line break the
// text holds; spans, links and fields are their text; notes, ruby annotations, comments and
// drawings are not.
func (o *odsReader) paragraph() error {
	depth := 0
	started, space := false, false // text was written; white space is pending
	for {
		tok, err := o.next()
		if err != nil {
			return err
		}
		switch el := tok.(type) {
		case xml.CharData:
			for _, b := range el {
				if b == ' ' || b == '\t' || b == '\n' || b == '\r' {
					space = started
					continue
				}
				if space {
					o.write(" ")
					space = false
				}
				o.writeByte(b)
				started = true
			}
		case xml.StartElement:
			switch el.Name.Local {
			case "s", "tab", "line-break":
				if space {
					o.write(" ")
				}
				switch el.Name.Local {
				case "s":
					n := 1
					for _, a := range el.Attr {
						if a.Name.Local == "c" {
							n = int(repeatCount(a.Value))
						}
					}
					keep := min(n, MaxFieldBytes+1-len(o.text))
					o.text = append(o.text, spaces[:keep%len(spaces)]...)
					for range keep / len(spaces) {
						o.text = append(o.text, spaces...)
					}
					o.dropped += n - keep
				case "tab":
					o.write("\t")
				default:
					o.write("\n")
				}
				started, space = true, false
				if err := o.skip(); err != nil {
					return err
				}
			case "note", "ruby-text", "annotation", "frame", "custom-shape":
				if err := o.skip(); err != nil {
					return err
				}
			default:
				depth++
			}
		case xml.EndElement:
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
}

var spaces = strings.Repeat(" ", 1024)

// write appends s to the cell's text, as far as MaxFieldBytes+1 bytes: the rest is counted.
func (o *odsReader) write(s string) {
	keep := min(len(s), MaxFieldBytes+1-len(o.text))
	o.text = append(o.text, s[:keep]...)
	o.dropped += len(s) - keep
}

func (o *odsReader) writeByte(b byte) {
	if len(o.text) > MaxFieldBytes {
		o.dropped++
		return
	}
	o.text = append(o.text, b)
}

// next returns content.xml's next token, within the bounds on a token and on nesting.
func (o *odsReader) next() (xml.Token, error) {
	o.in.n = 0
	tok, err := o.d.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // a sheet's rows are read only up to the sheet's end
		}
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		if o.open++; o.open > maxODSDepth {
			return nil, fmt.Errorf("elements nested more than %d deep", maxODSDepth)
		}
	case xml.EndElement:
		o.open--
	}
	return tok, nil
}

// skip reads up to the end of the element whose start was read last.
func (o *odsReader) skip() error {
	for depth := 0; ; {
		tok, err := o.next()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
}

// Close releases the spreadsheet and removes its temporary copy.
func (o *odsReader) Close() error {
	if o.part != nil {
		o.part.Close()
	}
	err := o.z.Close()
	o.cleanup()
	return err
}

// boundedTokens reads content.xml for the XML decoder (an io.ByteReader, which it reads from
// without a buffer of its own), failing once more than maxODSToken bytes are read since n was
// last reset: before each token, so that no token the decoder holds whole — a text, a tag —
// is larger.
type boundedTokens struct {
	r *bufio.Reader
	n int
}

var errODSToken = fmt.Errorf("a text or tag longer than %d MiB: this is not a customer list", maxODSToken>>20)

func (b *boundedTokens) ReadByte() (byte, error) {
	if b.n++; b.n > maxODSToken {
		return 0, errODSToken
	}
	return b.r.ReadByte()
}

func (b *boundedTokens) Read(p []byte) (int, error) {
	if b.n > maxODSToken {
		return 0, errODSToken
	}
	n, err := b.r.Read(p[:min(len(p), maxODSToken+1-b.n)])
	b.n += n
	return n, err
}
