package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
)

// A customer_id with a NUL or bytes that are not UTF-8 reached PostgreSQL, which refused it:
// a 500 and an "internal error" in the log for what is the client's mistake.
func TestAPI_ACustomerIDThatIsNotTextIsABadRequest(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	for _, path := range []string{
		"/api/v1/campaigns/" + id + "/recipients/%00",
		"/api/v1/campaigns/" + id + "/recipients/%FF",
		"/api/v1/campaigns/" + id + "/preview?customer_id=%00",
		"/api/v1/campaigns/" + id + "/preview?customer_id=%C3",
	} {
		resp, body := c.do("GET", path, "", nil, c.token)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "customer_id") {
			t.Errorf("GET %s: %d %s, want 400 naming customer_id", path, resp.StatusCode, body)
		}
	}
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/test-send", "application/json",
		strings.NewReader(`{"to":["r@example.org"],"customers":["AT-\u0000"]}`), c.token)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("test send of a customer_id with a NUL: %d %s, want 400", resp.StatusCode, body)
	}
}

// A campaign file whose YAML escapes write a NUL, and a token name with a NUL, reached
// PostgreSQL, which refused them: 500s for the client's mistakes (400: the file is wrong; 404: no
// token has that name).
func TestAPI_ANULInACampaignFileOrATokenNameIsABadRequest(t *testing.T) {
	c := newServer(t)
	yaml := strings.Replace(string(examples.Campaign), "\n  name: Andina Telecom S.A.A.\n", "\n  name: \"Andina\\0Telecom\"\n", 1)
	resp, body := c.do("POST", "/api/v1/campaigns", "application/yaml", strings.NewReader(yaml), c.token)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "control character") {
		t.Errorf("campaign file with a NUL: %d %s, want 400 saying why", resp.StatusCode, body)
	}
	for _, name := range []string{"%00", "a%FFb"} {
		resp, body = c.do("POST", "/api/v1/tokens/"+name+"/revoke", "", nil, c.token)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("revoke of token %s: %d %s, want 404 (no token has that name)", name, resp.StatusCode, body)
		}
	}
}
