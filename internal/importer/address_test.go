package importer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Addresses are checked by the rules of the customer's country, and a bad one rejects its row
// with the line, the column and why — even when the customer has an email address (the letter
// may be the notice the law asks for; see validator.address).
func TestParse_AddressesCheckedPerCountry(t *testing.T) {
	csv := strings.Join([]string{
		`customer_id,name,email,country,address_line1,address_line2,city,state,zip`,
		`US1,Ann,,US,1208 Maple Ave,Apt 4B,Springfield,IL,62704`,
		`US2,Bob,,US,1 Main St,,Boston,MA,02108-1234`,
		`US3,Cy,,US,1 Main St,,Boston,MA,2108`,
		`US4,Di,,US,1 Main St,,Boston,,02108`,
		`PE1,Eva,,PE,Jr. Los Pinos 245,,Miraflores,,15074`,
		`PE2,Flo,,PE,Jr. Los Pinos 245,,Miraflores,,L-18`,
		`FR1,Gil,,FR,12 rue des Lilas,,Lyon,,69003`,
		`FR2,Hal,a@example.com,FR,12 rue des Lilas,,Lyon,,6900`,
		`KR1,Ina,,KR,테헤란로 152,,서울특별시 강남구,,06236`,
		`KR2,Jon,,KR,테헤란로 152,,서울특별시 강남구,,135-080`,
		`GB1,Kim,,GB,10 Downing Street,,London,,sw1a2aa`,
		`GB2,Lou,,GB,10 Downing Street,,London,,SW1A-2AA`,
		`DE1,Max,,DE,Unter den Linden 1,,Berlin,,10117`,
		`NZ1,Ned,,NZ,1 Queen St,,Auckland,,1010`,
		`NZ2,Oli,,NZ,1 Queen St,,Auckland,,10#10`,
		`XX1,Pam,,PE,,,Lima,,15074`,
		`XX2,Quin,,PE,Jr. Los Pinos 245,,,,`,
		`XX3,Ray,,PE,,,,,`,
		`US5,Sam,,US,1 Main St,,Nowhere,,00012`,
	}, "\n") + "\n"
	rows, rejects, imp := mustParse(t, csv, Options{})
	wantRejects := map[int64]string{
		4:  "postal_code", // 2108
		7:  "postal_code", // L-18
		9:  "postal_code", // 6900, with an email address beside it
		11: "postal_code", // the old six-digit Korean code
		13: "postal_code", // SW1A-2AA
		16: "postal_code", // 10#10
		17: "email",       // a city and a postal code without an address line: no address
		18: "city",        // no city, no postal code: two problems, the first named
		19: "email",       // no address line: no address, and no way to reach the customer
		20: "region",      // a US address without its state, whose ZIP code names none
	}
	got := map[int64]string{}
	for _, r := range rejects {
		got[r.Line] = r.Field
		if r.Reason == "" || r.CustomerID == "" {
			t.Errorf("line %d: reject %+v without its reason or customer", r.Line, r)
		}
	}
	for line, field := range wantRejects {
		if got[line] != field {
			t.Errorf("line %d: rejected for %q, want %q%s", line, got[line], field, describeRejects(rejects))
		}
	}
	if len(rejects) != len(wantRejects) {
		t.Errorf("%d rejects, want %d:%s", len(rejects), len(wantRejects), describeRejects(rejects))
	}
	for _, r := range rejects {
		if r.Line == 4 && !strings.Contains(r.Reason, "12345 or 12345-6789") {
			t.Errorf("line 4's reason does not say the format: %s", r.Reason)
		}
		if r.Line == 18 && !strings.Contains(r.Reason, "postal_code") {
			t.Errorf("line 18's reason names one problem of two: %s", r.Reason)
		}
	}
	byID := map[string]breach.ImportRow{}
	for _, r := range rows {
		byID[r.CustomerID] = r
	}
	for id, want := range map[string]breach.PostalAddress{
		"US1": {Line1: "1208 Maple Ave", Line2: "Apt 4B", City: "Springfield", Region: "IL", PostalCode: "62704", Country: "US"},
		// No state: its ZIP code names it (the post delivers by the ZIP code), with a warning.
		"US4": {Line1: "1 Main St", City: "Boston", Region: "MA", PostalCode: "02108", Country: "US"},
		"GB1": {Line1: "10 Downing Street", City: "London", PostalCode: "SW1A 2AA", Country: "GB"},
		"KR1": {Line1: "테헤란로 152", City: "서울특별시 강남구", PostalCode: "06236", Country: "KR"},
		"NZ1": {Line1: "1 Queen St", City: "Auckland", PostalCode: "1010", Country: "NZ"},
	} {
		if got := byID[id].Postal; got != want {
			t.Errorf("%s: postal %+v, want %+v", id, got, want)
		}
	}
	if len(imp.Warnings) != 1 || imp.Warnings[0].Line != 5 || imp.Warnings[0].Field != "region" || !strings.Contains(imp.Warnings[0].Reason, "MA") {
		t.Errorf("warnings %+v, want line 5's state taken from its ZIP code", imp.Warnings)
	}
	for _, r := range rejects {
		if r.Line == 17 && !strings.Contains(r.Reason, "address_line1") {
			t.Errorf("line 17's reason does not say what the address lacks: %s", r.Reason)
		}
	}
}

