package importer

import (
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Lists as companies export them, from a hostile review of the importer on lists it had not
// seen (each case failed before its fix).

// TestParse_TheExposedColumnUnderItsShippedLanguagesHeadersIsRead: under "Datos expuestos" or
// "노출항목" the column was an attribute and every customer was told the campaign's default
// categories — no one that their password was exposed.
func TestParse_TheExposedColumnUnderItsShippedLanguagesHeadersIsRead(t *testing.T) {
	want := cats(breach.CategoryPassword, breach.CategoryEmail)
	for _, header := range []string{"Datos expuestos", "Données exposées", "노출항목", "Exposed Categories", "Compromised Data", "유출 정보"} {
		rows, rejects, _ := mustParse(t, "customer_id,email,"+header+"\nC1,a@example.com,contraseña|email\n", Options{})
		if len(rows) != 1 || rows[0].Exposed != want {
			t.Errorf("%q: rows %+v%s; want the column read as the exposed categories", header, rows, describeRejects(rejects))
		}
	}
}

// TestParse_AColumnThatLooksLikeTheExposedDataIsNotLeftUnread: a header no alias names but that
// says it holds the data exposed refuses the list until --map says what it is — read as an
// attribute, every customer would be told the default categories instead.
func TestParse_AColumnThatLooksLikeTheExposedDataIsNotLeftUnread(t *testing.T) {
	list := "customer_id,email,Datos Expuestos del Cliente\nC1,a@example.com,contraseña\n"
	_, _, _, err := parseString(t, list, Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), `--map "Datos Expuestos del Cliente"=exposed`) {
		t.Fatalf("import: %v; want EINVALID naming the column and --map", err)
	}
	rows, _, _ := mustParse(t, list, Options{Map: map[string]string{"Datos Expuestos del Cliente": "exposed"}})
	if len(rows) != 1 || rows[0].Exposed != cats(breach.CategoryPassword) {
		t.Errorf("with --map =exposed: %+v", rows)
	}
	rows, _, _ = mustParse(t, list, Options{Map: map[string]string{"Datos Expuestos del Cliente": "attribute"}})
	if len(rows) != 1 || rows[0].Attribute("datos_expuestos_del_cliente") != "contraseña" {
		t.Errorf("with --map =attribute: %+v", rows)
	}
}

// TestRow_IDsAForeignExcelMangledAreRefused: French, Korean and numeric-date Excel turned IDs
// into values customers share (3,36123E+12 thrice was one customer: Luc greeted at Jean's
// address, told of Marie's password), and a 19-digit ICCID kept 15 digits and zeros.
func TestRow_IDsAForeignExcelMangledAreRefused(t *testing.T) {
	refused := []string{`"3,36123E+12"`, "15-mars", "01-févr", "03월 15일", "3월 15일", "1/2/2003", "01.02.2003", "15-Mär", "8951010000012340000"}
	// IDs that only look so: a date no calendar has, a two-digit year Excel never writes, 16
	// digits ending in a zero (one in ten of them).
	kept := []string{"0000001234567890", "MAR-15", "8951010000012345678", "A-1/2/2003", "1001", "12/34/56", "01/02/03", "1234567890123450"}
	var list strings.Builder
	list.WriteString("customer_id,email\n")
	for i, id := range append(slices.Clone(refused), kept...) {
		list.WriteString(id + ",c" + string(rune('a'+i)) + "@example.com\n")
	}
	rows, rejects, _ := mustParse(t, list.String(), Options{})
	if got := customerIDs(rows); !slices.Equal(got, kept) { // (the first is quoted: a comma)
		t.Errorf("accepted %v, want %v%s", got, kept, describeRejects(rejects))
	}
	if len(rejects) != len(refused) {
		t.Errorf("rejects%s; want %d, each a mangled ID", describeRejects(rejects), len(refused))
	}
	for _, r := range rejects {
		if r.Field != "customer_id" || !strings.Contains(r.Reason, "spreadsheet") {
			t.Errorf("reject line %d: %s %s", r.Line, r.Field, r.Reason)
		}
	}
}

