package notice

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"

	"golang.org/x/text/language"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/gsm"
	"github.com/breachnotice/breachnotice/internal/plaintext"
)

// Renderer renders notices. Build one with New; it is safe for concurrent use.
type Renderer struct {
	// matchers caches a language matcher per set of offered locales: building one per notice
	// would be the costliest step of rendering at sending speed.
	matchers sync.Map // strings.Join(locales, ",") → language.Matcher
	html     *htmltemplate.Template
	text     *texttemplate.Template
	optout   *htmltemplate.Template
	website  *htmltemplate.Template
	wording  map[string]*wording
	guidance map[string]guidance
	verify   *verifyPages
	secret   []byte
	// files is the digest of the template files read (see digesting).
	files string

	// PublicURL (PUBLIC_URL) is where this service answers, /verify included: notices link to
	// PublicURL/verify when it is an https URL on the campaign's official domain (see
	// verifyURL). Set it before rendering.
	PublicURL string
}

// New loads the templates — the embedded defaults, overridden file by file by dir when dir is
// not empty — and fails naming the file and line of the first one that is broken. secret keys
// the reference codes.
func New(dir string, secret []byte) (*Renderer, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("notice: a secret is needed for reference codes")
	}
	rd := &Renderer{secret: secret}
	if err := rd.load(dir); err != nil {
		return nil, err
	}
	return rd, nil
}

// Digest names what this renderer renders notices from: its template files, the embedded ones
// and TEMPLATES_DIR's. An approval records it; a worker whose renderer has another does not
// send the campaign (dispatch): the approvers saw the notices as these files render them, not
// as a later release's or another directory's. PUBLIC_URL, which the notices link to, is not
// part of it: an approval from the command line, which has no use for it, would have stopped
// every worker that has it.
func (rd *Renderer) Digest() string {
	h := sha256.Sum256([]byte(rd.files))
	return hex.EncodeToString(h[:16])
}

// matcher returns the language matcher for a campaign's offered locales.
func (rd *Renderer) matcher(locales []string) language.Matcher {
	key := strings.Join(locales, ",")
	if m, ok := rd.matchers.Load(key); ok {
		return m.(language.Matcher)
	}
	m, _ := rd.matchers.LoadOrStore(key, newMatcher(locales))
	return m.(language.Matcher)
}

// Options narrow a rendering.
type Options struct {
	// Locale forces the notice's locale (one the campaign offers) instead of negotiating it.
	Locale string
	// Placeholders writes [NAME], [REFERENCE] and [ENROLMENT CODE] where the customer's own
	// values would be: the sample copy a regulator asks for, without personal data.
	Placeholders bool
}

// The placeholders of a sample notice (Options.Placeholders).
const (
	PlaceholderName      = "[NAME]"
	PlaceholderReference = "[REFERENCE]"
	PlaceholderOfferCode = "[ENROLMENT CODE]"
)

// view is what the templates see. Its S method renders one of the locale's strings with the
// view itself as data, so the layouts are executed as parsed, without a per-notice clone.
type view struct {
	Locale     string
	Subject    string
	Title      string
	Greeting   string
	Intro      string
	Profile    Profile
	Org        orgView
	Customer   customerView
	Incident   incidentView
	Categories []categoryView
	Offer      *offerView
	Reference  string
	VerifyURL  string
	// verifyPage is VerifyURL without the code (the SMS's link).
	verifyPage   string
	Bureaus      []string
	CategoryList string

	w   *wording
	err error // the first error of S, reported by Render
}

type orgView struct {
	Name, SupportPhone, SupportURL string
	DPO                            *breach.Contact
}

type customerView struct{ Name string }

type incidentView struct {
	From, To, Discovered           string
	Summary, Actions, Consequences string
	When                           string
}

type categoryView struct {
	Key, Name string
	Steps     []string
}

type offerView struct {
	Provider, URL, EnrollBy, Code, Description, Text string
	// Missing tells a customer the campaign has codes for but the list gave none (or none
	// that looks like a code) how to get theirs: the campaign's description of the offer may
	// promise "the personal code included in this notice". "" otherwise.
	Missing string
	Months  int
}

// smsView is what the SMS wording sees: the categories as one phrase.
type smsView struct {
	Org        orgView
	Reference  string
	VerifyURL  string
	Categories string
}

