package importer

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestParse_RowsAreNormalized: what an accepted row holds, field by field.
func TestParse_RowsAreNormalized(t *testing.T) {
	const header = "customer_id,first_name,last_name,email,phone,locale,country,exposed,state,offer_code,plan\n"
	tests := []struct {
		name string
		row  string
		want breach.Recipient
	}{
		{"email domain lower-cased, local part kept; phone read with the campaign's country",
			"AT-1,María,Quispe Mamani,Maria.Quispe@Gmail.COM,987 654 321,es-PE,,,,,",
			breach.Recipient{CustomerID: "AT-1", Name: "María Quispe Mamani", Email: "Maria.Quispe@gmail.com", Phone: "+51987654321", Locale: "es-PE"}},
		{"phone read with the row's country (France)",
			"AT-2,Hélène,Lefèvre,,06 12 34 56 78,fr-FR,FR,,,,",
			breach.Recipient{CustomerID: "AT-2", Name: "Hélène Lefèvre", Phone: "+33612345678", Locale: "fr-FR", Country: "FR"}},
		{"phone read with the row's country (Korea)",
			"AT-3,민준,김,,010-1234-5678,ko-KR,KR,,,,",
			breach.Recipient{CustomerID: "AT-3", Name: "김민준", Phone: "+821012345678", Locale: "ko-KR", Country: "KR"}},
		{"international phone ignores the country",
			"AT-4,Tom,Whitfield,,+51 933 208 417,en-GB,GB,,,,",
			breach.Recipient{CustomerID: "AT-4", Name: "Tom Whitfield", Phone: "+51933208417", Locale: "en-GB", Country: "GB"}},
		{"country alpha-3 and lower case",
			"AT-5,Ana,,,06 12 34 56 78,,fra,,,,",
			breach.Recipient{CustomerID: "AT-5", Name: "Ana", Phone: "+33612345678", Country: "FR"}},
		{"country UK, as lists write it, is GB: its phone reads and its laws apply",
			"AT-5b,Tom,Whitfield,,07911 123456,,UK,,,,",
			breach.Recipient{CustomerID: "AT-5b", Name: "Tom Whitfield", Phone: "+447911123456", Country: "GB"}},
		{"a country's name, as CRMs export it, is its code",
			"AT-5c,Ana,,a@example.com,,,United States,,CA,,",
			breach.Recipient{CustomerID: "AT-5c", Name: "Ana", Email: "a@example.com", Country: "US", Jurisdiction: "us-ca", Attributes: map[string]string{"state": "CA"}}},
		{"locale canonicalized",
			"AT-6,,Solo,a@example.com,,EN_us,,,,,",
			breach.Recipient{CustomerID: "AT-6", Name: "Solo", Email: "a@example.com", Locale: "en-US"}},
		{"exposed categories with aliases, both separators and odd case",
			"AT-7,,,a@example.com,,,,name|SSN;dob| Credit Card ,,,",
			breach.Recipient{CustomerID: "AT-7", Email: "a@example.com",
				Exposed: cats(breach.CategoryName, breach.CategoryNationalID, breach.CategoryDateOfBirth, breach.CategoryPaymentCard)}},
		{"US state with country US becomes the jurisdiction, and stays the state (the regulator report's residence)",
			"AT-8,Marcus,Johnson,,(617) 555-0187,en-US,US,,MA,,",
			breach.Recipient{CustomerID: "AT-8", Name: "Marcus Johnson", Phone: "+16175550187", Locale: "en-US", Country: "US", Jurisdiction: "us-ma", Attributes: map[string]string{"state": "MA"}}},
		{"lower-case US state with country US becomes the jurisdiction",
			"AT-9,,,a@example.com,,,us,,ca,,",
			breach.Recipient{CustomerID: "AT-9", Email: "a@example.com", Country: "US", Jurisdiction: "us-ca", Attributes: map[string]string{"state": "ca"}}},
		{"a US state code without a country, in a campaign of another country offering no US profile, is kept as an attribute",
			"AT-9b,,,a@example.com,,,,,MA,,",
			breach.Recipient{CustomerID: "AT-9b", Email: "a@example.com", Attributes: map[string]string{"state": "MA"}}},
		{"a Peruvian region is kept as an attribute",
			"AT-10,,,a@example.com,,,PE,,Arequipa,,",
			breach.Recipient{CustomerID: "AT-10", Email: "a@example.com", Country: "PE", Attributes: map[string]string{"state": "Arequipa"}}},
		{"a US state code in another country is kept as an attribute",
			"AT-11,,,a@example.com,,,PE,,MA,,",
			breach.Recipient{CustomerID: "AT-11", Email: "a@example.com", Country: "PE", Attributes: map[string]string{"state": "MA"}}},
		{"other columns become attributes, trimmed",
			`AT-12,,,a@example.com,,,,,, ATP-7K2M-Q9XD ,"Hogar, Internet 300 Mbps + TV"`,
			breach.Recipient{CustomerID: "AT-12", Email: "a@example.com", Attributes: map[string]string{"offer_code": "ATP-7K2M-Q9XD", "plan": "Hogar, Internet 300 Mbps + TV"}}},
		{"surrounding spaces trimmed from core fields",
			"  AT-13 ,  Ana , Pérez ,  a@EXAMPLE.com  ,  987654321 , es ,  pe ,,,,",
			breach.Recipient{CustomerID: "AT-13", Name: "Ana Pérez", Email: "a@example.com", Phone: "+51987654321", Locale: "es", Country: "PE"}},
		{"display-name email reduced to the address",
			`AT-14,,,"José <Jose@Example.COM>",,,,,,,`,
			breach.Recipient{CustomerID: "AT-14", Email: "Jose@example.com"}},
		{"internationalized email domain in punycode",
			"AT-15,,,jürgen@münchen.de,,,,,,,",
			breach.Recipient{CustomerID: "AT-15", Email: "jürgen@xn--mnchen-3ya.de"}},
		{"phone only",
			"AT-16,,,,+82 10-5532-0194,,,,,,",
			breach.Recipient{CustomerID: "AT-16", Phone: "+821055320194"}},
		{"no-break spaces in a phone",
			"AT-17,,,,987\u00a0654\u00a0321,,,,,,",
			breach.Recipient{CustomerID: "AT-17", Phone: "+51987654321"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rejects, _ := mustParse(t, header+tt.row+"\n", Options{})
			if len(rejects) != 0 || len(rows) != 1 {
				t.Fatalf("rows %+v, rejects %s", rows, describeRejects(rejects))
			}
			got := rows[0]
			if got.Line != 2 {
				t.Errorf("line %d, want 2", got.Line)
			}
			w := tt.want
			if got.CustomerID != w.CustomerID || got.Name != w.Name || got.Email != w.Email || got.Phone != w.Phone ||
				got.Locale != w.Locale || got.Country != w.Country || got.Jurisdiction != w.Jurisdiction || got.Exposed != w.Exposed {
				t.Errorf("got  %+v\nwant %+v", got.Recipient, w)
			}
			if !maps.Equal(got.AttributeMap(), w.Attributes) {
				t.Errorf("attributes %v, want %v", got.AttributeMap(), w.Attributes)
			}
		})
	}
}

