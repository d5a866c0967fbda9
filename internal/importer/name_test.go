package importer

import (
	"github.com/breachnotice/breachnotice/internal/plaintext"

	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestImport_MarkupNameIsNeutralisedAndTheRowKept: a row with a way to reach the customer is
// never rejected for its name. Markup, control characters and absurd lengths are neutralised,
// each such row is counted and listed as a warning (by line, never by content), and the counts
// still add up: a warned row is an accepted row.
func TestImport_MarkupNameIsNeutralisedAndTheRowKept(t *testing.T) {
	huge := strings.Repeat("Ana ", 30_000) // 120 KB: over MaxFieldBytes
	csv := "customer_id,email,phone,name\n" +
		"C1,a@example.com,,Ana Quispe\n" +
		"C2,b@example.com,,<script>alert(1)</script>\n" +
		"C3,,987 654 321,<b>Rosa</b> Pérez\n" +
		"C4,d@example.com,,\"Bob\nBobson\"\n" +
		"C5,e@example.com,,Bob\u202Egnp.exe\n" +
		"C6,f@example.com,," + huge + "\n" +
		"C7,,,<b>Nobody</b>\n" + // no way to reach them: rejected for that, not for the name
		"C8,h@example.com,,<i></i>!!\n"
	rows, rejects, imp := mustParse(t, csv, Options{})
	if len(rejects) != 1 || rejects[0].Line != 9 || rejects[0].Field != "email" || strings.Contains(rejects[0].Reason, "name") {
		t.Fatalf("rejects %s; want only line 9, for having no address", describeRejects(rejects))
	}
	want := map[string]string{"C1": "Ana Quispe", "C2": "", "C3": "Rosa Pérez", "C4": "Bob Bobson", "C5": "Bob gnp.exe", "C8": ""}
	for _, r := range rows {
		if r.CustomerID == "C6" {
			if n := utf8.RuneCountInString(r.Name); n == 0 || n > plaintext.MaxName || !strings.HasPrefix(r.Name, "Ana Ana") {
				t.Errorf("C6's name has %d characters, want a cut of at most %d", n, plaintext.MaxName)
			}
			continue
		}
		if w, ok := want[r.CustomerID]; !ok || r.Name != w {
			t.Errorf("%s: name %q, want %q", r.CustomerID, r.Name, w)
		}
	}
	if len(rows) != 7 {
		t.Errorf("accepted %v, want C1–C6 and C8", customerIDs(rows))
	}
	wantLines := []int64{3, 4, 5, 7, 8, 10}
	if imp.Warned != int64(len(wantLines)) || len(imp.Warnings) != len(wantLines) {
		t.Fatalf("warned %d, warnings %+v; want lines %v", imp.Warned, imp.Warnings, wantLines)
	}
	for i, w := range imp.Warnings {
		if w.Line != wantLines[i] || w.Field != "name" || w.Reason == "" {
			t.Errorf("warning %d = %+v, want a reason for line %d's name", i, w, wantLines[i])
		}
		for _, leak := range []string{"script", "Rosa", "Bob", "Ana", "!!"} {
			if strings.Contains(w.Reason, leak) {
				t.Errorf("warning %+v quotes the name (%q): the import report must not carry the list's content", w, leak)
			}
		}
	}
	if !strings.Contains(imp.Warnings[0].Reason, "markup") || !strings.Contains(imp.Warnings[0].Reason, "generic") {
		t.Errorf("warning for <script>: %q, want it to say the markup went and the greeting is generic", imp.Warnings[0].Reason)
	}
}

// TestImport_FirstAndLastNameAreNeutralisedTogether: a name made of first_name and last_name
// is neutralised as one.
func TestImport_FirstAndLastNameAreNeutralisedTogether(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email,first_name,last_name\n"+
		"C1,a@example.com,<script>alert(1)</script>,Pérez Alarcón\n"+
		"C2,b@example.com,Ana,\n", Options{})
	if len(rejects) != 0 || len(rows) != 2 || rows[0].Name != "Pérez Alarcón" || rows[1].Name != "Ana" {
		t.Fatalf("rows %+v rejects %s", rows, describeRejects(rejects))
	}
	if imp.Warned != 1 || imp.Warnings[0].Line != 2 {
		t.Errorf("warnings %+v, want line 2's", imp.Warnings)
	}
}

