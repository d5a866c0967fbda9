package notice

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// verifyStrings are the keys every verify/<locale>.yaml must have.
var verifyStrings = []string{"title", "intro", "label", "button", "genuine_title", "genuine_text",
	"genuine_contacts", "contact_website", "contact_phone", "contact_dpo", "genuine_caution",
	"not_genuine_title", "not_genuine_text", "not_a_code", "advice", "report", "own_contact",
	"too_many", "privacy"}

// verifyExample is what a reference code looks like, for the page's hints. No real code is
// shown there: this one is made up.
const verifyExample = "7KQ2-M9XD-3F"

// verifyPages is the public verification page: its layout, its wording per locale, and a
// matcher of those locales for the visitor's languages.
type verifyPages struct {
	page    *htmltemplate.Template
	wording map[string]map[string]*texttemplate.Template
	locales []string // English first: the page's language when none of the visitor's is offered
	matcher language.Matcher
}

// loadVerify reads verify.html.tmpl and verify/*.yaml, for the locales that have notice
// wording too (their dates and language names come from it).
func (rd *Renderer) loadVerify(fsys fs.FS, dir string) error {
	src, err := fs.ReadFile(fsys, "verify.html.tmpl")
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	vp := &verifyPages{wording: map[string]map[string]*texttemplate.Template{}}
	if vp.page, err = htmltemplate.New("verify.html.tmpl").Parse(string(src)); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	for _, name := range mergedNames(fsys, dir, "verify") {
		locale := strings.TrimSuffix(name, ".yaml")
		if rd.wording[locale] == nil {
			return fmt.Errorf("templates: verify/%s: there is no locales/%s for its dates and language name", name, name)
		}
		root, err := readYAML(fsys, "verify/"+name)
		if err != nil {
			return err
		}
		w := map[string]*texttemplate.Template{}
		for i := 0; i+1 < len(root.Content); i += 2 {
			key, val := root.Content[i], root.Content[i+1]
			if val.Kind != yaml.ScalarNode {
				return fmt.Errorf("templates: verify/%s:%d: %s: a string is needed", name, key.Line, key.Value)
			}
			t, err := texttemplate.New(fmt.Sprintf("verify/%s:%d", name, val.Line)).Option("missingkey=error").Parse(val.Value)
			if err != nil {
				return fmt.Errorf("templates: verify/%s: %s: %w", name, key.Value, err)
			}
			w[key.Value] = t
		}
		for _, k := range verifyStrings {
			if w[k] == nil {
				return fmt.Errorf("templates: verify/%s: the key %q is missing", name, k)
			}
		}
		vp.wording[locale] = w
		vp.locales = append(vp.locales, locale)
	}
	if len(vp.locales) == 0 {
		return fmt.Errorf("templates: verify/ has no wording for any locale")
	}
	slices.SortStableFunc(vp.locales, func(a, b string) int {
		switch {
		case a == "en":
			return -1
		case b == "en":
			return 1
		}
		return 0
	})
	vp.matcher = breach.NewLocaleMatcher(vp.locales)
	rd.verify = vp
	return nil
}

// VerifyLocale is the language of the verification page for a visitor: lang (a ?lang=
// parameter) when the page is written in it, else the best of acceptLanguage (the
// Accept-Language header), else English.
func (rd *Renderer) VerifyLocale(lang, acceptLanguage string) string {
	vp := rd.verify
	if tag, err := breach.ParseLocale(lang); err == nil && vp.wording[tag] != nil {
		return tag
	}
	wanted, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	if len(wanted) == 0 {
		return vp.locales[0]
	}
	_, i, confidence := vp.matcher.Match(wanted...)
	if confidence == language.No {
		return vp.locales[0]
	}
	return vp.locales[i]
}

// VerifyCheck is what the verification page shows.
type VerifyCheck struct {
	// Locale is the page's (VerifyLocale).
	Locale string
	// Result is the check of the code given, nil when none was (the form alone).
	Result *breach.Verification
	// Limited is set when the visitor has checked too many codes to check another now.
	Limited bool
}

// verifyContacts are a genuine notice's official contacts, as the page lists them.
type verifyContacts struct {
	Website, Phone string
	DPO            *breach.Contact
}

type verifyLanguage struct {
	Locale, Name, Link string
	Current            bool
}

// VerifyPage renders the public verification page (GET /verify): a form for a reference code,
// and the answer for the code given. A genuine code is confirmed with the company's name, the
// day its notice was sent and the company's official contacts; anything else is "we did not
// send this", with what to do about the message and how to report it. Nothing of a customer
// is shown: the page knows nothing of them.
func (rd *Renderer) VerifyPage(check VerifyCheck) ([]byte, error) {
	vp := rd.verify
	w, words := vp.wording[check.Locale], rd.wording[check.Locale]
	if w == nil || words == nil {
		return nil, fmt.Errorf("notice: the verification page has no wording for the locale %q", check.Locale)
	}
	v := &view{Locale: check.Locale, w: words}
	data := struct{ Org, Reference, Date, Example string }{Example: verifyExample}
	page := struct {
		Locale, Reference         string
		Checked, Genuine, Limited bool
		Contacts                  verifyContacts
		Languages                 []verifyLanguage
		S                         map[string]string
	}{Locale: check.Locale, Limited: check.Limited, S: map[string]string{}}
	if r := check.Result; r != nil && !check.Limited {
		page.Checked, page.Genuine, page.Reference = true, r.Genuine, r.Reference
		data.Reference = r.Reference
		if r.Genuine {
			data.Org = r.Organization.Name
			if d, err := breach.ParseDate(r.SentAt.UTC().Format(time.DateOnly)); err == nil {
				data.Date = v.date(d)
			}
			page.Contacts = verifyContacts{Website: r.Organization.SupportURL, Phone: r.Organization.SupportPhone, DPO: r.Organization.DPO}
		}
	}
	for _, k := range verifyStrings {
		var b bytes.Buffer
		if err := w[k].Execute(&b, data); err != nil {
			return nil, fmt.Errorf("notice: verify/%s.yaml: %s: %w", check.Locale, k, err)
		}
		page.S[k] = b.String()
	}
	for _, l := range vp.locales {
		q := url.Values{"lang": {l}}
		if page.Reference != "" {
			q.Set("ref", page.Reference)
		}
		page.Languages = append(page.Languages, verifyLanguage{Locale: l, Name: rd.languageName(l), Link: VerifyPath + "?" + q.Encode(),
			Current: l == check.Locale})
	}
	if v.err != nil {
		return nil, v.err
	}
	var b bytes.Buffer
	if err := vp.page.Execute(&b, page); err != nil {
		return nil, fmt.Errorf("notice: verify.html.tmpl: %w", err)
	}
	return b.Bytes(), nil
}

// languageName is a locale's name in its own language (its language_name string), or its tag.
func (rd *Renderer) languageName(locale string) string {
	w := rd.wording[locale]
	if t := w.strings["language_name"]; t != nil {
		var b bytes.Buffer
		if t.Execute(&b, nil) == nil && b.Len() > 0 {
			return b.String()
		}
	}
	return locale
}
