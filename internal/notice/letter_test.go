package notice

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// letterFor renders the letter of the sample customer of locale × jurisdiction.
func letterFor(t *testing.T, locale, jurisdiction string) (*Letter, *breach.Recipient) {
	t.Helper()
	c := exampleCampaign(t)
	r := Sample(c, Variant{Locale: locale, Jurisdiction: jurisdiction})
	l, err := renderer(t, "").Letter(c, r)
	if err != nil {
		t.Fatal(err)
	}
	return l, r
}

func (l *Letter) keys() []string {
	var keys []string
	for _, s := range l.Sections {
		if s.Key != "" {
			keys = append(keys, s.Key)
		}
	}
	return keys
}

func (l *Letter) section(key string) *LetterSection {
	for i := range l.Sections {
		if l.Sections[i].Key == key {
			return &l.Sections[i]
		}
	}
	return nil
}

func TestLetter_CaliforniaHasItsTitleAndFiveHeadingsInOrder(t *testing.T) {
	l, _ := letterFor(t, "en", "us-ca")
	if l.Title != "Notice of Data Breach" {
		t.Errorf("title %q, want Notice of Data Breach", l.Title)
	}
	var headings []string
	for _, s := range l.Sections {
		if s.Heading != "" {
			headings = append(headings, s.Heading)
		}
	}
	want := []string{"What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do", "For More Information"}
	i := 0
	for _, h := range headings {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Errorf("headings %q do not have California's five in order %q", headings, want)
	}
	if l.section(SectionBureaus) == nil {
		t.Error("a US letter exposing a Social Security number does not list the credit bureaus")
	}
}

func TestLetter_MassachusettsDoesNotDescribeTheBreach(t *testing.T) {
	l, _ := letterFor(t, "en", "us-ma")
	c := exampleCampaign(t)
	for _, forbidden := range []string{SectionWhatHappened, SectionConsequences} {
		if l.section(forbidden) != nil {
			t.Errorf("a Massachusetts letter has the section %s", forbidden)
		}
	}
	all := l.text()
	if summary := oneLine(c.Incident.Summary["en"]); strings.Contains(all, summary[:60]) {
		t.Error("a Massachusetts letter quotes the incident summary")
	}
	for _, required := range []string{SectionRights, SectionBureaus, SectionWhatInformation, SectionWhatYouCanDo, SectionVerify} {
		if l.section(required) == nil {
			t.Errorf("a Massachusetts letter lacks the section %s", required)
		}
	}
}

// TestLetter_KoreaHasTheFiveItemsOfPIPA checks PIPA art. 34(1): the items leaked, when and how,
// what the customer can do, what the company does and how to seek remedy, and whom to contact.
func TestLetter_KoreaHasTheFiveItemsOfPIPA(t *testing.T) {
	l, _ := letterFor(t, "ko", "kr-pipa")
	if l.Locale != "ko" {
		t.Fatalf("locale %s, want ko", l.Locale)
	}
	for _, key := range []string{SectionWhatInformation, SectionWhatHappened, SectionWhatYouCanDo, SectionWhatWeAreDoing, SectionRemedy, SectionMoreInformation} {
		s := l.section(key)
		if s == nil || s.Heading == "" || len(s.Paragraphs)+len(s.Items) == 0 {
			t.Errorf("the Korean letter lacks the section %s (or its heading or text)", key)
		}
	}
	if info := l.section(SectionWhatInformation); info != nil && len(info.Items) != len(breach.AllCategories()) {
		t.Errorf("the letter lists %d exposed items; the sample customer has %d", len(info.Items), len(breach.AllCategories()))
	}
	if when := l.section(SectionWhatHappened); when == nil || !strings.Contains(strings.Join(when.Paragraphs, " "), "2026년 10월 24일") {
		t.Error("the Korean letter does not say when the breach happened, in Korean dates")
	}
}

