package importer

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestParse_DelimiterIsDetectedFromHeader: comma, semicolon and tab, each with the other two
// appearing inside fields where they are data.
func TestParse_DelimiterIsDetectedFromHeader(t *testing.T) {
	tests := []struct {
		name, csv, delim string
	}{
		{"comma", "customer_id,email,plan\nC1,a@example.com,Hogar; Internet\tTV\n", ","},
		{"semicolon", "customer_id;email;plan\nC1;a@example.com;Hogar, Internet\tTV\n", ";"},
		{"tab", "customer_id\temail\tplan\nC1\ta@example.com\tHogar, Internet; TV\n", "\t"},
		{"semicolon with a quoted comma in the header", "customer_id;email;\"plan, tier\"\nC1;a@example.com;Hogar\n", ";"},
		{"comma with a quoted semicolon in the header", "customer_id,email,\"a;b;c;d\"\nC1,a@example.com,Hogar\n", ","},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rejects, imp := mustParse(t, tt.csv, Options{})
			if imp.Delimiter != tt.delim {
				t.Errorf("delimiter %q, want %q", imp.Delimiter, tt.delim)
			}
			if len(rejects) != 0 || len(rows) != 1 {
				t.Fatalf("rows %+v, rejects %s", rows, describeRejects(rejects))
			}
			if rows[0].CustomerID != "C1" || rows[0].Email != "a@example.com" {
				t.Errorf("row %+v", rows[0])
			}
		})
	}
}

// TestParse_ExcelSepLineNamesTheDelimiter: a first line "sep=;" (Excel's delimiter hint) is
// the delimiter, not the header; the header is line 2 and every line keeps its number.
func TestParse_ExcelSepLineNamesTheDelimiter(t *testing.T) {
	tests := []struct{ name, first, delim string }{
		{"semicolon", "sep=;\n", ";"},
		{"comma with CRLF", "sep=,\r\n", ","},
		{"tab", "sep=\t\n", "\t"},
		{"pipe", "sep=|\n", "|"},
		{"quoted", "\"sep=;\"\n", ";"},
		{"saved as a row", "sep=;;;\n", ";"},
		{"upper case", "SEP=;\n", ";"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A comma in the data, so that the delimiter cannot be guessed from the header alone.
			body := "customer_id,email,plan\nC1,c1@example.com,\"Hogar, TV\"\nC2,not-an-email,x\n"
			csv := tt.first + strings.ReplaceAll(strings.ReplaceAll(body, ",", tt.delim), "Hogar"+tt.delim+" TV", "Hogar, TV")
			if tt.delim == "," {
				csv = tt.first + body
			}
			rows, rejects, imp := mustParse(t, csv, Options{})
			if imp.Delimiter != tt.delim {
				t.Errorf("delimiter %q, want %q", imp.Delimiter, tt.delim)
			}
			if !slices.Equal(rowLines(rows), []int64{3}) || rows[0].Attribute("plan") != "Hogar, TV" {
				t.Errorf("rows %+v, want C1 on line 3", rows)
			}
			if !slices.Equal(rejectLines(rejects), []int64{4}) {
				t.Errorf("rejects %s, want line 4's", describeRejects(rejects))
			}
		})
	}
	t.Run("header error names line 2", func(t *testing.T) {
		_, _, _, err := parseString(t, "sep=;\nid;mail\nC1;c1@example.com\n", Options{})
		if !isInvalid(err) || !strings.Contains(err.Error(), "line 2") || strings.Contains(err.Error(), "line 1") {
			t.Errorf("error %v, want EINVALID naming line 2", err)
		}
	})
	t.Run("a header that only starts like one is a header", func(t *testing.T) {
		rows, _, imp := mustParse(t, "sep=x,customer_id,email\n1,C1,c1@example.com\n", Options{})
		if imp.Delimiter != "," || len(rows) != 1 || rows[0].Line != 2 {
			t.Errorf("delimiter %q, rows %+v", imp.Delimiter, rows)
		}
	})
}

// TestParse_QuotedFieldsWithDelimitersAndNewlines: a multi-line address is one field, and the
// next row's Line is the physical line it starts on, so operators can find it.
func TestParse_QuotedFieldsWithDelimitersAndNewlines(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		t.Run(fmt.Sprintf("eol %q", eol), func(t *testing.T) {
			csv := strings.Join([]string{
				`customer_id,email,name,address,plan`,
				`C1,a@example.com,"Pérez, Ana","Av. Arequipa 123`,
				`Dpto. 4, Miraflores`,
				`Lima 15074","Hogar, Internet 300 Mbps + TV"`,
				`C2,b@example.com,Bob,"Calle ""Los Olivos"" 5",Prepago`,
				`C3,c@example.com,"Cid","",""`,
				`C4,d@example.com,Dan,"`,
				`",Prepago`,
				`C5,e@example.com,Eve,x,y`,
			}, eol) + eol
			rows, rejects, _ := mustParse(t, csv, Options{})
			if len(rejects) != 0 {
				t.Fatalf("rejects: %s", describeRejects(rejects))
			}
			want := []struct {
				line          int64
				id, name      string
				address, plan string
			}{
				{2, "C1", "Pérez, Ana", "Av. Arequipa 123\nDpto. 4, Miraflores\nLima 15074", "Hogar, Internet 300 Mbps + TV"},
				{5, "C2", "Bob", `Calle "Los Olivos" 5`, "Prepago"},
				{6, "C3", "Cid", "", ""},
				{7, "C4", "Dan", "", "Prepago"}, // a quoted field of only a newline trims to nothing
				{9, "C5", "Eve", "x", "y"},
			}
			if len(rows) != len(want) {
				t.Fatalf("got %d rows (%v), want %d", len(rows), customerIDs(rows), len(want))
			}
			for i, w := range want {
				r := rows[i]
				if r.Line != w.line || r.CustomerID != w.id || r.Name != w.name || r.Attribute("address") != w.address || r.Attribute("plan") != w.plan {
					t.Errorf("row %d = line %d %q %q address %q plan %q;\n want line %d %q %q address %q plan %q",
						i, r.Line, r.CustomerID, r.Name, r.Attribute("address"), r.Attribute("plan"),
						w.line, w.id, w.name, w.address, w.plan)
				}
				for k, v := range r.AttributeMap() {
					if strings.Contains(v, "\r") {
						t.Errorf("row %d attribute %s = %q keeps a CR", i, k, v)
					}
				}
			}
		})
	}
}

// TestParse_CRLFLineEndings: Windows line ends leave no '\r' in any value, including the last
// column and the header's last name.
func TestParse_CRLFLineEndings(t *testing.T) {
	csv := "customer_id,email,phone,locale\r\nC1,a@example.com,987 654 321,es-PE\r\n\r\nC2,b@example.com,,fr\r\n"
	rows, rejects, imp := mustParse(t, csv, Options{})
	if len(rejects) != 0 || len(rows) != 2 {
		t.Fatalf("rows %+v rejects %s", rows, describeRejects(rejects))
	}
	if imp.Read != 2 {
		t.Errorf("Read = %d, the blank line must not count", imp.Read)
	}
	if rows[0].Locale != "es-PE" || rows[0].Phone != "+51987654321" || rows[1].Locale != "fr" || rows[1].Line != 4 {
		t.Errorf("rows = %+v", rows)
	}
	for _, r := range rows {
		if len(r.Extra) != 0 {
			t.Errorf("line %d: attributes %v (the header's last name kept its CR?)", r.Line, r.Extra)
		}
	}
}

