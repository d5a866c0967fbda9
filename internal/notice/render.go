package notice

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/gsm"
)

// Renderer renders notices. Build one with New; it is safe for concurrent use.
type Renderer struct {
	html     *htmltemplate.Template
	text     *texttemplate.Template
	wording  map[string]*wording
	guidance map[string]guidance
	secret   []byte
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

// Locales lists the locales the templates cover.
func (rd *Renderer) Locales() []string {
	var ls []string
	for l := range rd.wording {
		ls = append(ls, l)
	}
	return ls
}

// Options narrow a rendering.
type Options struct {
	// Locale forces the notice's locale (one the campaign offers) instead of negotiating it.
	Locale string
}

// view is what the templates see.
type view struct {
	Locale       string
	Subject      string
	Title        string
	Greeting     string
	Profile      Profile
	Org          orgView
	Customer     customerView
	Incident     incidentView
	Categories   []categoryView
	Offer        *offerView
	Reference    string
	VerifyURL    string
	OptOutURL    string
	Bureaus      []string
	CategoryList string
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
	Months                                           int
}

// smsView is what the SMS wording sees: the categories as one phrase.
type smsView struct {
	Org        orgView
	Reference  string
	VerifyURL  string
	Categories string
}

// Render renders recipient r's notice in campaign c.
func (rd *Renderer) Render(c *breach.Campaign, r *breach.Recipient, opt Options) (*Notice, error) {
	n := &Notice{Reference: Reference(rd.secret, c.ID, r.CustomerID)}
	n.Locale, n.LocaleReason = negotiate(c, r)
	if opt.Locale != "" {
		tag, err := breach.ParseLocale(opt.Locale)
		if err != nil || !slices.Contains(c.Locales, tag) {
			return nil, breach.Errorf(breach.EINVALID, "locale %q is not one of the campaign's locales %v", opt.Locale, c.Locales)
		}
		n.Locale, n.LocaleReason = tag, "chosen for this preview"
	}
	w, g := rd.wording[n.Locale], rd.guidance[n.Locale]
	if w == nil {
		return nil, breach.Errorf(breach.EINVALID, "there are no templates for the locale %q", n.Locale)
	}
	p := jurisdictionOf(c, r)
	n.Jurisdiction = p.ID

	v := &view{Locale: n.Locale, Profile: p, Reference: n.Reference, VerifyURL: c.Organization.SupportURL,
		Org:      orgView{c.Organization.Name, c.Organization.SupportPhone, c.Organization.SupportURL, c.Organization.DPO},
		Customer: customerView{Name: r.Name}}
	exec := func(key string, data any) (string, error) {
		var b bytes.Buffer
		if err := w.strings[key].Execute(&b, data); err != nil {
			return "", fmt.Errorf("notice: %s: %w", key, err)
		}
		return b.String(), nil
	}
	var firstErr error
	s := func(key string) string {
		out, err := exec(key, v)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return out
	}
	date := func(d breach.Date) string {
		if d.IsZero() {
			return ""
		}
		t := d.Time()
		out, err := exec("date_format", map[string]string{"Day": strconv.Itoa(t.Day()), "Month": w.months[t.Month()-1], "Year": strconv.Itoa(t.Year())})
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return out
	}

	in := c.Incident
	v.Incident = incidentView{From: date(in.OccurredFrom), To: date(in.OccurredTo), Discovered: date(in.DiscoveredOn),
		Summary: in.Summary[n.Locale], Actions: in.Actions[n.Locale]}
	if p.Consequences || in.Consequences[n.Locale] != "" {
		v.Incident.Consequences = in.Consequences[n.Locale]
	}
	if v.Incident.To != "" {
		v.Incident.When = s("when_range")
	} else {
		v.Incident.When = s("when_single")
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
		name := w.categoryNames[cat.String()]
		names = append(names, name)
		v.Categories = append(v.Categories, categoryView{Key: cat.String(), Name: capitalize(name), Steps: steps})
	}
	and, _ := exec("category_and", v)
	v.CategoryList = joinList(names, and)
	if p.Bureaus && (exposed.Has(breach.CategoryNationalID) || exposed.Has(breach.CategoryDriversLicense) || exposed.Has(breach.CategoryPassport)) {
		v.Bureaus = w.bureaus
	} else {
		v.Profile.Bureaus = false
	}
	if o := c.Offer; o != nil {
		v.Offer = &offerView{Provider: o.Provider, Months: o.Months, URL: o.URL, EnrollBy: date(o.EnrollBy),
			Code: r.Attributes[o.CodeAttribute], Description: o.Description[n.Locale]}
		switch {
		case v.Offer.Code == "":
			v.Offer.Text = s("offer_no_code")
		case v.Offer.EnrollBy == "":
			v.Offer.Text = s("offer_no_deadline")
		default:
			v.Offer.Text = s("offer")
		}
	}
	if p.CaliforniaFormat {
		v.Subject, v.Title = s("subject_us_ca"), s("title_us_ca")
	} else {
		v.Subject, v.Title = s("subject"), s("title")
	}
	// A subject is a mail header: nothing in it may break a line.
	v.Subject = strings.Join(strings.Fields(v.Subject), " ")
	n.Subject = v.Subject
	if r.Name != "" {
		v.Greeting = s("greeting")
	} else {
		v.Greeting = s("greeting_anonymous")
	}
	if firstErr != nil {
		return nil, firstErr
	}

	var html, text bytes.Buffer
	ht, err := rd.html.Clone()
	if err != nil {
		return nil, err
	}
	if err := ht.Funcs(map[string]any{"s": s}).Execute(&html, v); err != nil {
		return nil, fmt.Errorf("notice: email.html.tmpl: %w", err)
	}
	tt, err := rd.text.Clone()
	if err != nil {
		return nil, err
	}
	if err := tt.Funcs(map[string]any{"s": s}).Execute(&text, v); err != nil {
		return nil, fmt.Errorf("notice: email.txt.tmpl: %w", err)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	n.HTML, n.Text = html.String(), text.String()

	key := "sms"
	if c.SMS.AllowLink {
		key = "sms_link"
	}
	// An SMS names the most urgent categories only; the email has them all.
	smsCategories := v.CategoryList
	if len(names) > smsCategoryNames {
		more, err := exec("sms_more_categories", map[string]int{"Count": len(names) - smsCategoryNames})
		if err != nil {
			return nil, err
		}
		smsCategories = strings.Join(names[:smsCategoryNames], ", ") + " " + more
	}
	body, err := exec(key, smsView{Org: v.Org, Reference: v.Reference, VerifyURL: v.VerifyURL, Categories: smsCategories})
	if err != nil {
		return nil, err
	}
	body = strings.Join(strings.Fields(body), " ")
	if c.SMS.Transliterate {
		body = gsm.Transliterate(body)
	}
	info := gsm.Measure(body)
	n.SMS = SMS{Body: body, Encoding: info.Encoding, Units: info.Units, Segments: info.Segments}
	return n, nil
}

// smsCategoryNames is how many categories an SMS names before "and N more".
const smsCategoryNames = 3

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