// TestParse_TheJurisdictionColumnHoldsAProfileOrAState: "CA" or "California" there is the
// state's notice, NULL leaves the state column to decide, and what is no profile ("EU",
// "Korea") is left out with a warning, the state deciding — it was stored as a profile no
// notice has, and the customer got the default one (GDPR's, to a Californian), the state
// column ignored. The row is kept: refused, its customer was not told at all.
func TestParse_TheJurisdictionColumnHoldsAProfileOrAState(t *testing.T) {
	rows, rejects, imp := mustParseUS(t, "customer_id,email,country,state,jurisdiction\n"+
		"J1,a@example.com,US,,CA\n"+
		"J2,b@example.com,US,,California\n"+
		"J3,c@example.com,US,CA,NULL\n"+
		"J4,d@example.com,US,TX,us-tx\n"+
		"J5,e@example.com,US,CA,EU\n"+
		"J6,f@example.com,US,,Korea\n"+
		"J7,g@example.com,US,,GDPR\n")
	want := map[string]string{"J1": "us-ca", "J2": "us-ca", "J3": "us-ca", "J4": "us-tx", "J5": "us-ca", "J6": "", "J7": "gdpr"}
	for _, r := range rows {
		if w, ok := want[r.CustomerID]; !ok || r.Jurisdiction != w {
			t.Errorf("%s: jurisdiction %q, want %q", r.CustomerID, r.Jurisdiction, w)
		}
	}
	if len(rows) != len(want) || len(rejects) != 0 {
		t.Errorf("rows %v, rejects%s; want every row kept", customerIDs(rows), describeRejects(rejects))
	}
	if imp.WarnedBy["jurisdiction"] != 2 {
		t.Errorf("jurisdiction warnings %d (%+v), want 2: EU and Korea left out, said", imp.WarnedBy["jurisdiction"], imp.Warnings)
	}
}

// TestParse_CRMExportsStateAndZIPHeadersAreRead: Salesforce's "Mailing State/Province" and
// HubSpot's "State/Region" stayed attributes: 600 Californians got no California notice and the
// Attorney General's obligation left the regulator report.
func TestParse_CRMExportsStateAndZIPHeadersAreRead(t *testing.T) {
	for _, header := range []string{"Mailing State/Province", "Billing State/Province", "State/Region"} {
		rows, rejects, _ := mustParseUS(t, "customer_id,Email,"+header+",Mailing Zip/Postal Code\nC1,a@example.com,CA,94105\n")
		if len(rows) != 1 || rows[0].Jurisdiction != "us-ca" || rows[0].Attribute("state") != "CA" {
			t.Errorf("%q: rows %+v%s; want the state read (us-ca)", header, rows, describeRejects(rejects))
		}
	}
}

// TestParse_PhoneAndLanguageUnderMoreOfTheShippedLanguagesHeaders: a customer whose only
// contact was under "연락처" was refused as having no phone.
func TestParse_PhoneAndLanguageUnderMoreOfTheShippedLanguagesHeaders(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,연락처,Idioma preferido\nC1,987 654 321,en\n", Options{})
	if len(rows) != 1 || rows[0].Phone != "+51987654321" || rows[0].Locale != "en" {
		t.Errorf("rows %+v%s", rows, describeRejects(rejects))
	}
}

// TestParse_NullMarkersAreNoNamesNorAddresses: SQL Server's NULL, MySQL's \N, pandas' nan in a
// name greeted "Estimado/a Ana NULL" and "Dear \N"; \N as an email rejected a customer whose
// phone was valid. The Korean family name Na is a name, and so is Null (Christopher Null).
func TestParse_NullMarkersAreNoNamesNorAddresses(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email,phone,first_name,last_name\n"+
		"N1,a@example.com,,Ana,NULL\n"+
		`N2,\N,987 654 321,\N,\N`+"\n"+
		"N3,c@example.com,,María,nan\n"+
		"N4,d@example.com,,Hye-sun,Na\n"+
		"N5,e@example.com,,(null),[null]\n"+
		"N6,f@example.com,,Christopher,Null\n", Options{})
	if len(rejects) != 0 {
		t.Fatalf("rejects%s", describeRejects(rejects))
	}
	want := map[string]string{"N1": "Ana", "N2": "", "N3": "María", "N4": "Hye-sun Na", "N5": "", "N6": "Christopher Null"}
	for _, r := range rows {
		if r.Name != want[r.CustomerID] {
			t.Errorf("%s: name %q, want %q", r.CustomerID, r.Name, want[r.CustomerID])
		}
		if r.CustomerID == "N2" && (r.Email != "" || r.Phone != "+51987654321") {
			t.Errorf("N2: email %q, phone %q; want no email and the phone", r.Email, r.Phone)
		}
	}
	if imp.WarnedBy["name"] != 4 {
		t.Errorf("name warnings %d (%+v), want 4: each placeholder left out is said", imp.WarnedBy["name"], imp.Warnings)
	}
}