// TestParse_HeaderAliasesMapToFields: the names customer lists really use.
func TestParse_HeaderAliasesMapToFields(t *testing.T) {
	tests := []struct {
		header string
		row    string
		check  func(r breach.ImportRow) bool
	}{
		{"Customer ID,E-mail", "C1,a@example.com", func(r breach.ImportRow) bool { return r.CustomerID == "C1" && r.Email == "a@example.com" }},
		{"CUSTOMER_ID,Mail", "C1,a@example.com", func(r breach.ImportRow) bool { return r.CustomerID == "C1" && r.Email == "a@example.com" }},
		{" customer id ,email address", "C1,a@example.com", func(r breach.ImportRow) bool { return r.CustomerID == "C1" && r.Email == "a@example.com" }},
		{"customer_id,MSISDN", "C1,+51987654321", func(r breach.ImportRow) bool { return r.Phone == "+51987654321" }},
		{"customer_id,Mobile", "C1,987654321", func(r breach.ImportRow) bool { return r.Phone == "+51987654321" }},
		{"customer_id,phone_number", "C1,987654321", func(r breach.ImportRow) bool { return r.Phone == "+51987654321" }},
		{"customer_id,Phone Number", "C1,987654321", func(r breach.ImportRow) bool { return r.Phone == "+51987654321" }},
		{"customer_id,email,lang", "C1,a@example.com,fr-FR", func(r breach.ImportRow) bool { return r.Locale == "fr-FR" }},
		{"customer_id,email,Language", "C1,a@example.com,ko", func(r breach.ImportRow) bool { return r.Locale == "ko" }},
		{"client_id,correo,nombre,pais", "C1,a@example.com,Ana,FR", func(r breach.ImportRow) bool {
			return r.CustomerID == "C1" && r.Email == "a@example.com" && r.Name == "Ana" && r.Country == "FR"
		}},
		{"customer_id,email,First Name,Last Name", "C1,a@example.com,Ana,Pérez", func(r breach.ImportRow) bool { return r.Name == "Ana Pérez" }},
		{"customer_id,email,given_name,surname", "C1,a@example.com,Ana,Pérez", func(r breach.ImportRow) bool { return r.Name == "Ana Pérez" }},
		{"customer_id,email,Exposed Data", "C1,a@example.com,password", func(r breach.ImportRow) bool { return r.Exposed.Has(breach.CategoryPassword) }},
		{"\uFEFFcustomer_id,email", "C1,a@example.com", func(r breach.ImportRow) bool { return r.CustomerID == "C1" }},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			rows, rejects, _ := mustParse(t, tt.header+"\n"+tt.row+"\n", Options{})
			if len(rejects) != 0 || len(rows) != 1 {
				t.Fatalf("rows %+v rejects %s", rows, describeRejects(rejects))
			}
			if !tt.check(rows[0]) {
				t.Errorf("row %+v", rows[0])
			}
			if len(rows[0].Extra) != 0 {
				t.Errorf("an aliased column became an attribute: %v", rows[0].Extra)
			}
		})
	}
}

// TestParse_StateHeadersAreReadAsTheState: the names lists give a state column ("State Code",
// "ST", "State/Province") read as the state — the customer's jurisdiction — and not as an
// attribute nothing reads as one.
func TestParse_StateHeadersAreReadAsTheState(t *testing.T) {
	for _, h := range []string{"State", "State Code", "ST", "State/Province", "Province/State", "US State", "state_province", "Mailing State"} {
		t.Run(h, func(t *testing.T) {
			rows, rejects, _ := mustParseUS(t, "customer_id,email,"+h+"\nC1,c1@example.com,FL\n")
			if len(rejects) != 0 || len(rows) != 1 {
				t.Fatalf("rows %+v rejects %s", rows, describeRejects(rejects))
			}
			if rows[0].Jurisdiction != "us-fl" || len(rows[0].Extra) != 1 || rows[0].Attribute("state") != "FL" {
				t.Errorf("header %q: jurisdiction %q, attributes %v; want us-fl and the state", h, rows[0].Jurisdiction, rows[0].Extra)
			}
		})
	}
}

// TestParse_SlashInAHeaderSeparatesWords: "Size/Colour" is the attribute size_colour, as
// "Size Colour" is.
func TestParse_SlashInAHeaderSeparatesWords(t *testing.T) {
	rows, _, _ := mustParse(t, "customer_id,email,Size/Colour\nC1,c1@example.com,M red\n", Options{})
	if len(rows) != 1 || rows[0].Attribute("size_colour") != "M red" {
		t.Errorf("rows %+v, want the attribute size_colour", rows)
	}
}

// TestParse_MapOverridesHeader: --map names unknown columns, drops columns, and refuses
// mistakes instead of guessing.
func TestParse_MapOverridesHeader(t *testing.T) {
	t.Run("foreign column names", func(t *testing.T) {
		rows, rejects, _ := mustParse(t, "Kundennummer;E-Mail-Adresse;Handy\nK-1;a@example.de;+49 151 23456789\n",
			Options{Map: map[string]string{"Kundennummer": "customer_id", "e-mail-adresse": "email", "HANDY": "Phone"}})
		if len(rejects) != 0 || len(rows) != 1 {
			t.Fatalf("rows %+v rejects %s", rows, describeRejects(rejects))
		}
		if r := rows[0]; r.CustomerID != "K-1" || r.Email != "a@example.de" || r.Phone != "+4915123456789" || len(r.Extra) != 0 {
			t.Errorf("row %+v", r)
		}
	})
	t.Run("dash drops a column", func(t *testing.T) {
		rows, rejects, _ := mustParse(t, "customer_id,email,dni,plan\nC1,a@example.com,12345678,Prepago\n",
			Options{Map: map[string]string{"DNI": "-"}})
		if len(rejects) != 0 || len(rows) != 1 {
			t.Fatalf("rows %+v rejects %s", rows, describeRejects(rejects))
		}
		attrs := rows[0].AttributeMap()
		if _, ok := attrs["dni"]; ok {
			t.Errorf("dropped column is in attributes: %v", attrs)
		}
		for k, v := range attrs {
			if strings.Contains(v, "12345678") {
				t.Errorf("dropped value kept under %s", k)
			}
		}
		if attrs["plan"] != "Prepago" {
			t.Errorf("attributes %v, want plan kept", attrs)
		}
	})
	t.Run("dash drops a known field", func(t *testing.T) {
		rows, _, _ := mustParse(t, "customer_id,email,phone\nC1,a@example.com,987654321\n", Options{Map: map[string]string{"phone": "-"}})
		if len(rows) != 1 || rows[0].Phone != "" || len(rows[0].Extra) != 0 {
			t.Errorf("rows %+v", rows)
		}
	})
	t.Run("remapping resolves a clash", func(t *testing.T) {
		rows, _, _ := mustParse(t, "customer_id,email,mail\nC1,a@example.com,b@example.com\n", Options{Map: map[string]string{"mail": "-"}})
		if len(rows) != 1 || rows[0].Email != "a@example.com" {
			t.Errorf("rows %+v", rows)
		}
	})

	errs := []struct {
		name, csv string
		opts      Options
		want      []string
	}{
		{"map to an unknown field", "customer_id,email,zip\nC1,a@example.com,1\n", Options{Map: map[string]string{"zip": "postcode"}}, []string{"unknown field", "postcode"}},
		{"map a column the header lacks", "customer_id,email\nC1,a@example.com\n", Options{Map: map[string]string{"Kundennummer": "customer_id"}}, []string{"no column", "Kundennummer"}},
		{"duplicate column names", "customer_id,email,Email\nC1,a@example.com,b@example.com\n", Options{}, []string{"have the same name"}},
		{"duplicate after normalization", "customer_id,email,first name,First_Name\nC1,a@example.com,A,B\n", Options{}, []string{"have the same name"}},
		{"two columns hold one field", "customer_id,email,mail\nC1,a@example.com,b@example.com\n", Options{}, []string{"both hold email", "--map"}},
		{"map makes two columns hold one field", "customer_id,email,backup\nC1,a@example.com,b@example.com\n", Options{Map: map[string]string{"backup": "email"}}, []string{"both hold email"}},
		{"no customer_id column", "id,email\n1,a@example.com\n", Options{}, []string{"customer_id", "--map"}},
		{"no email or phone column", "customer_id,name\nC1,Ana\n", Options{}, []string{"email", "phone", "--map"}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			rows, rejects, _, err := parseString(t, tt.csv, tt.opts)
			if err == nil {
				t.Fatalf("no error; rows %+v rejects %s", rows, describeRejects(rejects))
			}
			if breach.ErrorCode(err) != breach.EINVALID {
				t.Errorf("code %q, want invalid", breach.ErrorCode(err))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "line 1: ") {
				t.Errorf("error %q does not name the header line", err)
			}
		})
	}
}