// TestImport_WarningsAreCountedAllAndListedUpToTheLimit: a list of many warned rows lists the
// first 100, in line order, and counts them all.
func TestImport_WarningsAreCountedAllAndListedUpToTheLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,email,name\n")
	for i := range 2500 {
		fmt.Fprintf(&b, "C%d,c%d@example.com,<i>Customer</i> %d\n", i, i, i)
	}
	rows, rejects, imp := mustParse(t, b.String(), Options{BatchRows: 64})
	if len(rows) != 2500 || len(rejects) != 0 || imp.Warned != 2500 || len(imp.Warnings) != 100 {
		t.Fatalf("rows %d rejects %d warned %d listed %d; want 2500, 0, 2500, 100", len(rows), len(rejects), imp.Warned, len(imp.Warnings))
	}
	for i, w := range imp.Warnings {
		if w.Line != int64(i+2) {
			t.Fatalf("warning %d is for line %d, want %d: the first ones in line order", i, w.Line, i+2)
		}
	}
}

// TestImport_NameOverTheRowLimitKeepsTheRow: a name so long that it alone makes the row longer
// than MaxRowBytes (3 MiB of it, quoted with escaped quotes and delimiters inside, or bare)
// costs the customer nothing: the row is kept with the fields after the name intact and the
// name cut, as any over-long name is. The same length in any other field still rejects the row.
func TestImport_NameOverTheRowLimitKeepsTheRow(t *testing.T) {
	const n = 3 << 20
	bare := strings.Repeat("Ana", n/3)
	quoted := `"` + strings.Repeat(`Ana ""Q"", `, n/11) + `Ana"`
	csv := "customer_id,name,email,plan\n" +
		"C1," + bare + ",a@example.com,gold\n" +
		"C2," + quoted + ",b@example.com,\"silver, \"\"old\"\"\"\n" +
		"C3,Rosa,c@example.com," + strings.Repeat("x", n) + "\n" +
		"C4,Luz,d@example.com,bronze\n"
	rows, rejects, imp := mustParse(t, csv, Options{})
	if len(rejects) != 1 || rejects[0].Line != 4 || !strings.Contains(rejects[0].Reason, "longer than 1 MiB") {
		t.Fatalf("rejects %s; want line 4 alone, for its 3 MiB plan", describeRejects(rejects))
	}
	want := map[string][2]string{"C1": {"a@example.com", "gold"}, "C2": {"b@example.com", `silver, "old"`}, "C4": {"d@example.com", "bronze"}}
	if len(rows) != len(want) {
		t.Fatalf("accepted %v, want C1, C2 and C4", customerIDs(rows))
	}
	for _, r := range rows {
		w := want[r.CustomerID]
		if r.Email != w[0] || r.Attribute("plan") != w[1] {
			t.Errorf("%s: email %q, plan %q; want %q, %q", r.CustomerID, r.Email, r.Attribute("plan"), w[0], w[1])
		}
		if r.CustomerID == "C4" {
			continue
		}
		if c := utf8.RuneCountInString(r.Name); c == 0 || c > plaintext.MaxName || !strings.HasPrefix(r.Name, "Ana") {
			t.Errorf("%s's name has %d characters (%.20q…), want a cut of at most %d", r.CustomerID, c, r.Name, plaintext.MaxName)
		}
	}
	if imp.Warned != 2 {
		t.Errorf("warned %d, want the two cut names", imp.Warned)
	}
}

// TestImport_NameOverTheRowLimitAfterAStrayQuoteKeepsTheRow: a stray quote makes the reader
// take the next line for the rest of its row; when that row breaks, the next line is read again
// as a row of its own — and its customer, whose name is over the row limit, keeps their row as
// if it had been read first. One bad quote costs one row.
func TestImport_NameOverTheRowLimitAfterAStrayQuoteKeepsTheRow(t *testing.T) {
	csv := "customer_id,name,email,plan\n" +
		"C1,\"Bob,a@example.com,gold\n" +
		"C2," + strings.Repeat("Ana", 400_000) + ",b@example.com,silver\n" +
		"C3,Luz,c@example.com,bronze\n"
	rows, rejects, _ := mustParse(t, csv, Options{})
	if len(rejects) != 1 || rejects[0].Line != 2 || !strings.Contains(rejects[0].Reason, "unterminated") {
		t.Fatalf("rejects %s; want line 2 alone, for its stray quote", describeRejects(rejects))
	}
	if ids := customerIDs(rows); !slices.Equal(ids, []string{"C2", "C3"}) {
		t.Fatalf("accepted %v, want C2 and C3", ids)
	}
	if r := rows[0]; r.Email != "b@example.com" || r.Attribute("plan") != "silver" || !strings.HasPrefix(r.Name, "Ana") {
		t.Errorf("C2: email %q, plan %q, name %.10q…", r.Email, r.Attribute("plan"), r.Name)
	}
}