func TestLetter_GDPRHasConsequencesAndTheDPO(t *testing.T) {
	l, _ := letterFor(t, "fr", "gdpr")
	if l.section(SectionConsequences) == nil {
		t.Error("a GDPR letter lacks the likely consequences")
	}
	if more := l.section(SectionMoreInformation); more == nil || !strings.Contains(strings.Join(more.Paragraphs, " "), "dpo@andinatel.com.pe") {
		t.Error("a GDPR letter does not give the DPO's contact")
	}
}

// TestLetter_SaysWhatTheEmailSays: every text of the letter is in the email's plain text, in the
// same language: the two are rendered from the same strings.
func TestLetter_SaysWhatTheEmailSays(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	for _, v := range Variants(c) {
		r := Sample(c, v)
		r.Locale = v.Locale
		l, err := rd.Letter(c, r)
		if err != nil {
			t.Fatal(err)
		}
		n, err := rd.Render(c, r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if l.Locale != n.Locale || l.Jurisdiction != n.Jurisdiction || l.Reference != n.Reference {
			t.Fatalf("%v: letter %s/%s/%s, email %s/%s/%s", v, l.Locale, l.Jurisdiction, l.Reference, n.Locale, n.Jurisdiction, n.Reference)
		}
		email := oneLine(n.Text)
		check := func(what, s string) {
			if !strings.Contains(email, s) && !strings.Contains(email, strings.ToUpper(s)) {
				t.Errorf("%s-%s: the letter's %s %q is not in the email", v.Locale, v.Jurisdiction, what, s)
			}
		}
		check("title", l.Title)
		check("greeting", l.Greeting)
		for _, s := range l.Sections {
			if s.Heading != "" {
				check("heading", s.Heading)
			}
			for _, p := range slices.Concat(s.Paragraphs, s.After) {
				check("paragraph", p)
			}
			for _, it := range s.Items {
				if it.Lead != "" {
					check("item", it.Lead)
				}
				for _, t := range it.Text {
					check("item text", t)
				}
			}
		}
		for _, s := range l.Closing {
			check("closing", s)
		}
	}
}

func TestLetter_PlainTextWithTheEnrolmentCode(t *testing.T) {
	c := exampleCampaign(t)
	r := &breach.Recipient{CustomerID: "PE-9", Name: "<b>Ana</b> & \"Hijos\"", Locale: "es-PE", Country: "PE",
		Exposed: breach.Categories(0).With(breach.CategorySIM), Attributes: map[string]string{"offer_code": "CUST-7731-QX"}}
	l, err := renderer(t, "").Letter(c, r)
	if err != nil {
		t.Fatal(err)
	}
	if l.Locale != "es" {
		t.Errorf("locale %s, want es (negotiated from es-PE)", l.Locale)
	}
	if !strings.Contains(l.Greeting, "Ana & \"Hijos\"") || strings.Contains(l.Greeting, "<b>") {
		t.Errorf("the name is not printed as plain text, unescaped and without markup: %q", l.Greeting)
	}
	all := l.text()
	for _, entity := range []string{"&amp;", "&lt;", "&#", "<p", "<br"} {
		if strings.Contains(all, entity) {
			t.Errorf("the letter has HTML (%s)", entity)
		}
	}
	if offer := l.section(SectionOffer); offer == nil || !strings.Contains(strings.Join(offer.Paragraphs, " "), "CUST-7731-QX") {
		t.Error("the letter does not give the customer's enrolment code")
	}
	if v := l.section(SectionVerify); v == nil || v.Code != l.Reference || l.Reference != Reference(secret, c.ID, "PE-9") {
		t.Error("the verify section does not show the customer's reference code")
	}
	if got := l.DateOf(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)); got != "5 de diciembre de 2026" {
		t.Errorf("DateOf = %q, want the Spanish date", got)
	}
}

// text is everything the letter says, for searching.
func (l *Letter) text() string {
	parts := []string{l.Title, l.Greeting, l.Footer}
	for _, s := range l.Sections {
		parts = append(parts, s.Heading, s.Code)
		parts = append(parts, s.Paragraphs...)
		parts = append(parts, s.After...)
		for _, it := range s.Items {
			parts = append(parts, it.Lead)
			parts = append(parts, it.Text...)
		}
	}
	return strings.Join(append(parts, l.Closing...), "\n")
}