// TestParse_HeaderOnlyIsAnEmptyImport: a list without customers is not an error.
func TestParse_HeaderOnlyIsAnEmptyImport(t *testing.T) {
	for _, csv := range []string{"customer_id,email", "customer_id,email\n", "customer_id,email\r\n\r\n\n"} {
		rows, rejects, imp := mustParse(t, csv, Options{})
		if len(rows) != 0 || len(rejects) != 0 || imp.Read != 0 {
			t.Errorf("%q: rows %d rejects %d read %d", csv, len(rows), len(rejects), imp.Read)
		}
	}
}

// TestParse_NoTrailingNewline: the last row counts even without a line end.
func TestParse_NoTrailingNewline(t *testing.T) {
	rows, _, _ := mustParse(t, "customer_id,email\nC1,a@example.com\nC2,b@example.com", Options{})
	if !slices.Equal(customerIDs(rows), []string{"C1", "C2"}) {
		t.Errorf("rows %v", customerIDs(rows))
	}
}

const badRowHeader = "customer_id,email,phone,name,exposed,locale,country\n"

// TestParse_BadRowIsRejectedAndNeighboursKept: each bad row is rejected with a reason an
// operator can act on, and the valid rows on either side of it are imported.
func TestParse_BadRowIsRejectedAndNeighboursKept(t *testing.T) {
	longField := strings.Repeat("x", 1<<20)
	tests := []struct {
		name  string
		row   string
		field string   // the reject's Field, if it should name one
		want  []string // substrings of the reason
	}{
		{"too many fields", "C2,b@example.com,,Bob,,,,extra", "", []string{"fields", "8", "7"}},
		{"too many fields, the extra one empty but for spaces", "C2,b@example.com,,Bob,,,,  ,x", "", []string{"fields", "9", "7"}},
		// A name is cut, not rejected, even one that makes its row longer than the row limit
		// (TestImport_NameOverTheRowLimitKeepsTheRow); any other field that long rejects it.
		{"1 MB attribute-sized field in email", "C2," + longField + ",,Bob,,,", "email", []string{"longer than"}},
		{"control character in customer_id", "C\x1b2,b@example.com,,Bob,,,", "customer_id", []string{"U+001B"}},
		{"email without a dot in the domain", "C2,a@b,,Bob,,,", "email", []string{"a@b"}},
		{"email without an @", "C2,bob.example.com,,Bob,,,", "email", []string{"not an email address"}},
		{"phone with letters", "C2,,98765ABCD,Bob,,,", "phone", []string{"letters"}},
		{"phone too short", "C2,,12,Bob,,,", "phone", []string{"not a valid phone number"}},
		{"phone in scientific notation", "C2,,5.1987654321E+10,Bob,,,", "phone", []string{"spreadsheet", "5.1987654321E+10"}},
		// Customers whose IDs a spreadsheet rounded alike would be merged into one, the others
		// never told.
		{"customer_id in scientific notation", "1.23457E+17,b@example.com,,Bob,,,", "customer_id", []string{"spreadsheet", "1.23457E+17"}},
		{"unknown category", "C2,b@example.com,,Bob,name|favourite_color,,", "exposed", []string{"favourite_color"}},
		{"bad locale", "C2,b@example.com,,Bob,,xx-??,", "locale", []string{"xx-??"}},
		{"bad country", "C2,b@example.com,,Bob,,,Narnia", "country", []string{"Narnia"}},
		{"no customer_id", ",b@example.com,,Bob,,,", "customer_id", []string{"empty"}},
		{"customer_id too long", strings.Repeat("9", 129) + ",b@example.com,,Bob,,,", "customer_id", []string{"longer than 128"}},
		{"neither email nor phone", "C2,,,Bob,,,", "email", []string{"neither"}},
		{"row of only delimiters", ",,,,,,", "", []string{"row is empty"}},
		{"row of only spaces and delimiters", "  , ,\t,,,,", "", []string{"row is empty"}},
		{"short row of only delimiters", ",,", "", []string{"row is empty"}},
		{"row of empty quoted fields", `"","","","","","",""`, "", []string{"row is empty"}},
		{"unterminated quote at the end of the file", "C2,b@example.com,,\"Bob,,,", "name", []string{"unterminated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csv := badRowHeader +
				"C1,a@example.com,987 654 321,Ann,,,\n" +
				tt.row + "\n" +
				"C3,c@example.com,,Cid,,,\n"
			if strings.Contains(tt.name, "end of the file") {
				csv = badRowHeader + "C1,a@example.com,987 654 321,Ann,,,\nC3,c@example.com,,Cid,,,\n" + tt.row + "\n"
			}
			rows, rejects, _ := mustParse(t, csv, Options{})
			if len(rejects) != 1 {
				t.Fatalf("want 1 reject, got %s", describeRejects(rejects))
			}
			rej := rejects[0]
			wantLine := int64(3)
			if strings.Contains(tt.name, "end of the file") {
				wantLine = 4
			}
			if rej.Line != wantLine {
				t.Errorf("reject at line %d, want %d", rej.Line, wantLine)
			}
			for _, w := range tt.want {
				if !strings.Contains(rej.Reason, w) {
					t.Errorf("reason %q does not mention %q", rej.Reason, w)
				}
			}
			if tt.field != "" && rej.Field != tt.field {
				t.Errorf("reject field %q, want %q (reason %q)", rej.Field, tt.field, rej.Reason)
			}
			if len(rej.Reason) > 2000 {
				t.Errorf("reason is %d bytes long: it must not echo a huge field", len(rej.Reason))
			}
			if !slices.Equal(customerIDs(rows), []string{"C1", "C3"}) {
				t.Errorf("accepted %v, want C1 and C3", customerIDs(rows))
			}
		})
	}
}

// TestParse_RejectKeepsCustomerID: the reject names its customer when the id itself is fine,
// so an operator can look the customer up.
func TestParse_RejectKeepsCustomerID(t *testing.T) {
	_, rejects, _ := mustParse(t, badRowHeader+"AT-7,a@b,,Ann,,,\n\"AT-8\",x,y\n", Options{})
	if len(rejects) != 2 || rejects[0].CustomerID != "AT-7" || rejects[1].CustomerID != "AT-8" {
		t.Errorf("rejects %+v", rejects)
	}
}

// TestParse_RowProblemsAreAllNamed: one reject lists every problem of its row (a name is never
// one: see TestImport_MarkupNameIsNeutralisedAndTheRowKept).
func TestParse_RowProblemsAreAllNamed(t *testing.T) {
	_, rejects, _ := mustParse(t, badRowHeader+"C1,a@b,98765ABCD,<b>Ann</b>,favourite_color,xx-??,Narnia\n", Options{})
	if len(rejects) != 1 {
		t.Fatalf("rejects %s", describeRejects(rejects))
	}
	for _, w := range []string{"email:", "phone:", "exposed:", "locale:", "country:"} {
		if !strings.Contains(rejects[0].Reason, w) {
			t.Errorf("reason %q does not name %q", rejects[0].Reason, w)
		}
	}
}

