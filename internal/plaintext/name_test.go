package plaintext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestName_PlainTextOrNothing(t *testing.T) {
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
		// A terminal's escape sequence goes whole, parameters and all.
		{"Lee\x00\x1b[31m", "Lee", true},
		{"\x1b[1;31mAna\x1b[0m Quispe", "Ana Quispe", true},
		{"Ana\x1b]0;title\x07 Quispe", "Ana Quispe", true},
		{"Ana\u009b2J Quispe", "Ana Quispe", true},
		// HTML character references, as web forms export names: decoded, then neutralised.
		{"O&#39;Brien", "O'Brien", true},
		{"Smith &amp; Jones", "Smith & Jones", true},
		{"Jos&eacute; P&#xE9;rez", "José Pérez", true},
		{"&lt;script&gt;alert(1)&lt;/script&gt;Ana", "Ana", true},
		{"Ana&#27;[31m", "Ana", true},
		{"Barnes&notice Smith & Co", "Barnes&notice Smith & Co", false}, // no ';': no reference
		{"AT&T", "AT&T", false},
		{"Ana&notaria;", "Ana&notaria;", false}, // HTML's "&not" prefix: no reference here
		{"&#0;Ana", "Ana", true},
		{"&#x110000;Ana", "Ana", true},
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
		{"José M.Rodríguez", "José M.Rodríguez", false}, // a Latin word with an accent is no top-level domain
		{"Ana pay.рф", "", true},                        // an internationalized one is
		{"Ana 은행.한국", "", true},
		{"Ana bank.vermögensberater", "", true}, // an accented TLD of the list, in Punycode there
		{"Ana María Quispe-Mamani", "Ana María Quispe-Mamani", false},
		{"Ana   Quispe", "Ana Quispe", false}, // spacing is tidied without a word
		{"!!!", "!!!", false},
		{"-2+3", "-2+3", false},
		{"<b></b>!!", "", true},
		{"Jos\xe9", "Jos", true},
		{long, strings.TrimSpace(long[:len(long)-len("Wolfeschlegelsteinhausen ")*12]), true},
	}
	for _, tt := range tests {
		got, warning := Name(tt.raw)
		if got != tt.want || (warning != "") != tt.warned {
			t.Errorf("Name(%q) = %q, %q; want %q, warned %v", tt.raw, got, warning, tt.want, tt.warned)
		}
		if strings.ContainsAny(got, "<>\r\n\t") || !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxName {
			t.Errorf("Name(%q) = %q: not one line of plain text of at most %d characters", tt.raw, got, MaxName)
		}
	}
	if got, _ := Name(strings.Repeat("ñ", 500)); utf8.RuneCountInString(got) != MaxName || !utf8.ValidString(got) {
		t.Errorf("500 ñ cut to %d characters (valid UTF-8: %v), want %d", utf8.RuneCountInString(got), utf8.ValidString(got), MaxName)
	}
}
