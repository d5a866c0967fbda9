package notice

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/html"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Finding is one problem lint found in a rendered notice.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"` // "error" blocks approval; "warning" does not
	Message  string `json:"message"`
	// Where the problem is: the variant that showed it.
	Locale       string `json:"locale,omitempty"`
	Channel      string `json:"channel,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
}

// The lint rules.
const (
	RuleSections  = "profile-sections"
	RuleLinks     = "official-domain-links"
	RuleShortener = "no-url-shorteners"
	RuleLogin     = "no-login-links-or-forms"
	RuleAsks      = "no-request-for-secrets"
	RuleSMSBudget = "sms-segment-budget"
	RuleFontSize  = "readable-type"
	RuleEmpty     = "no-empty-field"
	RuleOffer     = "offer-terms"
)

// shorteners are URL shorteners: a link through one hides where it leads, which is what
// phishing does and what a genuine notice must never look like.
var shorteners = []string{"bit.ly", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "buff.ly",
	"rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "s.id", "bl.ink", "lnkd.in"}

// forbiddenTags have no place in a notice: forms collect, scripts and frames run, images and
// styles load from elsewhere (tracking pixels), meta refresh redirects.
var forbiddenTags = []string{"form", "input", "button", "select", "textarea", "script", "iframe", "frame",
	"object", "embed", "img", "image", "picture", "video", "audio", "svg", "style", "link", "base", "meta-refresh"}

var (
	// urlPattern finds links with a scheme, www. links, and bare domains ("example.com/x"),
	// which mail clients turn into links.
	urlPattern = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"'()]+|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}\b(?:/[^\s<>"'()]*)?`)
	cssURL     = regexp.MustCompile(`(?i)url\(\s*['"]?([^'")\s]+)`)
	loginWords = regexp.MustCompile(`(?i)log-?in|sign-?in|log-?on|password|passwd|contrase|mot-?de-?passe|reset|credential`)
	fontSize   = regexp.MustCompile(`(?i)font(?:-size)?\s*:[^;"]*?([0-9.]+)\s*(px|pt|em|rem|%)`)
	// askForSecret finds a request for a secret or a payment, in the four shipped languages.
	askForSecret = regexp.MustCompile(`(?i)` +
		`\b(send|enter|provide|confirm|verify|update|reply|respond|type|give|share|tell|email us|write to us)\b[^.!?\n]{0,40}\b(password|pin|passcode|card number|cvv|security code|verification code|one-time code|otp|bank details|payment)\b|` +
		`\b(pay|make a payment|transfer)\b[^.!?\n]{0,30}\b(fee|now|to (?:unlock|restore|keep))\b|` +
		`\b(env[ií]e(?:nos)?|ingrese|introduzca|proporci[oó]ne(?:nos)?|confirme|actualice|responda|resp[oó]ndanos|comparta|d[ií]ganos|facil[ií]te(?:nos)?|escr[ií]banos)\b[^.!?\n]{0,40}\b(contraseña|clave|pin|n[uú]mero de (?:su )?tarjeta|cvv|c[oó]digo de verificaci[oó]n|datos bancarios|pago)\b|` +
		`\b(envoyez|saisissez|indiquez|communiquez|confirmez|mettez à jour|répondez|donnez|transmettez|écrivez-nous)\b[^.!?\n]{0,40}\b(mot de passe|code pin|code secret|code de vérification|numéro de carte|cryptogramme|coordonnées bancaires|paiement)\b|` +
		`(비밀번호|PIN|카드\s?번호|CVC|인증\s?번호|결제|계좌\s?번호)[^.!?\n]{0,20}(입력|보내|알려|회신|제출)`)
	// A negation before the request ("never send your password", "no comparta", "ne
	// communiquez jamais") or a Korean prohibition after it ("…입력하지 마십시오") makes it
	// advice. Whole words only: "now" and "need" are no negations.
	negationBefore = regexp.MustCompile(`(?i)(\b(never|not|no|nunca|jam[aá]s|ne|don't|do not)\b|\bn')[^.!?\n]{0,25}$`)
	negationAfter  = regexp.MustCompile(`^[^.!?\n]{0,6}지\s?(마십시오|마세요|마시|말)`)
)

// asksForSecret returns the first passage of text that asks for a secret or a payment.
//
// A request is a verb and its object within one sentence (askForSecret never crosses . ! or ?,
// nor do the negations around it), so the text is read a sentence at a time, and only the
// sentences that hold one of the objects (askTriggers, matched after case folding as (?i)
// matches) go through the regular expressions: the lint of a campaign ran them over every
// rendered notice, 60 % of its 240 ms, though few sentences name a password or a payment. A
// line break does not end a sentence here: the Korean patterns' \s? may span one.
func asksForSecret(text string) string {
	for len(text) > 0 {
		end := strings.IndexAny(text, ".!?")
		sentence := text
		if end >= 0 {
			sentence, text = text[:end], text[end+1:]
		} else {
			text = ""
		}
		if !mayAskForSecret(sentence) {
			continue
		}
		for _, loc := range askForSecret.FindAllStringIndex(sentence, -1) {
			if negationBefore.MatchString(sentence[max(0, loc[0]-30):loc[0]]) || negationAfter.MatchString(sentence[loc[1]:]) {
				continue
			}
			return sentence[loc[0]:loc[1]]
		}
	}
	return ""
}

// askTriggers are, case-folded, the words of which askForSecret's every alternative needs one:
// its objects, and the verbs of a payment. A sentence without any cannot match.
var askTriggers = func() []string {
	words := []string{"password", "pin", "passcode", "card number", "cvv", "security code", "verification code",
		"one-time code", "otp", "bank details", "pay", "transfer",
		"contraseña", "clave", "tarjeta", "código de verificaci", "codigo de verificaci", "datos bancarios", "pago",
		"mot de passe", "code pin", "code secret", "code de vérification", "numéro de carte", "cryptogramme",
		"coordonnées bancaires", "paiement",
		"비밀번호", "카드", "cvc", "인증", "결제", "계좌"}
	for i, w := range words {
		words[i] = caseFold(w)
	}
	return words
}()

// mayAskForSecret reports whether sentence holds one of the askTriggers, as (?i) would find it.
// (Anywhere, not only at a word's start: the Korean patterns have no \b, and a fold may change
// what precedes a word.)
func mayAskForSecret(sentence string) bool {
	folded := caseFold(sentence)
	for _, w := range askTriggers {
		if strings.Contains(folded, w) {
			return true
		}
	}
	return false
}

// caseFold maps every rune of s to the least rune of its case-folding orbit (unicode.SimpleFold),
// so that two strings a (?i) pattern takes for the same compare equal: "PASSWORD", "password"
// and "paſſword" (a long s) alike.
func caseFold(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// lintNotice checks one rendered notice against its profile and the campaign.
func lintNotice(c *breach.Campaign, n *Notice) []Finding {
	p := n.profile
	var fs []Finding
	add := func(rule, channel, format string, args ...any) {
		fs = append(fs, Finding{Rule: rule, Severity: "error", Message: fmt.Sprintf(format, args...),
			Locale: n.Locale, Channel: channel, Jurisdiction: p.ID})
	}
	doc := scanHTML(n.HTML)
	for _, sec := range append(slices.Clone(p.Required), n.required...) {
		if !slices.Contains(doc.sections, sec) {
			add(RuleSections, string(Email), "the %s notice needs a %q section", JurisdictionLabel(p.ID), sec)
		}
	}
	for _, sec := range p.Forbidden {
		if slices.Contains(doc.sections, sec) {
			add(RuleSections, string(Email), "the %s notice must not have a %q section", JurisdictionLabel(p.ID), sec)
		}
	}
	if len(n.headings) > 0 {
		// California: this title, then these headings, in this order.
		if len(doc.h1) == 0 || doc.h1[0] != n.headings[0] {
			add(RuleSections, string(Email), "the title must be %q", n.headings[0])
		}
		last := -1
		for _, want := range n.headings[1:] {
			i := slices.Index(doc.h2, want)
			switch {
			case i < 0:
				add(RuleSections, string(Email), "the heading %q is missing", want)
			case i < last:
				add(RuleSections, string(Email), "the heading %q is out of order: California's are %q", want, n.headings[1:])
			default:
				last = i
			}
		}
	}
	for _, tag := range doc.forbidden {
		add(RuleLogin, string(Email), "the email contains <%s>: a notice holds no forms, scripts, images or styles from elsewhere", tag)
	}
	for _, m := range fontSize.FindAllStringSubmatch(n.HTML, -1) {
		size, _ := strconv.ParseFloat(m[1], 64)
		pt := map[string]float64{"px": 0.75, "pt": 1, "em": 12, "rem": 12, "%": 0.12}[strings.ToLower(m[2])] * size
		if pt < 10 {
			add(RuleFontSize, string(Email), "type of %s%s is smaller than 10 pt", m[1], m[2])
		}
	}
	for _, l := range doc.misleading {
		add(RuleLinks, string(Email), "a link shows %q but leads to %q", l[0], l[1])
	}
	for _, u := range append(doc.links, urlPattern.FindAllString(n.Text, -1)...) {
		fs = append(fs, lintURL(c, n, string(Email), u)...)
	}
	for _, u := range urlPattern.FindAllString(n.SMS.Body, -1) {
		fs = append(fs, lintURL(c, n, string(Text), u)...)
	}
	for ch, body := range map[string]string{string(Email): n.Text, string(Text): n.SMS.Body} {
		if m := asksForSecret(body); m != "" {
			add(RuleAsks, ch, "the notice seems to ask for a secret or a payment (%q); a notice must never do that", m)
		}
	}
	budget := c.SMS.MaxSegments
	if budget == 0 {
		budget = 2
	}
	if n.SMS.Segments > budget {
		add(RuleSMSBudget, string(Text), "the SMS takes %d %s segments (%d units); the budget is %d", n.SMS.Segments, n.SMS.Encoding, n.SMS.Units, budget)
	}
	return fs
}

// lintURL checks one link found in a notice.
func lintURL(c *breach.Campaign, n *Notice, channel, raw string) []Finding {
	f := func(rule, format string, args ...any) []Finding {
		return []Finding{{Rule: rule, Severity: "error", Message: fmt.Sprintf(format, args...), Locale: n.Locale, Channel: channel, Jurisdiction: n.profile.ID}}
	}
	raw = strings.TrimRight(strings.TrimSpace(raw), ".,;:)")
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "tel:"):
		return nil
	case strings.HasPrefix(lower, "mailto:"):
		if at := strings.LastIndexByte(raw, '@'); at > 0 && breach.IsUnderDomain(strings.ToLower(raw[at+1:]), c.Organization.Domain) {
			return nil
		}
		return f(RuleLinks, "%q is not an address on the official domain %s", raw, c.Organization.Domain)
	case !strings.Contains(lower, "://"):
		raw = "https://" + raw // a bare domain: mail clients make it a link
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return f(RuleLinks, "%q is not a well-formed link", raw)
	}
	host := strings.ToLower(u.Hostname())
	if slices.Contains(shorteners, host) {
		return f(RuleShortener, "%q goes through the URL shortener %s", raw, host)
	}
	if u.User != nil || !breach.IsUnderDomain(host, c.Organization.Domain) {
		return f(RuleLinks, "%q is not on the official domain %s", raw, c.Organization.Domain)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return f(RuleLinks, "%q is not https", raw)
	}
	if loginWords.MatchString(u.Path + "?" + u.RawQuery) {
		return f(RuleLogin, "%q looks like a login or password page; a notice must not send customers to one", raw)
	}
	return nil
}

