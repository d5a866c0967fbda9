package breach

import (
	"slices"
	"strings"
	"testing"
)

// A letter's address block follows the post of the customer's country, name first, with the
// country's name last when the letter goes abroad.
func TestPostalAddress_LabelFollowsEachCountrysOrder(t *testing.T) {
	tests := []struct {
		name string
		a    PostalAddress
		from string
		want []string
	}{
		{"US", PostalAddress{Line1: "1208 Maple Avenue", Line2: "Apt 4B", City: "Springfield", Region: "IL", PostalCode: "62704", Country: "US"}, "PE",
			[]string{"Robert Miller", "1208 Maple Avenue", "Apt 4B", "SPRINGFIELD IL 62704", "UNITED STATES"}},
		{"US at home", PostalAddress{Line1: "1 Main St", City: "Boston", Region: "MA", PostalCode: "02108", Country: "US"}, "US",
			[]string{"Robert Miller", "1 Main St", "BOSTON MA 02108"}},
		{"FR", PostalAddress{Line1: "12 rue des Lilas", City: "Lyon", PostalCode: "69003", Country: "FR"}, "PE",
			[]string{"Robert Miller", "12 rue des Lilas", "69003 LYON", "FRANCE"}},
		{"PE", PostalAddress{Line1: "Jr. Los Pinos 245", Line2: "Dpto. 302", City: "Miraflores", Region: "Lima", PostalCode: "15074", Country: "PE"}, "PE",
			[]string{"Robert Miller", "Jr. Los Pinos 245", "Dpto. 302", "Miraflores 15074", "LIMA"}},
		{"GB", PostalAddress{Line1: "10 Downing Street", City: "London", PostalCode: "SW1A 2AA", Country: "GB"}, "PE",
			[]string{"Robert Miller", "10 Downing Street", "LONDON", "SW1A 2AA", "UNITED KINGDOM"}},
		{"KR", PostalAddress{Line1: "테헤란로 152 12층", City: "강남구", Region: "서울특별시", PostalCode: "06236", Country: "KR"}, "PE",
			[]string{"Robert Miller", "서울특별시 강남구", "테헤란로 152 12층", "06236", "REPUBLIC OF KOREA"}},
		{"elsewhere", PostalAddress{Line1: "Unter den Linden 1", City: "Berlin", PostalCode: "10117", Country: "DE"}, "PE",
			[]string{"Robert Miller", "Unter den Linden 1", "10117 Berlin", "GERMANY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Label("Robert Miller", tt.from); !slices.Equal(got, tt.want) {
				t.Errorf("Label = %q, want %q", got, tt.want)
			}
		})
	}
}

// Validate normalizes what it accepts: a UK postcode typed without its space gets it.
func TestPostalAddress_ValidateNormalizesPostcodes(t *testing.T) {
	a := PostalAddress{Line1: "10 Downing Street", City: "London", PostalCode: " sw1a   2aa ", Country: "gb"}
	if err := a.Validate(); err != nil || a.PostalCode != "SW1A 2AA" || a.Country != "GB" {
		t.Errorf("Validate: %v, %+v", err, a)
	}
	a = PostalAddress{Line1: "1 High St", City: "Leeds", PostalCode: "LS11AB", Country: "GB"}
	if err := a.Validate(); err != nil || a.PostalCode != "LS1 1AB" {
		t.Errorf("Validate: %v, %+v", err, a)
	}
	// A postal code a spreadsheet read as a number lost its leading zeros: Cambridge MA's 02139
	// became 2139, San Juan PR's 00601 601, Rome's 00100 100, Singapore's 018956 18956. It is
	// still refused — a code cut short by a typo looks the same — but the reject says what
	// most likely happened and what to do, instead of only the format.
	for _, tc := range []struct{ country, code, want string }{
		{"US", "2139", "02139"}, {"US", "601", "00601"}, {"US", "2139-4307", "02139-4307"}, {"FR", "1000", "01000"},
		{"IT", "100", "00100"}, {"SG", "18956", "018956"},
	} {
		a := PostalAddress{Line1: "1 Main St", City: "Town", Region: "MA", PostalCode: tc.code, Country: tc.country}
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "leading zeros") {
			t.Errorf("%s %q: %v; want a reject naming %s and the lost leading zeros", tc.country, tc.code, err, tc.want)
		}
	}
	for _, tc := range []struct{ country, code string }{{"US", "21"}, {"US", "213x"}, {"GB", "123"}} {
		a := PostalAddress{Line1: "1 Main St", City: "Town", Region: "MA", PostalCode: tc.code, Country: tc.country}
		if err := a.Validate(); err == nil || strings.Contains(err.Error(), "leading zeros") {
			t.Errorf("%s %q: %v; want a plain reject", tc.country, tc.code, err)
		}
	}
	long := PostalAddress{Line1: string(make([]rune, MaxAddressLine+1)), City: "Lima", PostalCode: "15074", Country: "PE"}
	if err := long.Validate(); err == nil {
		t.Error("an address line longer than an envelope's window was accepted")
	}
}

// A campaign file's letter policy is one of the four; none is a campaign without letters.
func TestCampaign_LetterPolicy(t *testing.T) {
	c := &Campaign{}
	if c.LetterPolicy() != LettersUnreachable {
		t.Errorf("default policy %q", c.LetterPolicy())
	}
	v := &ValidationError{}
	c.Letters = "sometimes"
	c.validateLetters(v)
	if len(v.Fields) != 1 || v.Fields[0].Path != "letter_policy" {
		t.Errorf("unknown policy: %+v", v.Fields)
	}
	if err := CheckLetters(&Campaign{State: CampaignDraft}); ErrorCode(err) != ECONFLICT {
		t.Errorf("letters of a draft: %v", err)
	}
	if err := CheckLetters(&Campaign{State: CampaignApproved, Letters: LettersNone}); ErrorCode(err) != ECONFLICT {
		t.Errorf("letters under policy none: %v", err)
	}
	if err := CheckLetters(&Campaign{State: CampaignCompleted, Letters: LettersFallback}); err != nil {
		t.Errorf("letters of a completed campaign under fallback: %v", err)
	}
}