// TestParse_JurisdictionColumn: an explicit jurisdiction wins over the state and is checked:
// one that is no profile is left out with a warning, the row kept.
func TestParse_JurisdictionColumn(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email,jurisdiction,state\n"+
		"C1,a@example.com,KR-PIPA,\n"+
		"C2,b@example.com,gdpr,MA\n"+
		"C3,c@example.com,not a jurisdiction!,\n", Options{})
	if len(rows) != 3 || rows[0].Jurisdiction != "kr-pipa" || rows[1].Jurisdiction != "gdpr" || rows[2].Jurisdiction != "" {
		t.Errorf("rows %+v", rows)
	}
	if len(rejects) != 0 || len(imp.Warnings) != 1 || imp.Warnings[0].Line != 4 || imp.Warnings[0].Field != "jurisdiction" {
		t.Errorf("rejects %s, warnings %+v; want none, and line 4's jurisdiction warned of", describeRejects(rejects), imp.Warnings)
	}
}

// TestParse_JurisdictionColumnKeepsTheState: the jurisdiction column is the notice profile,
// the state where the customer lives; both are kept, so that the regulator report counts a
// Floridian with California's notice for Florida.
func TestParse_JurisdictionColumnKeepsTheState(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email,country,state,jurisdiction\n"+
		"F1,f1@example.com,US,FL,us-ca\n"+
		"F2,f2@example.com,US,Florida,us-ca\n"+
		"F3,f3@example.com,US,FL,gdpr\n"+
		"C4,c4@example.com,US,,us-ca\n", Options{})
	if len(rejects) > 0 {
		t.Fatalf("rejects %s", describeRejects(rejects))
	}
	want := map[string][2]string{"F1": {"us-ca", "FL"}, "F2": {"us-ca", "Florida"}, "F3": {"gdpr", "FL"}, "C4": {"us-ca", ""}}
	for _, r := range rows {
		if w := want[r.CustomerID]; r.Jurisdiction != w[0] || r.Attribute("state") != w[1] {
			t.Errorf("%s: jurisdiction %q, state %q; want %q and %q", r.CustomerID, r.Jurisdiction, r.Attribute("state"), w[0], w[1])
		}
	}
}

