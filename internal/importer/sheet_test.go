package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/plaintext"
)

// workbookBytes returns f saved as .xlsx.
func workbookBytes(t testing.TB, f *excelize.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return buf.Bytes()
}

// onlyReader hides everything of a reader but Read: the list arrives as a stream, as an upload.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestImport_XlsxImportsLikeCSVWithRowNumbers: an Excel workbook made the way people make one
// (headers as typed, a phone typed as a number, a phone shown in scientific notation, a date, a
// text cell with Excel's shared strings, an empty row) imports like the same list as CSV, and
// its rejects name the spreadsheet's row numbers.
func TestImport_XlsxImportsLikeCSVWithRowNumbers(t *testing.T) {
	f := excelize.NewFile()
	sheet := "Sheet1"
	sci, err := f.NewStyle(&excelize.Style{NumFmt: 11}) // 0.00E+00
	if err != nil {
		t.Fatal(err)
	}
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"Customer ID", "E-mail", "Mobile", "Language", "Name", "Customer since"},
		{"AT-1", "maria@example.com", 51987654321, "es-PE", "María Quispe", time.Date(2019, 3, 14, 0, 0, 0, 0, time.UTC)},
		{"AT-2", "jose@example.com", "987 654 322", "es", "José <b>Núñez</b>", ""},
		{"AT-3", "a@b", "", "", "Bad Address", ""},
		{}, // an empty row: skipped, and the row numbers after it are the spreadsheet's
		{"AT-4", "", 51987654324, "en", "Ana", ""},
		{4711, "id@example.com", "", "", "Numeric Id", ""},
	}
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.SetCellStyle(sheet, "F2", "F2", date)
	f.SetCellStyle(sheet, "C6", "C6", sci) // shown as 5.20E+10 in Excel
	if v, _ := f.GetCellValue(sheet, "C6"); !strings.Contains(v, "E+") {
		t.Fatalf("the phone's cell reads %q in the workbook, want scientific notation", v)
	}
	data := workbookBytes(t, f)

	got, rejects, imp := mustParseBytes(t, data, Options{})
	if imp.Sheet != "Sheet1" || imp.Encoding != "" || imp.Delimiter != "" {
		t.Errorf("format: sheet %q encoding %q delimiter %q", imp.Sheet, imp.Encoding, imp.Delimiter)
	}
	if len(rejects) != 1 || rejects[0].Line != 4 || rejects[0].Field != "email" || rejects[0].CustomerID != "AT-3" {
		t.Fatalf("rejects %s, want row 4 (a@b) only", describeRejects(rejects))
	}
	if !slices.Equal(rowLines(got), []int64{2, 3, 6, 7}) {
		t.Fatalf("rows at %v, want the spreadsheet's rows 2, 3, 6, 7", rowLines(got))
	}
	want := []breach.ImportRow{
		{Line: 2, Recipient: breach.Recipient{CustomerID: "AT-1", Email: "maria@example.com", Phone: "+51987654321", Locale: "es-PE", Name: "María Quispe"}},
		{Line: 3, Recipient: breach.Recipient{CustomerID: "AT-2", Email: "jose@example.com", Phone: "+51987654322", Locale: "es", Name: "José Núñez"}},
		{Line: 6, Recipient: breach.Recipient{CustomerID: "AT-4", Phone: "+51987654324", Locale: "en", Name: "Ana"}},
		{Line: 7, Recipient: breach.Recipient{CustomerID: "4711", Email: "id@example.com", Name: "Numeric Id"}},
	}
	for i, w := range want {
		g := got[i]
		if g.CustomerID != w.CustomerID || g.Email != w.Email || g.Phone != w.Phone || g.Locale != w.Locale || g.Name != w.Name {
			t.Errorf("row %d = %+v\nwant %+v", g.Line, g.Recipient, w.Recipient)
		}
	}
	if since := got[0].Attribute("customer_since"); since != "2019-03-14" {
		t.Errorf("the date cell (Excel's short date format) reads %q, want 2019-03-14: the date, with its whole year, not its serial number", since)
	}
	if imp.Warned != 1 || imp.Warnings[0].Line != 3 {
		t.Errorf("warnings %+v, want row 3's name", imp.Warnings)
	}

	// The same list as CSV gives the same recipients.
	csvRows, csvRejects, _ := mustParse(t, "Customer ID,E-mail,Mobile,Language,Name\n"+
		"AT-1,maria@example.com,51987654321,es-PE,María Quispe\n"+
		"AT-2,jose@example.com,987 654 322,es,José <b>Núñez</b>\n"+
		"AT-3,a@b,,,Bad Address\n\n"+
		"AT-4,,51987654324,en,Ana\n"+
		"4711,id@example.com,,,Numeric Id\n", Options{})
	if len(csvRejects) != 1 || len(csvRows) != len(got) {
		t.Fatalf("CSV: %d rows, rejects %s", len(csvRows), describeRejects(csvRejects))
	}
	for i := range csvRows {
		c, x := csvRows[i], got[i]
		if c.CustomerID != x.CustomerID || c.Email != x.Email || c.Phone != x.Phone || c.Locale != x.Locale || c.Name != x.Name || c.Line != x.Line {
			t.Errorf("CSV row %+v, xlsx row %+v", c, x)
		}
	}
}

