package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestRegulators_ConsolePageSamplesAndDownloads: the campaign page links the report; the
// report shows the counts, the obligations and substitute notice, takes a cost estimate and
// refuses a bad one; the documents page lists the website notice in every language, each
// downloadable, and nothing else.
func TestRegulators_ConsolePageSamplesAndDownloads(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	b := st.signedIn("counsel", breach.RoleViewer)
	if got := b.get("/campaigns/" + c.ID); !strings.Contains(got.body, `href="/campaigns/`+c.ID+`/regulators"`) {
		t.Errorf("the campaign page does not link the report")
	}
	got := b.get("/campaigns/" + c.ID + "/regulators?cost_usd=310000")
	if got.status != http.StatusOK {
		t.Fatalf("report: %d\n%s", got.status, got.body)
	}
	for _, want := range []string{`id="jurisdictions"`, `id="obligations"`, `<span id="substitute">applies</span>`, "310,000", "Peru", "pe-anpd"} {
		if !strings.Contains(got.body, want) {
			t.Errorf("the report page lacks %q", want)
		}
	}
	if got := b.get("/campaigns/" + c.ID + "/regulators?cost_usd=lots"); got.status != http.StatusBadRequest || !strings.Contains(got.body, "cost_usd") {
		t.Errorf("a cost of lots: %d", got.status)
	}
	// Two costs: refused, as the API refuses them, not the first one read.
	if got := b.get("/campaigns/" + c.ID + "/regulators?cost_usd=1&cost_usd=999999"); got.status != http.StatusBadRequest || !strings.Contains(got.body, "cost_usd 2 times") {
		t.Errorf("two costs: %d %s", got.status, got.body)
	}

	got = b.get("/campaigns/" + c.ID + "/regulators/samples")
	if got.status != http.StatusOK {
		t.Fatalf("samples: %d\n%s", got.status, got.body)
	}
	for _, l := range c.Locales {
		if !strings.Contains(got.body, "website-"+l+".html") {
			t.Errorf("no website notice in %s", l)
		}
	}
	dl := b.get("/campaigns/" + c.ID + "/regulators/samples/website-es.html")
	if dl.status != http.StatusOK || !strings.Contains(dl.header.Get("Content-Disposition"), `filename="website-es.html"`) || !strings.Contains(dl.body, `lang="es"`) {
		t.Errorf("download: %d %q", dl.status, dl.header.Get("Content-Disposition"))
	}
	if got := b.get("/campaigns/" + c.ID + "/regulators/samples/..%2F..%2Fetc%2Fpasswd"); got.status != http.StatusNotFound {
		t.Errorf("an unknown file: %d", got.status)
	}
}