// htmlScan is what lint needs of a notice's HTML.
type htmlScan struct {
	sections, links, forbidden []string
	h1, h2                     []string
	misleading                 [][2]string // a link's text that names another target than its href
}

// scanHTML reads a notice's HTML: its data-section markers, every link-like value in any
// attribute (href, src, style url(), meta content…) or text, forbidden tags, headings, and
// links whose text shows another address than the one they lead to.
func scanHTML(doc string) htmlScan {
	var s htmlScan
	z := html.NewTokenizer(strings.NewReader(doc))
	var inHeading string
	var heading strings.Builder
	var href string
	var anchorText strings.Builder
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return s
		case html.TextToken:
			text := string(z.Text())
			s.links = append(s.links, urlPattern.FindAllString(text, -1)...)
			if inHeading != "" {
				heading.WriteString(text)
			}
			if href != "" {
				anchorText.WriteString(text)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch tag := string(name); {
			case tag == inHeading:
				t := strings.Join(strings.Fields(heading.String()), " ")
				if tag == "h1" {
					s.h1 = append(s.h1, t)
				} else {
					s.h2 = append(s.h2, t)
				}
				inHeading = ""
			case tag == "a" && href != "":
				shown := urlPattern.FindString(anchorText.String())
				if shown != "" && !sameTarget(shown, href) {
					s.misleading = append(s.misleading, [2]string{shown, href})
				}
				href = ""
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if slices.Contains(forbiddenTags, tag) {
				s.forbidden = append(s.forbidden, tag)
			}
			if tag == "h1" || tag == "h2" {
				inHeading = tag
				heading.Reset()
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key, val := string(k), string(v)
				switch {
				case key == "data-section":
					s.sections = append(s.sections, val)
				case key == "http-equiv" && strings.EqualFold(val, "refresh"):
					s.forbidden = append(s.forbidden, "meta-refresh")
				case key == "style":
					for _, m := range cssURL.FindAllStringSubmatch(val, -1) {
						s.links = append(s.links, m[1])
					}
				case key == "href" || strings.HasSuffix(key, ":href") || key == "src" || key == "action" ||
					key == "formaction" || key == "background" || key == "poster" || key == "cite":
					s.links = append(s.links, val)
					if tag == "a" && key == "href" {
						href = val
						anchorText.Reset()
					}
				default:
					s.links = append(s.links, urlPattern.FindAllString(val, -1)...)
				}
			}
		}
	}
}