// TestParse_NameColumnWinsOverFirstAndLast: a full name is taken as given.
func TestParse_NameColumnWinsOverFirstAndLast(t *testing.T) {
	rows, _, _ := mustParse(t, "customer_id,email,name,first_name,last_name\nC1,a@example.com,Ana P.,Ana,Pérez\nC2,b@example.com,,Bo,\n", Options{})
	if len(rows) != 2 || rows[0].Name != "Ana P." || rows[1].Name != "Bo" {
		t.Errorf("rows %+v", rows)
	}
}

func cats(cs ...breach.Category) breach.Categories {
	var s breach.Categories
	for _, c := range cs {
		s = s.With(c)
	}
	return s
}

// TestParse_ExampleCustomerList: examples/customers.csv has 57 rows, seven deliberately bad
// (the last, a four-digit ZIP code), four customers reachable only by post (US, PE, FR, KR), and
// one (line 35) whose first name is a <script> element: that customer is kept, greeted by the
// rest of their name, and the import warns about it. The second row of AT-100002 (line 30) is
// valid here: merging is the database's job.
func TestParse_ExampleCustomerList(t *testing.T) {
	data := readFile(t, "../../examples/customers.csv")
	rows, rejects, imp := mustParseBytes(t, data, Options{})
	if imp.Read != 57 {
		t.Errorf("Read = %d, want 57", imp.Read)
	}
	if imp.Encoding != "utf-8" || imp.Delimiter != "," {
		t.Errorf("format %q %q", imp.Encoding, imp.Delimiter)
	}
	wantRejects := map[int64]string{
		10: "email",       // a@b
		16: "phone",       // 98765ABCD
		23: "exposed",     // favourite_color
		26: "locale",      // xx-??
		29: "email",       // neither email nor phone
		32: "customer_id", // empty
		58: "postal_code", // a four-digit US ZIP code
	}
	if got := rejectLines(rejects); !slices.Equal(got, slices.Sorted(maps.Keys(wantRejects))) {
		t.Fatalf("rejected lines %v, want %v:%s", got, slices.Sorted(maps.Keys(wantRejects)), describeRejects(rejects))
	}
	for _, r := range rejects {
		if r.Field != wantRejects[r.Line] {
			t.Errorf("line %d rejected for %q, want %q (%s)", r.Line, r.Field, wantRejects[r.Line], r.Reason)
		}
	}
	if len(rows) != 50 {
		t.Errorf("accepted %d rows, want 50", len(rows))
	}
	// Line 35's name held markup; line 36's customer has only a landline, which no SMS reaches.
	if imp.Warned != 2 || len(imp.Warnings) != 2 || imp.Warnings[0].Line != 35 || imp.Warnings[0].Field != "name" ||
		imp.Warnings[1].Line != 36 || imp.Warnings[1].Field != "phone" {
		t.Errorf("warnings %d %+v, want two: line 35's name, line 36's landline", imp.Warned, imp.Warnings)
	}
	byLine := map[int64]breach.ImportRow{}
	for _, r := range rows {
		byLine[r.Line] = r
	}
	checks := []struct {
		line int64
		ok   func(r breach.ImportRow) bool
	}{
		{2, func(r breach.ImportRow) bool {
			return r.CustomerID == "AT-100001" && r.Name == "María Quispe Mamani" && r.Email == "Maria.Quispe@gmail.com" &&
				r.Phone == "+51987654321" && r.Exposed == 0 && r.Attribute("offer_code") == "ATP-7K2M-Q9XD" && r.Attribute("plan") == "Prepago"
		}},
		{3, func(r breach.ImportRow) bool { return r.CustomerID == "AT-100002" && r.Exposed.Len() == 5 }},
		{30, func(r breach.ImportRow) bool { return r.CustomerID == "AT-100002" && r.Exposed.Has(breach.CategorySIM) }},
		{5, func(r breach.ImportRow) bool { return r.Attribute("plan") == "Hogar, Internet 300 Mbps + TV" }},
		{28, func(r breach.ImportRow) bool { return r.Name == "박서준" && r.Locale == "ko-KR" }},
		{37, func(r breach.ImportRow) bool {
			return r.Country == "FR" && r.Phone == "+33647218395" && r.Name == "Hélène Lefèvre"
		}},
		{35, func(r breach.ImportRow) bool { return r.CustomerID == "AT-100032" && r.Name == "Pérez Alarcón" }},
		{43, func(r breach.ImportRow) bool { return r.Country == "KR" && r.Phone == "+821028417736" }},
		{48, func(r breach.ImportRow) bool { return r.Jurisdiction == "us-ca" && r.Phone == "+14155550134" }},
		{49, func(r breach.ImportRow) bool { return r.Jurisdiction == "us-ma" }},
		// TX is not among the jurisdictions breachnotice knows, but it is the customer's state.
		{52, func(r breach.ImportRow) bool { return r.Jurisdiction == "us-tx" && r.Attribute("state") == "TX" }},
		// Reached by email, with an address too.
		{37, func(r breach.ImportRow) bool {
			return r.Postal == breach.PostalAddress{Line1: "8 avenue de la République", City: "Paris", PostalCode: "75011", Country: "FR"}
		}},
		// Reachable only by post; the US state column is the address's region too.
		{54, func(r breach.ImportRow) bool {
			return r.Email == "" && r.Phone == "" && r.Postal.Line2 == "Dpto. 302" && r.Postal.Country == "PE"
		}},
		{56, func(r breach.ImportRow) bool {
			return r.Postal.PostalCode == "06236" && r.Postal.City == "서울특별시 강남구"
		}},
		{57, func(r breach.ImportRow) bool {
			return r.Postal == breach.PostalAddress{Line1: "1208 Maple Avenue", Line2: "Apt 4B", City: "Springfield", Region: "IL",
				PostalCode: "62704", Country: "US"} && r.Jurisdiction == "us-il"
		}},
	}
	for _, c := range checks {
		r, ok := byLine[c.line]
		if !ok {
			t.Errorf("line %d not accepted", c.line)
			continue
		}
		if !c.ok(r) {
			t.Errorf("line %d: %+v", c.line, r.Recipient)
		}
	}
}