// TestParse_LongLineIsRejected: a line longer than the record limit (1 MiB) is cut and
// rejected; the reader neither buffers it whole nor loses the next rows.
func TestParse_LongLineIsRejected(t *testing.T) {
	csv := badRowHeader +
		"C1,a@example.com,,Ann,,,\n" +
		"C2,b@example.com,,Bob,,," + strings.Repeat("y", 5<<20) + "\n" +
		"C3,c@example.com,,Cid,,,\n"
	rows, rejects, _ := mustParse(t, csv, Options{})
	if len(rejects) != 1 || rejects[0].Line != 3 || !strings.Contains(rejects[0].Reason, "longer than") {
		t.Fatalf("rejects %s", describeRejects(rejects))
	}
	if !slices.Equal(rowLines(rows), []int64{2, 4}) {
		t.Errorf("accepted lines %v, want 2 and 4", rowLines(rows))
	}
}

// TestParse_BlankLinesAreSkippedNotCounted: blank lines (as editors leave them) are not rows;
// a row of only delimiters is one, and is rejected as empty.
func TestParse_BlankLinesAreSkippedNotCounted(t *testing.T) {
	csv := "customer_id,email,name,plan,zone\n" +
		"\n" +
		"C1,a@example.com,Ann,,\n" +
		"\r\n" +
		"\n" +
		",,,,\n" +
		"C2,b@example.com,Bob,,\n" +
		"\n"
	rows, rejects, imp := mustParse(t, csv, Options{})
	if imp.Read != 3 {
		t.Errorf("Read = %d, want 3 (blank lines are not rows)", imp.Read)
	}
	if !slices.Equal(rowLines(rows), []int64{3, 7}) {
		t.Errorf("row lines %v, want [3 7]", rowLines(rows))
	}
	if len(rejects) != 1 || rejects[0].Line != 6 || rejects[0].Reason != "row is empty" {
		t.Errorf("rejects %s; want line 6 row is empty", describeRejects(rejects))
	}
}

// TestParse_ExcelTextIdiomIsUnwrapped: ="00123" is how Excel keeps leading zeros.
func TestParse_ExcelTextIdiomIsUnwrapped(t *testing.T) {
	tests := []struct{ name, cell, want string }{
		{"bare", `="00123"`, "00123"},
		{"quoted by the CSV writer", `"=""00123"""`, "00123"},
		{"not the idiom", `=00123`, "=00123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rejects, _ := mustParse(t, "customer_id,email,phone,account\n"+tt.cell+`,a@example.com,="0051987654321",`+tt.cell+"\n", Options{})
			if len(rows) != 1 {
				t.Fatalf("rejects %s", describeRejects(rejects))
			}
			if rows[0].CustomerID != tt.want || rows[0].Attribute("account") != strings.TrimSpace(tt.want) {
				t.Errorf("customer_id %q account %q, want %q", rows[0].CustomerID, rows[0].Attribute("account"), tt.want)
			}
			if rows[0].Phone != "+51987654321" {
				t.Errorf("phone %q", rows[0].Phone)
			}
		})
	}
}

// TestParse_ExcelTextIdiomInAttributeWithSpacesIsUnwrapped: core fields are trimmed and then
// unwrapped, so ` ="00123" ` is 00123 there; an attribute (an offer code, an account number)
// must read the same, not keep the formula text.
func TestParse_ExcelTextIdiomInAttributeWithSpacesIsUnwrapped(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email,account\n =\"00123\" ,a@example.com, =\"00123\" \n", Options{})
	if len(rows) != 1 {
		t.Fatalf("rejects %s", describeRejects(rejects))
	}
	if rows[0].CustomerID != "00123" {
		t.Errorf("customer_id %q, want 00123", rows[0].CustomerID)
	}
	if got := rows[0].Attribute("account"); got != "00123" {
		t.Errorf("attribute account = %q, want 00123 like the customer_id of the same cell text", got)
	}
}

// TestParse_UnterminatedQuoteCostsOneRow: a stray opening quote must cost its own line and
// nothing else; every valid row after it is imported with its own line number.
func TestParse_UnterminatedQuoteCostsOneRow(t *testing.T) {
	const header = "customer_id,email,name,plan\n"
	tests := []struct {
		name string
		rows []string // lines 2…; the stray quote is on line 3
	}{
		{"no later quote", []string{
			`C1,a@example.com,Ann,Prepago`,
			`C2,b@example.com,"Bob,Prepago`,
			`C3,c@example.com,Cid,Prepago`,
			`C4,d@example.com,Dan,Hogar`,
			`C5,e@example.com,Eve,Hogar`,
		}},
		{"later quoted field in another column", []string{
			`C1,a@example.com,Ann,Prepago`,
			`C2,b@example.com,"Bob,Prepago`,
			`C3,c@example.com,Cid,Prepago`,
			`C4,d@example.com,Dan,"Hogar, Internet"`,
			`C5,e@example.com,Eve,Hogar`,
		}},
		{"later quoted field with a comma in the same column", []string{
			`C1,a@example.com,Ann,Prepago`,
			`C2,b@example.com,"Bob,Prepago`,
			`C3,c@example.com,Cid,Prepago`,
			`C4,d@example.com,"Pérez, Dan",Hogar`,
			`C5,e@example.com,Eve,Hogar`,
		}},
		{"later quoted field in the same column", []string{
			`C1,a@example.com,Ann,Prepago`,
			`C2,b@example.com,"Bob,Prepago`,
			`C3,c@example.com,Cid,Prepago`,
			`C4,d@example.com,"Dan",Hogar`,
			`C5,e@example.com,Eve,Hogar`,
		}},
		{"stray quote in an attribute, later quoted attribute", []string{
			`C1,a@example.com,Ann,Prepago`,
			`C2,b@example.com,Bob,"Prepago`,
			`C3,c@example.com,Cid,Prepago`,
			`C4,d@example.com,Dan,"Hogar"`,
			`C5,e@example.com,Eve,Hogar`,
		}},
		{"stray quote in customer_id, later quoted customer_id", []string{
			`C1,a@example.com,Ann,Prepago`,
			`"C2,b@example.com,Bob,Prepago`,
			`C3,c@example.com,Cid,Prepago`,
			`"C4",d@example.com,Dan,Hogar`,
			`C5,e@example.com,Eve,Hogar`,
		}},
		{"two stray quotes", []string{
			`C1,a@example.com,Ann,Prepago`,
			`C2,b@example.com,"Bob,Prepago`,
			`C3,c@example.com,"Cid,Prepago`,
			`C4,d@example.com,Dan,"Hogar, Internet"`,
			`C5,e@example.com,Eve,Hogar`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rejects, _ := mustParse(t, header+strings.Join(tt.rows, "\n")+"\n", Options{})
			var wantRejects []int64
			for i, r := range tt.rows {
				if strings.Count(r, `"`)%2 == 1 {
					wantRejects = append(wantRejects, int64(i+2))
				}
			}
			if !slices.Equal(rejectLines(rejects), wantRejects) {
				t.Errorf("rejected lines %v, want %v:%s", rejectLines(rejects), wantRejects, describeRejects(rejects))
			}
			for _, r := range rejects {
				if !strings.Contains(r.Reason, "unterminated") {
					t.Errorf("line %d: reason %q does not say unterminated", r.Line, r.Reason)
				}
			}
			var wantIDs []string
			var wantLines []int64
			for i := range tt.rows {
				if !slices.Contains(wantRejects, int64(i+2)) {
					wantIDs = append(wantIDs, fmt.Sprintf("C%d", i+1))
					wantLines = append(wantLines, int64(i+2))
				}
			}
			if !slices.Equal(customerIDs(rows), wantIDs) || !slices.Equal(rowLines(rows), wantLines) {
				t.Errorf("accepted %v at lines %v; want %v at %v", customerIDs(rows), rowLines(rows), wantIDs, wantLines)
			}
			for _, r := range rows {
				for k, v := range r.AttributeMap() {
					if strings.Contains(v, "\n") {
						t.Errorf("line %d: attribute %s = %q swallowed other lines", r.Line, k, v)
					}
				}
			}
		})
	}
}