// thousandRowWorkbook writes, with excelize's StreamWriter, a workbook of n customers whose
// rows in bad (1-based data rows) have an address that is not one.
func thousandRowWorkbook(t testing.TB, n int, bad ...int) []byte {
	t.Helper()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"Customer ID", "E-mail", "Mobile", "Language", "Name", "Exposed"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		email := fmt.Sprintf("customer%d@example.com", i)
		if slices.Contains(bad, i) {
			email = fmt.Sprintf("customer%d.example.com", i)
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, []any{fmt.Sprintf("C%05d", i), email, 51900000000 + i, "es-PE", fmt.Sprintf("Customer %d", i), "name|email"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	return workbookBytes(t, f)
}

// TestImport_Xlsx1000RowsWith3BadAddressesIs997AcceptedAnd3Rejected: the example.
func TestImport_Xlsx1000RowsWith3BadAddressesIs997AcceptedAnd3Rejected(t *testing.T) {
	data := thousandRowWorkbook(t, 1000, 17, 500, 1000)
	rows, rejects, imp := mustParseBytes(t, data, Options{})
	if imp.Read != 1000 || len(rows) != 997 || len(rejects) != 3 {
		t.Fatalf("read %d = %d accepted + %d rejected, want 1000 = 997 + 3", imp.Read, len(rows), len(rejects))
	}
	if got := rejectLines(rejects); !slices.Equal(got, []int64{18, 501, 1001}) {
		t.Errorf("rejected rows %v, want 18, 501 and 1001 (the header is row 1)", got)
	}
	for _, r := range rejects {
		if r.Field != "email" || r.CustomerID == "" {
			t.Errorf("reject %+v, want the email of a named customer", r)
		}
	}
	if rows[0].Phone != "+51900000001" || rows[0].Exposed.Len() != 2 {
		t.Errorf("first row %+v", rows[0])
	}
}

// TestImport_XlsxFromAFileOrAStreamLeavesNoTemporaryFile: a workbook on disk is read where it
// is; a streamed one is spooled to a temporary file; either way nothing of the list is left in
// the temporary directory afterwards (excelize's own unzipped sheets included).
func TestImport_XlsxFromAFileOrAStreamLeavesNoTemporaryFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	data := thousandRowWorkbook(t, 25_000) // a sheet over unzipInMemory (4 MiB): unzipped to disk
	path := filepath.Join(t.TempDir(), "list.xlsx")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, src := range map[string]io.Reader{"file": file, "stream": onlyReader{bytes.NewReader(data)}} {
		imp := &breach.Import{}
		err := newTestImporter(t).parse(context.Background(), &breach.Campaign{DefaultCountry: "PE"}, imp, src, Options{},
			func(context.Context, *breach.ImportBatch) error {
				if name == "stream" {
					if left, _ := os.ReadDir(tmp); len(left) == 0 {
						t.Errorf("stream: no temporary file while the sheet is read")
					}
				}
				return nil
			}, func(context.Context, int64) {})
		if err != nil || imp.Read != 25_000 || imp.Rejected != 0 {
			t.Fatalf("%s: read %d rejected %d: %v", name, imp.Read, imp.Rejected, err)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("%s: %d files left in the temporary directory, e.g. %s", name, len(left), left[0].Name())
		}
	}
}

// TestImport_XlsxSheetIsChosenByName: --sheet NAME (in any letter case) chooses; without it, a
// workbook with several sheets that have rows, a hidden one among them, is refused, naming
// them (taking the first, the customers on the other tabs were silently left out). An unknown sheet is refused with the workbook's sheets, and a sheet named for a
// CSV list is refused too.
func TestImport_XlsxSheetIsChosenByName(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"Notes"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"this sheet is hidden"})
	f.NewSheet("Clientes")
	f.SetSheetRow("Clientes", "A1", &[]any{"customer_id", "email"})
	f.SetSheetRow("Clientes", "A2", &[]any{"P1", "p1@example.com"})
	f.NewSheet("Customers")
	f.SetSheetRow("Customers", "A1", &[]any{"customer_id", "email"})
	f.SetSheetRow("Customers", "A2", &[]any{"E1", "e1@example.com"})
	f.SetSheetRow("Customers", "A3", &[]any{"E2", "e2@example.com"})
	f.SetActiveSheet(1)
	if err := f.SetSheetVisible("Sheet1", false); err != nil {
		t.Fatal(err)
	}
	data := workbookBytes(t, f)

	_, _, _, err := parseBytes(t, data, Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), `2 sheets with rows ("Clientes", "Customers")`) || !strings.Contains(err.Error(), "--sheet") {
		t.Errorf("no sheet named in a workbook with two lists: %v; want them named, and how to choose", err)
	}
	// A hidden sheet headed like a list of customers is named too (customers on a hidden tab
	// were skipped unseen); a hidden sheet of drop-down values is not.
	h := excelize.NewFile()
	h.SetSheetRow("Sheet1", "A1", &[]any{"customer_id", "email"})
	h.SetSheetRow("Sheet1", "A2", &[]any{"P1", "p1@example.com"})
	h.NewSheet("Listas")
	h.SetSheetRow("Listas", "A1", &[]any{"Plan"})
	h.SetSheetRow("Listas", "A2", &[]any{"Prepago"})
	h.SetSheetVisible("Listas", false)
	if rows, _, imp := mustParseBytes(t, workbookBytes(t, h), Options{}); imp.Sheet != "Sheet1" || len(rows) != 1 {
		t.Errorf("beside a hidden sheet of drop-down values: read %q, %d rows; want Sheet1's one", imp.Sheet, len(rows))
	}
	// Drop-down values that happen to be field names, one a row, are no list either.
	h.SetSheetRow("Listas", "A3", &[]any{"Email"})
	h.SetSheetRow("Listas", "A4", &[]any{"Phone"})
	h.SetSheetRow("Listas", "A5", &[]any{"Customer"})
	if rows, _, imp := mustParseBytes(t, workbookBytes(t, h), Options{}); imp.Sheet != "Sheet1" || len(rows) != 1 {
		t.Errorf("beside a hidden sheet of channel names: read %q, %d rows; want Sheet1's one", imp.Sheet, len(rows))
	}
	h.NewSheet("Chile")
	h.SetSheetRow("Chile", "A1", &[]any{"Customer ID", "email"})
	h.SetSheetRow("Chile", "A2", &[]any{"CL1", "cl1@example.com"})
	h.SetSheetVisible("Chile", false)
	if _, _, _, err := parseBytes(t, workbookBytes(t, h), Options{}); !isInvalid(err) || !strings.Contains(err.Error(), `"Chile" (hidden)`) {
		t.Errorf("beside a hidden list of customers: %v; want it named", err)
	}
	// The review's hidden tab: a title row above a header of weak aliases ("Cust ID").
	h.DeleteSheet("Chile")
	h.NewSheet("Chile")
	h.SetSheetRow("Chile", "A1", &[]any{"Clientes Chile (confidencial)"})
	h.SetSheetRow("Chile", "A3", &[]any{"Cust ID", "Nombre", "Mobile Phone"})
	h.SetSheetRow("Chile", "A4", &[]any{"CL-1", "Pedro", "+56912345678"})
	h.SetSheetVisible("Chile", false)
	if _, _, _, err := parseBytes(t, workbookBytes(t, h), Options{}); !isInvalid(err) || !strings.Contains(err.Error(), `"Chile" (hidden)`) {
		t.Errorf("beside a hidden list under a title row: %v; want it named", err)
	}
	// A sheet with only a header, or only formatted cells and a row height, holds no list.
	g := excelize.NewFile()
	g.SetSheetRow("Sheet1", "A1", &[]any{"customer_id", "email"})
	g.SetSheetRow("Sheet1", "A2", &[]any{"P1", "p1@example.com"})
	g.NewSheet("Headers")
	g.SetSheetRow("Headers", "A1", &[]any{"customer_id", "email"})
	g.NewSheet("Notes")
	fill, _ := g.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Color: []string{"FFFF00"}, Pattern: 1}})
	g.SetCellStyle("Notes", "A1", "C5", fill)
	g.SetRowHeight("Notes", 8, 30)
	if rows, _, imp := mustParseBytes(t, workbookBytes(t, g), Options{}); imp.Sheet != "Sheet1" || len(rows) != 1 {
		t.Errorf("beside a header-only and a formatted sheet: read %q, %d rows; want Sheet1's one", imp.Sheet, len(rows))
	}
	for _, tt := range []struct{ sheet, want string }{{"Clientes", "Clientes"}, {"Customers", "Customers"}, {"customers", "Customers"}} {
		rows, _, imp := mustParseBytes(t, data, Options{Sheet: tt.sheet})
		if imp.Sheet != tt.want || len(rows) != map[string]int{"Clientes": 1, "Customers": 2}[tt.want] {
			t.Errorf("sheet %q: read %q, %d rows; want %q", tt.sheet, imp.Sheet, len(rows), tt.want)
		}
	}
	_, _, _, err = parseBytes(t, data, Options{Sheet: "Kunden"})
	if !isInvalid(err) || !strings.Contains(err.Error(), "Kunden") || !strings.Contains(err.Error(), "Clientes, Customers") {
		t.Errorf("unknown sheet: %v", err)
	}
	_, _, _, err = parseString(t, "customer_id,email\nC1,a@example.com\n", Options{Sheet: "Sheet1"})
	if !isInvalid(err) || !strings.Contains(err.Error(), "not a spreadsheet") {
		t.Errorf("sheet of a CSV: %v", err)
	}
}