// A state code on a row without a country is a US state's when the campaign expects US
// residents (its default country is the US, or unset, or it offers a us-* profile), else the
// default country's: "MA" is Massachusetts in a US campaign, Maranhão in a Brazilian one —
// whose customer a us-ma notice (which must not describe the breach) would leave uninformed.
func TestParse_StateOfARowWithoutCountryIsReadInTheDefaultCountry(t *testing.T) {
	for _, tc := range []struct {
		country       string
		jurisdictions []string
		jurisdiction  string
		attributes    map[string]string
	}{
		{"US", nil, "us-ma", map[string]string{"state": "MA"}},
		{"BR", nil, "", map[string]string{"state": "MA"}},
		{"BR", []string{"gdpr"}, "", map[string]string{"state": "MA"}},
		{"PE", []string{"gdpr", "us-ca", "us-ma", "kr-pipa"}, "us-ma", map[string]string{"state": "MA"}}, // the example campaign's
		{"", nil, "us-ma", map[string]string{"state": "MA"}},
	} {
		var rows []breach.ImportRow
		write := func(_ context.Context, b *breach.ImportBatch) error { rows = append(rows, b.Rows...); return nil }
		err := newTestImporter(t).parse(context.Background(), &breach.Campaign{DefaultCountry: tc.country, Jurisdictions: tc.jurisdictions}, &breach.Import{},
			strings.NewReader("customer_id,email,state\nB1,b@example.com,MA\n"), Options{}, write, func(context.Context, int64) {})
		if err != nil || len(rows) != 1 {
			t.Fatalf("default country %q %v: %d rows, %v", tc.country, tc.jurisdictions, len(rows), err)
		}
		if got := rows[0].Jurisdiction; got != tc.jurisdiction || !maps.Equal(rows[0].AttributeMap(), tc.attributes) {
			t.Errorf("default country %q %v: jurisdiction %q, attributes %v; want %q, %v", tc.country, tc.jurisdictions, got, rows[0].AttributeMap(), tc.jurisdiction, tc.attributes)
		}
	}
}

// TestParse_NullPlaceholdersInContactColumnsAreEmpty: the placeholders CRM and SQL exports write
// for "no value" (NULL, N/A, -…) in a contact or address column read as an empty cell, so a
// customer with another valid contact keeps their notice; one with none left is still
// rejected, saying so.
func TestParse_NullPlaceholdersInContactColumnsAreEmpty(t *testing.T) {
	csv := "customer_id,email,phone,address_line1,address_line2,city,state,postal_code\n" +
		"C1,c1@example.com,N/A,,,,,\n" +
		"C2,NULL,+14155550123,,,,,\n" +
		"C3,c3@example.com,-,,,,,\n" +
		"C4,c4@example.com,none,,,,,\n" +
		"C5,n/a,--,1 Main St,NA,Boston,MA,02139\n" +
		"C6,#N/A,null,,,,,\n" +
		"C7,null,NONE,-,N/A,#n/a,,na\n" +
		"C8,c8@example.com,0,,,,,\n"
	rows, rejects, _ := mustParseUS(t, csv)
	if got := customerIDs(rows); !slices.Equal(got, []string{"C1", "C2", "C3", "C4", "C5"}) {
		t.Errorf("accepted %v, want C1 to C5%s", got, describeRejects(rejects))
	}
	for _, r := range rows {
		if r.CustomerID == "C5" && (r.Postal.Line2 != "" || r.Postal.Line1 != "1 Main St" || r.Email != "" || r.Phone != "") {
			t.Errorf("C5: %+v, want its address without a second line, and no email or phone", r)
		}
		if len(r.Extra) != 0 && !(len(r.Extra) == 1 && r.Attribute("state") != "") {
			t.Errorf("%s: attributes %v, want none but the state", r.CustomerID, r.Extra)
		}
	}
	if len(rejects) != 3 {
		t.Fatalf("rejects %s; want C6, C7 (no contact) and C8 (phone 0)", describeRejects(rejects))
	}
	for _, r := range rejects[:2] {
		if !strings.Contains(r.Reason, "neither an email address, a phone number nor a postal address") {
			t.Errorf("%s rejected for %q, want: no contact at all", r.CustomerID, r.Reason)
		}
	}
	if rejects[2].CustomerID != "C8" || rejects[2].Field != "phone" {
		t.Errorf("reject %+v, want C8's phone 0", rejects[2])
	}
}