// TestParse_ExcelsMSDOSAndMacintoshCSVReadWhenNamed: Excel's "CSV (MS-DOS)" is CP850 and its
// "CSV (Macintosh)" Mac Roman; neither could be named (cp850 was unknown), and read as
// Windows-1252 María Peña was greeted "Mar¡a Pe¤a".
func TestParse_ExcelsMSDOSAndMacintoshCSVReadWhenNamed(t *testing.T) {
	for enc, name := range map[string][]byte{
		"cp850":     {'M', 'a', 'r', 0xA1, 'a', ' ', 'P', 'e', 0xA4, 'a'},
		"macintosh": {'M', 'a', 'r', 0x92, 'a', ' ', 'P', 'e', 0x96, 'a'},
	} {
		list := append([]byte("customer_id,email,name\nC1,a@example.com,"), name...)
		rows, rejects, imp := mustParseBytes(t, append(list, '\n'), Options{Encoding: enc})
		if len(rows) != 1 || rows[0].Name != "María Peña" {
			t.Errorf("--encoding %s: rows %+v%s (read as %s), want María Peña", enc, rows, describeRejects(rejects), imp.Encoding)
		}
	}
}

// TestParse_TwoExportsJoinedWithHeadersInAnotherOrderAreRefused: the second header, its last and
// first names swapped, was rejected as a bad row and the rows after it read by the first
// header's columns — Rosa Quispe greeted "Quispe Rosa" (a review). The list is refused, saying
// where; the header repeated as it was is only a rejected row.
func TestParse_TwoExportsJoinedWithHeadersInAnotherOrderAreRefused(t *testing.T) {
	joined := "customer_id,email,first_name,last_name\nC1,a@example.com,Ana,Torres\n" +
		"customer_id,email,last_name,first_name\nC2,b@example.com,Quispe,Rosa\n"
	_, _, _, err := parseString(t, joined, Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), "line 3 repeats the header row with its columns in another order") {
		t.Errorf("two exports joined: %v, want the list refused naming line 3", err)
	}
	repeated := "customer_id,email,first_name,last_name\nC1,a@example.com,Ana,Torres\n" +
		"customer_id,email,first_name,last_name\nC2,b@example.com,Rosa,Quispe\n"
	rows, rejects, _ := mustParse(t, repeated, Options{})
	if len(rows) != 2 || len(rejects) != 1 || rejects[0].Line != 3 {
		t.Errorf("the header repeated as it was: rows %v%s; want C1 and C2, line 3 rejected", customerIDs(rows), describeRejects(rejects))
	}
}

// TestRow_AFloatIDIsWarnedOf: pandas wrote 1001 as 1001.0 once the column had an empty cell:
// another customer than an earlier list's 1001, each sent a notice. Kept as written, said.
func TestRow_AFloatIDIsWarnedOf(t *testing.T) {
	rows, _, imp := mustParse(t, "customer_id,email\n1001.0,a@example.com\n1002,b@example.com\nV1.0,c@example.com\n", Options{})
	if len(rows) != 3 || rows[0].CustomerID != "1001.0" {
		t.Fatalf("rows %v", customerIDs(rows))
	}
	if imp.WarnedBy["customer_id"] != 1 || imp.Warnings[0].Line != 2 || !strings.Contains(imp.Warnings[0].Reason, "float") {
		t.Errorf("warnings %+v, want line 2's ID said to look like a float", imp.Warnings)
	}
}

// TestParse_SalesforcesMailingStateAmongItsOthersIsRead: a Salesforce contact export has the
// Mailing and the Other address; an account's, Billing and Shipping. Of two weak aliases of the
// state neither was read; the mailing (or billing) one is where the customer is written to.
func TestParse_SalesforcesMailingStateAmongItsOthersIsRead(t *testing.T) {
	rows, rejects, _ := mustParseUS(t, "customer_id,Email,Mailing State/Province,Other State/Province,Mailing Zip/Postal Code,Other Zip/Postal Code\n"+
		"C1,a@example.com,CA,NY,94105,10001\n")
	if len(rows) != 1 || rows[0].Jurisdiction != "us-ca" || rows[0].Attribute("state") != "CA" {
		t.Errorf("rows %+v%s; want the mailing state read (us-ca)", rows, describeRejects(rejects))
	}
}
