package notice

import (
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestWebsite_EveryOfferedLocaleRendersWithoutAnyonesData: the substitute notice's page exists
// in every language the campaign offers, lists the categories exposed, and carries no greeting,
// reference code or opt-out.
func TestWebsite_EveryOfferedLocaleRendersWithoutAnyonesData(t *testing.T) {
	rd, c := renderer(t, ""), exampleCampaign(t)
	exposed := breach.Categories(0).With(breach.CategoryNationalID).With(breach.CategoryPhone)
	intro := map[string]string{"en": "is publishing this notice", "es": "publica este aviso", "fr": "publie cet avis", "ko": "이 안내문을 게시합니다"}
	for _, l := range c.Locales {
		p, err := rd.Website(c, l, exposed, c.DefaultCountry, "")
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if p.Locale != l || !strings.Contains(p.HTML, intro[l]) || !strings.Contains(p.HTML, `data-section="what_information"`) {
			t.Errorf("%s: %+v", l, p.Locale)
		}
		if strings.Contains(p.HTML, `data-section="verify"`) || strings.Contains(p.HTML, "/u/") || strings.Contains(p.HTML, "{{") {
			t.Errorf("%s: the page carries a reference, an opt-out or a raw template:\n%s", l, p.HTML)
		}
		if strings.Count(p.HTML, "<li>") < 2 {
			t.Errorf("%s: the exposed categories are not listed", l)
		}
	}
	if _, err := rd.Website(c, "de", exposed, c.DefaultCountry, ""); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("a locale the campaign does not offer: %v", err)
	}
}

// TestRender_PlaceholdersReplaceTheCustomersOwnValues: the sample copy for a regulator names
// no one.
func TestRender_PlaceholdersReplaceTheCustomersOwnValues(t *testing.T) {
	rd, c := renderer(t, ""), exampleCampaign(t)
	r := Sample(c, Variant{Locale: "en", Jurisdiction: "us-ca"})
	n, err := rd.Render(c, r, Options{Locale: "en", Placeholders: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{PlaceholderName, PlaceholderReference} {
		if !strings.Contains(n.HTML, want) || !strings.Contains(n.Text, want) {
			t.Errorf("no %s in the sample", want)
		}
	}
	if c.Offer != nil && c.Offer.CodeAttribute != "" && !strings.Contains(n.HTML, PlaceholderOfferCode) {
		t.Errorf("no %s in the sample", PlaceholderOfferCode)
	}
	for _, personal := range []string{r.Name, r.Attributes[c.Offer.CodeAttribute], Reference(secret, c.ID, r.CustomerID)} {
		if personal != "" && (strings.Contains(n.HTML, personal) || strings.Contains(n.Text, personal) || strings.Contains(n.SMS.Body, personal)) {
			t.Errorf("the sample carries %q", personal)
		}
	}
}

// A campaign whose codes come from its pool (no code column in the list) offers each customer
// a code all the same: its sample copy says where the code goes, not that there is none.
func TestRender_PlaceholderCodeWhenTheCodesComeFromThePool(t *testing.T) {
	rd, c := renderer(t, ""), exampleCampaign(t)
	if c.Offer == nil {
		t.Fatal("the example campaign has no offer")
	}
	c.Offer.CodeAttribute = ""
	r := Sample(c, Variant{Locale: "en", Jurisdiction: "us-ca"})
	r.Attributes = nil
	n, err := rd.Render(c, r, Options{Locale: "en", Placeholders: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(n.HTML, PlaceholderOfferCode) {
		t.Fatalf("a campaign with neither a code column nor a pool has a code placeholder")
	}
	c.CodePool = &breach.CodePool{Size: 10, Free: 10}
	if n, err = rd.Render(c, r, Options{Locale: "en", Placeholders: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(n.HTML, PlaceholderOfferCode) || !strings.Contains(n.Text, PlaceholderOfferCode) {
		t.Errorf("no %s in the sample of a campaign whose codes come from its pool", PlaceholderOfferCode)
	}
}