// TestParse_UnterminatedQuoteBeyondRecordLimit: a quote left open in a long file is given up on
// after the record limit, and the rows after it still arrive.
func TestParse_UnterminatedQuoteBeyondRecordLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,email,name\n")
	b.WriteString("C0,x@example.com,\"Never closed\n")
	for i := 1; i <= 3*maxRecordLines; i++ {
		fmt.Fprintf(&b, "C%d,c%d@example.com,Name %d\n", i, i, i)
	}
	rows, rejects, _ := mustParse(t, b.String(), Options{})
	if len(rejects) != 1 || rejects[0].Line != 2 {
		t.Fatalf("rejects %s", describeRejects(rejects))
	}
	if len(rows) != 3*maxRecordLines || rows[0].Line != 3 || rows[len(rows)-1].Line != int64(3*maxRecordLines+2) {
		t.Errorf("accepted %d rows, lines %d…%d", len(rows), rows[0].Line, rows[len(rows)-1].Line)
	}
}

// TestParse_ManySmallBatchesKeepEveryRow: with many workers and tiny batches, every row arrives
// exactly once, whatever order the workers finish in.
func TestParse_ManySmallBatchesKeepEveryRow(t *testing.T) {
	const n = 2000
	var b strings.Builder
	b.WriteString("customer_id,phone\n")
	for i := range n {
		if i%10 == 9 {
			fmt.Fprintf(&b, "C%d,not a phone\n", i)
			continue
		}
		fmt.Fprintf(&b, "C%d,+51 9%08d\n", i, i)
	}
	var batches atomic.Int64
	rows, rejects, imp := mustParse(t, b.String(), Options{Workers: 8, BatchRows: 7, OnProgress: func(Progress) { batches.Add(1) }})
	if imp.Read != n || len(rejects) != n/10 {
		t.Errorf("read %d rejected %d, want %d and %d", imp.Read, len(rejects), n, n/10)
	}
	seen := map[int64]bool{}
	for _, l := range append(rowLines(rows), rejectLines(rejects)...) {
		if seen[l] {
			t.Fatalf("line %d delivered twice", l)
		}
		seen[l] = true
	}
	for l := int64(2); l <= n+1; l++ {
		if !seen[l] {
			t.Fatalf("line %d never delivered", l)
		}
	}
	if batches.Load() == 0 {
		t.Error("OnProgress never called (it must be called at least at the end)")
	}
}

// TestParse_WriteErrorStopsTheImport: a storage failure fails the parse, without deadlocking
// the workers.
func TestParse_WriteErrorStopsTheImport(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,email\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "C%d,c%d@example.com\n", i, i)
	}
	im := newTestImporter(t)
	boom := errors.New("disk full")
	calls := 0
	write := func(context.Context, *breach.ImportBatch) error {
		calls++
		if calls == 3 {
			return boom
		}
		return nil
	}
	done := make(chan error, 1)
	go func() {
		done <- im.parse(context.Background(), &breach.Campaign{DefaultCountry: "PE"}, &breach.Import{}, strings.NewReader(b.String()),
			Options{Workers: 4, BatchRows: 10}, write, func(context.Context, int64) {})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want the write error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("parse did not return after a write error")
	}
}

// TestParse_ProgressIsReported: progress is recorded while reading, and only goes forward.
func TestParse_ProgressIsReported(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,email\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "C%d,c%d@example.com\n", i, i)
	}
	im := newTestImporter(t)
	write := func(context.Context, *breach.ImportBatch) error { return nil }
	var last int64
	err := im.parse(context.Background(), &breach.Campaign{}, &breach.Import{}, strings.NewReader(b.String()),
		Options{Workers: 2, BatchRows: 100, ProgressEvery: time.Nanosecond}, write,
		func(_ context.Context, read int64) {
			if read < last {
				t.Errorf("progress went back from %d to %d", last, read)
			}
			last = read
		})
	if err != nil || last == 0 {
		t.Fatalf("err %v, last progress %d", err, last)
	}
}

// TestParse_BatchesReachTheStoreInLineOrder: the store lets a customer's later row win over
// an earlier one, so batches must arrive in line order however the workers interleave.
func TestParse_BatchesReachTheStoreInLineOrder(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,email\n")
	for i := range 20000 {
		if i%7 == 0 {
			fmt.Fprintf(&b, "C%d,broken@\n", i) // rejects travel in the same order
		} else {
			fmt.Fprintf(&b, "C%d,c%d@example.com\n", i, i)
		}
	}
	for _, workers := range []int{1, 3, 8} {
		var last int64
		write := func(_ context.Context, batch *breach.ImportBatch) error {
			lo, hi := int64(1<<62), int64(0)
			for _, r := range batch.Rows {
				lo, hi = min(lo, r.Line), max(hi, r.Line)
			}
			for _, r := range batch.Rejects {
				lo, hi = min(lo, r.Line), max(hi, r.Line)
			}
			if lo <= last {
				t.Errorf("workers=%d: a batch starting at line %d came after line %d", workers, lo, last)
			}
			last = hi
			return nil
		}
		imp := &breach.Import{}
		err := newTestImporter(t).parse(context.Background(), &breach.Campaign{}, imp, strings.NewReader(b.String()),
			Options{Workers: workers, BatchRows: 7}, write, func(context.Context, int64) {})
		if err != nil || imp.Read != 20000 || last != 20001 {
			t.Fatalf("workers=%d: err %v, read %d, last line %d", workers, err, imp.Read, last)
		}
	}
}

// TestParse_CanceledContextFails: an import canceled from outside does not report success.
func TestParse_CanceledContextFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := newTestImporter(t).parse(ctx, &breach.Campaign{}, &breach.Import{}, strings.NewReader("customer_id,email\nC1,a@example.com\n"),
		Options{}, func(context.Context, *breach.ImportBatch) error { return nil }, func(context.Context, int64) {})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestParse_FileWithoutHeaderDoesNotEchoCustomerData(t *testing.T) {
	_, _, _, err := parseString(t, "AT-1,maria.quispe@example.pe,+51987654321,María Quispe\n", Options{})
	if err == nil {
		t.Fatal("a list without a header was accepted")
	}
	for _, pii := range []string{"maria.quispe", "987654321", "María"} {
		if strings.Contains(err.Error(), pii) {
			t.Errorf("error %q repeats the customer's data %q", err, pii)
		}
	}
	if !strings.Contains(err.Error(), "header row") {
		t.Errorf("error %q does not say the header row is missing", err)
	}
}