// A customer ID that is a placeholder for no value or a spreadsheet error (what a failed
// VLOOKUP leaves) rejects its row: read as an ID, every such row was folded into one
// customer, whose earlier contacts were silently replaced by the last row's.
func TestParse_PlaceholderCustomerIDsAreRejected(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email\n"+
		"N/A,a@example.com\nNULL,b@example.com\n#N/A,c@example.com\n#REF!,d@example.com\n-,e@example.com\n"+
		"#1234,f@example.com\nNAN,g@example.com\nundefined,h@example.com\n[object Object],i@example.com\nnan,j@example.com\n", Options{})
	if got := customerIDs(rows); !slices.Equal(got, []string{"#1234"}) {
		t.Errorf("accepted %v, want #1234 alone%s", got, describeRejects(rejects))
	}
	// pandas writes nan for a missing value, JavaScript undefined: the review's three customers
	// with nan became one.
	want := []int64{2, 3, 4, 5, 6, 8, 9, 10, 11}
	if len(rejects) != len(want) {
		t.Fatalf("rejects%s; want lines %v", describeRejects(rejects), want)
	}
	for i, r := range rejects {
		if r.Line != want[i] || r.Field != "customer_id" || !strings.Contains(r.Reason, "not a customer's ID") {
			t.Errorf("reject %+v, want line %d's customer_id", r, want[i])
		}
	}
}

// Headers as CRMs and spreadsheets write them map to their fields: "E-mail Address", "Mobile
// Phone", a non-breaking space inside "Customer ID", a zero-width space pasted before
// "Language". Missed, the column was kept as an attribute: the customer lost a channel. Not
// "Country Name" or "Country of Residence": where a customer lives is not the country a
// Peruvian operator's numbers are read in (read so, a Peruvian mobile became a Chilean
// stranger's number).
func TestParse_HeadersAsPeopleWriteThem(t *testing.T) {
	rows, rejects, _ := mustParse(t, "Customer\u00a0ID,E-mail Address,Mobile Phone,Country Name,\u200bLanguage\n"+
		"CL1,a@example.com,987654321,Chile,es\n", Options{})
	if len(rejects) != 0 || len(rows) != 1 {
		t.Fatalf("rows %d, rejects%s", len(rows), describeRejects(rejects))
	}
	if r := rows[0]; r.CustomerID != "CL1" || r.Email != "a@example.com" || r.Phone != "+51987654321" || r.Country != "" || r.Locale != "es" || r.Attribute("country_name") != "Chile" {
		t.Errorf("row %+v, attributes %v; want every column read as its field, the country name kept as an attribute", r.Recipient, r.Extra)
	}
}

// TestParse_NumberSignHeaders: "Cust ID", "Customer #", "Phone #" and "Language Code", as an
// acceptance walk typed them: the list with "Customer #" was refused for having no customer_id,
// and "Phone #" was kept as an attribute, so a customer whose only contact it was had none.
func TestParse_NumberSignHeaders(t *testing.T) {
	for _, id := range []string{"Cust ID", "Customer #"} {
		rows, rejects, _ := mustParse(t, id+",Phone #,Language Code\nC1,987654321,es\n", Options{})
		if len(rejects) != 0 || len(rows) != 1 {
			t.Fatalf("%s: rows %d, rejects%s", id, len(rows), describeRejects(rejects))
		}
		if r := rows[0]; r.CustomerID != "C1" || r.Phone != "+51987654321" || r.Locale != "es" {
			t.Errorf("%s: row %+v, attributes %v; want the ID, the phone and the language read", id, r.Recipient, r.Extra)
		}
	}
	// Beside a customer_id column, "Cust ID" stays what it was before it was an alias: an
	// attribute (a list imported then must not be refused now for naming the ID twice).
	rows, rejects, _ := mustParse(t, "customer_id,Cust ID,email\nC1,legacy-9,a@example.com\n", Options{})
	if len(rejects) != 0 || len(rows) != 1 || rows[0].CustomerID != "C1" || rows[0].Attribute("cust_id") != "legacy-9" {
		t.Errorf("beside customer_id: rows %+v, rejects%s", rows, describeRejects(rejects))
	}
}

