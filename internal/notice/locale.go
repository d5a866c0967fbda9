package notice

import (
	"golang.org/x/text/language"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// negotiate picks the locale of r's notice (breach.NegotiateLocale) with m, a matcher of c's
// offered locales.
func negotiate(m language.Matcher, c *breach.Campaign, r *breach.Recipient) (locale, reason string) {
	return breach.NegotiateLocale(m, c, r.Locale, r.Country)
}

// newMatcher returns a language matcher of the offered locales.
func newMatcher(locales []string) language.Matcher { return breach.NewLocaleMatcher(locales) }