func TestParse_BadHeaderNamesAreRefusedWithTheirColumn(t *testing.T) {
	tests := []struct{ name, header, want string }{
		{"control character", "customer_id,email,no\x00te\n", "column 3"},
		{"invalid UTF-8", "customer_id,email,tel\xe9fono\n", "column 3 is not valid UTF-8"},
		{"bidi override", "customer_id,email,\u202eplan\n", "U+202E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := parseString(t, tt.header+"C1,a@example.com,x\n", Options{Encoding: "utf-8"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestParse_BareCRLineEndingsOfOldMacExcel(t *testing.T) {
	rows, rejects, imp, err := parseString(t, "customer_id,email\rC1,a@example.com\rC2,b@example.com\r", Options{})
	if err != nil || len(rows) != 2 || len(rejects) != 0 || imp.Read != 2 {
		t.Fatalf("rows %d, rejects %v, err %v; want the two rows", len(rows), rejects, err)
	}
	if rows[1].Line != 3 {
		t.Errorf("second row at line %d, want 3", rows[1].Line)
	}
}

func TestParse_UnterminatedQuoteRejectNamesItsCustomer(t *testing.T) {
	_, rejects, _, err := parseString(t, "customer_id,email,plan\nC1,a@example.com,\"Prepago\nC2,b@example.com,Hogar\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rejects) != 1 || rejects[0].Line != 2 || rejects[0].CustomerID != "C1" || !strings.Contains(rejects[0].Reason, "unterminated") {
		t.Errorf("rejects = %+v, want line 2 of customer C1, unterminated", rejects)
	}
}

func TestParse_TruncatedGzipIsAnInvalidListNotAnInternalError(t *testing.T) {
	for _, rows := range []int{5000, 100000} { // cut inside the first 64 KiB read, and after it
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte("customer_id,email\n"))
		for i := range rows {
			fmt.Fprintf(zw, "C%d,c%d@example.com\n", i, i)
		}
		zw.Close()
		cut := buf.Bytes()[:buf.Len()/2]
		_, _, _, err := parseBytes(t, cut, Options{})
		if breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("%d rows cut in half: err = %v (code %q), want an EINVALID error saying the file may be truncated", rows, err, breach.ErrorCode(err))
		}
	}
}

func TestFieldLabels_MatchTheHeaderNames(t *testing.T) {
	for name, f := range fieldNames {
		if f.String() != name {
			t.Errorf("field %d is labelled %q in messages but named %q in headers", f, f.String(), name)
		}
	}
}

// TestParse_HeaderErrorsNeverQuoteACustomer: a list exported without its header row has a
// customer on line 1. The refusal is stored with the import and read unaudited, so it repeats
// only the header cells that name a field — never a name, a street or a city — and still says
// what to do.
func TestParse_HeaderErrorsNeverQuoteACustomer(t *testing.T) {
	for _, tc := range []struct{ name, csv, want string }{
		{"no header row", "C-1001,María Fernanda López Quispe,Av. Arequipa 123,Lima,15001\n", "first row"},
		{"a repeated name on line 1", "C-1001,email,López,López\n", "no customer_id column"},
		{"one field named", "C-1001,E-mail,López Quispe,Lima\nC-1002,b@example.com,Ana,Cusco\n", `column 2 "E-mail" as email; 3 other columns`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := parseString(t, tc.csv, Options{})
			if err == nil {
				t.Fatal("imported a list without a header row")
			}
			msg := err.Error()
			for _, personal := range []string{"López", "Quispe", "Arequipa", "Lima", "C-1001", "15001"} {
				if strings.Contains(msg, personal) {
					t.Errorf("the error quotes %q: %s", personal, msg)
				}
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
		})
	}
}

// TestParse_TrailingEmptyFieldsAreForgiven: a row that ends with stray delimiters (extra
// fields, all empty) is read at the header's width; a row whose extra fields hold data is
// rejected (its columns have slipped), and so is a row with fewer fields than the header: a
// field left out in the middle would slide every later value into the wrong column (a country
// read as a plan, the customer then in the default country), and which one is missing cannot
// be told (see TestParse_BadRowIsRejectedAndNeighboursKept).
func TestParse_TrailingEmptyFieldsAreForgiven(t *testing.T) {
	csv := "customer_id,email,name,phone,plan\n" +
		"C1,c1@example.com,Ann,,,\n" +
		"C2,c2@example.com,Bob,\n" +
		"C3,c3@example.com,password|sim\n" +
		"C4,c4@example.com,Cid,987654321,, ,\r\n" +
		"C5,c5@example.com,Dan,,,Smith\n"
	// C2 and C3 are short: Excel leaves out the separators of trailing empty cells in some of
	// the CSV files it saves, but a row whose columns slipped looks the same (read as padded, a
	// review's categories became the greeting): refused, saying both.
	rows, rejects, _ := mustParse(t, csv, Options{})
	if got := customerIDs(rows); !slices.Equal(got, []string{"C1", "C4"}) {
		t.Errorf("accepted %v, want C1 and C4%s", got, describeRejects(rejects))
	}
	for _, r := range rows {
		if len(r.Extra) != 0 {
			t.Errorf("%s: attributes %v, want none", r.CustomerID, r.Extra)
		}
	}
	if len(rows) == 2 && (rows[0].Name != "Ann" || rows[1].Phone != "+51987654321") {
		t.Errorf("rows %+v", rows)
	}
	want := map[string]string{"C2": "row has 4 fields, the header has 5: if the missing ones are empty cells at the end",
		"C3": "row has 3 fields, the header has 5", "C5": "row has 6 fields, the header has 5"}
	if len(rejects) != len(want) {
		t.Errorf("rejects %s; want C2's and C3's (short) and C5's (extra field holds data)", describeRejects(rejects))
	}
	for _, r := range rejects {
		if !strings.Contains(r.Reason, want[r.CustomerID]) || want[r.CustomerID] == "" {
			t.Errorf("reject %+v, want %q", r, want[r.CustomerID])
		}
	}
}

// TestParse_RepeatedAttributeColumnsAreKeptRepeatedFieldsRefused: hand-made lists repeat a
// column (Notes, Notes; a second address block). A repeated attribute is kept under a name of
// its own (notes_2, never read as a field: a second Address is not address_line2); a repeated
// field is refused, saying which --map drops the second, and that --map lets the list in.
func TestParse_RepeatedAttributeColumnsAreKeptRepeatedFieldsRefused(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email,Notes,Notes,notes_2,Address,Address\n"+
		"C1,c1@example.com,first,second,third,Av. Sol 1,Jr. Luna 2\n", Options{})
	if len(rows) != 1 || len(rejects) != 0 {
		t.Fatalf("%d rows, rejects %s", len(rows), describeRejects(rejects))
	}
	want := map[string]string{"notes": "first", "notes_3": "second", "notes_2": "third", "address": "Av. Sol 1", "address_2": "Jr. Luna 2"}
	for k, v := range want {
		if got := rows[0].Attribute(k); got != v {
			t.Errorf("attribute %s = %q, want %q (attributes %v)", k, got, v, rows[0].Extra)
		}
	}
	if a := rows[0].Postal; !a.IsZero() {
		t.Errorf("a second Address column was read as an address: %+v", a)
	}

	csv := "customer_id,email,Phone,Phone\nC1,c1@example.com,+51987654321,+51987654322\n"
	_, _, _, err := parseString(t, csv, Options{})
	if err == nil || !strings.Contains(err.Error(), `columns 3 and 4 have the same name ("Phone"), the field phone: drop one with --map phone_2=- (column 4)`) {
		t.Fatalf("two phone columns: err %v", err)
	}
	rows, _, _ = mustParse(t, csv, Options{Map: map[string]string{"phone_2": "-"}})
	if len(rows) != 1 || rows[0].Phone != "+51987654321" || len(rows[0].Extra) != 0 {
		t.Fatalf("--map phone_2=-: %+v", rows)
	}
}

