package notice

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Letter is a customer's notice as a postal letter shows it: the same content as the email
// (the jurisdiction's title and headings, the customer's exposed data with its guidance, the
// reference code, the offer and enrolment code, contacts) as plain text blocks, in the
// customer's language. Package letter lays it out.
//
// It is built from the same view and locale strings as the email (Renderer.build), section by
// section in the email's order, so a wording change reaches both; only the layout differs.
// Nothing in it is HTML: every string is plain text, printed as it is.
type Letter struct {
	Locale string
	// Jurisdiction is the profile the notice follows ("us-ca", "gdpr", …; "" for none).
	Jurisdiction string
	// Title is the jurisdiction's title ("Notice of Data Breach").
	Title string
	// Greeting opens the letter ("Dear Ana Quispe,").
	Greeting string
	// Sections are the body, in order.
	Sections []LetterSection
	// Reference is the customer's reference code and VerifyURL where it can be checked.
	Reference, VerifyURL string
	// Closing ends the letter (sign-off and the organisation's name).
	Closing []string
	// Footer says why the customer receives the letter, below the closing.
	Footer string

	// dateFormat writes a date as the locale does (DateOf).
	dateFormat func(time.Time) string
}

// LetterSection is one headed part of a letter. A section without a heading continues the
// one before it.
type LetterSection struct {
	// Key names the section as the email's data-section does (SectionWhatHappened, …), so a
	// test or a layout can find one whatever the language.
	Key        string
	Heading    string
	Paragraphs []string
	// Items are bullet points (an exposed category and its guidance, a contact).
	Items []LetterItem
	// After are paragraphs below the items.
	After []string
	// Code is a code printed prominently below the paragraphs (the reference).
	Code string
}

// LetterItem is one bullet: a bold lead ("Payment card") and its text.
type LetterItem struct {
	Lead string
	Text []string
}

// DateOf writes t as the letter's locale writes dates ("March 5, 2026", "5 de marzo de 2026").
func (l *Letter) DateOf(t time.Time) string {
	if l.dateFormat == nil {
		return t.Format("2006-01-02")
	}
	return l.dateFormat(t)
}

// Letter renders recipient r's notice in campaign c as a letter, in the locale negotiated as
// for the email.
func (rd *Renderer) Letter(c *breach.Campaign, r *breach.Recipient) (*Letter, error) {
	r = withGreetedName(r)
	n, v, _, err := rd.build(c, r, Options{}, Reference(rd.secret, c.ID, r.CustomerID))
	if err != nil {
		return nil, err
	}
	l := v.letter()
	if v.err != nil {
		return nil, v.err
	}
	l.Jurisdiction = n.Jurisdiction
	w := v.w
	l.dateFormat = func(t time.Time) string {
		d := map[string]string{"Day": strconv.Itoa(t.Day()), "Month": w.months[t.Month()-1], "Year": strconv.Itoa(t.Year())}
		var b strings.Builder
		if err := w.strings["date_format"].Execute(&b, d); err != nil {
			return t.Format("2006-01-02")
		}
		return b.String()
	}
	return l, nil
}

// letter lays the view out as the email does (templates/email.txt.tmpl), as sections. The
// headings are the locale's own, not upper-cased: a letter sets them in bold.
func (v *view) letter() *Letter {
	l := &Letter{Locale: v.Locale, Title: v.Title, Greeting: v.Greeting, Reference: v.Reference, VerifyURL: v.VerifyURL}
	add := func(s LetterSection) {
		s.Paragraphs = nonEmpty(s.Paragraphs)
		s.After = nonEmpty(s.After)
		l.Sections = append(l.Sections, s)
	}
	add(LetterSection{Paragraphs: []string{v.Intro}})
	if v.Profile.DescribeBreach {
		add(LetterSection{Key: SectionWhatHappened, Heading: v.S("heading_what_happened"),
			Paragraphs: []string{v.Incident.Summary, v.Incident.When}})
	}
	info := LetterSection{Key: SectionWhatInformation, Heading: v.S("heading_what_information"),
		Paragraphs: []string{v.S("information_intro")}}
	for _, c := range v.Categories {
		info.Items = append(info.Items, LetterItem{Lead: c.Name})
	}
	add(info)
	add(LetterSection{Key: SectionWhatWeAreDoing, Heading: v.S("heading_what_we_are_doing"), Paragraphs: []string{v.Incident.Actions}})
	if v.Incident.Consequences != "" {
		add(LetterSection{Key: SectionConsequences, Heading: v.S("heading_consequences"), Paragraphs: []string{v.Incident.Consequences}})
	}
	todo := LetterSection{Key: SectionWhatYouCanDo, Heading: v.S("heading_what_you_can_do"),
		Paragraphs: []string{v.S("guidance_intro")}, After: []string{v.S("never_ask")}}
	for _, c := range v.Categories {
		todo.Items = append(todo.Items, LetterItem{Lead: c.Name, Text: nonEmpty(c.Steps)})
	}
	add(todo)
	if v.Offer != nil {
		add(LetterSection{Key: SectionOffer, Heading: v.S("heading_offer"), Paragraphs: nonEmpty([]string{v.Offer.Text, v.Offer.Description, v.Offer.Missing})})
	}
	if len(v.Bureaus) > 0 {
		b := LetterSection{Key: SectionBureaus, Paragraphs: []string{v.S("us_bureaus_intro")}, After: []string{v.S("us_ftc")}}
		for _, bureau := range v.Bureaus {
			b.Items = append(b.Items, LetterItem{Text: []string{bureau}})
		}
		add(b)
	}
	if v.Profile.Rights {
		add(LetterSection{Key: SectionRights, Heading: v.S("heading_rights"), Paragraphs: []string{v.S("us_police_report"), v.S("us_credit_freeze")}})
	}
	if v.Profile.Remedy {
		add(LetterSection{Key: SectionRemedy, Heading: v.S("heading_remedy"), Paragraphs: []string{v.S("kr_remedy")}})
	}
	more := LetterSection{Key: SectionMoreInformation, Heading: v.S("heading_more_information"), Paragraphs: []string{v.S("contact")}}
	if v.Org.DPO != nil {
		more.Paragraphs = append(more.Paragraphs, v.S("dpo"))
	}
	add(more)
	add(LetterSection{Key: SectionVerify, Heading: v.S("heading_verify"), Paragraphs: []string{v.S("reference")}, Code: v.Reference})
	l.Closing = nonEmpty([]string{v.S("signoff"), v.S("signature")})
	l.Footer = oneLine(v.S("footer"))
	return l
}

// nonEmpty is ps without its empty strings, each made one line: a paragraph of a letter is
// set as one flowing block, whatever line breaks the wording's YAML held. A blank line in a
// text (the campaign file's summary) still separates two paragraphs.
func nonEmpty(ps []string) []string {
	var out []string
	for _, p := range ps {
		for _, part := range blankLine.Split(p, -1) {
			if part = oneLine(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// blankLine separates paragraphs in a text.
var blankLine = regexp.MustCompile(`\n[ \t\r]*\n`)
