package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/plaintext"
)

// odsSheet is a sheet of a test .ods: its name, whether it is hidden, and its rows' XML.
type odsSheet struct {
	name   string
	hidden bool
	rows   string
}

// odsOf returns an OpenDocument spreadsheet of sheets, made as LibreOffice makes one: the
// mimetype entry first and stored, a manifest, and content.xml with the sheets' table styles.
func odsOf(t testing.TB, sheets ...odsSheet) []byte {
	t.Helper()
	return odsWith(t, "", func(w io.Writer) {
		for i, s := range sheets {
			style := "ta1"
			if s.hidden {
				style = "ta2"
			}
			fmt.Fprintf(w, `<table:table table:name="%s" table:style-name="%s">`, html.EscapeString(s.name), style)
			io.WriteString(w, `<table:table-column table:style-name="co1" table:number-columns-repeated="6" table:default-cell-style-name="Default"/>`)
			io.WriteString(w, s.rows)
			if i == 0 { // LibreOffice's rest of the sheet: a million blank rows of 16,384 blank cells
				io.WriteString(w, `<table:table-row table:style-name="ro1" table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>`)
			}
			io.WriteString(w, `</table:table>`)
		}
	})
}

// odsWith returns an .ods whose content.xml's sheets are what sheets writes, and whose manifest
// says manifestExtra of content.xml (encryption data).
func odsWith(t testing.TB, manifestExtra string, sheets func(io.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, odsMimetype)
	w, _ = zw.Create("META-INF/manifest.xml")
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">`+manifestExtra+`</manifest:file-entry>
</manifest:manifest>`)
	w, _ = zw.Create("content.xml")
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.3">`+
		`<office:automatic-styles>`+
		`<style:style style:name="ta1" style:family="table" style:master-page-name="Default"><style:table-properties table:display="true" style:writing-mode="lr-tb"/></style:style>`+
		`<style:style style:name="ta2" style:family="table" style:master-page-name="Default"><style:table-properties table:display="false" style:writing-mode="lr-tb"/></style:style>`+
		`</office:automatic-styles><office:body><office:spreadsheet><table:calculation-settings table:automatic-find-labels="false"/>`)
	sheets(w)
	io.WriteString(w, `<table:named-expressions/></office:spreadsheet></office:body></office:document-content>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// odsRowXML is a row of cells, each a cell's XML (see str, num, date, empty).
func odsRowXML(cells ...string) string {
	return `<table:table-row table:style-name="ro1">` + strings.Join(cells, "") + `</table:table-row>`
}

// str is a text cell as LibreOffice writes it.
func str(text string) string {
	return `<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>` + html.EscapeString(text) + `</text:p></table:table-cell>`
}

// num is a number cell holding value, shown as shown by its format.
func num(value, shown string) string {
	return `<table:table-cell table:style-name="ce1" office:value-type="float" office:value="` + value + `" calcext:value-type="float"><text:p>` + shown + `</text:p></table:table-cell>`
}

// date is a date cell holding value (ISO 8601), shown as shown by its format.
func date(value, shown string) string {
	return `<table:table-cell table:style-name="ce2" office:value-type="date" office:date-value="` + value + `" calcext:value-type="date"><text:p>` + shown + `</text:p></table:table-cell>`
}

const empty = `<table:table-cell/>`

// TestImport_OdsImportsLikeCSVWithRowNumbers: an OpenDocument spreadsheet made the way people
// make one (headers as typed, a phone typed as a number and one shown in scientific notation,
// a date, a name with spacing and styled words, a comment, an empty row, a row repeated, the
// million blank rows LibreOffice writes after the data) imports like the same list as CSV, and
// its rejects name the spreadsheet's row numbers.
func TestImport_OdsImportsLikeCSVWithRowNumbers(t *testing.T) {
	rows := odsRowXML(str("Customer ID"), str("E-mail"), str("Mobile"), str("Language"), str("Name"), str("Customer since")) +
		odsRowXML(str("AT-1"), str("maria@example.com"), num("51987654321", "51987654321"), str("es-PE"), str("María Quispe"), date("2019-03-14", "2019-03-14")) +
		odsRowXML(str("AT-2"), str("jose@example.com"), str("987 654 322"), str("es"),
			`<table:table-cell office:value-type="string"><office:annotation><text:p>call first</text:p></office:annotation><text:p>José <text:span text:style-name="T1">&lt;b&gt;Núñez&lt;/b&gt;</text:span></text:p></table:table-cell>`, empty) +
		odsRowXML(str("AT-3"), str("a@b"), empty, empty, str("Bad Address"), empty) +
		`<table:table-row table:style-name="ro1"><table:table-cell table:number-columns-repeated="6"/></table:table-row>` +
		odsRowXML(str("AT-4"), empty, num("51987654324", "5.20E+10"), str("en"), str("Ana"), empty) +
		odsRowXML(num("4711", "4711"), str("id@example.com"), empty, empty, `<table:table-cell office:value-type="string"><text:p>Numeric<text:s/> <text:s text:c="2"/>Id</text:p></table:table-cell>`, empty) +
		`<table:table-row table:style-name="ro1" table:number-rows-repeated="2">` + str("AT-5") + str("rep@example.com") + `<table:table-cell table:number-columns-repeated="2"/>` + str("Rep") + `</table:table-row>`
	start := time.Now()
	got, rejects, imp := mustParseBytes(t, odsOf(t, odsSheet{name: "Clientes", rows: rows}), Options{})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("reading took %v: the million blank rows after the data must be skipped, not counted through", d)
	}
	if imp.Sheet != "Clientes" || imp.Encoding != "" || imp.Delimiter != "" {
		t.Errorf("format: sheet %q encoding %q delimiter %q", imp.Sheet, imp.Encoding, imp.Delimiter)
	}
	if len(rejects) != 1 || rejects[0].Line != 4 || rejects[0].Field != "email" || rejects[0].CustomerID != "AT-3" {
		t.Fatalf("rejects %s, want row 4 (a@b) only", describeRejects(rejects))
	}
	if !slices.Equal(rowLines(got), []int64{2, 3, 6, 7, 8, 9}) {
		t.Fatalf("rows at %v, want the spreadsheet's rows 2, 3, 6, 7, 8, 9", rowLines(got))
	}
	want := []breach.Recipient{
		{CustomerID: "AT-1", Email: "maria@example.com", Phone: "+51987654321", Locale: "es-PE", Name: "María Quispe"},
		{CustomerID: "AT-2", Email: "jose@example.com", Phone: "+51987654322", Locale: "es", Name: "José Núñez"},
		{CustomerID: "AT-4", Phone: "+51987654324", Locale: "en", Name: "Ana"},
		{CustomerID: "4711", Email: "id@example.com", Name: "Numeric Id"},
		{CustomerID: "AT-5", Email: "rep@example.com", Name: "Rep"},
		{CustomerID: "AT-5", Email: "rep@example.com", Name: "Rep"},
	}
	for i, w := range want {
		g := got[i]
		if g.CustomerID != w.CustomerID || g.Email != w.Email || g.Phone != w.Phone || g.Locale != w.Locale || g.Name != w.Name {
			t.Errorf("row %d = %+v\nwant %+v", g.Line, g.Recipient, w)
		}
	}
	if since := got[0].Attribute("customer_since"); since != "2019-03-14" {
		t.Errorf("the date cell reads %q, want 2019-03-14, as shown", since)
	}

	// The same list as CSV gives the same recipients.
	csvRows, csvRejects, _ := mustParse(t, "Customer ID,E-mail,Mobile,Language,Name\n"+
		"AT-1,maria@example.com,51987654321,es-PE,María Quispe\n"+
		"AT-2,jose@example.com,987 654 322,es,José <b>Núñez</b>\n"+
		"AT-3,a@b,,,Bad Address\n\n"+
		"AT-4,,51987654324,en,Ana\n"+
		"4711,id@example.com,,,Numeric  Id\n"+
		"AT-5,rep@example.com,,,Rep\n"+
		"AT-5,rep@example.com,,,Rep\n", Options{})
	if len(csvRejects) != 1 || len(csvRows) != len(got) {
		t.Fatalf("CSV: %d rows, rejects %s", len(csvRows), describeRejects(csvRejects))
	}
	for i := range csvRows {
		c, x := csvRows[i], got[i]
		if c.CustomerID != x.CustomerID || c.Email != x.Email || c.Phone != x.Phone || c.Locale != x.Locale || c.Name != x.Name || c.Line != x.Line {
			t.Errorf("CSV row %+v, ods row %+v", c, x)
		}
	}
}

// TestImport_OdsCellsReadAsShown: a cell reads as the spreadsheet shows it: its paragraphs one
// a line, the spaces, tabs and line breaks it holds, links and styled words as their text; not
// its comment, nor a ruby annotation, nor the white space of the XML's indentation. A cell
// written without paragraphs (by a program) reads as its value.
func TestImport_OdsCellsReadAsShown(t *testing.T) {
	cell := func(inner string) string {
		return `<table:table-cell office:value-type="string">` + inner + `</table:table-cell>`
	}
	rows := odsRowXML(str("customer_id"), str("email"), str("note"), str("plan"), str("since")) +
		odsRowXML(str("C1"), str("c1@example.com"),
			cell(`<text:p>  Line   one <text:span text:style-name="T1">bold</text:span><text:s text:c="3"/>x<text:tab/>y</text:p>`+
				"\n  <office:annotation><text:p>a comment</text:p></office:annotation>\n  "+
				`<text:p>see <text:a xlink:href="https://example.com">the site</text:a><text:line-break/><text:ruby><text:ruby-base>漢</text:ruby-base><text:ruby-text>kan</text:ruby-text></text:ruby></text:p>`),
			`<table:table-cell office:value-type="float" office:value="2.5"/>`,
			`<table:table-cell office:value-type="date" office:date-value="2020-02-29"/>`)
	got, rejects, _ := mustParseBytes(t, odsOf(t, odsSheet{name: "Sheet1", rows: rows}), Options{})
	if len(got) != 1 {
		t.Fatalf("%d rows, rejects %s", len(got), describeRejects(rejects))
	}
	if note, want := got[0].Attribute("note"), "Line one bold   x\ty\nsee the site\n漢"; note != want {
		t.Errorf("note %q, want %q", note, want)
	}
	if plan, since := got[0].Attribute("plan"), got[0].Attribute("since"); plan != "2.5" || since != "2020-02-29" {
		t.Errorf("cells without paragraphs: plan %q, since %q; want their values", plan, since)
	}
}

// TestImport_OdsNumbersInPhoneAndIDColumnsKeepTheirDigits: in the phone and customer_id
// columns, a number shown in scientific notation reads as the integer it holds, a phone shown
// with thousands separators or decimals as its integer, and a number of more than 15 digits
// rejects its row (a spreadsheet keeps 15); a customer_id shown with separators is read as
// shown, as for a workbook; other columns are read as shown.
func TestImport_OdsNumbersInPhoneAndIDColumnsKeepTheirDigits(t *testing.T) {
	rows := odsRowXML(str("customer_id"), str("email"), str("phone"), str("amount")) +
		odsRowXML(num("1234567", "1,234,567"), str("a@example.com"), num("987654321", "987,654,321"), num("1500", "1.50E+03")) +
		odsRowXML(num("51987654322", "5.19877E+10"), str("b@example.com"), num("987654322", "987654322.00"), empty) +
		odsRowXML(num("1.2345678901234568E+17", "1.23456789012346E+17"), str("c@example.com"), empty, empty) +
		odsRowXML(str("C4"), str("d@example.com"), str("987,654,323"), empty)
	got, rejects, _ := mustParseBytes(t, odsOf(t, odsSheet{name: "Sheet1", rows: rows}), Options{})
	if len(rejects) != 2 || rejects[0].Line != 4 || !strings.Contains(rejects[0].Reason, "15 digits") || rejects[1].CustomerID != "C4" || rejects[1].Field != "phone" {
		t.Fatalf("rejects %s; want row 4's 18-digit ID and C4's text phone", describeRejects(rejects))
	}
	if ids := customerIDs(got); !slices.Equal(ids, []string{"1,234,567", "51987654322"}) {
		t.Errorf("customer IDs %q", ids)
	}
	if got[0].Phone != "+51987654321" || got[1].Phone != "+51987654322" || got[0].Attribute("amount") != "1.50E+03" {
		t.Errorf("phones %q %q, amount %q", got[0].Phone, got[1].Phone, got[0].Attribute("amount"))
	}
}

// TestImport_OdsMergedCellFillsTheRowsBelow: a cell merged down a block of rows gives its value
// to every row of the block, in its own column only, as in a workbook: a note merged across
// columns does not become the next column's value.
func TestImport_OdsMergedCellFillsTheRowsBelow(t *testing.T) {
	covered := `<table:covered-table-cell/>`
	rows := odsRowXML(str("customer_id"), str("email"), str("country"), str("note")) +
		odsRowXML(str("C1"), str("c1@example.com"), `<table:table-cell table:number-rows-spanned="3" office:value-type="string"><text:p>Chile</text:p></table:table-cell>`, empty) +
		odsRowXML(str("C2"), `<table:table-cell table:number-columns-spanned="2" office:value-type="string"><text:p>c2@example.com</text:p></table:table-cell>`, covered, empty) +
		odsRowXML(str("C3"), str("c3@example.com"), covered, empty) +
		odsRowXML(str("C4"), str("c4@example.com"), empty, empty)
	got, rejects, _ := mustParseBytes(t, odsOf(t, odsSheet{name: "Sheet1", rows: rows}), Options{})
	if len(rejects) != 0 || len(got) != 4 {
		t.Fatalf("%d rows, rejects %s", len(got), describeRejects(rejects))
	}
	for i, want := range []string{"CL", "CL", "CL", ""} {
		if got[i].Country != want {
			t.Errorf("%s: country %q, want %q", got[i].CustomerID, got[i].Country, want)
		}
	}
	if got[1].Email != "c2@example.com" {
		t.Errorf("C2: email %q", got[1].Email)
	}
}

// TestImport_OdsHiddenRowsAreImportedWithAWarning: rows a filter hides (visibility="filter")
// or hidden by hand ("collapse") are imported, each named in the warnings, as in a workbook.
func TestImport_OdsHiddenRowsAreImportedWithAWarning(t *testing.T) {
	rows := odsRowXML(str("customer_id"), str("email")) +
		odsRowXML(str("C1"), str("c1@example.com")) +
		`<table:table-row table:visibility="collapse">` + str("C2") + str("c2@example.com") + `</table:table-row>` +
		`<table:table-row table:visibility="filter">` + str("C3") + str("c3@example.com") + `</table:table-row>` +
		odsRowXML(str("C4"), str("c4@example.com"))
	got, _, imp := mustParseBytes(t, odsOf(t, odsSheet{name: "Sheet1", rows: rows}), Options{})
	if len(got) != 4 {
		t.Errorf("%d rows imported, want all 4", len(got))
	}
	if len(imp.Warnings) != 2 || imp.Warnings[0].Line != 3 || imp.Warnings[1].Line != 4 || imp.Warnings[0].Field != "row" {
		t.Errorf("warnings %+v, want rows 3 and 4", imp.Warnings)
	}
}

// TestImport_OdsSheetIsChosenByName: as for a workbook, --sheet NAME (in any letter case)
// chooses; without it, the one visible sheet with rows is read — not an empty first sheet, a
// header alone or a hidden sheet of drop-down values — and a spreadsheet with several is
// refused, naming them; an unknown sheet is refused with the spreadsheet's sheets.
func TestImport_OdsSheetIsChosenByName(t *testing.T) {
	list := func(prefix string, n int) string {
		rows := odsRowXML(str("Customer ID"), str("email"))
		for i := 1; i <= n; i++ {
			rows += odsRowXML(str(fmt.Sprintf("%s%d", prefix, i)), str(fmt.Sprintf("%s%d@example.com", strings.ToLower(prefix), i)))
		}
		return rows
	}
	data := odsOf(t, odsSheet{name: "Notes"}, odsSheet{name: "Headers", rows: list("H", 0)},
		odsSheet{name: "Listas", hidden: true, rows: odsRowXML(str("Plan")) + odsRowXML(str("Prepago"))},
		odsSheet{name: "Clientes", rows: list("P", 1)})
	if rows, _, imp := mustParseBytes(t, data, Options{}); imp.Sheet != "Clientes" || len(rows) != 1 {
		t.Errorf("read %q, %d rows; want Clientes' one", imp.Sheet, len(rows))
	}

	data = odsOf(t, odsSheet{name: "Clientes", rows: list("P", 1)}, odsSheet{name: "Customers & Co", rows: list("E", 2)},
		odsSheet{name: "Chile", hidden: true, rows: list("CL", 1)})
	_, _, _, err := parseBytes(t, data, Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), `3 sheets with rows ("Clientes", "Customers & Co", "Chile" (hidden))`) || !strings.Contains(err.Error(), "--sheet") {
		t.Errorf("no sheet named in a spreadsheet with three lists: %v; want them named, and how to choose", err)
	}
	// A hidden list under a title row is found as well.
	titled := odsOf(t, odsSheet{name: "Clientes", rows: list("P", 1)},
		odsSheet{name: "Chile", hidden: true, rows: odsRowXML(str("Clientes Chile (confidencial)")) + list("CL", 1)})
	if _, _, _, err := parseBytes(t, titled, Options{}); !isInvalid(err) || !strings.Contains(err.Error(), `"Chile" (hidden)`) {
		t.Errorf("a hidden list under a title row: %v; want it named", err)
	}
	for _, tt := range []struct{ sheet, want string }{{"Clientes", "Clientes"}, {"customers & co", "Customers & Co"}, {"Chile", "Chile"}} {
		rows, _, imp := mustParseBytes(t, data, Options{Sheet: tt.sheet})
		if imp.Sheet != tt.want || len(rows) != map[string]int{"Clientes": 1, "Customers & Co": 2, "Chile": 1}[tt.want] {
			t.Errorf("sheet %q: read %q, %d rows; want %q", tt.sheet, imp.Sheet, len(rows), tt.want)
		}
	}
	_, _, _, err = parseBytes(t, data, Options{Sheet: "Kunden"})
	if !isInvalid(err) || !strings.Contains(err.Error(), `no sheet "Kunden" (its sheets: Clientes, Customers & Co, Chile)`) {
		t.Errorf("unknown sheet: %v", err)
	}
}

// TestImport_OdsThatIsNoListIsRefusedSayingWhy: a text document, a spreadsheet saved with a
// password, and one whose XML is broken are refused with what is wrong — the last naming the
// sheet and row.
func TestImport_OdsThatIsNoListIsRefusedSayingWhy(t *testing.T) {
	odt := zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"content.xml", "<office:document-content/>"})
	encrypted := odsWith(t, `<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/></manifest:encryption-data>`,
		func(w io.Writer) { io.WriteString(w, "\x8f\x01binary") })
	broken := odsWith(t, "", func(w io.Writer) {
		io.WriteString(w, `<table:table table:name="Sheet1">`+odsRowXML(str("customer_id"), str("email"))+odsRowXML(str("C1"), str("c1@example.com"))+
			`<table:table-row><table:table-cell office:value-type="string"><text:p>C2</table:table-cell></table:table-row></table:table>`)
	})
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"odt", odt, "OpenDocument text document (.odt), not a spreadsheet"},
		{"password", encrypted, "protected with a password"},
		{"broken XML", broken, `sheet "Sheet1", row 3`},
	} {
		_, _, _, err := parseBytes(t, tt.data, Options{})
		if !isInvalid(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want EINVALID mentioning %q", tt.name, err, tt.want)
		}
	}
}

// TestImport_OdsRowLimitsApply: a row over MaxRowBytes is rejected with its row number, a long
// name is cut, a cell repeated across reads as many cells, and a row wider than
// MaxRowFields is rejected without its cells being expanded a million times.
func TestImport_OdsRowLimitsApply(t *testing.T) {
	header := []string{str("customer_id"), str("email"), str("name"), str("plan"), str("region")}
	wide := []string{str("C1"), str("a@example.com"), str("Ana"), str("x"), str(strings.Repeat("n", 2<<20))}
	rows := odsRowXML(header...) + odsRowXML(wide...) +
		odsRowXML(str("C2"), str("b@example.com"), str(strings.Repeat("Bob ", 100_000)), `<table:table-cell table:number-columns-repeated="2" office:value-type="string"><text:p>Prepago</text:p></table:table-cell>`) +
		odsRowXML(str("C3"), str("c@example.com"), empty, empty, empty, `<table:table-cell table:number-columns-repeated="1000000" office:value-type="string"><text:p>x</text:p></table:table-cell>`) +
		odsRowXML(str("C4"), str("d@example.com"))
	got, rejects, imp := mustParseBytes(t, odsOf(t, odsSheet{name: "Sheet1", rows: rows}), Options{})
	if len(rejects) != 2 || rejects[0].Line != 2 || rejects[0].CustomerID != "C1" || !strings.Contains(rejects[0].Reason, "longer than 1 MiB") ||
		rejects[1].Line != 4 || !strings.Contains(rejects[1].Reason, "more than 1,024 fields") {
		t.Errorf("rejects %s, want row 2, over the row limit, and row 4, too wide", describeRejects(rejects))
	}
	if len(got) != 2 || got[0].CustomerID != "C2" || len(got[0].Name) > plaintext.MaxName || imp.Warned != 1 ||
		got[0].Attribute("plan") != "Prepago" || got[0].Attribute("region") != "Prepago" {
		t.Errorf("rows %v (%+v), warned %d; want C2 with its name cut and its plan repeated, and C4", customerIDs(got), got, imp.Warned)
	}
}

// TestImport_OdsFromAStreamLeavesNoTemporaryFile: a streamed .ods is spooled to a temporary
// file, which is there while the sheet is read and gone once the import ends.
func TestImport_OdsFromAStreamLeavesNoTemporaryFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	data := odsOf(t, odsSheet{name: "Sheet1", rows: odsRowXML(str("customer_id"), str("email")) + odsRowXML(str("C1"), str("c1@example.com"))})
	path := filepath.Join(t.TempDir(), "list.ods")
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
				if left, _ := os.ReadDir(tmp); name == "stream" && len(left) == 0 {
					t.Errorf("stream: no temporary file while the sheet is read")
				}
				return nil
			}, func(context.Context, int64) {})
		if err != nil || imp.Read != 1 {
			t.Fatalf("%s: read %d: %v", name, imp.Read, err)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("%s: %d files left in the temporary directory", name, len(left))
		}
	}
}

// TestImport_OdsRowsInFlatMemory: the sheet is read as a stream: the heap while 100,000
// rows are read stays within a few MB of what it was before, and no row is lost.
func TestImport_OdsRowsInFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 100,000 rows")
	}
	const n = 100_000 // 200,000 took a minute under the race detector, for the same answer
	data := odsWith(t, "", func(w io.Writer) {
		io.WriteString(w, `<table:table table:name="Sheet1">`+odsRowXML(str("Customer ID"), str("E-mail"), str("Mobile"), str("Language"), str("Name")))
		for i := 1; i <= n; i++ {
			io.WriteString(w, odsRowXML(str(fmt.Sprintf("C%06d", i)), str(fmt.Sprintf("customer%d@example.com", i)),
				num(fmt.Sprint(51900000000+i), fmt.Sprint(51900000000+i)), str("es-PE"), str(fmt.Sprintf("Customer %d", i))))
		}
		io.WriteString(w, `</table:table>`)
	})
	im := newTestImporter(t)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	// The heap is the process's: once in a CI run, something else of the test binary's held
	// 15 MB during the read (23 MB at most, 8 to 9 in every run alone or with the package). A
	// reader that is no stream grows in every read, so the smaller growth of two reads is
	// what is judged.
	var before, peak uint64
	for try := 0; try < 2; try++ {
		b, p := heap(), uint64(0)
		imp := &breach.Import{}
		err := im.parse(context.Background(), &breach.Campaign{DefaultCountry: "PE"}, imp, bytes.NewReader(data), Options{},
			func(context.Context, *breach.ImportBatch) error {
				if imp.Read%20_000 < 1024 { // about every 20,000 rows
					p = max(p, heap())
				}
				return nil
			}, func(context.Context, int64) {})
		if err != nil || imp.Read != n || imp.Rejected != 0 {
			t.Fatalf("read %d, rejected %d: %v", imp.Read, imp.Rejected, err)
		}
		if try == 0 || int64(p)-int64(b) < int64(peak)-int64(before) {
			before, peak = b, p
		}
		if int64(peak)-int64(before) <= 12<<20 {
			break
		}
	}
	if grown := int64(peak) - int64(before); grown > 12<<20 {
		t.Errorf("the heap grew by %d MB while the rows were read, want under 12 MB (120 bytes a row)", grown>>20)
	}
	t.Logf("heap %d MB before, at most %d MB while reading %d rows", before>>20, peak>>20, n)
}

// FuzzReadODS runs the whole parse over an .ods whose sheet holds arbitrary XML after a valid
// header row. Whatever it holds, parse must not panic, must account for every row it read, and
// must end in time: a repeat count is never looped through blank.
func FuzzReadODS(f *testing.F) {
	for _, s := range []string{
		odsRowXML(str("C1"), str("a@example.com")),
		`<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>`,
		`<table:table-row table:number-rows-repeated="3">` + str("C1") + `</table:table-row>`,
		odsRowXML(`<table:table-cell table:number-rows-spanned="9" table:number-columns-spanned="2"><text:p>x</text:p></table:table-cell>`, `<table:covered-table-cell/>`),
		odsRowXML(str("C1"), `<table:table-cell><text:p>a<text:s text:c="99999999"/>b</text:p></table:table-cell>`),
		`<table:table-row-group><table:table-header-rows>` + odsRowXML(str("C2"), num("1e300", "1E+300")) + `</table:table-header-rows></table:table-row-group>`,
		`<table:table-row><table:table-cell><table:table table:name="inner"><table:table-row/></table:table></table:table-cell></table:table-row>`,
		`</table:table><table:table table:name="x">`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		data := odsWith(t, "", func(w io.Writer) {
			io.WriteString(w, `<table:table table:name="S">`+odsRowXML(str("customer_id"), str("email"), str("phone"), str("name")))
			w.Write(body)
			io.WriteString(w, `</table:table>`)
		})
		start := time.Now()
		rows, rejects, imp, err := runParse(newTestImporter(t), data, Options{Sheet: "S"})
		if d := time.Since(start); d > fuzzDeadline {
			t.Fatalf("parse took %v", d)
		}
		if err != nil {
			if !isInvalid(err) {
				t.Fatalf("parse failed with %v, want an EINVALID error", err)
			}
			return
		}
		checkCounts(t, imp, rows, rejects)
	})
}

// LibreOffice's "merge cells, keeping the contents of the hidden cells" leaves the covered
// cells' text in the file; the sheet shows only the merged cell. That hidden text is no value
// of the row: it was imported as C1's email address (review).
func TestImport_OdsHiddenTextUnderAMergedCellIsNotRead(t *testing.T) {
	coveredWithText := `<table:covered-table-cell office:value-type="string"><text:p>stale.address@example.com</text:p></table:covered-table-cell>`
	rows := odsRowXML(str("customer_id"), str("name"), str("email"), str("phone")) +
		odsRowXML(str("C1"), `<table:table-cell table:number-columns-spanned="2" office:value-type="string"><text:p>Ana Quispe (no email on file)</text:p></table:table-cell>`, coveredWithText, str("+51987650001")) +
		odsRowXML(str("C2"), str("Luis"), str("luis@example.com"), empty)
	got, rejects, _ := mustParseBytes(t, odsOf(t, odsSheet{name: "Sheet1", rows: rows}), Options{})
	if len(got) != 2 || len(rejects) != 0 {
		t.Fatalf("rows %d, rejects%s", len(got), describeRejects(rejects))
	}
	if got[0].Email != "" || got[0].Phone != "+51987650001" || got[1].Email != "luis@example.com" {
		t.Errorf("C1 email %q phone %q, C2 email %q; want no email for C1, as the sheet shows", got[0].Email, got[0].Phone, got[1].Email)
	}
}

// TestImport_OdsUncalculatedFormulaRejectsItsRow: a formula cell written without its value (no
// office:value-type, or a number type with no office:value, and no text) — by a program that
// computes no formula — is not an empty cell: its row is rejected naming the cell and what to
// do, in the column's field, as for a workbook. Formulas with their value, as LibreOffice
// writes them (an empty text result included), read as before; a repeated row with one is
// rejected as often as it is shown.
func TestImport_OdsUncalculatedFormulaRejectsItsRow(t *testing.T) {
	formula := func(f, attrs string) string {
		return `<table:table-cell table:formula="` + html.EscapeString(f) + `"` + attrs + `/>`
	}
	calculated := `<table:table-cell table:formula="of:=LOWER(&quot;C5@EXAMPLE.COM&quot;)" office:value-type="string" office:string-value="c5@example.com" calcext:value-type="string"><text:p>c5@example.com</text:p></table:table-cell>` +
		`<table:table-cell table:formula="of:=51987654320+5" office:value-type="float" office:value="51987654325" calcext:value-type="float"><text:p>51987654325</text:p></table:table-cell>` +
		`<table:table-cell table:formula="of:=&quot;email&quot;" office:value-type="string" calcext:value-type="string"><text:p>email</text:p></table:table-cell>` +
		`<table:table-cell table:formula="of:=&quot;&quot;" office:value-type="string" office:string-value="" calcext:value-type="string"><text:p/></table:table-cell>`
	rows := odsRowXML(str("customer_id"), str("email"), str("phone"), str("exposed"), str("note")) +
		odsRowXML(str("C2"), str("c2@example.com"), empty, str("email")) +
		odsRowXML(str("C3"), str("c3@example.com"), empty, formula(`of:=IF([.A3]="";"";"email,password")`, "")) +
		odsRowXML(str("C4"), str("c4@example.com"), formula("of:=51987654320+4", ` office:value-type="float" calcext:value-type="float"`), str("email")) +
		odsRowXML(str("C5"), calculated) +
		odsRowXML(empty, empty, empty, empty, empty, empty, formula("of:=SUM([.A1:.A5])", "")) + // right of the header's columns: skipped
		`<table:table-row table:number-rows-repeated="2">` + formula(`of:="C"&ROW()`, "") + str("c@example.com") + `</table:table-row>`
	got, rejects, imp := mustParseBytes(t, odsOf(t, odsSheet{name: "Customers", rows: rows}), Options{})
	if !slices.Equal(customerIDs(got), []string{"C2", "C5"}) {
		t.Errorf("imported %v at %v, want C2 and C5", customerIDs(got), rowLines(got))
	}
	if len(got) == 2 && (got[1].Email != "c5@example.com" || got[1].Phone != "+51987654325" || got[1].Attribute("note") != "") {
		t.Errorf("C5 (formulas with their values) = %+v", got[1].Recipient)
	}
	want := []struct {
		line        int64
		field, cell string
	}{{3, "exposed", "cell D3 holds"}, {4, "phone", "cell C4 holds"}, {7, "customer_id", "cell A7 holds"}, {8, "customer_id", "cell A8 holds"}}
	if len(rejects) != len(want) {
		t.Fatalf("rejects %s, want rows 3, 4, 7 and 8", describeRejects(rejects))
	}
	for i, w := range want {
		r := rejects[i]
		if r.Line != w.line || r.Field != w.field || !strings.Contains(r.Reason, w.cell) ||
			!strings.Contains(r.Reason, "never calculated") || !strings.Contains(r.Reason, "open the file in Excel or LibreOffice and save it") {
			t.Errorf("reject %d = line %d field %q: %s\nwant line %d, field %q, %q", i, r.Line, r.Field, r.Reason, w.line, w.field, w.cell)
		}
	}
	if imp.Read != 6 {
		t.Errorf("read %d rows, want 6", imp.Read)
	}
}