// S renders the locale's string key with the view as data.
func (v *view) S(key string) string {
	return v.exec(key, v)
}

func (v *view) exec(key string, data any) string {
	t := v.w.strings[key]
	if t == nil {
		if v.err == nil {
			v.err = fmt.Errorf("notice: the locale %s has no string %q", v.Locale, key)
		}
		return ""
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil && v.err == nil {
		v.err = fmt.Errorf("notice: %s: %w", key, err)
	}
	return b.String()
}

// date formats d as the locale writes dates.
func (v *view) date(d breach.Date) string {
	if d.IsZero() {
		return ""
	}
	t := d.Time()
	return v.exec("date_format", map[string]string{"Day": strconv.Itoa(t.Day()), "Month": v.w.months[t.Month()-1], "Year": strconv.Itoa(t.Year())})
}

// smsCategoryNames is how many categories an SMS names before "and N more"; the email names
// them all.
const smsCategoryNames = 3

// offerCode is what an enrolment code may look like (breach.IsEnrolmentCode). A customer list
// could put anything in the column; a code that is not a code (a link, a sentence) is left out
// of the notice.
var offerCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,39}$`)

// oneLine is s on one line: its runs of spaces and line breaks made one space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// greeted is a customer's name as a notice greets them: one line of plain text, or "" (the
// generic greeting) — the importer's rules (plaintext.Name) applied again to whatever is
// stored, so that a name imported before a rule existed (a link, a phone number: a lure in a
// notice signed by the company's domain) reaches no notice. A clean name costs one pass over
// its bytes. Applied where a customer enters rendering (Render, Letter, CampaignRenderer's
// key), not in build: a CampaignRenderer renders with stand-ins for the name, which must go
// through as they are.
func greeted(name string) string {
	n, _ := plaintext.Name(name)
	return n
}

// withGreetedName is r with its name as a notice greets it (greeted); r itself is not changed.
func withGreetedName(r *breach.Recipient) *breach.Recipient {
	return withName(r, greeted(r.Name))
}

// withName is r with the name name; r itself when that is its name already.
func withName(r *breach.Recipient, name string) *breach.Recipient {
	if name == r.Name {
		return r
	}
	s := *r
	s.Name = name
	return &s
}

// offerCodeOf is r's enrolment code for the offer o: the list's code when it gives one that
// looks like a code, else the code the campaign's pool assigned to r (breach.CodePool), else ""
// (and "" when there is no offer). The pool assigns codes only to customers without a list
// code, by the same rule (postgres.needsPoolCode), so the two never compete.
func offerCodeOf(o *breach.Offer, r *breach.Recipient) string {
	if o == nil {
		return ""
	}
	if o.CodeAttribute != "" {
		if code := strings.TrimSpace(r.Attributes[o.CodeAttribute]); offerCode.MatchString(code) {
			return code
		}
	}
	if offerCode.MatchString(r.EnrolmentCode) {
		return r.EnrolmentCode
	}
	return ""
}

// Render renders recipient r's notice in campaign c.
func (rd *Renderer) Render(c *breach.Campaign, r *breach.Recipient, opt Options) (*Notice, error) {
	r = withGreetedName(r)
	reference := PlaceholderReference
	if !opt.Placeholders {
		reference = Reference(rd.secret, c.ID, r.CustomerID)
	}
	n, _, err := rd.render(c, r, opt, reference)
	return n, err
}

// render is Render with r's reference code given, and also returns the SMS body before its
// transliteration: a CampaignRenderer renders with stand-ins for the customer's values, which it
// replaces afterwards, and measures the SMS again with the real ones.
func (rd *Renderer) render(c *breach.Campaign, r *breach.Recipient, opt Options, reference string) (*Notice, string, error) {
	n, v, names, err := rd.build(c, r, opt, reference)
	if err != nil {
		return nil, "", err
	}
	var html, text bytes.Buffer
	if err := rd.html.Execute(&html, v); err != nil {
		return nil, "", fmt.Errorf("notice: email.html.tmpl: %w", err)
	}
	if err := rd.text.Execute(&text, v); err != nil {
		return nil, "", fmt.Errorf("notice: email.txt.tmpl: %w", err)
	}
	if v.err != nil {
		return nil, "", v.err
	}
	n.HTML, n.Text = html.String(), text.String()
	sms := v.sms(c, names)
	if v.err != nil {
		return nil, "", v.err
	}
	n.SMS = measureSMS(sms, c.SMS.Transliterate)
	return n, sms, nil
}

// build negotiates r's notice and fills the view its templates see, with the names of the
// categories it lists (for the SMS).
func (rd *Renderer) build(c *breach.Campaign, r *breach.Recipient, opt Options, reference string) (*Notice, *view, []string, error) {
	n := &Notice{Reference: reference}
	n.Locale, n.LocaleReason = negotiate(rd.matcher(c.Locales), c, r)
	if opt.Locale != "" {
		tag, err := breach.ParseLocale(opt.Locale)
		if err != nil || !slices.Contains(c.Locales, tag) {
			return nil, nil, nil, breach.Errorf(breach.EINVALID, "locale %q is not one of the campaign's locales %v", opt.Locale, c.Locales)
		}
		n.Locale, n.LocaleReason = tag, "chosen for this preview"
	}
	w, g := rd.wording[n.Locale], rd.guidance[n.Locale]
	if w == nil {
		return nil, nil, nil, breach.Errorf(breach.EINVALID, "there are no templates for the locale %q", n.Locale)
	}
	p := jurisdictionOf(c, r)
	n.Jurisdiction, n.profile = p.ID, p

	v := &view{Locale: n.Locale, Profile: p, Reference: n.Reference, VerifyURL: rd.verifyURL(c, reference), w: w,
		Org:      orgView{c.Organization.Name, c.Organization.SupportPhone, c.Organization.SupportURL, c.Organization.DPO},
		Customer: customerView{Name: oneLine(r.Name)}}
	v.verifyPage = rd.verifyURL(c, "")
	if opt.Placeholders {
		v.Customer.Name = PlaceholderName
	}

	in := c.Incident
	v.Incident = incidentView{From: v.date(in.OccurredFrom), To: v.date(in.OccurredTo), Discovered: v.date(in.DiscoveredOn)}
	if p.DescribeBreach {
		v.Intro = v.S("intro")
		v.Incident.Summary, v.Incident.Actions = in.Summary[n.Locale], in.Actions[n.Locale]
		if v.Incident.To != "" {
			v.Incident.When = v.S("when_range")
		} else {
			v.Incident.When = v.S("when_single")
		}
		v.Incident.Consequences = in.Consequences[n.Locale]
	} else {
		// The company's own account of its measures may tell how the breach happened, which
		// this law forbids: a neutral statement replaces it, and nothing else is said of it.
		v.Intro = v.S("intro_no_description")
		v.Incident.Actions = v.S("actions_no_description")
	}

	exposed := r.Exposed
	if exposed == 0 {
		exposed = c.DefaultCategories()
	}
	var names []string
	for _, cat := range exposed.List() {
		steps := g[cat.String()][r.Country]
		if len(steps) == 0 {
			steps = g[cat.String()]["default"]
		}
		name := w.categoryName(cat.String(), r.Country)
		names = append(names, name)
		v.Categories = append(v.Categories, categoryView{Key: cat.String(), Name: capitalize(name), Steps: steps})
	}
	v.CategoryList = joinList(names, v.S("category_and"))
	if showBureaus(p, exposed) {
		v.Bureaus = w.bureaus
		n.required = append(n.required, SectionBureaus)
	}

	if o := c.Offer; o != nil {
		v.Offer = &offerView{Provider: o.Provider, Months: o.Months, URL: o.URL, EnrollBy: v.date(o.EnrollBy),
			Description: o.Description[n.Locale], Code: offerCodeOf(o, r)}
		if opt.Placeholders && (o.CodeAttribute != "" || v.Offer.Code != "" || c.CodePool != nil) { // a pool gives each customer without one a code
			v.Offer.Code = PlaceholderOfferCode
		}
		if v.Offer.Code == "" && (o.CodeAttribute != "" || c.CodePool != nil) && v.w.strings[optionalCodeMissing] != nil {
			v.Offer.Missing = v.S(optionalCodeMissing)
		}
		switch {
		case v.Offer.Code == "" && v.Offer.EnrollBy == "":
			v.Offer.Text = v.S("offer_no_code_no_deadline")
		case v.Offer.Code == "":
			v.Offer.Text = v.S("offer_no_code")
		case v.Offer.EnrollBy == "":
			v.Offer.Text = v.S("offer_no_deadline")
		default:
			v.Offer.Text = v.S("offer")
		}
	}
	if p.CaliforniaFormat {
		v.Subject, v.Title = v.S("subject_us_ca"), v.S("title_us_ca")
		n.headings = []string{v.Title, v.S("heading_what_happened"), v.S("heading_what_information"),
			v.S("heading_what_we_are_doing"), v.S("heading_what_you_can_do"), v.S("heading_more_information")}
	} else {
		v.Subject, v.Title = v.S("subject"), v.S("title")
	}
	// A subject is a mail header: nothing in it may break a line.
	v.Subject = strings.Join(strings.Fields(v.Subject), " ")
	n.Subject = v.Subject
	if v.Customer.Name != "" {
		v.Greeting = v.S("greeting")
	} else {
		v.Greeting = v.S("greeting_anonymous")
	}
	if v.err != nil {
		return nil, nil, nil, v.err
	}
	return n, v, names, nil
}

// sms renders the text message's body: the most urgent categories by name (all of them when one
// more would fit in place of "and 1 more").
func (v *view) sms(c *breach.Campaign, names []string) string {
	categories := v.CategoryList
	if len(names) > smsCategoryNames+1 {
		more := v.exec("sms_more_categories", map[string]int{"Count": len(names) - smsCategoryNames})
		categories = strings.Join(names[:smsCategoryNames], ", ") + " " + more
	}
	key := "sms"
	if c.SMS.AllowLink {
		key = "sms_link"
	}
	// The SMS links the page without the code, which it prints anyway: 17 characters more
	// would cost a segment in Spanish and French.
	return strings.Join(strings.Fields(v.exec(key, smsView{Org: v.Org, Reference: v.Reference, VerifyURL: v.verifyPage, Categories: categories})), " ")
}

// VerifyPath is the public verification page (GET /verify?ref=CODE) under PUBLIC_URL.
const VerifyPath = "/verify"

// verifyURL is where a notice of campaign c with reference tells its reader to check it:
// PublicURL/verify?ref=CODE (the page confirms it at once), or PublicURL/verify without a code
// for a sample or a page for everyone. That is only when PublicURL is https on the campaign's
// official domain — lint refuses any other link in a notice, and a notice pointing elsewhere is
// what phishing looks like — otherwise the campaign's support URL, where the company's own
// staff can check the code.
func (rd *Renderer) verifyURL(c *breach.Campaign, reference string) string {
	base := rd.verifyBase(c)
	switch {
	case base == "":
		return c.Organization.SupportURL
	case reference == "" || reference == PlaceholderReference:
		return base + VerifyPath
	default:
		return base + VerifyPath + "?ref=" + url.QueryEscape(reference)
	}
}

// verifyBase is PublicURL when notices of c may link it, else "".
func (rd *Renderer) verifyBase(c *breach.Campaign) string {
	u, err := url.Parse(rd.PublicURL)
	if err != nil || u.Scheme != "https" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		!breach.IsUnderDomain(strings.ToLower(u.Hostname()), c.Organization.Domain) {
		return ""
	}
	return strings.TrimRight(rd.PublicURL, "/")
}

// measureSMS is the text message of body: transliterated to GSM-7 when transliterate (the
// campaign allows it) and that saves segments, with what it costs to send.
func measureSMS(body string, transliterate bool) SMS {
	info := gsm.Measure(body)
	if transliterate {
		t := gsm.Transliterate(body)
		if ti := gsm.Measure(t); ti.Segments < info.Segments {
			body, info = t, ti
		}
	}
	return SMS{Body: body, Encoding: info.Encoding, Units: info.Units, Segments: info.Segments}
}

// showBureaus says whether the notice lists the US credit bureaus: always where the law gives a
// right to a credit freeze (it must say how to ask for one), and in the California format when
// an identifier that opens credit (SSN or ID, driver's licence, passport) was exposed.
func showBureaus(p Profile, exposed breach.Categories) bool {
	if p.Rights {
		return true
	}
	return p.Bureaus && (exposed.Has(breach.CategoryNationalID) || exposed.Has(breach.CategoryDriversLicense) || exposed.Has(breach.CategoryPassport))
}

// joinList joins items as a sentence would: "a, b and c".
func joinList(items []string, and string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + strings.TrimSpace(and) + " " + items[len(items)-1]
}

func capitalize(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}
