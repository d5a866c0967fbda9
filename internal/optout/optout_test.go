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