// sameTarget reports whether a link's text names the host its href leads to.
func sameTarget(shown, href string) bool {
	host := func(raw string) string {
		if !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil {
			return ""
		}
		return strings.ToLower(u.Hostname())
	}
	return host(shown) == host(href)
}

// JurisdictionLabel names a profile for people: its ID, or "generic" for the profile used when
// no jurisdiction applies.
func JurisdictionLabel(id string) string {
	if id == "" {
		return "generic"
	}
	return id
}

// lintCampaign checks what the campaign file itself must provide.
func lintCampaign(c *breach.Campaign) []Finding {
	var fs []Finding
	if o := c.Offer; o != nil && o.Months < 12 && slices.ContainsFunc(c.Jurisdictions, func(j string) bool { return strings.HasPrefix(j, "us-") }) {
		fs = append(fs, Finding{Rule: RuleOffer, Severity: "error", Jurisdiction: "us-ca",
			Message: fmt.Sprintf("offer.months is %d: California requires identity theft protection of at least 12 months, free of charge", o.Months)})
	}
	for _, l := range c.Locales {
		if slices.Contains(c.Jurisdictions, "gdpr") && strings.TrimSpace(c.Incident.Consequences[l]) == "" {
			fs = append(fs, Finding{Rule: RuleEmpty, Severity: "error", Locale: l, Jurisdiction: "gdpr",
				Message: fmt.Sprintf("incident.consequences.%s is empty; gdpr requires the likely consequences", l)})
		}
		if c.Offer != nil && strings.TrimSpace(c.Offer.Description[l]) == "" && len(c.Offer.Description) > 0 {
			fs = append(fs, Finding{Rule: RuleEmpty, Severity: "warning", Locale: l,
				Message: fmt.Sprintf("offer.description.%s is empty while other locales have one", l)})
		}
		for _, field := range []struct {
			name string
			text breach.Localized
		}{{"incident.summary", c.Incident.Summary}, {"incident.actions", c.Incident.Actions}, {"incident.consequences", c.Incident.Consequences}} {
			if m := asksForSecret(field.text[l]); m != "" {
				fs = append(fs, Finding{Rule: RuleAsks, Severity: "error", Locale: l,
					Message: fmt.Sprintf("%s.%s seems to ask for a secret or a payment (%q)", field.name, l, m)})
			}
			for _, u := range urlPattern.FindAllString(field.text[l], -1) {
				n := &Notice{Locale: l}
				fs = append(fs, lintURL(c, n, "", u)...)
			}
		}
	}
	return fs
}