// A list with a city and a ZIP code but no address lines keeps them as attributes, as before
// letters existed (the regulator report reads a ZIP code from them), and asks for nothing more.
func TestParse_CityAndZipWithoutAddressLinesStayAttributes(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email,city,zip\nC1,a@example.com,Boston,02108\n", Options{})
	if len(rejects) != 0 || len(rows) != 1 {
		t.Fatalf("rows %d, rejects%s", len(rows), describeRejects(rejects))
	}
	if r := rows[0]; !r.Postal.IsZero() || r.Attribute("city") != "Boston" || r.Attribute("zip") != "02108" {
		t.Errorf("row %+v", r.Recipient)
	}
}

// A customer reachable only by post is a customer: a list may have no email or phone column.
func TestParse_PostalOnlyListImports(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,name,country,address_line1,city,postal_code\nP1,Ana,FR,1 rue X,Paris,75001\n", Options{})
	if len(rejects) != 0 || len(rows) != 1 || rows[0].Postal.City != "Paris" {
		t.Fatalf("rows %+v, rejects%s", rows, describeRejects(rejects))
	}
}

// A `state` column as people type it — "California", "Calif.", "N.Y." as well as "CA" — gives
// a US customer their state's notice profile, as the regulator report counts them there (one
// reading: breach.USState); a value that is no US state's, on a US row, is kept as written
// with a warning rather than silently leaving the customer on the default profile.
func TestParse_StateNamesGiveTheirProfileAndStrangeStatesAreWarned(t *testing.T) {
	rows, rejects, imp := mustParseUS(t, "customer_id,email,country,state\n"+
		"S1,a@example.com,US,California\nS2,b@example.com,US,N.Y.\nS3,c@example.com,,Mass.\nS4,d@example.com,US,ZZ\nS5,e@example.com,US,tx\n")
	if len(rejects) != 0 {
		t.Fatalf("rejects:%s", describeRejects(rejects))
	}
	want := map[string]string{"S1": "us-ca", "S2": "us-ny", "S3": "us-ma", "S4": "", "S5": "us-tx"}
	for _, r := range rows {
		if r.Jurisdiction != want[r.CustomerID] {
			t.Errorf("%s: jurisdiction %q, want %q", r.CustomerID, r.Jurisdiction, want[r.CustomerID])
		}
		if r.CustomerID == "S4" && r.Attribute("state") != "ZZ" {
			t.Errorf("S4: the state is not kept as written: %v", r.Extra)
		}
	}
	if len(imp.Warnings) != 1 || imp.Warnings[0].Line != 5 || imp.Warnings[0].Field != "state" {
		t.Errorf("warnings %+v, want line 5's state", imp.Warnings)
	}
}

