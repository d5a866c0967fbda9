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
