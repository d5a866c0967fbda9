package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestAPI_RegulatorReportAndSamples: the report as JSON (validated against openapi.yaml), the
// cost estimate as a query parameter, a bad one refused, and the samples with placeholders.
func TestAPI_RegulatorReportAndSamples(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	var list strings.Builder
	list.WriteString("customer_id,email,country,state,exposed\n")
	for i := range 501 {
		fmt.Fprintf(&list, "CA-%d,ca%d@example.com,US,CA,name|email\n", i, i)
	}
	for i := range 3 {
		fmt.Fprintf(&list, "KR-%d,kr%d@example.com,KR,,name|email\n", i, i)
	}
	c.importList(id, list.String())

	resp, body := c.do("GET", "/api/v1/campaigns/"+id+"/regulators?cost_usd=300000", "", nil, c.token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d %s", resp.StatusCode, body)
	}
	rep := decode[struct {
		Affected    int64
		Obligations []struct {
			ID       string
			Required bool
			Affected int64
			Source   string
			Deadline struct{ Date string }
		}
		SubstituteNotice struct {
			Applies   bool
			CostKnown bool `json:"cost_known"`
		} `json:"substitute_notice"`
	}](t, body)
	found := false
	for _, o := range rep.Obligations {
		if o.ID == "us-ca-ag" {
			found = o.Required && o.Affected == 501
		}
		if o.ID == "kr-pipc" && o.Required {
			t.Errorf("kr-pipc required for 3 Koreans")
		}
		if o.Source == "" || o.Deadline.Date == "" {
			t.Errorf("%s: no source or deadline", o.ID)
		}
	}
	if rep.Affected != 504 || !found || !rep.SubstituteNotice.Applies || !rep.SubstituteNotice.CostKnown {
		t.Errorf("report: %s", body)
	}

	if resp, body := c.do("GET", "/api/v1/campaigns/"+id+"/regulators?cost_usd=lots", "", nil, c.token); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a cost of lots: %d %s", resp.StatusCode, body)
	}
	if resp, _ := c.do("GET", "/api/v1/campaigns/6f1f3e56-0000-4000-8000-000000000000/regulators", "", nil, c.token); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown campaign: %d", resp.StatusCode)
	}

	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/regulators/samples", "", nil, c.token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("samples: %d %s", resp.StatusCode, body)
	}
	samples := decode[struct {
		Samples []struct{ File, HTML string }
		Website []struct{ File, Locale string }
	}](t, body)
	ca := slices.IndexFunc(samples.Samples, func(s struct{ File, HTML string }) bool { return strings.HasPrefix(s.File, "notice-US-CA-") })
	if ca < 0 || !strings.Contains(samples.Samples[ca].HTML, "[NAME]") || len(samples.Website) == 0 {
		t.Errorf("samples: %d samples, %d website notices", len(samples.Samples), len(samples.Website))
	}
	actions := map[string]bool{}
	for _, a := range c.audit("?campaign=" + id).Entries {
		actions[a.Action] = true
	}
	if !actions["report.regulators"] || !actions["report.regulator_samples"] {
		t.Errorf("audit actions %v", actions)
	}
}