// A US letter prints the state where the post reads it: a state's name becomes its code, and
// a region that is a placeholder (N/A) or no state (a sales region) gives way to the state its
// ZIP code names, with a warning — never "N/A" or "Northeast" on the envelope. With no ZIP code
// to say, the row is rejected for its region.
func TestParse_AUSAddressPrintsARealState(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,country,address_line1,city,region,zip\n"+
		"U1,US,1 Main St,Boston,Massachusetts,02108\n"+
		"U2,US,1 Main St,Boston,N/A,02108\n"+
		"U3,US,1 Main St,Boston,Northeast,02108\n"+
		"U4,US,1 Main St,Nowhere,Northeast,00012\n"+
		"U5,US,PSC 1234 Box 5678,APO,AE,09012\n"+
		"U6,US,PSC 1234 Box 5678,FPO,,96601\n", Options{})
	want := map[string]string{"U1": "MA", "U2": "MA", "U3": "MA", "U5": "AE", "U6": "AP"} // AE, AP: military mail
	for _, r := range rows {
		if r.Postal.Region != want[r.CustomerID] {
			t.Errorf("%s: region %q, want %q", r.CustomerID, r.Postal.Region, want[r.CustomerID])
		}
	}
	if len(rows) != 5 || len(rejects) != 1 || rejects[0].CustomerID != "U4" || rejects[0].Field != "region" {
		t.Errorf("%d rows, rejects%s; want U4's region rejected", len(rows), describeRejects(rejects))
	}
	if len(imp.Warnings) != 3 || imp.Warnings[0].Line != 3 || imp.Warnings[1].Line != 4 || !strings.Contains(imp.Warnings[1].Reason, `"Northeast"`) || imp.Warnings[2].Line != 7 {
		t.Errorf("warnings %+v, want lines 3, 4 and 7's", imp.Warnings)
	}
}

// A row with several values neutralised lists each of them, and counts once among the warned
// rows: the operator reading the report must learn that the greeting is generic and that the
// state was not understood, not only the first.
func TestParse_ARowListsEveryWarning(t *testing.T) {
	rows, rejects, imp := mustParseUS(t, "customer_id,name,email,country,state\n"+
		"W1,<script>alert(1)</script>,a@example.com,US,ZZ\nW2,Ana,b@example.com,US,CA\n")
	if len(rejects) != 0 || len(rows) != 2 {
		t.Fatalf("%d rows, rejects:%s; want both kept", len(rows), describeRejects(rejects))
	}
	if imp.Warned != 1 || len(imp.Warnings) != 2 {
		t.Fatalf("warned %d, warnings %+v; want one row with two warnings", imp.Warned, imp.Warnings)
	}
	for i, field := range []string{"name", "state"} {
		if w := imp.Warnings[i]; w.Line != 2 || w.Field != field {
			t.Errorf("warning %d: %+v, want line 2's %s", i, w, field)
		}
	}
}

// The listed warnings are those of the first warned rows, a row's all or none: 60 rows with two
// warnings each list 50 rows' 100 warnings, and say 60 rows were warned.
func TestParse_ListedWarningsAreWholeRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,name,email,country,state\n")
	for i := range 60 {
		fmt.Fprintf(&b, "W%d,<b>x</b>,a%d@example.com,US,ZZ\n", i, i)
	}
	_, _, imp := mustParseUS(t, b.String())
	if imp.Warned != 60 || len(imp.Warnings) != 100 || imp.WarnedRowsListed() != 50 {
		t.Fatalf("warned %d, %d warnings of %d rows listed; want 60 warned, 100 warnings of 50 rows", imp.Warned, len(imp.Warnings), imp.WarnedRowsListed())
	}
	if last := imp.Warnings[99]; last.Line != 51 || last.Field != "state" {
		t.Errorf("the last listed warning is line %d's %s, want line 51's state (whole rows)", last.Line, last.Field)
	}
}