// A value that cannot be read in a column only a weak alias names costs the customer that
// value, with a warning, not their row: before "Mobile Phone" or "Preferred Language" were
// aliases, such a column was an attribute and the customer imported. With --map naming another
// column the field, the weak alias gives way, as it does to a column of the field's own name.
func TestParse_UnreadableValuesInAWeakAliasColumnCostOnlyTheValue(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email,Mobile Phone,preferred_language\n"+
		"C1,a@example.com,sin celular,Klingon\nC2,,0,es\nC3,c@example.com,987654323,fr\n", Options{})
	if len(rows) != 2 || len(rejects) != 1 || rejects[0].CustomerID != "C2" {
		t.Fatalf("accepted %v, rejects%s; want C1 and C3, C2 rejected for having no contact", customerIDs(rows), describeRejects(rejects))
	}
	if r := rows[0]; r.Phone != "" || r.Locale != "" || r.Email != "a@example.com" {
		t.Errorf("C1: %+v", r.Recipient)
	}
	if r := rows[1]; r.Phone != "+51987654323" || r.Locale != "fr" {
		t.Errorf("C3: %+v", r.Recipient)
	}
	var fields []string
	for _, w := range imp.Warnings {
		if w.Line == 2 {
			fields = append(fields, w.Field)
		}
	}
	if !slices.Equal(fields, []string{"phone", "locale"}) {
		t.Errorf("warnings %+v; want C1's phone and locale", imp.Warnings)
	}
	rows, rejects, _ = mustParse(t, "customer_id,email,Mobile Phone,Numero\nC1,a@example.com,987654321,912345678\n", Options{Map: map[string]string{"Numero": "phone"}})
	if len(rejects) != 0 || len(rows) != 1 || rows[0].Phone != "+51912345678" || rows[0].Attribute("mobile_phone") != "987654321" {
		t.Errorf("with --map Numero=phone: rows %+v, rejects%s", rows, describeRejects(rejects))
	}
}

// Invisible format characters pasted with a value (a zero-width space, a direction mark) are
// dropped, not a reason to reject the customer; a bidi override, which changes what the text
// shows, still rejects its row, and so does any in a customer_id (two records apart).
func TestParse_InvisibleCharactersInValuesAreDropped(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email,phone\n"+
		"C1,\u200bc1@example.com,987-654-321\u200b\n"+
		"C2,c2@example.com,\u200e+51987654322\n"+
		"C3,c3@exam\u00adple.com,\n"+
		"C4,\u202ec4@example.com,\n"+
		"C\u00ad1,c5@example.com,\n", Options{})
	want := map[string][2]string{"C1": {"c1@example.com", "+51987654321"}, "C2": {"c2@example.com", "+51987654322"}, "C3": {"c3@example.com", ""}}
	// C4's bidi override is refused; so is an invisible character in a customer_id: dropped,
	// C<soft hyphen>1 would be folded into C1, its contacts replacing C1's.
	if len(rows) != 3 || len(rejects) != 2 || rejects[0].CustomerID != "C4" || rejects[1].Line != 6 || rejects[1].Field != "customer_id" {
		t.Fatalf("accepted %v, rejects%s; want C1 to C3 accepted, C4 and line 6 rejected", customerIDs(rows), describeRejects(rejects))
	}
	// The refused ID's reject names it as written, and does not also say it is empty.
	if r := rejects[1]; r.CustomerID != "C\u00ad1" || strings.Contains(r.Reason, "is empty") {
		t.Errorf("line 6's reject: %+v", r)
	}
	for _, r := range rows {
		if w := want[r.CustomerID]; r.Email != w[0] || r.Phone != w[1] {
			t.Errorf("%q: %q %q, want %q %q", r.CustomerID, r.Email, r.Phone, w[0], w[1])
		}
	}
}

// The headers CRMs write ("Mobile Phone", "preferred_language", "Country Name") are their
// field only when no other column is: a Salesforce export's "Phone" beside "Mobile Phone"
// imports as before they were aliases — Phone the phone, Mobile Phone kept as an attribute —
// instead of being refused as holding the phone twice.
func TestParse_CRMHeadersGiveWayToTheFieldsOwnColumn(t *testing.T) {
	rows, rejects, _ := mustParse(t, "Customer ID,First Name,Email,Phone,Mobile Phone,language,preferred_language,portable,email_id\n"+
		"C1,Ana,a@example.com,014567890,987654321,es,en,Y,10023\n", Options{})
	if len(rejects) != 0 || len(rows) != 1 {
		t.Fatalf("rows %d, rejects%s", len(rows), describeRejects(rejects))
	}
	r := rows[0]
	if r.Phone != "+5114567890" || r.Attribute("mobile_phone") != "987654321" || r.Attribute("preferred_language") != "en" ||
		r.Attribute("portable") != "Y" || r.Attribute("email_id") != "10023" || r.Email != "a@example.com" {
		t.Errorf("row %+v, attributes %v", r.Recipient, r.Extra)
	}
}

