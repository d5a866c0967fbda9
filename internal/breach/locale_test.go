package breach

import "testing"

// TestNegotiateLocale_TriesEachLanguageOfACountry: the review's Belgians and Swiss got the
// campaign's default Spanish though French was offered, Indians and Filipinos though English
// was: only a country's likely language (nl, de, hi, fil) was tried.
func TestNegotiateLocale_TriesEachLanguageOfACountry(t *testing.T) {
	c := &Campaign{Locales: []string{"es", "fr", "en"}, DefaultLocale: "es"}
	m := NewLocaleMatcher(c.Locales)
	for country, want := range map[string]string{"BE": "fr", "CH": "fr", "LU": "fr", "IN": "en", "PH": "en", "SG": "en",
		"CA": "en", "PE": "es", "FR": "fr", "KR": "es", "DE": "es"} {
		if got, why := NegotiateLocale(m, c, "", country); got != want {
			t.Errorf("%s: %s (%s), want %s", country, got, why, want)
		}
	}
}
