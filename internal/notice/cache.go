package notice

import (
	"crypto/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// maxVariants bounds a CampaignRenderer's cache. A campaign has a few variants per locale,
// country and jurisdiction; a list that makes thousands (a locale column of free text) gets its
// notices rendered directly beyond this rather than a cache that grows with the list. A variant
// keeps 1–2 KB of its own beside its locale's text (see corpus.share; whole, 25 KB), so the
// bound holds the cache to a few megabytes, under 50 MB whatever the variants. (A list whose
// exposed categories come in every combination of four among ten, in four countries, makes
// about 1,500.)
const maxVariants = 2048

// The per-customer values of a notice, in the order of a values array.
const (
	valName = iota
	valReference
	valCode
	numValues
)

// values are a notice's per-customer values, indexed by valName, valReference and valCode.
type values [numValues]string

// roles ends each stand-in after the common random prefix, in values order.
const roles = "NRC"

// probe is a customer made to tell apart every way a template could show a value other than as
// text: characters that html/template escapes differently in a URL, a script, a style, an
// unquoted attribute (space, =, `) or not at all in text (+), letters that a change of case
// would change, and letters outside ASCII and GSM-7.
var probe = values{
	valName:      "O'Brien & \"Sons\" <Ltd> +1 =x` Pérez-Núñez 김민",
	valReference: "7KQ2-M9XD-3F",
	valCode:      "aB3-z9",
}

// htmlText escapes a value as html/template does in a text node: its htmlEscaper, which it does
// not export. (html/template.HTMLEscapeString is text/template's, which leaves "+" alone.) The
// probe checks that this is how each variant's template shows the values.
var htmlText = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// CampaignRenderer renders one campaign's notices at sending speed: executing the templates
// for each of millions of deliveries would cost most of a core. Within a campaign a notice
// depends on its customer only through a variantKey and three values: the name, the reference
// code and the offer code. So the templates are executed once per variant, with stand-ins for
// the values, and each customer's notice is that rendering with their values put in place of
// the stand-ins.
//
// Its Render returns what Renderer.Render with no Options returns, in every field that is sent
// or stored: Locale, LocaleReason, Jurisdiction, Subject, HTML, Text, SMS and Reference. Its
// notices carry no lint (Lint is nil, and what lint checks a notice against is not kept):
// campaigns are linted with Renderer.Lint before approval, not notice by notice.
//
// It assumes that the campaign does not change, which approved campaigns do not: build one per
// approved campaign, not before. It is safe for concurrent use by many goroutines.
type CampaignRenderer struct {
	rd *Renderer
	c  *breach.Campaign
	// exposed are the campaign's default categories, for the customers the list gives none.
	exposed breach.Categories
	// prefix starts every stand-in; stand are the stand-ins, in values order. Random, so that
	// no campaign text can hold one, by chance or on purpose; of digits and letters of both
	// cases, which no escaping changes but any change of case does.
	prefix string
	stand  values
	// variants maps a variantKey to its *variant, nil when its notices are rendered directly.
	variants sync.Map
	size     atomic.Int32
	// locales maps a customer's locale and country to the notice's locale and the reason
	// (a chosenLocale), up to maxLocales of them: negotiating parses the tag and runs the
	// matcher, and a list has only a handful of pairs.
	locales    sync.Map
	localeSize atomic.Int32
	// corpora are, by the notice's locale, the texts its variants hold, which its later
	// variants share runs of (see corpus.share).
	corporaMu sync.Mutex
	corpora   map[string]*[numTexts]corpus
}

// maxLocales bounds a CampaignRenderer's cache of negotiated locales: a free-text locale column
// could make a pair per customer; past the bound they are negotiated each time.
const maxLocales = 4096

// localeOf is a customer's locale and country, as the list gives them.
type localeOf struct{ locale, country string }

// chosenLocale is the locale negotiated for a localeOf, and why.
type chosenLocale struct{ locale, reason string }

// negotiate returns the locale of r's notice and the reason, as negotiate does.
func (cr *CampaignRenderer) negotiate(r *breach.Recipient) (string, string) {
	k := localeOf{r.Locale, r.Country}
	if v, ok := cr.locales.Load(k); ok {
		c := v.(chosenLocale)
		return c.locale, c.reason
	}
	locale, reason := negotiate(cr.rd.matcher(cr.c.Locales), cr.c, r)
	if cr.localeSize.Load() < maxLocales {
		if _, loaded := cr.locales.LoadOrStore(k, chosenLocale{locale, reason}); !loaded {
			cr.localeSize.Add(1)
		}
	}
	return locale, reason
}

// variantKey is everything about a customer that their notice depends on besides the values.
type variantKey struct {
	// locale is the notice's, as negotiated (the customer's own tag only decides which, and is
	// quoted in the reason, which is worked out per customer); country as the list gives it
	// (it chooses country-specific guidance).
	locale, country string
	jurisdiction    string
	exposed         breach.Categories
	// named and coded: whether the customer has a name (a greeting by name) and an offer code
	// (the sentence that gives it).
	named, coded bool
}

// only is vals without those the variant has none of.
func (k variantKey) only(vals values) values {
	if !k.named {
		vals[valName] = ""
	}
	if !k.coded {
		vals[valCode] = ""
	}
	return vals
}

// variant is a variant's notice rendered with the stand-ins, each text cut at them.
type variant struct {
	locale, jurisdiction     string
	subject, html, text, sms layout
}

// The texts of a variant, in the order of a locale's bases.
const (
	textSubject = iota
	textHTML
	textText
	textSMS
	numTexts
)

// layout is a text cut at the stand-ins: its parts in order, each literal text (slots[i] < 0)
// or the value that slots[i] names. Literal parts are mostly runs of other variants' texts
// (see corpus.share).
type layout struct {
	parts []string
	slots []int8
	size  int // of the literal parts
}

// ForCampaign returns a CampaignRenderer of c, which must not change any more.
func (rd *Renderer) ForCampaign(c *breach.Campaign) *CampaignRenderer {
	cr := &CampaignRenderer{rd: rd, c: c, exposed: c.DefaultCategories(), prefix: "zq" + rand.Text()[:16]}
	for i := range cr.stand {
		cr.stand[i] = cr.prefix + roles[i:i+1]
	}
	return cr
}

// Render renders recipient r's notice, as rd.Render(c, r, Options{}) would.
func (cr *CampaignRenderer) Render(r *breach.Recipient) (*Notice, error) {
	return cr.RenderFor(r, "")
}

// RenderFor is Render for one channel: a notice to be sent by email has no SMS (its body is
// not filled in, nor its segments counted), one to be sent by SMS no Subject, HTML or Text —
// work the sending engine would throw away for each of millions of notices. An empty ch
// renders both.
func (cr *CampaignRenderer) RenderFor(r *breach.Recipient, ch Channel) (*Notice, error) {
	k, vals, reason := cr.key(r)
	v, ok := cr.variants.Load(k)
	if !ok {
		return cr.learn(k, r, vals, reason)
	}
	if v := v.(*variant); v != nil {
		n := v.notice(vals, cr.c.SMS.Transliterate, ch)
		n.LocaleReason = reason
		return n, nil
	}
	return cr.direct(r, vals)
}

// direct renders r's notice without the cache, with the greeted name and reference code key
// already worked out for it (Render would work them out again).
func (cr *CampaignRenderer) direct(r *breach.Recipient, vals values) (*Notice, error) {
	n, _, err := cr.rd.render(cr.c, withName(r, vals[valName]), Options{}, vals[valReference])
	return n, err
}

// key returns r's variant, values and the reason for their notice's locale.
func (cr *CampaignRenderer) key(r *breach.Recipient) (variantKey, values, string) {
	vals := values{valName: greeted(r.Name), valReference: Reference(cr.rd.secret, cr.c.ID, r.CustomerID), valCode: offerCodeOf(cr.c.Offer, r)}
	locale, reason := cr.negotiate(r)
	k := variantKey{locale: locale, country: r.Country, jurisdiction: jurisdictionOf(cr.c, r).ID, exposed: r.Exposed,
		named: vals[valName] != "", coded: vals[valCode] != ""}
	if k.exposed == 0 {
		k.exposed = cr.exposed
	}
	return k, vals, reason
}

// learn renders r's notice directly, the first of its variant, and caches the variant — or
// that its notices are to be rendered directly, when putting r's values in it does not give the
// same notice: a wrong notice sent to millions would be a second incident.
func (cr *CampaignRenderer) learn(k variantKey, r *breach.Recipient, vals values, reason string) (*Notice, error) {
	n, err := cr.direct(r, vals)
	if err != nil || cr.size.Load() >= maxVariants {
		return n, err
	}
	v := cr.variant(k, r)
	if v != nil {
		cached := v.notice(vals, cr.c.SMS.Transliterate, "")
		cached.LocaleReason = reason
		if !sameNotice(cached, n) {
			v = nil
		}
	}
	var loaded bool
	if v == nil {
		// Over what another goroutine may have stored: one mismatch outweighs any match.
		_, loaded = cr.variants.Swap(k, v)
	} else {
		_, loaded = cr.variants.LoadOrStore(k, v)
	}
	if !loaded {
		cr.size.Add(1)
	}
	return n, nil
}

// variant renders the variant of key k, of which r is a customer, with the stand-ins. It
// returns nil when that fails, or when putting the probe's values in it does not give the
// probe's own notice: a template shows a value other than as text (in a link, changed).
func (cr *CampaignRenderer) variant(k variantKey, r *breach.Recipient) *variant {
	n, sms, err := cr.rd.render(cr.c, cr.with(r, k.only(cr.stand)), Options{}, cr.stand[valReference])
	if err != nil {
		return nil
	}
	v := &variant{locale: n.Locale, jurisdiction: n.Jurisdiction}
	texts := [numTexts]string{textSubject: n.Subject, textHTML: n.HTML, textText: n.Text, textSMS: sms}
	corpora := cr.corporaOf(n.Locale)
	for i, l := range [numTexts]*layout{textSubject: &v.subject, textHTML: &v.html, textText: &v.text, textSMS: &v.sms} {
		var ok bool
		if *l, ok = cr.cut(texts[i], &corpora[i]); !ok {
			return nil
		}
	}
	p := k.only(probe)
	pn, _, err := cr.rd.render(cr.c, cr.with(r, p), Options{}, p[valReference])
	if err != nil {
		return nil
	}
	// The reason is the customer's (as for any customer of the variant), not the variant's.
	pv := v.notice(p, cr.c.SMS.Transliterate, "")
	pv.LocaleReason = pn.LocaleReason
	if !sameNotice(pv, pn) {
		return nil
	}
	return v
}

// with is r with the name and offer code of vals. The code travels as a pool code, which
// offerCodeOf takes when the list gives none, whether the campaign's codes come from its list
// or from its pool.
func (cr *CampaignRenderer) with(r *breach.Recipient, vals values) *breach.Recipient {
	s := *r
	s.Name, s.Attributes, s.EnrolmentCode = vals[valName], nil, vals[valCode]
	return &s
}

// corporaOf returns the corpora of locale's texts.
func (cr *CampaignRenderer) corporaOf(locale string) *[numTexts]corpus {
	cr.corporaMu.Lock()
	defer cr.corporaMu.Unlock()
	c, ok := cr.corpora[locale]
	if !ok {
		if cr.corpora == nil {
			cr.corpora = map[string]*[numTexts]corpus{}
		}
		c = new([numTexts]corpus)
		cr.corpora[locale] = c
	}
	return c
}

// cut cuts s at the stand-ins, keeping its literal text as runs of what c holds where they are
// the same (see corpus.share); ok is false when s holds the prefix without a stand-in.
func (cr *CampaignRenderer) cut(s string, c *corpus) (l layout, ok bool) {
	lit := func(s string) {
		for _, p := range c.share(s) {
			l.parts, l.slots, l.size = append(l.parts, p), append(l.slots, -1), l.size+len(p)
		}
	}
	for {
		i := strings.Index(s, cr.prefix)
		if i < 0 {
			break
		}
		j := i + len(cr.prefix)
		if j == len(s) || strings.IndexByte(roles, s[j]) < 0 {
			return layout{}, false
		}
		lit(s[:i])
		l.parts, l.slots = append(l.parts, ""), append(l.slots, int8(strings.IndexByte(roles, s[j])))
		s = s[j+1:]
	}
	lit(s)
	// Kept for the campaign's life, a thousand of them: without append's spare capacity.
	l.parts, l.slots = slices.Clone(l.parts), slices.Clone(l.slots)
	return l, true
}

// fill puts vals in place of the stand-ins. Values are never searched for stand-ins, so a
// customer value that holds one is shown as it is.
func (l *layout) fill(vals *values) string {
	if len(l.parts) == 1 && l.slots[0] < 0 {
		return l.parts[0]
	}
	size := l.size
	for _, s := range l.slots {
		if s >= 0 {
			size += len(vals[s])
		}
	}
	var b strings.Builder
	b.Grow(size)
	for i, p := range l.parts {
		if s := l.slots[i]; s >= 0 {
			b.WriteString(vals[s])
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}

// notice is the variant's notice with vals, for channel ch (both when empty). The SMS is
// measured again: a value's characters and length can change its encoding and segments, and
// whether transliterating saves any.
func (v *variant) notice(vals values, transliterate bool, ch Channel) *Notice {
	n := &Notice{Locale: v.locale, Jurisdiction: v.jurisdiction, Reference: vals[valReference]}
	if ch != Text {
		html := vals
		for i := range html {
			html[i] = htmlText.Replace(html[i])
		}
		n.Subject, n.HTML, n.Text = v.subject.fill(&vals), v.html.fill(&html), v.text.fill(&vals)
	}
	if ch != Email {
		n.SMS = measureSMS(v.sms.fill(&vals), transliterate)
	}
	return n
}

// sameNotice reports whether a and b are the same in every field that is sent or stored.
func sameNotice(a, b *Notice) bool {
	return a.Locale == b.Locale && a.LocaleReason == b.LocaleReason && a.Jurisdiction == b.Jurisdiction &&
		a.Subject == b.Subject && a.HTML == b.HTML && a.Text == b.Text && a.SMS == b.SMS && a.Reference == b.Reference
}
