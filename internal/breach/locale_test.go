package breach

import (
	"strings"
	"testing"
)

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

// TestParseCountry_DottedAbbreviationsAndDissolvedCountries: "U.S.A" was refused; "AN", the
// Netherlands Antilles dissolved in 2010, was accepted, and its customers' notices and
// regulator counts went to no country of today.
func TestParseCountry_DottedAbbreviationsAndDissolvedCountries(t *testing.T) {
	for in, want := range map[string]string{"U.S.A": "US", "U.S.A.": "US", "U.S": "US", "U.K.": "GB", "UK": "GB", "ZR": "CD"} {
		if got, err := ParseCountry(in); got != want || err != nil {
			t.Errorf("ParseCountry(%q) = %q, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"AN", "CS", "YU", "SU"} {
		if got, err := ParseCountry(in); err == nil || !strings.Contains(err.Error(), "no longer exists") {
			t.Errorf("ParseCountry(%q) = %q, %v; want it refused as a former country", in, got, err)
		}
	}
}

// A number in the country column is a dialling code as often as anything: read as ISO 3166's
// numeric code, 380 (Ukraine's dialling code) was Italy and 250 (Rwanda's) France, and their
// customers' numbers became strangers'. Names typed without their accents are read.
func TestParseCountry_NumbersAreRefusedAndNamesWithoutAccentsRead(t *testing.T) {
	for _, s := range []string{"380", "+51", "250", "51", "032"} {
		if c, err := ParseCountry(s); err == nil || !strings.Contains(err.Error(), "is a number, not a country") {
			t.Errorf("ParseCountry(%q) = %q, %v; want refused as a number", s, c, err)
		}
	}
	for s, want := range map[string]string{"Espana": "ES", "Peru": "PE", "Mexico": "MX", "EEUU": "US", "Korea, Rep.": "KR",
		"España": "ES", "Côte d'Ivoire": "CI", "Cote d'Ivoire": "CI", "Turkiye": "TR", "Holland": "NL"} {
		if c, err := ParseCountry(s); err != nil || c != want {
			t.Errorf("ParseCountry(%q) = %q, %v; want %s", s, c, err, want)
		}
	}
	if c, err := ParseCountry("Georgia"); err == nil {
		t.Errorf("ParseCountry(Georgia) = %q: the country or the US state is not known", c)
	}
}

// A language column holding countries' codes in capitals reads those that are no language as
// the country's language ("PE", "DK" were rejected); those that are languages too stay the
// language here ("BR" is Breton: the importer decides with the row's country), and so do those
// that are one of the country's own ("ES"); POSIX locales read; "C" names no language.
func TestParseLocale_CountryCodesInCapitalsAndPOSIXLocales(t *testing.T) {
	for s, want := range map[string]string{"PE": "es-PE", "DK": "da-DK", "US": "en-US", "BR": "br", "SV": "sv", "ES": "es", "FR": "fr",
		"EN": "en", "KO": "ko", "br": "br", "ca": "ca", "ko_KR.UTF-8": "ko-KR", "fr_FR@euro": "fr-FR", "C.UTF-8": "und", "C": "und", "es_PE": "es-PE"} {
		if got, err := ParseLocale(s); err != nil || got != want {
			t.Errorf("ParseLocale(%q) = %q, %v; want %s", s, got, err, want)
		}
	}
}