// A phone column written by pandas as floats (987654321.0) and a phone with an extension
// (415-555-2671 x123, ext. 123) keep their number: the customer had a valid email and was
// rejected for the cell.
func TestParse_PhonesWithAFloatTailOrAnExtensionKeepTheirNumber(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email,phone,country\n"+
		"C1,a@example.com,987654321.0,PE\nC2,b@example.com,415-555-2671 x123,US\nC3,c@example.com,+1 415 555 2672 ext. 12,US\n"+
		"C4,d@example.com,(415) 555-2673 #9,US\nC5,e@example.com,987654321 x,PE\n"+
		"D1,f@example.com,30123456.0,DE\n", Options{})
	// D1: in Germany 301234560 is a valid number too — a stranger's; the ".0" is no digit.
	want := map[string]string{"C1": "+51987654321", "C2": "+14155552671", "C3": "+14155552672", "C4": "+14155552673", "D1": "+4930123456"}
	if len(rows) != 5 || len(rejects) != 1 || rejects[0].CustomerID != "C5" {
		t.Fatalf("accepted %v, rejects%s; want C1 to C4, C5's phone refused", customerIDs(rows), describeRejects(rejects))
	}
	for _, r := range rows {
		if r.Phone != want[r.CustomerID] {
			t.Errorf("%s: phone %q, want %q", r.CustomerID, r.Phone, want[r.CustomerID])
		}
	}
}

// TestRow_ACustomerIDWithASpaceThatOnlyLooksOrdinaryIsRefused: the review imported "C 1" with
// a no-break space beside one with a space: two customers, two notices. Such an ID is refused,
// saying which space, like a soft hyphen: one record or two cannot be told.
func TestRow_ACustomerIDWithASpaceThatOnlyLooksOrdinaryIsRefused(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email\n"+
		"C 0,a@example.com\n"+
		"C\u00a01,c@example.com\n"+
		"C\u202f2,d@example.com\n", Options{})
	if len(rows) != 1 || rows[0].CustomerID != "C 0" {
		t.Fatalf("rows %+v: want C 0 alone", rows)
	}
	if len(rejects) != 2 || !strings.Contains(rejects[0].Reason, "U+00A0") || !strings.Contains(rejects[1].Reason, "U+202F") ||
		rejects[0].Field != "customer_id" {
		t.Errorf("rejects %+v: want the no-break and thin spaces named", rejects)
	}
}

// TestRow_ACustomerIDInDecomposedFormIsKeptAndWarnedOf: JOSÉ-1 from a Mac (E and a combining
// accent) and from Windows (É whole) are two customers — IDs are compared as written, and
// rewriting one would part a list from its earlier import — so the decomposed one is warned of
// on its row, where the list can still be fixed.
func TestRow_ACustomerIDInDecomposedFormIsKeptAndWarnedOf(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email\n"+
		"JOS\u00c9-1,a@example.com\n"+
		"JOSE\u0301-1,b@example.com\n"+
		"K-2,c@example.com\n", Options{})
	if len(rows) != 3 || len(rejects) != 0 || rows[1].CustomerID != "JOSE\u0301-1" {
		t.Fatalf("rows %+v, rejects %+v: want three rows, the second's ID as written", rows, rejects)
	}
	if warns := imp.Warnings; len(warns) != 1 || warns[0].Line != 3 || warns[0].Field != "customer_id" || !strings.Contains(warns[0].Reason, "combining accent") {
		t.Errorf("warnings %+v: want one, on line 3, saying the accent is written apart", imp.Warnings)
	}
}

// TestRow_ACustomerIDExcelTurnedIntoADateIsRefused: 3-15 and 03-15 were both 15-Mar once Excel
// had them, one customer of two; such IDs are refused like scientific notation. IDs that only
// look a little like dates are kept.
func TestRow_ACustomerIDExcelTurnedIntoADateIsRefused(t *testing.T) {
	rows, rejects, _ := mustParse(t, "customer_id,email\n"+
		"15-Mar,a@example.com\nMar-15,b@example.com\n15-mar,c@example.com\nene-24,d@example.com\n"+
		"15-MAR-2024,e@example.com\nA15-Mar,f@example.com\n32-Mar,g@example.com\nMAR-15,h@example.com\n", Options{})
	if got := customerIDs(rows); !slices.Equal(got, []string{"15-MAR-2024", "A15-Mar", "32-Mar", "MAR-15"}) {
		t.Errorf("accepted %v%s", got, describeRejects(rejects))
	}
	if len(rejects) != 4 || !strings.Contains(rejects[0].Reason, "is a date a spreadsheet made of an ID") {
		t.Errorf("rejects%s; want lines 2 to 5 refused as dates", describeRejects(rejects))
	}
}