// A stray quote closed by a later one at a field's end, leaving the right number of fields
// (an inch mark: `Monitor 27"`), swallows the rows between into one field. Which it is — a
// stray quote, or a real note on several lines whose commas happen to match — the reader
// cannot know: it keeps the record as read, never reads the field's lines as rows (a phone in
// a note would become a customer, and get a breach notice), and warns, naming the line that
// reads as a row, so that no customer is lost without a word.
func TestParse_AQuotedFieldOverLinesThatReadAsRowsIsWarned(t *testing.T) {
	for _, tt := range []struct {
		name, list string
		warnLine   int64
		want       []string // the customers read
	}{
		{"a stray quote closed by the next row", "customer_id,email,name,note,plan\nC1,z@example.com,Zed,ok,Gold\n" +
			"C2,a@example.com,Ann,\"VIP customer,Gold\nC3,b@example.com,Bob,Monitor 27\",Silver\nC4,c@example.com,Cy,x,Gold\n", 3, []string{"C1", "C2", "C4"}},
		{"a stray quote with a comma, rows between", "customer_id,email,note,plan\n" +
			"C1,a@example.com,\"VIP, gold customer,Prepago\nC2,b@example.com,ok,Prepago\nC3,c@example.com,ok,Prepago\n" +
			"C4,d@example.com,Monitor 27\",Postpago\nC5,e@example.com,ok,Prepago\n", 2, []string{"C1", "C5"}},
		{"a note with a phone in it", "customer_id,phone,note\nC1,912345678,\"Called twice\nAlt contact Juan, 987654321, wife\"\nC2,923456789,ok\n", 2, []string{"C1", "C2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows, rejects, imp := mustParse(t, tt.list, Options{})
			if len(rejects) != 0 || !slices.Equal(customerIDs(rows), tt.want) {
				t.Fatalf("read %v, rejects%s; want %v", customerIDs(rows), describeRejects(rejects), tt.want)
			}
			if len(imp.Warnings) != 1 || imp.Warnings[0].Line != tt.warnLine || !strings.Contains(imp.Warnings[0].Reason, fmt.Sprintf("line %d", tt.warnLine+1)) {
				t.Errorf("warnings %+v; want line %d's, naming line %d", imp.Warnings, tt.warnLine, tt.warnLine+1)
			}
		})
	}
	// A field on several lines none of which reads as a row has no warning.
	rows, rejects, imp := mustParse(t, "customer_id,email,name,note,plan\n"+
		"C1,a@example.com,Ann,\"Called twice,\nleft a message, no answer,\nwill call back\",Gold\nC2,b@example.com,Bob,x,Gold\n", Options{})
	if len(rejects) != 0 || len(rows) != 2 || !strings.Contains(rows[0].Attribute("note"), "will call back") || len(imp.Warnings) != 0 {
		t.Errorf("rows %v, rejects%s, warnings %+v; want the note on three lines kept, unwarned", customerIDs(rows), describeRejects(rejects), imp.Warnings)
	}
}

// Spaces between a delimiter and a quote (`C1, "a@example.com", "Smith, Ann"`) do not keep
// the quotes as text: the quote opens the field. Kept, they made a valid email invalid and a
// quoted comma a field too many.
func TestParse_SpacesBeforeAQuoteAreNotPartOfTheField(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id, email, name, phone\n"+
		"C1, \"a@example.com\", \"Smith, Ann\", \"987654321\"\n"+
		"C2,  b@example.com , Bob ,987654322\n", Options{})
	if len(rejects) != 0 || len(rows) != 2 {
		t.Fatalf("rows %v, rejects%s", customerIDs(rows), describeRejects(rejects))
	}
	if r := rows[0]; r.Email != "a@example.com" || r.Name != "Smith, Ann" || r.Phone != "+51987654321" {
		t.Errorf("C1: %q %q %q", r.Email, r.Name, r.Phone)
	}
	if r := rows[1]; r.Email != "b@example.com" || r.Name != "Bob" {
		t.Errorf("C2: %q %q", r.Email, r.Name)
	}
}

// A carriage return alone inside a CRLF file (two lists glued together, one from a Mac) makes
// one line of two customers' rows: its reject says so, so that the second customer, named
// nowhere, is not lost without a word.
func TestParse_ARowWithABareCarriageReturnSaysItMayBeTwo(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email,name\r\nC1,a@example.com,Ann\rC2,b@example.com,Bob\r\nC3,c@example.com,Cy\r\n", Options{})
	if len(rows) != 1 || len(rejects) != 1 || !strings.Contains(rejects[0].Reason, "two customers' rows run together") {
		t.Fatalf("rows %v, rejects%s; want line 2 rejected saying it may be two rows", customerIDs(rows), describeRejects(rejects))
	}
}

// A real note on several lines, badly quoted (a space after its closing quote), breaks its
// record: the lines after its first are read again as rows — what a stray quote's swallowed
// customers are, and here a phone in the note, which would get a breach notice. Every row so
// read carries a warning naming the line the quote opened on.
func TestParse_RowsReadAgainAfterABrokenQuoteAreWarned(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,phone,note\nC1,912345678,\"Called twice\nAlt contact Juan, 987654321, wife\" \nC2,923456789,ok\n", Options{})
	if len(rejects) != 1 || rejects[0].CustomerID != "C1" {
		t.Fatalf("rejects%s; want C1's broken quote", describeRejects(rejects))
	}
	var warned []string
	for _, w := range imp.Warnings {
		if strings.Contains(w.Reason, "after the quote opened on line 2") {
			warned = append(warned, fmt.Sprint(w.Line))
		}
	}
	if len(rows) != 2 || !slices.Equal(warned, []string{"3"}) {
		t.Errorf("rows %v, warnings %+v; want line 3, read again, warned", customerIDs(rows), imp.Warnings)
	}
}

// The warning that a quote may have cost the list customers is listed even past the report's
// first warned rows: behind a hundred names with markup, it was counted and never shown.
func TestParse_QuoteWarningsAreListedPastTheFirstWarnedRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,email,name,note,plan\n")
	for i := range 150 {
		fmt.Fprintf(&b, "W%d,w%d@example.com,<b>x</b>,ok,Gold\n", i, i)
	}
	b.WriteString("C2,a@example.com,Ann,\"VIP customer,Gold\nC3,b@example.com,Bob,Monitor 27\",Silver\n")
	_, _, imp := mustParse(t, b.String(), Options{})
	if imp.Warned != 151 {
		t.Fatalf("warned %d, want 151", imp.Warned)
	}
	last := imp.Warnings[len(imp.Warnings)-1]
	if last.Line != 152 || last.Field != "quote" || len(imp.Warnings) != breach.MaxListedWarnings+1 {
		t.Errorf("%d warnings listed, the last %+v; want the first 100 and line 152's quote warning", len(imp.Warnings), last)
	}
}

// Headers in the shipped locales' own words are their fields: "País" (as Spanish Excel writes
// it; "Pais" was read, and a Chilean's 912345678 became a Peruvian stranger's), "Pays", Korean
// headers, "Nombres" and "Apellidos" — and "Nombre" beside "Apellidos" is the first name, "Nom"
// beside "Prénom" the family name.
func TestParse_HeadersInSpanishFrenchAndKorean(t *testing.T) {
	rows, rejects, _ := mustParse(t, "Código,Nombres,Apellidos,Correo,País,Teléfono\nC1,Ana María,Torres Quispe,ana@example.cl,Chile,2 2123 4567\n",
		Options{Map: map[string]string{"Código": "customer_id"}})
	if len(rows) != 1 || rows[0].Country != "CL" || rows[0].Phone != "+56221234567" || rows[0].Name != "Ana María Torres Quispe" {
		t.Errorf("País/Nombres/Apellidos: rows %+v%s; want a Chilean phone and the whole name", rows, describeRejects(rejects))
	}
	rows, rejects, _ = mustParse(t, "customer_id,Nombre,Apellidos,email\nC2,Ana,Torres,a@example.com\n", Options{})
	if len(rows) != 1 || rows[0].Name != "Ana Torres" {
		t.Errorf("Nombre beside Apellidos: rows %+v%s; want Ana Torres", rows, describeRejects(rejects))
	}
	rows, rejects, _ = mustParse(t, "customer_id,Prénom,Nom,Pays,email\nC3,Luca,Meier,Suisse,l@example.ch\n", Options{})
	if len(rows) != 1 || rows[0].Name != "Luca Meier" || rows[0].Country != "CH" {
		t.Errorf("Prénom/Nom/Pays: rows %+v%s; want Luca Meier in CH", rows, describeRejects(rejects))
	}
	rows, rejects, _ = mustParse(t, "고객번호,이름,이메일,전화번호,국가,언어\nK1,김민준,minjun@example.kr,010-2841-7736,대한민국,ko\n", Options{})
	if len(rows) != 1 || rows[0].CustomerID != "K1" || rows[0].Name != "김민준" || rows[0].Phone != "+821028417736" || rows[0].Country != "KR" || rows[0].Locale != "ko" {
		t.Errorf("Korean headers: rows %+v%s", rows, describeRejects(rejects))
	}
}