// Past the listed rows, every warned row is still counted by the field it is about: 150
// landline-only rows list 100, and the two rows after them with a name neutralised would be
// seen nowhere but in a total.
func TestParse_WarnedRowsAreCountedByField(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,name,phone,country\n")
	for i := range 150 {
		fmt.Fprintf(&b, "L%d,Ana,+5114123%03d,PE\n", i, i) // a Lima landline, the only contact
	}
	b.WriteString("N1,<b>Beto</b>,+51987654321,PE\nN2,<i>Carla</i> <b>x</b>,+51987654322,PE\n")
	_, rejects, imp := mustParse(t, b.String(), Options{})
	if len(rejects) != 0 {
		t.Fatalf("rejects:%s", describeRejects(rejects))
	}
	if imp.Warned != 152 || imp.WarnedBy["phone"] != 150 || imp.WarnedBy["name"] != 2 || len(imp.WarnedBy) != 2 {
		t.Errorf("warned %d by field %v, want 152: phone 150, name 2", imp.Warned, imp.WarnedBy)
	}
	if got := imp.WarnedByFields(); got != "phone 150, name 2" {
		t.Errorf("WarnedByFields = %q", got)
	}
}

// A row whose region cell is empty takes its address's state from the row's state column, as a
// list without a region column does: no warning that the address has no state when the row
// names it. A placeholder state still gives way to the ZIP code's, with the warning.
func TestParse_AnEmptyRegionTakesTheRowsState(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,country,address_line1,city,region,state,zip\n"+
		"R1,US,1 Main St,Springfield,,IL,62704\n"+
		"R2,US,1 Main St,Springfield,N/A,Illinois,62704\n"+
		"R3,US,1 Main St,Boston,,N/A,02108\n"+
		"R4,US,1 Main St,Boston,MA,NY,02108\n", Options{})
	if len(rejects) != 0 || len(rows) != 4 {
		t.Fatalf("%d rows, rejects%s", len(rows), describeRejects(rejects))
	}
	want := map[string]string{"R1": "IL", "R2": "IL", "R3": "MA", "R4": "MA"}
	for _, r := range rows {
		if r.Postal.Region != want[r.CustomerID] {
			t.Errorf("%s: region %q, want %q", r.CustomerID, r.Postal.Region, want[r.CustomerID])
		}
	}
	// Line 4 only: its address's state read from the ZIP code, and its state column no state.
	if len(imp.Warnings) != 2 || imp.Warnings[0].Line != 4 || imp.Warnings[0].Field != "region" || imp.Warnings[1].Line != 4 || imp.Warnings[1].Field != "state" {
		t.Errorf("warnings %+v, want only line 4's region and state", imp.Warnings)
	}
}

// TestAddress_AStateItsZIPCodeContradictsIsWarnedOf: the review's "1 Main St, New York, CA
// 10001" imported without a word, printed "NEW YORK CA 10001" and was counted for California.
func TestAddress_AStateItsZIPCodeContradictsIsWarnedOf(t *testing.T) {
	rows, _, imp := mustParseUS(t, "customer_id,email,address_line1,city,state,postal_code\n"+
		"R1,r1@example.com,1 Main St,New York,CA,10001\n"+
		"R2,r2@example.com,1 Main St,New York,NY,10001\n"+
		"R3,r3@example.com,1 Main St,Pago Pago,AS,96799\n"+ // American Samoa in Hawaii's prefix
		"R4,r4@example.com,1 Main St,Fort Campbell,TN,42223\n") // a ZIP code across KY and TN
	if len(rows) != 4 || rows[0].Postal.Region != "CA" {
		t.Fatalf("rows %+v: want both kept, R1's state as written", rows)
	}
	if len(imp.Warnings) != 1 || imp.Warnings[0].Line != 2 || !strings.Contains(imp.Warnings[0].Reason, "(NY)") {
		t.Errorf("warnings %+v: want R1's state warned of, naming NY", imp.Warnings)
	}
}