// TestRow_EastAsianNamesFromTwoColumnsAreFamilyNameFirst: the example list's Korean customers
// were greeted "하은 최 고객님께": a name from first_name and last_name is written as its script
// writes it.
func TestRow_EastAsianNamesFromTwoColumnsAreFamilyNameFirst(t *testing.T) {
	rows, _, _ := mustParse(t, "customer_id,first_name,last_name,email\n"+
		"K1,하은,최,k1@example.kr\n"+
		"J1,太郎,山田,j1@example.jp\n"+
		"L1,Ana,Quispe,l1@example.pe\n"+
		"M1,Minji,김,m1@example.kr\n", Options{})
	want := map[string]string{"K1": "최하은", "J1": "山田太郎", "L1": "Ana Quispe", "M1": "Minji 김"}
	for _, r := range rows {
		if r.Name != want[r.CustomerID] {
			t.Errorf("%s: name %q, want %q", r.CustomerID, r.Name, want[r.CustomerID])
		}
	}
}

// TestRow_ALocaleOfNoLanguageIsAnEmptyCellWithAWarning: "und" passed as a locale, silently.
func TestRow_ALocaleOfNoLanguageIsAnEmptyCellWithAWarning(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email,locale,country\nU1,u1@example.com,und,FR\nU2,u2@example.com,zxx-Latn,PE\n", Options{})
	if len(rows) != 2 || len(rejects) != 0 || rows[0].Locale != "" || rows[1].Locale != "" {
		t.Fatalf("rows %+v rejects %+v: want both kept without a locale", rows, rejects)
	}
	if imp.Warned != 2 || len(imp.Warnings) != 2 || imp.Warnings[0].Field != "locale" || !strings.Contains(imp.Warnings[0].Reason, "names no language") {
		t.Errorf("warnings %+v (warned %d): want one per row, on locale", imp.Warnings, imp.Warned)
	}
}

// TestRow_APhoneValidInTheResidenceAndTheDefaultCountryIsNotGuessed: the review's Peruvian
// mobile 987 654 321 of a customer living in France was read as +33 9 87 65 43 21, a
// stranger's number. A national number valid in both countries is not used: the row keeps its
// other channels, with a warning, or is refused saying why when it has none.
func TestRow_APhoneValidInTheResidenceAndTheDefaultCountryIsNotGuessed(t *testing.T) {
	rows, rejects, imp := mustParse(t, "customer_id,email,phone,country\n"+
		"P1,p1@example.com,987 654 321,FR\n"+ // valid in PE and in FR: dropped, warned
		"P2,,987 654 322,FR\n"+ // the same, and no other channel: refused
		"P3,,+51 987 654 323,FR\n"+ // with its country code: read
		"P4,,987 654 324,PE\n"+ // the default country: read
		"P5,,06 12 34 56 78,FR\n", Options{}) // valid in FR only: read
	phones := map[string]string{}
	for _, r := range rows {
		phones[r.CustomerID] = r.Phone
	}
	if len(rows) != 4 || phones["P1"] != "" || phones["P3"] != "+51987654323" || phones["P4"] != "+51987654324" || phones["P5"] != "+33612345678" {
		t.Errorf("phones %v; want P1's dropped, P3 to P5 read", phones)
	}
	if len(rejects) != 1 || rejects[0].CustomerID != "P2" || !strings.Contains(rejects[0].Reason, "both in FR") {
		t.Errorf("rejects %+v: want P2 refused, saying the number is valid in both countries", rejects)
	}
	if len(imp.Warnings) != 1 || imp.Warnings[0].Line != 2 || imp.Warnings[0].Field != "phone" {
		t.Errorf("warnings %+v: want P1's phone warned of", imp.Warnings)
	}
}
