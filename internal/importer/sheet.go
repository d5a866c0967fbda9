package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Spreadsheet lists (.xlsx, Office Open XML) are read with excelize, one row at a time
// (excelize.Rows), and become records like a CSV's: the same header matching, row validation,
// limits, rejects and counts, with the spreadsheet's row numbers as line numbers. Each cell is
// read as the user sees it (its number format applied: a date reads as a date), except that a
// number shown in scientific notation in the phone or customer_id column (5.19877E+10) is read
// as the digits it holds.
//
// A workbook is a zip archive, whose directory is at its end: it cannot be read as it arrives.
// A list that comes as a stream (an upload, standard input) is spooled to a temporary file
// first, at most MaxSpreadsheetBytes of it (the HTTP doors bound an upload further), and the
// file is removed once the workbook is open; a list that is a file on disk is opened where it
// is. excelize then unzips the workbook: its sheets and shared strings larger than
// unzipInMemory to temporary files of its own (removed when the import ends), the rest into
// memory. Before it does, the archive's directory is checked against maxUnzippedBytes and
// maxInMemoryParts, so that a zip bomb is refused before a byte of it is inflated (and an entry
// that inflates to more than its directory says fails archive/zip's own check).
//
// Before excelize reads its rows, the sheet's XML is scanned once, as a stream (sheetscan.go):
// for its merged ranges, for rows or cells out of order (which excelize reads merged into their
// neighbours: the sheet is refused), and for formula cells saved without their value (which
// excelize reads as empty: their rows are rejected, naming the cell).
//
// Memory: the sheet is read as a stream, so the rows cost no more than a CSV's. Excel keeps
// every distinct text of a workbook in one shared-strings table, which excelize would index in
// memory (about 90 bytes a text): a workbook whose table is over unzipInMemory has its texts
// put inline first (sharedstrings.go), so that memory stays flat whatever the list's size (a
// million-row Excel list: 40 MB of heap, read at about 20,000 rows/s).
//
// OpenDocument spreadsheets (.ods) are told apart by the mimetype entry of their zip, spooled in
// the same way and within the same zip-bomb bounds, and read by odsReader (ods.go), which shares
// with this reader the choice of sheet (chooseSheet) and the reading of a row's cells
// (sheetColumns.cellRecord). Another OpenDocument file (a text document) and the binary .xls
// are refused with advice.
const (
	// MaxSpreadsheetBytes is the largest workbook file accepted (a million rows of a customer
	// list take about 40 MB).
	MaxSpreadsheetBytes = 1 << 30
	// maxUnzippedBytes bounds all the workbook's parts unzipped, most of which go to disk.
	maxUnzippedBytes = 4 << 30
	// maxInMemoryParts bounds the parts excelize keeps in memory: all but the sheets and shared
	// strings larger than unzipInMemory. A customer list's styles, theme and workbook take a
	// few hundred KB.
	maxInMemoryParts = 64 << 20
	// unzipInMemory is excelize's UnzipXMLSizeLimit: a sheet or shared-strings table larger
	// than this is unzipped to a temporary file rather than into memory.
	unzipInMemory = 4 << 20
)

// shortDate is how a cell in Excel's short date format (built-in format 14, and 22 with a
// time) reads. Excel shows it in the reading computer's regional format, which the workbook
// does not record (1/1/1990 in the US, 01/01/1990 in Peru); excelize's default, mm-dd-yy, kept
// two digits of the year. ISO 8601 is the one reading no one can take for another date.
const shortDate = "yyyy-mm-dd"