// TestRow_ACountryCodeInTheLanguageColumnIsReadWithTheRowsCountry: a capitalised code that is
// a language and a country is the country's language beside the same country (BR in Brazil),
// the language beside another (SV, Swedish, in Sweden: the review's Swede got Spanish), and
// the language with a warning beside none; a code that is no language (PE) is the country's.
func TestRow_ACountryCodeInTheLanguageColumnIsReadWithTheRowsCountry(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email,language,country\n"+
		"B1,b@example.com,BR,BR\nS1,s@example.com,SV,SE\nB2,c@example.com,BR,\nP1,p@example.com,PE,\nK1,k@example.com,ko_KR.UTF-8,\nE1,e@example.com,ES,\n", Options{})
	want := []string{"pt-BR", "sv", "br", "es-PE", "ko-KR", "es"}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v%s", rows, describeRejects(rejects))
	}
	for i, r := range rows {
		if r.Locale != want[i] {
			t.Errorf("%s: locale %q, want %q", r.CustomerID, r.Locale, want[i])
		}
	}
	var lines []int64
	for _, w := range imp.Warnings {
		lines = append(lines, w.Line)
	}
	if !slices.Equal(lines, []int64{2, 4, 5}) {
		t.Errorf("warnings %+v: want lines 2 (BR in Brazil), 4 (BR, no country) and 5 (PE)", imp.Warnings)
	}
}

// TestRow_ExposedCategoriesOneALineAndCellsOfSeparatorsOnly: a cell's list written one a line
// (Excel's Alt+Enter) rejected its row for the line break; a cell of separators alone took the
// default without a word.
func TestRow_ExposedCategoriesOneALineAndCellsOfSeparatorsOnly(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email,exposed\nA1,a@example.com,\"name\nphone\"\nA2,b@example.com,| ; |\n", Options{})
	want, _ := breach.CategoriesOf("name", "phone")
	if len(rows) != 2 || rows[0].Exposed != want || rows[1].Exposed != 0 {
		t.Fatalf("rows %+v%s", rows, describeRejects(rejects))
	}
	if len(imp.Warnings) != 1 || imp.Warnings[0].Line != 4 || imp.Warnings[0].Field != "exposed" {
		t.Errorf("warnings %+v: want one, on line 4 (A2's)", imp.Warnings)
	}
}

// TestRow_APhoneCellWithTwoNumbersUsesTheFirst: "987654321, 912345678" was refused as a number
// with an extension, and the row lost; the first is used, with a warning. A number and its
// extension stay one number.
func TestRow_APhoneCellWithTwoNumbersUsesTheFirst(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,phone\nP1,\"987654321, 912345678\"\nP2,987654321 / 912 345 678\nP3,\"415-555-2671, ext. 12\"\n", Options{})
	if len(rows) != 2 || rows[0].Phone != "+51987654321" || rows[1].Phone != "+51987654321" {
		t.Fatalf("rows %+v%s", rows, describeRejects(rejects))
	}
	if len(imp.Warnings) != 2 || !strings.Contains(imp.Warnings[0].Reason, "holds 2 phone numbers") {
		t.Errorf("warnings %+v", imp.Warnings)
	}
	if len(rejects) != 1 || rejects[0].Line != 4 {
		t.Errorf("rejects%s: want P3's US number with an extension refused in a Peruvian campaign as before", describeRejects(rejects))
	}
}

// TestRow_ALandlineAsTheOnlyContactIsWarnedOf: an SMS cannot reach a fixed line; a customer
// whose only contact it is would be counted unreached days later. Beside an email, it is not.
func TestRow_ALandlineAsTheOnlyContactIsWarnedOf(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email,phone\nL1,,01 2345678\nL2,,987654321\nL3,l3@example.com,01 2345678\n", Options{})
	if len(rows) != 3 || rows[0].Phone != "+5112345678" {
		t.Fatalf("rows %+v%s", rows, describeRejects(rejects))
	}
	if len(imp.Warnings) != 1 || imp.Warnings[0].Line != 2 || !strings.Contains(imp.Warnings[0].Reason, "landline") {
		t.Errorf("warnings %+v: want L1's alone", imp.Warnings)
	}
}

// TestRow_APhoneCellOfManyNumbersIsNoPersonsPhones: past five parts, a cell is not read as
// several numbers (a hostile list's cell of thousands would cost thousands of parses a row).
func TestRow_APhoneCellOfManyNumbersIsNoPersonsPhones(t *testing.T) {
	cell := strings.Repeat("987654321,", 6)
	rows, rejects, _ := mustParse(t, "customer_id,phone\nM1,\""+cell+"\"\nM2,\"987654321,912345678\"\n", Options{})
	if len(rows) != 1 || rows[0].CustomerID != "M2" || len(rejects) != 1 || rejects[0].Line != 2 {
		t.Errorf("rows %+v%s: want M1 refused, M2 read", rows, describeRejects(rejects))
	}
}
