package notice

import (
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

func verifyLinkRecipient() *breach.Recipient {
	return &breach.Recipient{CustomerID: "AT-100001", Name: "Ana Quispe", Email: "ana@example.com", Phone: "+51987654321",
		Locale: "es-PE", Country: "PE", Exposed: breach.Categories(0).With(breach.CategoryNationalID)}
}

func TestRender_EveryNoticeLinksTheVerificationPageWithItsCode(t *testing.T) {
	rd := renderer(t, "")
	rd.PublicURL = "https://avisos.andinatel.com.pe/"
	c := exampleCampaign(t)
	c.SMS.AllowLink = true
	r := verifyLinkRecipient()
	ref := Reference(secret, c.ID, r.CustomerID)
	link := "https://avisos.andinatel.com.pe/verify?ref=" + ref
	direct, err := rd.Render(c, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cached, err := rd.ForCampaign(c).Render(r) // the sending path
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]*Notice{"rendered": direct, "cached": cached} {
		if !strings.Contains(n.Text, link) {
			t.Errorf("%s: the email's text does not link %s:\n%s", name, link, n.Text)
		}
		if !strings.Contains(n.HTML, link) {
			t.Errorf("%s: the email's HTML does not link %s", name, link)
		}
		// The SMS links the page without the code, which it prints: a segment saved.
		if !strings.Contains(n.SMS.Body, "https://avisos.andinatel.com.pe/verify") || !strings.Contains(n.SMS.Body, ref) ||
			strings.Contains(n.SMS.Body, "?ref=") {
			t.Errorf("%s: the SMS does not link the verification page and print the code: %q", name, n.SMS.Body)
		}
	}
	// The link is on the official domain, so the notice still passes lint.
	for _, f := range rd.Lint(c) {
		if f.Severity == "error" {
			t.Errorf("lint: %+v", f)
		}
	}
	// A sample for a regulator links the page without a code.
	sample, err := rd.Render(c, r, Options{Placeholders: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sample.Text, "https://avisos.andinatel.com.pe/verify ") && !strings.Contains(sample.Text, "https://avisos.andinatel.com.pe/verify\n") {
		t.Errorf("the sample notice does not link the bare verification page:\n%s", sample.Text)
	}
}

func TestRender_VerificationLinkOffTheOfficialDomainFallsBackToTheSupportPage(t *testing.T) {
	c := exampleCampaign(t)
	for _, public := range []string{"", "http://avisos.andinatel.com.pe", "https://notice.example.com", "https://andinatel.com.pe.evil.example",
		"https://user@avisos.andinatel.com.pe"} {
		rd := renderer(t, "")
		rd.PublicURL = public
		n, err := rd.Render(c, verifyLinkRecipient(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(n.Text, "/verify") || !strings.Contains(n.Text, c.Organization.SupportURL) {
			t.Errorf("PUBLIC_URL %q: the notice should send readers to the support page %s instead:\n%s", public, c.Organization.SupportURL, n.Text)
		}
	}
}