var (
	zipMagic = []byte("PK\x03\x04")
	// oleMagic starts a Compound File: an Excel 97–2003 .xls, or an encrypted .xlsx.
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// isWorkbook reports whether the input starts like a workbook (a zip archive or a Compound
// File) rather than text.
func isWorkbook(br *bufio.Reader) bool {
	head, _ := br.Peek(len(oleMagic))
	return bytes.HasPrefix(head, zipMagic) || bytes.HasPrefix(head, oleMagic)
}

// sheetReader reads a worksheet's rows as records. Build one with openSpreadsheet; Close it.
type sheetReader struct {
	f    *excelize.File
	name string
	rows *excelize.Rows
	row  int64 // the number of the row last read (1 = the first row of the sheet)
	sheetColumns

	// merged fills the cells under merged ranges (merged.go); nil when the sheet has none.
	merged *mergedCells
	// uncalculated are the cells below the rows read so far whose formula has no value
	// (sheetscan.go), and formulas the columns (0 = A) of those on the row last read.
	uncalculated []cellPos
	formulas     []int

	// raw reads the sheet a second time, without number formats, for the cells whose formatted
	// value lost digits; it is opened only when one does.
	raw      *excelize.Rows
	rawRow   int64
	rawCells []string
}

// openSpreadsheet opens the workbook that br starts, and the sheet named sheet (see
// chooseSheet when empty), whose name it returns. src is what br reads: when it is a file on
// disk, the workbook is opened where it is instead of being copied. Errors are EINVALID
// *breach.Error for a workbook that is not a customer list, *readError when the input could not
// be read.
func openSpreadsheet(br *bufio.Reader, src io.Reader, sheet string) (recordSource, string, error) {
	if head, _ := br.Peek(len(oleMagic)); bytes.HasPrefix(head, oleMagic) {
		return nil, "", breach.Errorf(breach.EINVALID, "the file is an Excel 97–2003 workbook (.xls) or a password-protected one, which cannot be read: save it as an Excel workbook (.xlsx) without a password, or as CSV")
	}
	path, cleanup, err := workbookFile(br, src)
	if err != nil {
		return nil, "", err
	}
	ods, inline, err := checkArchive(path)
	if err != nil {
		cleanup()
		return nil, "", err
	}
	if ods {
		// The spreadsheet is read from its file to the end: the copy goes once it is.
		r, err := openODS(path, cleanup, sheet)
		if err != nil {
			return nil, "", err
		}
		return r, r.name, nil
	}
	defer cleanup()
	s, err := openXlsx(path, inline, sheet)
	if err != nil {
		return nil, "", err
	}
	return s, s.name, nil
}

// openXlsx opens the sheet named sheet of the Excel workbook at path (see openSpreadsheet).
func openXlsx(path string, inline bool, sheet string) (*sheetReader, error) {
	if inline {
		inlined, done, err := inlineSharedStrings(path)
		if err != nil {
			return nil, breach.Errorf(breach.EINVALID, "the Excel workbook could not be read: it may be truncated or corrupt (%v)", err)
		}
		defer done()
		path = inlined
	}
	f, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: maxUnzippedBytes, UnzipXMLSizeLimit: unzipInMemory,
		ShortDatePattern: shortDate})
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, breach.Errorf(breach.EINVALID, "the Excel workbook could not be read: it may be truncated or corrupt (%v)", err)
	}
	name, err := pickSheet(f, sheet)
	if err != nil {
		f.Close()
		return nil, err
	}
	// Read before excelize reads a row: its merged ranges, whether its rows are in order (else
	// refused), and its formulas without a value (sheetscan.go).
	facts, err := scanWorksheet(path, name)
	if err != nil {
		f.Close()
		if be := (*breach.Error)(nil); errors.As(err, &be) {
			return nil, be
		}
		return nil, breach.Errorf(breach.EINVALID, "sheet %q of the workbook could not be read: %v", name, err)
	}
	rows, err := f.Rows(name)
	if err != nil {
		f.Close()
		return nil, breach.Errorf(breach.EINVALID, "sheet %q of the workbook could not be read: %v", name, err)
	}
	s := &sheetReader{f: f, name: name, rows: rows, uncalculated: facts.uncalculated}
	if len(facts.merged) > 0 {
		s.merged = &mergedCells{ranges: facts.merged}
	}
	return s, nil
}

// workbookFile returns the path of a file holding the workbook: src's own, or a temporary copy
// of what br reads, which cleanup removes.
func workbookFile(br *bufio.Reader, src io.Reader) (path string, cleanup func(), err error) {
	if f, ok := src.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if st.Size() > MaxSpreadsheetBytes {
				return "", nil, tooBigWorkbook()
			}
			return f.Name(), func() {}, nil
		}
	}
	tmp, err := os.CreateTemp("", "breachnotice-list-*.xlsx")
	if err != nil {
		return "", nil, fmt.Errorf("spool the workbook: %w", err)
	}
	cleanup = func() { tmp.Close(); os.Remove(tmp.Name()) }
	n, err := io.Copy(tmp, io.LimitReader(br, MaxSpreadsheetBytes+1))
	if err != nil {
		cleanup()
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			return "", nil, fmt.Errorf("spool the workbook: %w", err)
		}
		return "", nil, &readError{err}
	}
	if n > MaxSpreadsheetBytes {
		cleanup()
		return "", nil, tooBigWorkbook()
	}
	return tmp.Name(), cleanup, nil
}