func isInvalid(err error) bool {
	var be *breach.Error
	return errors.As(err, &be) && be.Code == breach.EINVALID
}

// zipOf returns a zip archive of the given entries (name → content), stored deflated.
func zipOf(t testing.TB, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImport_XlsxZipBombIsRefused: a workbook whose directory says it unzips to gigabytes is
// refused before anything is inflated, with an error that says why; one whose entry inflates to
// more than its directory says is refused as corrupt.
func TestImport_XlsxZipBombIsRefused(t *testing.T) {
	// 64 MiB of zeros deflate to 64 KiB; declared as 8 GiB, it is never inflated.
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	fw.Write(make([]byte, 64<<20))
	fw.Close()
	bomb := func(declared uint64) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, e := range [][2]string{{"[Content_Types].xml", "<Types/>"}, {"xl/workbook.xml", "<workbook/>"}} {
			w, _ := zw.Create(e[0])
			io.WriteString(w, e[1])
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
			CompressedSize64: uint64(deflated.Len()), UncompressedSize64: declared, CRC32: 0})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(deflated.Bytes())
		zw.Close()
		return buf.Bytes()
	}

	start := time.Now()
	_, _, _, err := parseBytes(t, bomb(8<<30), Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), "zip bomb") {
		t.Errorf("declared 8 GiB: %v, want EINVALID naming a zip bomb", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing the bomb took %v: it must not be inflated", d)
	}
	_, _, _, err = parseBytes(t, bomb(1<<10), Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("declared 1 KiB, inflates to 64 MiB: %v, want EINVALID saying corrupt", err)
	}
	// Many small parts that excelize would hold in memory add up too.
	var parts [][2]string
	parts = append(parts, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"xl/workbook.xml", "<workbook/>"})
	for i := range 40 {
		parts = append(parts, [2]string{fmt.Sprintf("xl/media/image%d.png", i), strings.Repeat("x", 2<<20)})
	}
	_, _, _, err = parseBytes(t, zipOf(t, parts...), Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), "zip bomb") {
		t.Errorf("80 MiB of media: %v, want EINVALID naming a zip bomb", err)
	}
}

// TestImport_OtherArchivesAndWorkbooksAreRefusedWithAdvice: a zip that is no workbook, an
// OpenDocument text document and a binary .xls are each refused with what to do instead.
func TestImport_OtherArchivesAndWorkbooksAreRefusedWithAdvice(t *testing.T) {
	odt := zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"content.xml", "<office:document-content/>"})
	xls := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 4096)...)
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"zip of a CSV", zipOf(t, [2]string{"customers.csv", "customer_id,email\n"}), "not an Excel workbook"},
		{"odt", odt, "text document (.odt)"},
		{"xls", xls, ".xls"},
		{"truncated xlsx", thousandRowWorkbook(t, 10)[:2000], "corrupt"},
	} {
		_, _, _, err := parseBytes(t, tt.data, Options{})
		if !isInvalid(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want EINVALID mentioning %q", tt.name, err, tt.want)
		}
	}
}

