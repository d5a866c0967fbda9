package importer

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNeutralizeName_PlainTextOrNothing(t *testing.T) {
	long := strings.Repeat("Wolfeschlegelsteinhausen ", 20)
	tests := []struct {
		raw, want string
		warned    bool
	}{
		{"Ana Pérez", "Ana Pérez", false},
		{"O'Brien", "O'Brien", false},
		{"서준 박", "서준 박", false},
		{"", "", false},
		{"<script>alert(1)</script>", "", true},
		{"<SCRIPT src=x>alert(1)</SCRIPT>María", "María", true},
		{"<style>b{}</style><b>Ana</b> Quispe", "Ana Quispe", true},
		{"<img src=x onerror=alert(1)>", "", true},
		{"Ana<br>Quispe", "Ana Quispe", true},
		{"<!-- x --> Ana", "Ana", true},
		{"Ana <3", "Ana 3", true},
		{"Tom > Jerry", "Tom Jerry", true},
		{"<b>Ana", "Ana", true},
		{"Ana <unclosed", "Ana", true},
		{"O'Brien & <b>Sons</b>", "O'Brien & Sons", true},
		{"Bo\x07b", "Bo b", true},
		{"Bob\u202Egnp.exe", "Bob gnp.exe", true},
		{"Bob\nBobson", "Bob Bobson", true},
		{"Ana\r\nBcc: victim@example.com", "", true},
		// A web or email address in a name is a lure a mail app makes clickable: no name.
		{"https://login.evil-bank.com/verify", "", true},
		{"Ana (visit www.evil-bank.com)", "", true},
		{"evil-bank.com", "", true},
		{"EVIL-BANK.COM", "", true},
		{"help@evil-bank.com", "", true},
		{"evil-bank\u200d.com", "", true},
		{"evil-bank。com", "", true},
		// A phone number is a lure too: mail and SMS apps make it a call ("call this number to
		// verify" is the callback scam).
		{"Call +1 (888) 555-0199", "", true},
		{"Ana 0800.123.4567", "", true},
		{"Louis XIV 2nd", "Louis XIV 2nd", false},
		{"Cliente 123456", "Cliente 123456", false},
		// Nothing visible is no name: no "Dear ‍,".
		{"\u200d\u200c", "", true},
		{"\u3164 \u2800", "", true},
		{"علی\u200cرضا", "علی\u200cرضا", false}, // a joiner inside a name is the name's
		// A spreadsheet's error value (a VLOOKUP that found nothing) is no name: no "Dear #N/A,".
		{"#N/A", "", true},
		{"#REF!", "", true},
		{" #VALUE! ", "", true},
		{"#1 Fan", "#1 Fan", false},
		{"J.R.R. Tolkien", "J.R.R. Tolkien", false},
		{"Mr. Smith Jr.", "Mr. Smith Jr.", false},
		{"St.John Rivers", "St.John Rivers", false},
		{"Ana María Quispe-Mamani", "Ana María Quispe-Mamani", false},
		{"Ana   Quispe", "Ana Quispe", false}, // spacing is tidied without a word
		{"!!!", "!!!", false},
		{"-2+3", "-2+3", false},
		{"<b></b>!!", "", true},
		{"Jos\xe9", "Jos", true},
		{long, strings.TrimSpace(long[:len(long)-len("Wolfeschlegelsteinhausen ")*12]), true},
	}
	for _, tt := range tests {
		got, warning := neutralizeName(tt.raw)
		if got != tt.want || (warning != "") != tt.warned {
			t.Errorf("neutralizeName(%q) = %q, %q; want %q, warned %v", tt.raw, got, warning, tt.want, tt.warned)
		}
		if strings.ContainsAny(got, "<>\r\n\t") || !utf8.ValidString(got) || utf8.RuneCountInString(got) > maxName {
			t.Errorf("neutralizeName(%q) = %q: not one line of plain text of at most %d characters", tt.raw, got, maxName)
		}
	}
	if got, _ := neutralizeName(strings.Repeat("ñ", 500)); utf8.RuneCountInString(got) != maxName || !utf8.ValidString(got) {
		t.Errorf("500 ñ cut to %d characters (valid UTF-8: %v), want %d", utf8.RuneCountInString(got), utf8.ValidString(got), maxName)
	}
}

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
			if n := utf8.RuneCountInString(r.Name); n == 0 || n > maxName || !strings.HasPrefix(r.Name, "Ana Ana") {
				t.Errorf("C6's name has %d characters, want a cut of at most %d", n, maxName)
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