func tooBigWorkbook() error {
	return breach.Errorf(breach.EINVALID, "the workbook is larger than %d MiB: split the list, or save it as CSV (which has no such limit)", MaxSpreadsheetBytes>>20)
}

// checkArchive reads the workbook's zip directory: it must be an Excel workbook or an
// OpenDocument spreadsheet (ods), and its parts must unzip within the limits (see
// maxUnzippedBytes, maxInMemoryParts). inline is set when an Excel workbook's shared-strings
// table is to be inlined (see inlineSharedStrings).
func checkArchive(path string) (ods, inline bool, err error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return false, false, breach.Errorf(breach.EINVALID, "the file starts like a zip archive (.xlsx) but is not a readable one: it may be truncated or corrupt (%v)", err)
	}
	defer z.Close()
	if e := zipPart(z, "mimetype"); e != nil {
		switch mime := openDocumentType(e); {
		case strings.HasPrefix(mime, odsMimetype):
			ods = true
		case mime != "":
			return false, false, breach.Errorf(breach.EINVALID, "the file is an OpenDocument %s, not a spreadsheet: import the list as a spreadsheet (.ods or .xlsx) or as CSV", openDocumentKind(mime))
		}
	}
	var total, inMemory uint64
	var contentTypes, workbook, content bool
	for _, e := range z.File {
		name := strings.ToLower(strings.ReplaceAll(e.Name, `\`, "/"))
		switch name {
		case "[content_types].xml":
			contentTypes = true
		case "xl/workbook.xml":
			workbook = true
		case sharedStringsPart:
			inline = e.UncompressedSize64 > inlineAbove
		case odsContent:
			content = true
		}
		total += e.UncompressedSize64
		// An .ods's content is read as a stream (ods.go), and its other parts not at all.
		onDisk := !ods && (strings.HasPrefix(name, "xl/worksheets/sheet") || name == sharedStringsPart) && e.UncompressedSize64 > unzipInMemory ||
			ods && name == odsContent
		if !onDisk {
			inMemory += e.UncompressedSize64
		}
		if total > maxUnzippedBytes || inMemory > maxInMemoryParts {
			return false, false, breach.Errorf(breach.EINVALID, "the workbook unzips to more than %d MiB (or its parts other than the sheets to more than %d MiB): this is not a customer list but, most likely, a zip bomb",
				maxUnzippedBytes>>20, maxInMemoryParts>>20)
		}
	}
	switch {
	case ods && !content:
		return false, false, breach.Errorf(breach.EINVALID, "the OpenDocument spreadsheet (.ods) has no content.xml: it may be truncated or corrupt")
	case ods:
		return true, false, nil
	case !contentTypes || !workbook:
		return false, false, breach.Errorf(breach.EINVALID, "the file is a zip archive but not an Excel workbook (.xlsx) nor an OpenDocument spreadsheet (.ods): import the CSV or spreadsheet inside it")
	}
	return false, inline, nil
}

// odsMimetype is what the mimetype entry of an OpenDocument spreadsheet starts with (a
// spreadsheet template's adds "-template").
const odsMimetype = "application/vnd.oasis.opendocument.spreadsheet"

// openDocumentType returns what a zip's mimetype entry says when it names an OpenDocument
// type, else "".
func openDocumentType(e *zip.File) string {
	if e.UncompressedSize64 > 256 {
		return ""
	}
	r, err := e.Open()
	if err != nil {
		return ""
	}
	defer r.Close()
	b, _ := io.ReadAll(io.LimitReader(r, 256))
	mime := strings.TrimSpace(string(b))
	if !strings.HasPrefix(mime, "application/vnd.oasis.opendocument.") {
		return ""
	}
	return mime
}

// openDocumentKind names an OpenDocument type other than a spreadsheet as its user knows it.
func openDocumentKind(mime string) string {
	kind, _, _ := strings.Cut(strings.TrimPrefix(mime, "application/vnd.oasis.opendocument."), "-")
	switch kind {
	case "text":
		return "text document (.odt)"
	case "presentation":
		return "presentation (.odp)"
	case "graphics":
		return "drawing (.odg)"
	}
	return "document (" + breach.Clip(mime) + ")"
}

// pickSheet returns the sheet of the workbook that chooseSheet chooses.
func pickSheet(f *excelize.File, name string) (string, error) {
	var sheets []sheetInfo
	for _, s := range f.GetSheetList() {
		info := sheetInfo{name: s}
		if name == "" { // only then are they looked into
			visible, err := f.GetSheetVisible(s)
			info.hidden = err != nil || !visible
			info.rows, info.heads = hasRows(f, s)
		}
		sheets = append(sheets, info)
	}
	return chooseSheet(sheets, name)
}

// headsCustomers reports whether a row reads like the header of a list of customers: a cell
// naming the customer's ID, or two naming their email, phone or name (weak aliases too:
// "Cust ID", "Mobile Phone"). A sheet of drop-down values lists "Email" and "Phone" down a
// column, one a row, and is no list.
func headsCustomers(row []string) bool {
	n := 0
	for _, h := range row {
		f := headerField(h)
		if f == fieldIgnore || f == fieldAttribute {
			f = weakAliases[normalizeHeader(h)]
		}
		switch f {
		case fieldCustomerID:
			return true
		case fieldEmail, fieldPhone, fieldName, fieldFirstName, fieldLastName:
			n++
		}
	}
	return n >= 2
}

// sheetInfo is what chooseSheet needs to know of a sheet: its name, whether it is hidden, and
// whether it holds rows (see hasRows), with the cells of its first rows with a value (a title
// row may sit above the header).
type sheetInfo struct {
	name   string
	hidden bool
	rows   bool
	heads  [][]string // the cells of its first rows with a value (headRows)
}

// chooseSheet returns the sheet named name (exactly, or else in any letter case), or when
// name is empty the one visible sheet that has rows — not a chart sheet, which has none, nor an
// empty one — else the first visible sheet. A workbook with several visible sheets that have
// rows is refused unless name says which: taking the first, the customers on the other tabs
// (a "Chile" tab beside "Peru") were never told, and nothing said so. sheets are the
// workbook's, in the order of its tabs; their hidden, rows and header are only read when name
// is empty.
func chooseSheet(sheets []sheetInfo, name string) (string, error) {
	if len(sheets) == 0 {
		return "", breach.Errorf(breach.EINVALID, "the workbook has no sheet")
	}
	if name == "" {
		first := ""
		var withRows, hidden []string
		for _, s := range sheets {
			if !s.hidden && first == "" {
				first = s.name
			}
			switch {
			case !s.rows:
			case !s.hidden:
				withRows = append(withRows, s.name)
			case slices.ContainsFunc(s.heads, headsCustomers):
				// Hidden, and headed like a list of customers: a hidden sheet of the
				// drop-down values of a column (the usual reason to hide one) is not.
				hidden = append(hidden, s.name)
			}
		}
		// A hidden sheet with rows is no list of its own beside no visible one (a workbook
		// whose lookup table is hidden), but beside one it may be: customers on a hidden
		// "Chile" tab were skipped unseen.
		switch {
		case len(withRows) == 0:
			return cmp.Or(first, sheets[0].name), nil
		case len(withRows) == 1 && len(hidden) == 0:
			return withRows[0], nil
		}
		var quoted []string
		for _, s := range withRows {
			quoted = append(quoted, strconv.Quote(breach.Clip(s)))
		}
		for _, s := range hidden {
			quoted = append(quoted, strconv.Quote(breach.Clip(s))+" (hidden)")
		}
		return "", breach.Errorf(breach.EINVALID, "the workbook has %d sheets with rows (%s): say which one is the list (--sheet NAME on the command line, sheet=NAME in the API, the Sheet box in the console); if the customers are on several, import each sheet in turn",
			len(quoted), strings.Join(quoted, ", "))
	}
	names := make([]string, len(sheets))
	for i, s := range sheets {
		names[i] = s.name
	}
	if slices.Contains(names, name) {
		return name, nil
	}
	for _, s := range names {
		if strings.EqualFold(s, name) {
			return s, nil
		}
	}
	return "", breach.Errorf(breach.EINVALID, "the workbook has no sheet %q (its sheets: %s)", name, strings.Join(names, ", "))
}

// hasRows reports whether sheet holds a list: two rows with a value (a header and a row
// under it), among its first maxSheetProbe rows, and returns the cells of its first
// headRows rows with a value (the header may sit under a title). A row element alone is no
// row of a list: Excel writes one for a cell only formatted, or a row only given a height; nor
// is a header with nothing under it.
func hasRows(f *excelize.File, sheet string) (bool, [][]string) {
	rows, err := f.Rows(sheet)
	if err != nil {
		return false, nil
	}
	defer rows.Close()
	var head [][]string
	valued := 0
	for n := 0; n < maxSheetProbe && rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			return true, head // unreadable: let the import say what is wrong with it
		}
		if allEmpty(cells) {
			continue
		}
		if valued++; valued > headRows {
			break
		}
		head = append(head, cells)
	}
	return valued >= 2, head
}

// headRows is how many rows with a value hasRows returns the cells of.
const headRows = 10

// maxSheetProbe bounds the rows hasRows reads of a sheet before deciding it holds no list.
const maxSheetProbe = 1000

// useHeader tells the reader the header's columns, once read.
func (s *sheetReader) useHeader(cols columns, width int) {
	s.use(cols, width)
	if s.merged != nil {
		s.merged.useHeader(s.row, cols, width)
	}
}

// Read returns the next row that has a value, as a record, or io.EOF after the last. Rows
// without any value (Excel keeps rows that were only formatted) are skipped, as blank lines
// are in a CSV; a row with a formula never calculated in a column read is not one (its value
// is not known), and is rejected (see cellRecord).
func (s *sheetReader) Read() (record, error) {
	for s.rows.Next() {
		s.row++
		s.rowFormulas()
		cells, err := s.rows.Columns()
		if err != nil && s.rows.Error() == nil {
			// One cell's position could not be read (past column XFD, a reference that is no
			// cell's): excelize has read the row up to that cell and goes on with the next
			// row, so the row is rejected, not the list.
			rec := s.record(cells)
			if rec.problem == "" {
				rec.problem, rec.problemColumn = "a cell of the row cannot be read: "+breach.Clip(err.Error()), -1
				rec.shrink()
			}
			return rec, nil
		}
		if err != nil {
			return record{}, &readError{fmt.Errorf("sheet %q, row %d: %w", s.name, s.row, err)}
		}
		if first, _ := s.uncalculatedIn(s.formulas); allEmpty(cells) && first < 0 {
			continue
		}
		rec := s.record(cells)
		rec.hidden = s.rows.GetRowOpts().Hidden
		return rec, nil
	}
	if err := s.rows.Error(); err != nil {
		return record{}, &readError{fmt.Errorf("sheet %q after row %d: %w", s.name, s.row, err)}
	}
	return record{}, io.EOF
}

// record applies the row limits to a row's cells, as recordReader does to a CSV's fields.
func (s *sheetReader) record(cells []string) record {
	if s.merged != nil && s.width > 0 {
		cells = s.merged.fill(s.row, cells, s.width)
	}
	rec := s.cellRecord(s.row, cells, 0, s.formulas, s.digits)
	if s.merged != nil && s.width > 0 {
		s.merged.keep(s.row, rec.fields)
	}
	if rec.problem != "" {
		rec.shrink()
	}
	return rec
}

// rowFormulas sets s.formulas to the columns of the cells of row s.row whose formula has no
// value. The scan listed them in the sheet's order, which is the rows' (it refuses a sheet
// whose rows are out of order), so that each row's are found where the last row's ended.
func (s *sheetReader) rowFormulas() {
	s.formulas = s.formulas[:0]
	for len(s.uncalculated) > 0 && int64(s.uncalculated[0].row) <= s.row {
		if c := s.uncalculated[0]; int64(c.row) == s.row {
			s.formulas = append(s.formulas, int(c.col)-1)
		}
		s.uncalculated = s.uncalculated[1:]
	}
}

// sheetColumns is what a spreadsheet's reader knows of the header's columns, for the limits
// and readings of cellRecord. sheetReader (.xlsx) and odsReader (.ods) share it, so that a list
// reads alike whichever spreadsheet saved it.
type sheetColumns struct {
	width int // the header's number of columns, 0 until known
	// cuttable marks the name columns (see recordReader.cuttable), exact the columns whose
	// numbers must keep their digits (phone, customer_id).
	cuttable, exact []bool
	// phone is the phone column's index, -1 when none.
	phone int
	// ignored marks the columns dropped (--map COLUMN=-): their values are not read.
	ignored []bool
}

// use takes the header's columns, once read.
func (c *sheetColumns) use(cols columns, width int) {
	c.width = width
	c.cuttable, c.exact = make([]bool, width), make([]bool, width)
	for _, f := range []field{fieldName, fieldFirstName, fieldLastName} {
		if i := cols.index[f]; i >= 0 {
			c.cuttable[i] = true
		}
	}
	for _, f := range []field{fieldPhone, fieldCustomerID} {
		if i := cols.index[f]; i >= 0 {
			c.exact[i] = true
		}
	}
	c.phone = cols.index[fieldPhone]
	c.ignored = make([]bool, width)
	for i, k := range cols.kind {
		if i < width && k == fieldIgnore {
			c.ignored[i] = true
		}
	}
}

// uncalculatedIn returns the first of formulas — the columns (0 = A, in order) of a row's cells
// whose formula was never calculated — that is read, and how many are: before the header, every
// column is; after it, the header's columns but those dropped. -1 when none is: a helper
// formula right of the data is no customer's value.
func (c *sheetColumns) uncalculatedIn(formulas []int) (first, n int) {
	first = -1
	for _, col := range formulas {
		if c.width > 0 && (col >= c.width || col < len(c.ignored) && c.ignored[col]) {
			continue
		}
		if n++; first < 0 {
			first = col
		}
	}
	return first, n
}

// cellRecord applies the row limits to the cells of spreadsheet row row, as recordReader does
// to a CSV's fields, and reads the numbers of the exact columns as their digits where the cell
// shows fewer (see below). over counts the row's bytes that its reader did not keep (past what
// a field or a row may hold): they count towards MaxRowBytes as if kept. formulas are the
// columns (0 = A) of the row's cells whose formula was never calculated, which read as empty:
// one in a column read rejects the row, naming it (its value is not known). digits returns the
// integer that the row's cell in a column holds, and whether it is lossy (see
// sheetReader.digits); it is called only for cells that need it. The record is not shrunk:
// the caller does so once it has kept what it needs of its values (merged cells).
func (c *sheetColumns) cellRecord(row int64, cells []string, over int, formulas []int, digits func(col int) (string, bool)) record {
	rec := record{line: row, problemColumn: -1}
	if len(cells) > MaxRowFields {
		cells = cells[:MaxRowFields]
		rec.problem, rec.oversize = rowTooWide, true
	}
	size := over
	for i, v := range cells {
		if len(v) > MaxFieldBytes {
			if i < len(c.cuttable) && c.cuttable[i] {
				cells[i] = v[:MaxFieldBytes]
			} else if rec.problem == "" {
				rec.problem, rec.problemColumn = fmt.Sprintf("field is longer than %d KiB", MaxFieldBytes>>10), i
			}
		}
		size += len(cells[i])
	}
	if size > MaxRowBytes && !rec.oversize {
		rec.problem, rec.problemColumn, rec.oversize = rowTooLong, -1, true
	}
	for len(cells) < c.width {
		cells = append(cells, "")
	}
	if c.width > 0 && len(cells) > c.width && allEmpty(cells[c.width:]) {
		// A helper formula showing "" or a stray space right of the data, as a CSV's
		// trailing delimiters: the row is read at the header's width (see fieldStrings).
		cells = cells[:c.width]
	}
	if first, n := c.uncalculatedIn(formulas); first >= 0 && rec.problem == "" {
		rec.problem, rec.problemColumn = uncalculatedReason(cellName(first, row), n-1), first
	}
	for i, v := range cells {
		if i >= len(c.exact) || !c.exact[i] {
			continue
		}
		v = strings.TrimSpace(v)
		long := scientific.MatchString(v) || len(v) > maxExactDigits && isDigits(v)
		formatted := !long && i == c.phone && formattedNumber.MatchString(v)
		if !long && !formatted {
			continue
		}
		switch digits, lossy := digits(i); {
		case formatted:
			// A phone 987,654,321 or 987654321.00 through a number format: the integer behind
			// it is the number (read as shown, it was refused). Not a customer_id: an ID is
			// read as shown, as the list saved as CSV shows it and as earlier imports of the
			// campaign stored it — read otherwise, a workbook imported again would make its
			// customers new ones, each notified twice.
			if digits != "" && sameInteger(v, digits) {
				cells[i] = digits
			}
		case lossy && rec.problem == "":
			rec.problem, rec.problemColumn = fmt.Sprintf("%s is a number of more than %d digits, and Excel keeps only %d: its last digits may be another customer's; format the column as text and export the list again",
				breach.Clip(v), maxExactDigits, maxExactDigits), i
		case digits != "" && strings.TrimLeft(digits, "0") != strings.TrimLeft(v, "0"):
			// Only when the digits shown are not the number's: a number format that pads it
			// with zeros (0000001234567890) shows it whole, and is read as the user sees it.
			cells[i] = digits
		}
	}
	rec.fields = cells
	return rec
}

// scientific is a number as a scientific number format shows it: 5.20E+10, 5.19877E+10.
var scientific = regexp.MustCompile(`^-?[0-9](\.[0-9]+)?[eE][+-]?[0-9]+$`)

// formattedNumber is a phone as a number format with thousands commas or decimals shows it —
// 987,654,321, 987654321.00 — which the phone parser refuses. Not with spaces or dots between
// groups (987 654 321): those it reads, as typed text as often as numbers, and checking
// each against the cell's raw value read the sheet twice.
var formattedNumber = regexp.MustCompile(`^([0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?|[0-9]+\.[0-9]+)$`)

// sameInteger reports whether shown, a formattedNumber, shows the integer digits: the same
// digits, separators aside, and only zeros after the decimal point.
func sameInteger(shown, digits string) bool {
	var b strings.Builder
	for _, r := range shown {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	return d == digits || strings.HasPrefix(d, digits) && strings.Trim(d[len(digits):], "0") == "" && strings.ContainsAny(shown, ".,")
}

// maxExactDigits is how many significant digits Excel keeps of a number: a longer one (a
// 16-digit account number typed as a number) has lost its last digits.
const maxExactDigits = 15

// digits returns the integer that the current row's cell in column col holds, as digits, when
// it holds one: the value behind a number format that shows fewer digits (scientific, or a
// long number shown through a float). A value written as digits is taken as written; one
// written as a float of more than maxExactDigits digits is lossy: which integer it was is not
// known.
func (s *sheetReader) digits(col int) (digits string, lossy bool) {
	if s.raw == nil {
		raw, err := s.f.Rows(s.name)
		if err != nil {
			return "", false
		}
		s.raw = raw
	}
	for s.rawRow < s.row {
		if !s.raw.Next() {
			return "", false
		}
		s.rawRow++
		s.rawCells = nil
	}
	if s.rawCells == nil {
		cells, err := s.raw.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return "", false
		}
		s.rawCells = cells
	}
	if col >= len(s.rawCells) {
		return "", false
	}
	return integerDigits(s.rawCells[col])
}

// integerDigits reads a cell's raw value (the number it holds, not as shown) as the digits of
// an integer, when it is one. A value written as digits is taken as written; one written as a
// float of more than maxExactDigits digits is lossy: which integer it was is not known.
func integerDigits(raw string) (digits string, lossy bool) {
	raw = strings.TrimSpace(raw)
	if isDigits(raw) {
		return raw, false
	}
	v, err := strconv.ParseFloat(raw, 64)
	switch {
	case err != nil || v != math.Trunc(v) || v < 0:
		return "", false
	case v >= 1e15:
		return "", true
	}
	return strconv.FormatInt(int64(v), 10), false
}

// Close releases the workbook and removes its temporary files.
func (s *sheetReader) Close() error {
	if s.raw != nil {
		s.raw.Close()
	}
	s.rows.Close()
	return s.f.Close()
}
