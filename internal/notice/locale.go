package notice

import (
	"fmt"

	"golang.org/x/text/language"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// negotiate picks, with m (a matcher of the offered locales), the locale of a customer's notice among the campaign's offered locales: the
// customer's own locale (es-PE → es, fr-CA → fr), else the language of their country (PE → es,
// KR → ko), else the campaign's default. The reason says which, for the preview.
func negotiate(m language.Matcher, c *breach.Campaign, r *breach.Recipient) (locale, reason string) {
	if r.Locale != "" {
		if _, i, conf := m.Match(language.Make(r.Locale)); conf >= language.High {
			return c.Locales[i], fmt.Sprintf("the customer's locale %s matches the offered %s", r.Locale, c.Locales[i])
		}
	}
	if r.Country != "" {
		if region, err := language.ParseRegion(r.Country); err == nil {
			if tag, err := language.Compose(language.Und, region); err == nil {
				spoken, _ := tag.Base()
				if _, i, conf := m.Match(language.Make(spoken.String())); conf >= language.High {
					why := fmt.Sprintf("the language of the customer's country %s is %s", r.Country, c.Locales[i])
					if r.Locale != "" {
						why = fmt.Sprintf("the customer's locale %s is not offered; %s", r.Locale, why)
					}
					return c.Locales[i], why
				}
			}
		}
	}
	switch {
	case r.Locale != "":
		return c.DefaultLocale, fmt.Sprintf("the customer's locale %s is not offered: the campaign's default %s", r.Locale, c.DefaultLocale)
	case r.Country != "":
		return c.DefaultLocale, fmt.Sprintf("the language of the customer's country %s is not offered: the campaign's default %s", r.Country, c.DefaultLocale)
	default:
		return c.DefaultLocale, fmt.Sprintf("no locale or country for the customer: the campaign's default %s", c.DefaultLocale)
	}
}

// newMatcher returns a language matcher of the offered locales.
func newMatcher(locales []string) language.Matcher {
	offered := make([]language.Tag, len(locales))
	for i, l := range locales {
		offered[i] = language.Make(l)
	}
	return language.NewMatcher(offered)
}

// Negotiator returns the choice Render makes of the locale a customer's notice is written in,
// from the customer's locale and country alone, among c's offered locales. It is for code that
// needs the choice for many customers without rendering their notices: the planner records it
// on every delivery, so that tracking counts deliveries by locale without rendering anything.
func Negotiator(c *breach.Campaign) func(locale, country string) string {
	m := newMatcher(c.Locales)
	return func(locale, country string) string {
		l, _ := negotiate(m, c, &breach.Recipient{Locale: locale, Country: country})
		return l
	}
}
