package breach

import (
	"fmt"

	"golang.org/x/text/language"
)

// NegotiateLocale picks, with m (a matcher of c's offered locales, NewLocaleMatcher), the
// locale of a customer's notice among the campaign's offered locales: the customer's own
// locale (es-PE → es, fr-CA → fr), else the language of their country (PE → es, KR → ko), else
// the campaign's default. The reason says which, for the preview. It is a rule of the domain,
// not of rendering: the planner records it on every delivery, and tracking counts by it.
func NegotiateLocale(m language.Matcher, c *Campaign, locale, country string) (chosen, reason string) {
	if locale != "" {
		if _, i, conf := m.Match(language.Make(locale)); conf >= language.High {
			return c.Locales[i], fmt.Sprintf("the customer's locale %s matches the offered %s", locale, c.Locales[i])
		}
	}
	if country != "" {
		if region, err := language.ParseRegion(country); err == nil {
			if tag, err := language.Compose(language.Und, region); err == nil {
				spoken, _ := tag.Base()
				if _, i, conf := m.Match(language.Make(spoken.String())); conf >= language.High {
					why := fmt.Sprintf("the language of the customer's country %s is %s", country, c.Locales[i])
					if locale != "" {
						why = fmt.Sprintf("the customer's locale %s is not offered; %s", locale, why)
					}
					return c.Locales[i], why
				}
			}
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
