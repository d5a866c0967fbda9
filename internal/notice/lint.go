package notice

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

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
)

// shorteners are URL shorteners: a link through one hides where it leads, which is what
// phishing does and what a genuine notice must never look like.
var shorteners = []string{"bit.ly", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "buff.ly",
	"rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "s.id", "bl.ink", "lnkd.in"}

var (
	urlPattern   = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"']+`)
	loginPath    = regexp.MustCompile(`(?i)log-?in|sign-?in|log-?on|password|passwd|contrase|mot-?de-?passe|reset`)
	fontSize     = regexp.MustCompile(`font-size:\s*([0-9.]+)(px|pt)`)
	askForSecret = regexp.MustCompile(`(?i)` +
		`\b(send|enter|provide|confirm|verify|update|reply with|type)\b[^.!?\n]{0,40}\b(password|pin|passcode|card number|cvv|security code|bank details|payment)\b|` +
		`\b(pay|make a payment|transfer)\b[^.!?\n]{0,30}\b(fee|now|to (?:unlock|restore|keep))\b|` +
		`\b(env[ií]e|ingrese|introduzca|proporcione|confirme|actualice|responda con)\b[^.!?\n]{0,40}\b(contraseña|clave|pin|n[uú]mero de (?:su )?tarjeta|cvv|datos bancarios|pago)\b|` +
		`\b(envoyez|saisissez|indiquez|communiquez|confirmez|mettez à jour|répondez avec)\b[^.!?\n]{0,40}\b(mot de passe|code pin|code secret|numéro de carte|cryptogramme|coordonnées bancaires|paiement)\b|` +
		`(비밀번호|PIN|카드\s?번호|CVC|결제|계좌\s?번호)[^.!?\n]{0,20}(입력|보내|알려|회신|제출)`)
)

// negation before a match ("never send your password", "ne communiquez jamais…") or a Korean
// prohibition after it ("…알려 주지 마십시오") makes it advice, not a request.
var (
	negationBefore = regexp.MustCompile(`(?i)(\bnever|\bnot|n't|\bno|\bnunca|\bjam[aá]s|\bne|\bn'|절대)\W*(\w+\W+){0,3}$`)
	negationAfter  = regexp.MustCompile(`^\S*\s?(마십시오|마세요|말아|않)`)
)

// asksForSecret returns the first passage of text that asks for a secret or a payment.
func asksForSecret(text string) string {
	for _, loc := range askForSecret.FindAllStringIndex(text, -1) {
		before := text[max(0, loc[0]-40):loc[0]]
		if negationBefore.MatchString(before) || negationAfter.MatchString(text[loc[1]:]) {
			continue
		}
		return text[loc[0]:loc[1]]
	}
	return ""
}

// lintNotice checks one rendered notice against its profile and the campaign.
func lintNotice(c *breach.Campaign, n *Notice, p Profile) []Finding {
	var fs []Finding
	add := func(rule, channel, format string, args ...any) {
		fs = append(fs, Finding{Rule: rule, Severity: "error", Message: fmt.Sprintf(format, args...),
			Locale: n.Locale, Channel: channel, Jurisdiction: p.ID})
	}
	sections, links, forms := scanHTML(n.HTML)
	for _, sec := range p.Required {
		if !slices.Contains(sections, sec) {
			add(RuleSections, string(Email), "the %s notice needs a %q section", profileName(p), sec)
		}
	}
	for _, sec := range p.Forbidden {
		if slices.Contains(sections, sec) {
			add(RuleSections, string(Email), "the %s notice must not have a %q section", profileName(p), sec)
		}
	}
	if p.CaliforniaFormat {
		order := []string{SectionWhatHappened, SectionWhatInformation, SectionWhatWeAreDoing, SectionWhatYouCanDo, SectionMoreInformation}
		last := -1
		for _, sec := range order {
			i := slices.Index(sections, sec)
			if i < last {
				add(RuleSections, string(Email), "California's headings must come in the order %v", order)
				break
			}
			last = i
		}
	}
	if forms > 0 {
		add(RuleLogin, string(Email), "the email contains a form or input field; a notice never collects anything")
	}
	for _, m := range fontSize.FindAllStringSubmatch(n.HTML, -1) {
		size, _ := strconv.ParseFloat(m[1], 64)
		if m[2] == "px" {
			size *= 0.75
		}
		if size < 10 {
			add(RuleFontSize, string(Email), "type of %s%s is smaller than 10 pt", m[1], m[2])
		}
	}
	for _, u := range append(links, urlPattern.FindAllString(n.Text, -1)...) {
		fs = append(fs, lintURL(c, n, p, string(Email), u)...)
	}
	for _, u := range urlPattern.FindAllString(n.SMS.Body, -1) {
		fs = append(fs, lintURL(c, n, p, string(Text), u)...)
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

func lintURL(c *breach.Campaign, n *Notice, p Profile, channel, raw string) []Finding {
	f := func(rule, format string, args ...any) []Finding {
		return []Finding{{Rule: rule, Severity: "error", Message: fmt.Sprintf(format, args...), Locale: n.Locale, Channel: channel, Jurisdiction: p.ID}}
	}
	raw = strings.TrimRight(raw, ".,;:)")
	if strings.HasPrefix(strings.ToLower(raw), "www.") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return f(RuleLinks, "%q is not a well-formed link", raw)
	}
	host := strings.ToLower(u.Hostname())
	if slices.Contains(shorteners, host) {
		return f(RuleShortener, "%q goes through the URL shortener %s", raw, host)
	}
	if !breach.IsUnderDomain(host, c.Organization.Domain) {
		return f(RuleLinks, "%q is not on the official domain %s", raw, c.Organization.Domain)
	}
	if u.Scheme != "https" {
		return f(RuleLinks, "%q is not https", raw)
	}
	if loginPath.MatchString(u.Path) {
		return f(RuleLogin, "%q looks like a login or password page; a notice must not send customers to one", raw)
	}
	return nil
}

// scanHTML returns the data-section markers, the link targets (href, src, action) and the
// number of form controls of an HTML document.
func scanHTML(doc string) (sections, links []string, forms int) {
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return sections, links, forms
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "form", "input", "button", "select", "textarea", "script", "iframe":
				forms++
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "data-section":
					sections = append(sections, string(v))
				case "href", "src", "action", "formaction", "background":
					links = append(links, string(v))
				}
			}
		}
	}
}

func profileName(p Profile) string {
	if p.ID == "" {
		return "generic"
	}
	return p.ID
}

// lintCampaign checks what the campaign file itself must provide for each offered locale.
func lintCampaign(c *breach.Campaign) []Finding {
	var fs []Finding
	for _, l := range c.Locales {
		for _, j := range c.Jurisdictions {
			if j == "gdpr" && strings.TrimSpace(c.Incident.Consequences[l]) == "" {
				fs = append(fs, Finding{Rule: RuleEmpty, Severity: "error", Locale: l, Jurisdiction: j,
					Message: fmt.Sprintf("incident.consequences.%s is empty; gdpr requires the likely consequences", l)})
			}
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
		}
	}
	return fs
}