// TestImport_XlsxRowLimitsApply: a row over MaxRowBytes is rejected with the spreadsheet's
// row number, like a CSV's; a long name is cut instead.
func TestImport_XlsxRowLimitsApply(t *testing.T) {
	f := excelize.NewFile()
	header := []any{"customer_id", "email", "name"}
	wide := []any{"C1", "a@example.com", "Ana"}
	for i := range 40 { // Excel's cells hold at most 32,767 characters: 40 of 30,000 are over 1 MiB
		header = append(header, fmt.Sprintf("note%d", i))
		wide = append(wide, strings.Repeat("n", 30_000))
	}
	f.SetSheetRow("Sheet1", "A1", &header)
	f.SetSheetRow("Sheet1", "A2", &wide)
	f.SetSheetRow("Sheet1", "A3", &[]any{"C2", "b@example.com", strings.Repeat("Bob ", 8000)})
	rows, rejects, imp := mustParseBytes(t, workbookBytes(t, f), Options{})
	if len(rejects) != 1 || rejects[0].Line != 2 || rejects[0].CustomerID != "C1" || !strings.Contains(rejects[0].Reason, "longer than 1 MiB") {
		t.Errorf("rejects %s, want row 2, over the row limit", describeRejects(rejects))
	}
	if len(rows) != 1 || rows[0].CustomerID != "C2" || len(rows[0].Name) > plaintext.MaxName || imp.Warned != 1 {
		t.Errorf("rows %v, warned %d; want C2 with its name cut", customerIDs(rows), imp.Warned)
	}
}

// TestImport_XlsxLargeSharedStringsAreReadInlineAlike: a workbook whose shared-strings table
// is large is rewritten with its texts inline before excelize reads it, so that memory stays
// flat; the rows read are the same as excelize's own reading of the table (rich text, markup
// characters, accents, numbers, dates and empty cells included), and nothing is left in the
// temporary directory.
func TestImport_XlsxLargeSharedStringsAreReadInlineAlike(t *testing.T) {
	f := excelize.NewFile()
	date, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	f.SetSheetRow("Sheet1", "A1", &[]any{"Customer ID", "E-mail", "Mobile", "Name", "Plan", "Since"})
	for i := 2; i <= 400; i++ {
		f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i), &[]any{fmt.Sprintf("C%04d", i), fmt.Sprintf("c%d@example.com", i), 51987650000 + i,
			fmt.Sprintf("Zoé & <b>Núñez</b> %d", i%7), []string{"Prepago", "Hogar, Internet", ""}[i%3], time.Date(2020, 1, i%28+1, 0, 0, 0, 0, time.UTC)})
		f.SetCellStyle("Sheet1", fmt.Sprintf("F%d", i), fmt.Sprintf("F%d", i), date)
	}
	f.SetCellRichText("Sheet1", "D5", []excelize.RichTextRun{{Text: "Rosa "}, {Text: "Quispe", Font: &excelize.Font{Bold: true}}})
	f.SetCellValue("Sheet1", "B7", "not-an-address")
	data := workbookBytes(t, f)
	if sheet := zipEntry(t, data, "xl/worksheets/sheet1.xml"); !bytes.Contains(sheet, []byte(`t="s"`)) {
		t.Fatalf("the workbook has no shared-string cell to inline")
	}

	want, wantRejects, wantImp := mustParseBytes(t, data, Options{})
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	defer func(old uint64) { inlineAbove = old }(inlineAbove)
	inlineAbove = 0
	got, gotRejects, gotImp := mustParseBytes(t, data, Options{})
	if len(got) != 398 || len(gotRejects) != 1 || gotRejects[0].Line != 7 || gotImp.Warned != wantImp.Warned || gotImp.Warned == 0 {
		t.Fatalf("inlined: %d rows, rejects %s, %d warned; want 398, row 7, %d", len(got), describeRejects(gotRejects), gotImp.Warned, wantImp.Warned)
	}
	if len(want) != len(got) || len(wantRejects) != len(gotRejects) || wantRejects[0] != gotRejects[0] {
		t.Fatalf("excelize read %d rows and %v, the inlined workbook %d and %v", len(want), wantRejects, len(got), gotRejects)
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Line != g.Line || w.CustomerID != g.CustomerID || w.Email != g.Email || w.Phone != g.Phone || w.Name != g.Name ||
			w.Attribute("plan") != g.Attribute("plan") || w.Attribute("since") != g.Attribute("since") {
			t.Errorf("row %d: excelize %+v\ninlined %+v", w.Line, w.Recipient, g.Recipient)
		}
	}
	if r := got[3]; r.Line != 5 || r.Name != "Rosa Quispe" {
		t.Errorf("rich text cell: row %d name %q", r.Line, r.Name)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("%d files left in the temporary directory", len(left))
	}
}

// zipEntry returns the content of an entry of a zip archive.
func zipEntry(t testing.TB, data []byte, name string) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := z.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return b
}