// The review of the day's readings: each list below imported right before them, and must still.
func TestParse_TheDaysNewReadingsKeepWhatReadBefore(t *testing.T) {
	// A German number with a slash is one number, not two.
	rows, rejects, _ := mustParse(t, "customer_id,email,phone\nC3,hans@example.de,+49 6221/123456\n", Options{})
	if len(rows) != 1 || rows[0].Phone != "+496221123456" {
		t.Errorf("+49 6221/123456: rows %+v%s", rows, describeRejects(rejects))
	}
	// Of a landline and a mobile, the mobile (an SMS reaches it).
	rows, rejects, _ = mustParse(t, "customer_id,email,phone,country\nF1,f@example.fr,01 44 55 66 77 / 06 12 34 56 78,FR\n", Options{})
	if len(rows) != 1 || rows[0].Phone != "+33612345678" {
		t.Errorf("landline / mobile: rows %+v%s", rows, describeRejects(rejects))
	}
	// A País of nationality: the Peruvian line is not valid in Venezuela, and read in the
	// campaign's country instead a Brazilian's 98765-4321 was a Peruvian stranger's: refused,
	// saying how to import the column as an attribute; a Pays the list cannot read costs the
	// row only its value; beside a country column, País stays an attribute.
	rows, rejects, imp := mustParse(t, "customer_id,name,phone,País\nV2,Juan Pérez,987654322,Venezuela\nV3,Ana,987654323,DOM-TOM\n", Options{})
	if len(rows) != 1 || rows[0].CustomerID != "V3" || rows[0].Country != "" || len(imp.Warnings) != 1 ||
		len(rejects) != 1 || !strings.Contains(rejects[0].Reason, "--map país=-") {
		t.Errorf("País of nationality: rows %+v, warnings %+v%s", rows, imp.Warnings, describeRejects(rejects))
	}
	rows, rejects, _ = mustParse(t, "customer_id,email,country,País\nC1,a@example.com,PE,Venezuela\n", Options{})
	if len(rows) != 1 || rows[0].Country != "PE" {
		t.Errorf("country and País: rows %+v%s", rows, describeRejects(rejects))
	}
	// A number in the country column is left out, the row kept, and a phone without its
	// country code with it (a Chilean's 912345678 beside 56 was a Peruvian stranger's); one
	// written with it is read; a row whose only contact it was is refused.
	rows, rejects, imp = mustParse(t, "customer_id,email,phone,country\nN1,n@example.com,987654321,604\nN2,,+56961234567,56\nN3,,912345678,56\n", Options{})
	if len(rows) != 2 || rows[0].Country != "" || rows[0].Phone != "" || rows[1].Phone != "+56961234567" || len(imp.Warnings) != 3 ||
		len(rejects) != 1 || rejects[0].Line != 4 {
		t.Errorf("numeric country: rows %+v, warnings %+v%s", rows, imp.Warnings, describeRejects(rejects))
	}
	// Korean 성 and 이름: family and given name; a Nombre holding the whole name beside its
	// Apellidos is not doubled.
	rows, rejects, _ = mustParse(t, "customer_id,email,성,이름\nK1,k@example.kr,김,민준\n", Options{})
	if len(rows) != 1 || rows[0].Name != "김민준" {
		t.Errorf("성 and 이름: rows %+v%s", rows, describeRejects(rejects))
	}
	rows, rejects, _ = mustParse(t, "customer_id,email,Nombre,Apellidos\nA1,a@example.com,Ana María Torres Díaz,Torres Díaz\n"+
		"A2,b@example.com,TORRES DIAZ ANA MARIA,TORRES DIAZ\nA3,c@example.com,Ana María Torres  Díaz,TORRES DIAZ\nA4,d@example.com,\"Torres Díaz, Ana María\",Torres Díaz\n", Options{})
	for _, r := range rows {
		if strings.Count(strings.ToLower(r.Name), "torres") != 1 {
			t.Errorf("Nombre holding the whole name: %s greeted %q", r.CustomerID, r.Name)
		}
	}
	if len(rows) != 4 {
		t.Errorf("Nombre holding the whole name: rows %+v%s", rows, describeRejects(rejects))
	}
	// A strong country column's phone is read there only: a Brazilian mobile without its area
	// code, valid as a Peruvian number, is refused as before, not given to a Peruvian stranger.
	rows, rejects, _ = mustParse(t, "customer_id,phone,country\nB1,98765-4321,BR\n", Options{})
	if len(rows) != 0 || len(rejects) != 1 {
		t.Errorf("a Brazilian number without its area code: rows %+v%s", rows, describeRejects(rejects))
	}
	// A phone cell of two numbers one a line; "None" or "N/A" in the exposed column names no
	// category and is refused — read as an empty cell, the notice claimed the default's
	// national ID of someone whose list said none.
	rows, rejects, _ = mustParse(t, "customer_id,email,phone,exposed\nX1,x@example.com,\"987654321\n912345678\",sim\nX2,y@example.com,,None\nX3,z@example.com,,N/A\n", Options{})
	if len(rows) != 1 || rows[0].Phone != "+51987654321" || len(rejects) != 2 || !strings.Contains(rejects[0].Reason, "names no category") {
		t.Errorf("two phones a line, None and N/A categories: rows %+v%s", rows, describeRejects(rejects))
	}
	// A given name holding the surname's word is the given name's; accents written apart and
	// letters past Latin Extended fold; a phone with its country code in parentheses beside a
	// numeric country is read.
	rows, rejects, _ = mustParse(t, "customer_id,email,first_name,last_name,phone,country\n"+
		"G1,a@example.com,Santos Alberto,Santos,,\nG2,b@example.com,JOSE\u0301 PE\u0301REZ,Pérez,,\nG3,c@example.com,NGUYEN VAN AN,Nguyễn Văn,,\n"+
		"G4,d@example.com,Ana,Cruz,(+56) 9 6123 4567,56\n", Options{})
	want := map[string]string{"G1": "Santos Alberto Santos", "G2": "JOSE\u0301 PE\u0301REZ", "G3": "NGUYEN VAN AN"}
	for _, r := range rows {
		if w, ok := want[r.CustomerID]; ok && r.Name != w {
			t.Errorf("%s greeted %q, want %q", r.CustomerID, r.Name, w)
		}
		if r.CustomerID == "G4" && r.Phone != "+56961234567" {
			t.Errorf("G4's phone %q, want +56961234567", r.Phone)
		}
	}
	if len(rows) != 4 {
		t.Errorf("names and parenthesised country codes: rows %+v%s", rows, describeRejects(rejects))
	}
}
