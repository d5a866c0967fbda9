package breach

import (
	"fmt"

	"golang.org/x/text/language"
)

// NegotiateLocale picks, with m (a matcher of c's offered locales, NewLocaleMatcher), the
// locale of a customer's notice among the campaign's offered locales: the customer's own
// locale (es-PE → es, fr-CA → fr), else a language of their country (PE → es, KR → ko; in a
// country of several, each in turn: BE → nl, then fr, then de), else the campaign's default. The reason says which, for the preview. It is a rule of the domain,
// not of rendering: the planner records it on every delivery, and tracking counts by it.
func NegotiateLocale(m language.Matcher, c *Campaign, locale, country string) (chosen, reason string) {
	if locale != "" {
		if _, i, conf := m.Match(language.Make(locale)); conf >= language.High {
			return c.Locales[i], fmt.Sprintf("the customer's locale %s matches the offered %s", locale, c.Locales[i])
		}
	}
	for _, spoken := range countryLanguages(country) {
		if _, i, conf := m.Match(language.Make(spoken)); conf >= language.High {
			why := fmt.Sprintf("the language of the customer's country %s is %s", country, c.Locales[i])
			if locale != "" {
				why = fmt.Sprintf("the customer's locale %s is not offered; %s", locale, why)
			}
			return c.Locales[i], why
		}
	}
	switch {
	case locale != "":
		return c.DefaultLocale, fmt.Sprintf("the customer's locale %s is not offered: the campaign's default %s", locale, c.DefaultLocale)
	case country != "":
		return c.DefaultLocale, fmt.Sprintf("the language of the customer's country %s is not offered: the campaign's default %s", country, c.DefaultLocale)
	default:
		return c.DefaultLocale, fmt.Sprintf("no locale or country for the customer: the campaign's default %s", c.DefaultLocale)
	}
}

// countryLanguages are the languages a notice may be in for a customer of country, most
// spoken first: the country's likely language (CLDR, through golang.org/x/text), then, for a
// country where another is official or spoken by many, those (otherLanguages). Only the first
// was tried before: Belgians and Swiss got the campaign's default Spanish beside an offered
// French, Indians and Filipinos beside an offered English.
func countryLanguages(country string) []string {
	region, err := language.ParseRegion(country)
	if err != nil {
		return nil
	}
	tag, err := language.Compose(language.Und, region)
	if err != nil {
		return nil
	}
	base, _ := tag.Base()
	return append([]string{base.String()}, otherLanguages[region.String()]...)
}

// otherLanguages are the languages, after its likely one, that a country's people read
// official notices in: official languages, and English or French where they are the
// language of administration; English before a second official language most of the
// customers do not read (Israel, Cyprus). Not Russian where it is no official language
// (Ukraine, the Baltic states): a notice in it would not be neutral there.
var otherLanguages = map[string][]string{
	"AD": {"es", "fr"}, "BE": {"fr", "de"}, "BO": {"qu", "ay"}, "BY": {"ru"}, "CA": {"fr"}, "CH": {"fr", "it"},
	"CM": {"en"}, "CY": {"en", "tr"}, "DZ": {"fr"}, "FI": {"sv"}, "HK": {"en"}, "IE": {"ga"}, "IL": {"en", "ar"},
	"IN": {"en"}, "KE": {"en"}, "KZ": {"ru"}, "LB": {"fr", "en"}, "LU": {"de", "lb"}, "MA": {"fr"}, "MO": {"pt"},
	"MT": {"en"}, "MY": {"en"}, "NG": {"en"}, "NZ": {"mi"}, "PE": {"qu"}, "PH": {"en"}, "PK": {"en"}, "PR": {"en"},
	"PY": {"es"}, "RW": {"en", "fr"}, "SG": {"zh", "ms", "ta"}, "TN": {"fr"}, "TZ": {"en"}, "UG": {"en"}, "US": {"es"},
	"ZA": {"af", "zu", "xh"}, "HT": {"fr"}, "VU": {"en", "fr"},
}

// NewLocaleMatcher returns a language matcher of the offered locales.
func NewLocaleMatcher(locales []string) language.Matcher {
	offered := make([]language.Tag, len(locales))
	for i, l := range locales {
		offered[i] = language.Make(l)
	}
	return language.NewMatcher(offered)
}

// LocaleNegotiator returns NegotiateLocale's choice for c as a function of a customer's locale
// and country, with one matcher for all: for code that needs the choice for many customers
// without rendering their notices.
func LocaleNegotiator(c *Campaign) func(locale, country string) string {
	m := NewLocaleMatcher(c.Locales)
	return func(locale, country string) string {
		l, _ := NegotiateLocale(m, c, locale, country)
		return l
	}
}
