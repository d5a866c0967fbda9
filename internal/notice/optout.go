package notice

import (
	"bytes"
	"fmt"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// OptOutPage renders the opt-out page (/u/{token}) of a recipient of campaign c, in their
// notice's language: the question with its button, or, when done, the confirmation. It shows
// no personal data (not even the address): whoever holds the link sees only the company's name.
func (rd *Renderer) OptOutPage(c *breach.Campaign, r *breach.Recipient, done bool) ([]byte, error) {
	locale, _ := negotiate(rd.matcher(c.Locales), c, r)
	w := rd.wording[locale]
	if w == nil {
		return nil, fmt.Errorf("notice: no wording for the locale %q", locale)
	}
	v := &view{Locale: locale, w: w, Org: orgView{Name: c.Organization.Name}}
	page := struct {
		Locale, Title, Question, Button, DoneText, Org string
		Done                                           bool
	}{locale, v.S("optout_page_title"), v.S("optout_page_question"), v.S("optout_page_button"),
		v.S("optout_page_done"), c.Organization.Name, done}
	if v.err != nil {
		return nil, v.err
	}
	var b bytes.Buffer
	if err := rd.optout.Execute(&b, page); err != nil {
		return nil, fmt.Errorf("notice: optout.html.tmpl: %w", err)
	}
	return b.Bytes(), nil
}
