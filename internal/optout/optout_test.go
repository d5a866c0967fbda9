package optout

import (
	"errors"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestToken_RoundTripsAndCarriesNoAddress(t *testing.T) {
	want := Target{CampaignID: "6f1f3e56-0000-4000-8000-000000000001", RecipientID: 123456789, Channel: breach.ChannelSMS}
	tok, err := Token(secret, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) > 64 || strings.ContainsAny(tok, "+/=") {
		t.Errorf("token %q is not short and URL-safe", tok)
	}
	got, err := Parse(secret, tok)
	if err != nil || got != want {
		t.Fatalf("Parse = %+v, %v; want %+v", got, err, want)
	}
}

func TestParse_ForgedAlteredOrForeignTokensAreInvalid(t *testing.T) {
	tok, _ := Token(secret, Target{CampaignID: "6f1f3e56-0000-4000-8000-000000000001", RecipientID: 42, Channel: breach.ChannelEmail})
	other, _ := Token([]byte("another secret, another server!!"), Target{CampaignID: "6f1f3e56-0000-4000-8000-000000000001", RecipientID: 42, Channel: breach.ChannelEmail})
	flip := []byte(tok)
	flip[10] ^= 1
	for name, bad := range map[string]string{
		"empty": "", "garbage": "not-a-token", "padding": tok + "==", "truncated": tok[:len(tok)-3],
		"altered": string(flip), "other secret": other, "extended": tok + "AA", "path": "../../etc/passwd",
	} {
		if _, err := Parse(secret, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Parse(%q) = %v, want ErrInvalid", name, bad, err)
		}
	}
}

func TestReportToken_RoundTripsAndFitsAMessageID(t *testing.T) {
	want := Target{CampaignID: "6f1f3e56-0000-4000-8000-000000000001", RecipientID: 1 << 40, Channel: breach.ChannelEmail}
	tok, err := ReportToken(secret, want)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		t.Errorf("report token %q has characters a Message-ID's left part or a URL path would need escaped", tok)
	}
	got, err := ParseReport(secret, tok)
	if err != nil || got != want {
		t.Fatalf("ParseReport = %+v, %v; want %+v", got, err, want)
	}
}

func TestReportAndOptOutTokens_AreNotInterchangeable(t *testing.T) {
	target := Target{CampaignID: "6f1f3e56-0000-4000-8000-000000000001", RecipientID: 42, Channel: breach.ChannelSMS}
	report, _ := ReportToken(secret, target)
	optOut, _ := Token(secret, target)
	if report == optOut {
		t.Fatal("a report token equals the opt-out token of the same delivery")
	}
	if _, err := Parse(secret, report); !errors.Is(err, ErrInvalid) {
		t.Errorf("a report token opens the opt-out link: %v", err)
	}
	if _, err := ParseReport(secret, optOut); !errors.Is(err, ErrInvalid) {
		t.Errorf("an opt-out token is accepted as a report token: %v", err)
	}
	flip := []byte(report)
	flip[len(flip)-2] ^= 1
	if _, err := ParseReport(secret, string(flip)); !errors.Is(err, ErrInvalid) {
		t.Errorf("an altered report token is accepted: %v", err)
	}
}

// A token has one spelling: the spare bits of its last character are zero, and the three other
// characters that decode to the same bytes are refused (review: four strings opted out alike).
func TestParse_OneSpellingPerToken(t *testing.T) {
	tok, _ := Token(secret, Target{CampaignID: "6f1f3e56-0000-4000-8000-000000000001", RecipientID: 42, Channel: breach.ChannelEmail})
	if len(tok)%4 == 0 {
		t.Skip("no spare bits in a token of this length")
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	accepted := 0
	for v := range 4 { // the same high bits, every value of the spare low bits
		alt := tok[:len(tok)-1] + string(alphabet[last&^3|v])
		if _, err := Parse(secret, alt); err == nil {
			accepted++
		}
	}
	if accepted != 1 {
		t.Errorf("%d spellings of one token accepted, want 1", accepted)
	}
	for _, alt := range []string{tok + "\r\n", tok[:10] + "\n" + tok[10:], tok + "\r"} {
		if _, err := Parse(secret, alt); err == nil {
			t.Errorf("Parse(%q) accepted a token with a line break", alt)
		}
	}
}