// workbookWithRows returns a workbook made by excelize whose first sheet's rows are rowsXML, as
// a hand-made or hostile file may hold them.
func workbookWithRows(t testing.TB, rowsXML string) []byte {
	t.Helper()
	f := excelize.NewFile()
	f.SetCellValue("Sheet1", "A1", "x")
	data := workbookBytes(t, f)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range zr.File {
		w, err := zw.Create(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if e.Name == "xl/worksheets/sheet1.xml" {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
				`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+rowsXML+`</sheetData></worksheet>`)
			continue
		}
		r, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(w, r)
		r.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImport_XlsxUnreadableCellRejectsItsRowOnly: a cell whose position cannot be read — past
// Excel's last column XFD, or a reference that is no cell's — rejects its row with the row's
// number and customer, and the rows after it import: a hand-edited or hostile workbook does
// not cost the whole list.
func TestImport_XlsxUnreadableCellRejectsItsRowOnly(t *testing.T) {
	cell := func(ref, v string) string { return `<c r="` + ref + `" t="inlineStr"><is><t>` + v + `</t></is></c>` }
	header := `<row r="1">` + cell("A1", "customer_id") + cell("B1", "email") + `</row>`
	for name, bad := range map[string]string{"past XFD": "XFE2", "not a cell": "!!"} {
		data := workbookWithRows(t, header+
			`<row r="2">`+cell("A2", "C1")+cell("B2", "c1@example.com")+cell(bad, "x")+`</row>`+
			`<row r="3">`+cell("A3", "C2")+cell("B3", "c2@example.com")+`</row>`)
		rows, rejects, _, err := parseBytes(t, data, Options{})
		if err != nil {
			t.Errorf("%s: %v, want row 2 rejected and row 3 imported", name, err)
			continue
		}
		if len(rejects) != 1 || rejects[0].Line != 2 || rejects[0].CustomerID != "C1" || !strings.Contains(rejects[0].Reason, "cell") {
			t.Errorf("%s: rejects %s, want row 2 (C1), naming its cell", name, describeRejects(rejects))
		}
		if len(rows) != 1 || rows[0].Line != 3 || rows[0].CustomerID != "C2" {
			t.Errorf("%s: rows %v at %v, want C2 at row 3", name, customerIDs(rows), rowLines(rows))
		}
	}
}

// TestImport_XlsxLongNumericIDsKeepTheirDigitsOrAreRejected: a customer ID of more than 15
// digits held as a number. Written exactly by the tool that made the workbook (pandas,
// openpyxl, excelize), it is read as written — not through a float, which turned
// 123456789012345678 and …679 both into …680, one customer merged into the other and never
// told. Written by Excel, which keeps 15 digits, its last digits are lost: the row is rejected
// with what to do, rather than imported under another customer's ID.
func TestImport_XlsxLongNumericIDsKeepTheirDigitsOrAreRejected(t *testing.T) {
	cell := func(ref, v string) string { return `<c r="` + ref + `" t="inlineStr"><is><t>` + v + `</t></is></c>` }
	num := func(ref, v string) string { return `<c r="` + ref + `"><v>` + v + `</v></c>` }
	data := workbookWithRows(t, `<row r="1">`+cell("A1", "customer_id")+cell("B1", "email")+`</row>`+
		`<row r="2">`+num("A2", "123456789012345678")+cell("B2", "a@example.com")+`</row>`+
		`<row r="3">`+num("A3", "123456789012345679")+cell("B3", "b@example.com")+`</row>`+
		`<row r="4">`+num("A4", "1.2345678901234568E+17")+cell("B4", "c@example.com")+`</row>`+
		`<row r="5">`+num("A5", "51987654321")+cell("B5", "d@example.com")+`</row>`+
		`<row r="6">`+cell("A6", "1234567890123456789012")+cell("B6", "e@example.com")+`</row>`)
	rows, rejects, _ := mustParseBytes(t, data, Options{})
	if got := customerIDs(rows); !slices.Equal(got, []string{"123456789012345678", "123456789012345679", "51987654321", "1234567890123456789012"}) {
		t.Errorf("customer IDs %q", got)
	}
	if len(rejects) != 1 || rejects[0].Line != 4 || rejects[0].Field != "customer_id" || !strings.Contains(rejects[0].Reason, "15 digits") {
		t.Errorf("rejects %s, want row 4, whose ID Excel cut to 15 digits", describeRejects(rejects))
	}
}

// TestImport_XlsxDefaultSheetIsTheFirstWithRows: a workbook whose first tab is a chart of the
// list (a chart sheet has no cells), or an empty sheet, is read from its first sheet that has
// rows: that tab was chosen and the list refused as "empty", which says nothing of --sheet.
func TestImport_XlsxDefaultSheetIsTheFirstWithRows(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"customer_id", "email", "n"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"C1", "c1@example.com", 3})
	if err := f.AddChartSheet("Chart", &excelize.Chart{Type: excelize.Col,
		Series: []excelize.ChartSeries{{Name: "Sheet1!$A$1", Categories: "Sheet1!$A$2:$A$2", Values: "Sheet1!$C$2:$C$2"}}}); err != nil {
		t.Fatal(err)
	}
	f.NewSheet("Blank")
	data := workbookBytes(t, f)
	// The chart and the blank sheet first, as the tabs of the workbook (excelize's MoveSheet
	// does not move a chart sheet).
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	reorder := regexp.MustCompile(`(<sheet [^>]*name="Sheet1"[^>]*>(?:</sheet>)?)(.*)(</sheets>)`)
	for _, e := range zr.File {
		w, _ := zw.Create(e.Name)
		r, _ := e.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		if e.Name == "xl/workbook.xml" {
			b = reorder.ReplaceAll(b, []byte("$2$1$3"))
		}
		w.Write(b)
	}
	zw.Close()
	rows, _, imp := mustParseBytes(t, buf.Bytes(), Options{})
	if imp.Sheet != "Sheet1" || len(rows) != 1 {
		t.Errorf("read sheet %q, %d rows; want Sheet1, the first with rows", imp.Sheet, len(rows))
	}
}

// TestImport_TitleAboveTheHeaderIsRefusedSayingWhere: a title row above the header (a report
// exported with its heading) is refused with an error that says the header must be the first
// row, not only that line 1 looks like a customer's data — and without copying the title.
func TestImport_TitleAboveTheHeaderIsRefusedSayingWhere(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"Affected customers, export of 2026-12-01"})
	f.SetSheetRow("Sheet1", "A3", &[]any{"customer_id", "email"})
	f.SetSheetRow("Sheet1", "A4", &[]any{"C1", "c1@example.com"})
	_, _, _, err := parseBytes(t, workbookBytes(t, f), Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), "first row") || strings.Contains(err.Error(), "2026-12-01") {
		t.Errorf("title above the header: %v; want EINVALID saying the header must be the first row", err)
	}
}

// TestImport_XlsxZeroPaddedNumberFormatKeepsItsZeros: an account number held as a number and
// shown zero-padded to 16 digits by its number format is read as shown, 0000001234567890,
// like the same list saved as CSV — not as the 1234567890 behind it.
func TestImport_XlsxZeroPaddedNumberFormatKeepsItsZeros(t *testing.T) {
	f := excelize.NewFile()
	padded := "0000000000000000"
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: &padded})
	if err != nil {
		t.Fatal(err)
	}
	f.SetSheetRow("Sheet1", "A1", &[]any{"customer_id", "email"})
	f.SetSheetRow("Sheet1", "A2", &[]any{1234567890, "a@example.com"})
	f.SetCellStyle("Sheet1", "A2", "A2", style)
	rows, _, _ := mustParseBytes(t, workbookBytes(t, f), Options{})
	if got := customerIDs(rows); !slices.Equal(got, []string{"0000001234567890"}) {
		t.Errorf("customer IDs %q, want the 16 digits shown", got)
	}
}

// TestImport_XlsxHiddenRowsAreImportedWithAWarning: a list filtered in Excel keeps the rows it
// hides. They are customers like the others — imported — but whoever filtered the list may
// believe they are not on it, so each is named in the import's warnings.
func TestImport_XlsxHiddenRowsAreImportedWithAWarning(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"customer_id", "email"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"C1", "c1@example.com"})
	f.SetSheetRow("Sheet1", "A3", &[]any{"C2", "c2@example.com"})
	f.SetSheetRow("Sheet1", "A4", &[]any{"C3", "c3@example.com"})
	if err := f.SetRowVisible("Sheet1", 3, false); err != nil {
		t.Fatal(err)
	}
	rows, _, imp := mustParseBytes(t, workbookBytes(t, f), Options{})
	if len(rows) != 3 {
		t.Errorf("%d rows imported, want all 3", len(rows))
	}
	if len(imp.Warnings) != 1 || imp.Warnings[0].Line != 3 || imp.Warnings[0].Field != "row" {
		t.Errorf("warnings %+v, want row 3's", imp.Warnings)
	}
}

// TestImport_XlsxBlankCellsRightOfTheDataAreIgnored: a helper formula that shows "" right of
// the data, or a stray space, gave every row one cell more than the header, and the whole list
// was rejected ("row has 4 fields, the header has 3"); a CSV with trailing delimiters is read at
// the header's width, and so is a workbook. A value there still rejects its row.
func TestImport_XlsxBlankCellsRightOfTheDataAreIgnored(t *testing.T) {
	f := excelize.NewFile()
	rows := [][]any{
		{"Customer ID", "E-mail", "Plan"},
		{"X1", "x1@example.com", "P"},
		{"X2", "x2@example.com", "P"},
		{"X3", "x3@example.com", "P"},
		{"X4", "x4@example.com", "P"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SetCellFormula("Sheet1", "D2", `IF(1=1,"","x")`); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue("Sheet1", "D2", ""); err != nil { // the cached result a spreadsheet saves
		t.Fatal(err)
	}
	if err := f.SetCellValue("Sheet1", "D3", " "); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue("Sheet1", "E4", " "); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue("Sheet1", "D5", "a note"); err != nil {
		t.Fatal(err)
	}
	got, rejects, _ := mustParseBytes(t, workbookBytes(t, f), Options{})
	if ids := customerIDs(got); !slices.Equal(ids, []string{"X1", "X2", "X3"}) {
		t.Errorf("accepted %v, want X1, X2 and X3 (rejects %s)", ids, describeRejects(rejects))
	}
	if len(rejects) != 1 || rejects[0].CustomerID != "X4" {
		t.Errorf("rejects %s, want X4's, whose extra cell holds a value", describeRejects(rejects))
	}
}

// A phone held as a number and shown through a number format with thousands commas or
// decimals is read as the integer behind it: shown, 987,654,321 was refused. A customer ID is
// read as shown, as the list saved as CSV shows it and as an earlier import stored it (read
// otherwise, a workbook imported again made its customers new ones); a text cell is read as
// typed, and a format that only adds a prefix is read as shown.
func TestImport_XlsxFormattedPhoneNumbersAreTheirIntegers(t *testing.T) {
	f := excelize.NewFile()
	style := func(format string) int {
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.SetSheetRow("Sheet1", "A1", &[]any{"customer_id", "email", "phone"})
	f.SetSheetRow("Sheet1", "A2", &[]any{1234567, "a@example.com", 987654321})
	f.SetSheetRow("Sheet1", "A3", &[]any{"C3", "b@example.com", 987654322})
	f.SetSheetRow("Sheet1", "A4", &[]any{"C4", "c@example.com", "987,654,323"})
	f.SetSheetRow("Sheet1", "A5", &[]any{"C5", "d@example.com", 987654324})
	for cell, format := range map[string]string{"A2": "#,##0", "C2": "#,##0", "C3": "0.00", "C5": `"+51 "000 000 000`} {
		f.SetCellStyle("Sheet1", cell, cell, style(format))
	}
	rows, rejects, _ := mustParseBytes(t, workbookBytes(t, f), Options{})
	// C4's phone is text: "987,654,323" as typed, which the phone parser refuses.
	if len(rejects) != 1 || rejects[0].CustomerID != "C4" || rejects[0].Field != "phone" {
		t.Fatalf("rejects%s; want C4's text phone", describeRejects(rejects))
	}
	want := map[string]string{"1,234,567": "+51987654321", "C3": "+51987654322", "C5": "+51987654324"}
	if len(rows) != len(want) {
		t.Fatalf("customer IDs %q, want %v", customerIDs(rows), want)
	}
	for _, r := range rows {
		if phone, ok := want[r.CustomerID]; !ok || r.Phone != phone {
			t.Errorf("%q: phone %q, want %q", r.CustomerID, r.Phone, phone)
		}
	}
}

// xlsxRow is a <row> of inline-string cells, numbered r (none when r is ""), its cells
// unnumbered as some programs write them: values in columns A, B, C… in turn.
func xlsxRow(r string, values ...string) string {
	var b strings.Builder
	b.WriteString("<row")
	if r != "" {
		b.WriteString(` r="` + r + `"`)
	}
	b.WriteString(">")
	for _, v := range values {
		b.WriteString(`<c t="inlineStr"><is><t>` + v + `</t></is></c>`)
	}
	b.WriteString("</row>")
	return b.String()
}

// TestImport_XlsxRowsOutOfOrderAreRefusedNotLost: a sheet whose rows are not numbered in
// increasing order — a row numbered before the one above it, a number repeated, an unnumbered
// row whose place (the row above it, plus one) comes back below a later row — is refused, saying
// where. excelize's stream of rows reads a row whose number is not past the last one as more
// cells of that one: a customer vanished (not imported, not rejected, not counted) and their
// neighbour was rejected as "row has 6 fields, the header has 3". Cells out of order within a
// row, which excelize appends wherever they fall (another column's value), are refused alike.
// Rows numbered in order, with gaps or unnumbered, read as before.
func TestImport_XlsxRowsOutOfOrderAreRefusedNotLost(t *testing.T) {
	header := xlsxRow("1", "customer_id", "email", "name")
	c := func(n int) []string {
		return []string{fmt.Sprintf("C%d", n), fmt.Sprintf("c%d@example.com", n), fmt.Sprintf("N%d", n)}
	}
	for _, tc := range []struct{ name, rows, want string }{
		{"out of order", xlsxRow("2", c(2)...) + xlsxRow("4", c(4)...) + xlsxRow("3", c(3)...) + xlsxRow("5", c(5)...), "row 3 comes after row 4"},
		{"repeated", xlsxRow("2", c(2)...) + xlsxRow("3", c(3)...) + xlsxRow("3", c(33)...) + xlsxRow("4", c(4)...), "row 3 comes twice"},
		{"unnumbered, then back", xlsxRow("2", c(2)...) + xlsxRow("6", c(6)...) + xlsxRow("", c(7)...) + xlsxRow("4", c(4)...), "row 4 comes after row 7"},
		{"cells out of order", xlsxRow("2", c(2)...) + `<row r="3"><c r="B3" t="inlineStr"><is><t>c3@example.com</t></is></c><c r="A3" t="inlineStr"><is><t>C3</t></is></c></row>`,
			"cell A3 comes after cell B3"},
	} {
		rows, rejects, imp, err := parseBytes(t, workbookWithRows(t, header+tc.rows), Options{})
		if !isInvalid(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "save it again") {
			var read int64
			if imp != nil {
				read = imp.Read
			}
			t.Errorf("%s: err %v (rows %v at %v, rejects %s, read %d); want the file refused: %q", tc.name, err, customerIDs(rows), rowLines(rows), describeRejects(rejects), read, tc.want)
		}
	}

	// In order, with gaps, or unnumbered after numbered rows: every row, at its number.
	rows, rejects, _ := mustParseBytes(t, workbookWithRows(t, header+xlsxRow("2", c(2)...)+xlsxRow("5", c(5)...)+xlsxRow("", c(6)...)+xlsxRow("", c(7)...)+xlsxRow("9", c(9)...)), Options{})
	if len(rejects) != 0 || !slices.Equal(customerIDs(rows), []string{"C2", "C5", "C6", "C7", "C9"}) || !slices.Equal(rowLines(rows), []int64{2, 5, 6, 7, 9}) {
		t.Errorf("in order: rows %v at %v, rejects %s", customerIDs(rows), rowLines(rows), describeRejects(rejects))
	}
}

// TestImport_XlsxUncalculatedFormulaRejectsItsRow: a formula cell saved without its value —
// openpyxl and ETL tools write the formula and no <v> (or an empty one), and compute nothing —
// is not an empty cell: its row is rejected naming the cell and what to do, in the column's
// field. Read as empty, an exposed formula gave the customer the campaign's default categories
// (the wrong ones, in their notice), an email formula was dropped without a word and a
// customer_id formula was "empty". Formulas with their value — what Excel and LibreOffice
// write, an empty text result included — read as before, and so does a formula left of no
// column of the header.
func TestImport_XlsxUncalculatedFormulaRejectsItsRow(t *testing.T) {
	str := func(ref, v string) string { return `<c r="` + ref + `" t="inlineStr"><is><t>` + v + `</t></is></c>` }
	data := workbookWithRows(t, `<row r="1">`+str("A1", "customer_id")+str("B1", "email")+str("C1", "phone")+str("D1", "exposed")+str("E1", "note")+`</row>`+
		`<row r="2">`+str("A2", "C2")+str("B2", "c2@example.com")+str("D2", "email")+`</row>`+
		// t="str" and no <v>: the brief's H7.
		`<row r="3">`+str("A3", "C3")+str("B3", "c3@example.com")+`<c r="D3" t="str"><f>IF(A3="","","email,password")</f></c></row>`+
		// openpyxl: no t, an empty <v/>.
		`<row r="4">`+str("A4", "C4")+`<c r="B4"><f>LOWER(Z4)</f><v/></c>`+str("D4", "email")+`</row>`+
		`<row r="5"><c r="A5" t="str"><f>"C"&amp;ROW()</f></c>`+str("B5", "c5@example.com")+`</row>`+
		// What Excel and LibreOffice write: each formula with its value, "" as <v></v>.
		`<row r="6">`+str("A6", "C6")+`<c r="B6" t="str"><f>LOWER("C6@EXAMPLE.COM")</f><v>c6@example.com</v></c>`+
		`<c r="C6"><f>51987654320+6</f><v>51987654326</v></c><c r="D6" t="str"><f>"phone"</f><v>phone</v></c><c r="E6" t="str"><f>""</f><v></v></c></row>`+
		// A helper formula right of the header's columns, alone on its row: no customer's.
		`<row r="7"><c r="H7"><f>SUM(A1:A6)</f></c></row>`+
		// An uncalculated formula alone on its row, in a column of the header: not skipped.
		`<row r="8"><c r="D8" t="str"><f>"email"</f></c></row>`+
		`<row r="9">`+str("A9", "C9")+`<c r="B9" t="str"><f>"c9@example.com"</f></c><c r="D9" t="str"><f>"email"</f></c>`+str("E9", "n")+`</row>`)
	rows, rejects, imp := mustParseBytes(t, data, Options{})
	if !slices.Equal(customerIDs(rows), []string{"C2", "C6"}) {
		t.Errorf("imported %v at %v, want C2 and C6", customerIDs(rows), rowLines(rows))
	}
	if len(rows) == 2 && (rows[1].Email != "c6@example.com" || rows[1].Phone != "+51987654326" || rows[1].Attribute("note") != "") {
		t.Errorf("C6 (formulas with their values) = %+v, note %q", rows[1].Recipient, rows[1].Attribute("note"))
	}
	want := []struct {
		line        int64
		field, cell string
	}{{3, "exposed", "cell D3 holds"}, {4, "email", "cell B4 holds"}, {5, "customer_id", "cell A5 holds"}, {8, "exposed", "cell D8 holds"}, {9, "email", "cell B9 and 1 other cell of the row hold"}}
	if len(rejects) != len(want) {
		t.Fatalf("rejects %s, want rows 3, 4, 5, 8 and 9", describeRejects(rejects))
	}
	for i, w := range want {
		r := rejects[i]
		if r.Line != w.line || r.Field != w.field || !strings.Contains(r.Reason, w.cell) ||
			!strings.Contains(r.Reason, "never calculated") || !strings.Contains(r.Reason, "open the file in Excel or LibreOffice and save it") {
			t.Errorf("reject %d = line %d field %q: %s\nwant line %d, field %q, %q", i, r.Line, r.Field, r.Reason, w.line, w.field, w.cell)
		}
	}
	if imp.Read != 7 {
		t.Errorf("read %d rows, want 7 (rows 2–6, 8 and 9)", imp.Read)
	}
}

// TestImport_XlsxManyUncalculatedFormulasRefuseTheFile: past maxUncalculatedCells cells whose
// formula was never calculated, the file is refused, naming the first cell and their count:
// the program that wrote it computes no formula, and a reject for every row would say less.
func TestImport_XlsxManyUncalculatedFormulasRefuseTheFile(t *testing.T) {
	defer func(old int) { maxUncalculatedCells = old }(maxUncalculatedCells)
	maxUncalculatedCells = 3
	rowsXML := xlsxRow("1", "customer_id", "email", "exposed")
	for i := 2; i <= 6; i++ {
		rowsXML += fmt.Sprintf(`<row r="%d"><c r="A%d" t="inlineStr"><is><t>C%d</t></is></c><c r="B%d" t="inlineStr"><is><t>c%d@example.com</t></is></c><c r="C%d"><f>Categories!B%d</f><v/></c></row>`, i, i, i, i, i, i, i)
	}
	_, _, _, err := parseBytes(t, workbookWithRows(t, rowsXML), Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), "5 cells") || !strings.Contains(err.Error(), "the first in cell C2") ||
		!strings.Contains(err.Error(), "open the file in Excel or LibreOffice and save it") {
		t.Fatalf("err %v, want the file refused naming C2 and 5 cells", err)
	}
}

// TestScanWorksheet_FormulasAndRowsInsideSheetDataOnly: the scan of a worksheet's XML finds
// the cells whose formula has no value whatever the elements' prefix, and not in what a
// comment, a CDATA section or a text holds, nor in the formulas of data validations after the
// rows (<xm:f>).
func TestScanWorksheet_FormulasAndRowsInsideSheetDataOnly(t *testing.T) {
	xml := `<?xml version="1.0"?><x:worksheet xmlns:x="s"><x:sheetData>` +
		`<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>&lt;x:f&gt;<![CDATA[<x:c r="B1"><x:f>1</x:f></x:c>]]></x:t></x:is></x:c>` +
		`<!-- <x:c r="C1"><x:f>1</x:f></x:c> --><x:c r="D1"><x:f>1+1</x:f><x:v>2</x:v></x:c><x:c r="E1" t="str"><x:f>""</x:f><x:v></x:v></x:c></x:row>` +
		`<x:row r="3" spans="1:3"><x:c r="B3"><x:f>1+1</x:f></x:c><x:c r='C3' t="n"><x:f t="shared" si="0"/><x:v/></x:c><x:c r="D3" t="str"><x:f>1</x:f><x:v>1</x:v></x:c></x:row>` +
		`<x:row><x:c><x:f>1</x:f></x:c><x:c/><x:c t="str"><x:f>1</x:f></x:c></x:row>` +
		`</x:sheetData><x:mergeCells count="1"><x:mergeCell ref="D2:D4"/></x:mergeCells>` +
		`<x:extLst><x:ext><x14:dataValidations><x14:dataValidation><x14:formula1><xm:f>Lists!$A$1:$A$9</xm:f></x14:formula1></x14:dataValidation></x14:dataValidations></x:ext></x:extLst></x:worksheet>`
	var refs []string
	s := worksheetScan{mergeRef: func(ref string) error {
		refs = append(refs, ref)
		return nil
	}}
	if err := s.scan(bufio.NewReaderSize(strings.NewReader(xml), 16)); err != nil {
		t.Fatal(err)
	}
	var cells []string
	for _, c := range s.uncalculated {
		cells = append(cells, c.name())
	}
	if strings.Join(refs, " ") != "D2:D4" || strings.Join(cells, " ") != "B3 C3 A4 C4" || s.nUncalculated != 4 {
		t.Fatalf("refs %q, uncalculated %q (%d); want D2:D4 and B3 C3 A4 C4", refs, cells, s.nUncalculated)
	}
}
