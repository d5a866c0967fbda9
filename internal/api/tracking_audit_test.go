package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Reading customers' personal data leaves a trace: a record looked at, a page of deliveries or
// suppressions listed — with numbers, never the customer ID or address asked about.
func TestTracking_ReadsOfPersonalDataAreAudited(t *testing.T) {
	c := newServer(t)
	id, _ := sendingCampaign(t, c)
	base := "/api/v1/campaigns/" + id
	for _, path := range []string{base + "/recipients/AT-300001", base + "/deliveries?limit=5&channel=email", "/api/v1/suppressions?limit=5"} {
		if resp, body := c.do("GET", path, "", nil, c.token); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	// Reads are audited in batches, within a fraction of a second.
	got := map[string]map[string]any{}
	for deadline := time.Now().Add(10 * time.Second); len(got) < 3 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		clear(got)
		for _, e := range c.audit("?limit=20").Entries {
			if strings.HasSuffix(e.Action, ".viewed") || strings.HasSuffix(e.Action, ".listed") {
				got[e.Action] = e.Detail
			}
		}
	}
	for _, e := range c.audit("?limit=20").Entries {
		if e.Actor == "" {
			t.Errorf("%s: no actor", e.Action)
		}
		b, _ := json.Marshal(e.Detail)
		if strings.Contains(string(b), "AT-300001") || strings.Contains(string(b), "@") {
			t.Errorf("%s detail %s names the customer", e.Action, b)
		}
	}
	if d, ok := got["recipient.viewed"]; !ok || d["recipient"] == nil {
		t.Errorf("no recipient.viewed entry with the record's number: %v", got)
	}
	if d, ok := got["deliveries.listed"]; !ok || d["rows"] != float64(5) || d["channel"] != "email" {
		t.Errorf("deliveries.listed = %v", d)
	} else if ids, _ := d["recipients"].([]any); len(ids) != 5 {
		// Whose data the page showed, by internal number: "who saw customer X?" has an answer.
		t.Errorf("deliveries.listed names recipients %v, want the page's 5", d["recipients"])
	}
	if _, ok := got["suppressions.listed"]; !ok {
		t.Errorf("no suppressions.listed entry: %v", got)
	}
}
