package api_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/redistest"
)

// verifyList's customers: VA's notice is sent, VB's never is (still queued). Their personal
// data must never appear in a verification's answer.
const verifyList = "customer_id,name,email,phone,country\n" +
	"VA-7781,Wilhelmina Quist,wilhelmina.quist@example.org,+51987650001,PE\n" +
	"VB-7782,Bartholomew Oyelaran,bartholomew@example.net,+51987650002,PE\n"

var verifyPersonal = []string{"VA-7781", "Wilhelmina", "Quist", "wilhelmina.quist@example.org", "987650001",
	"VB-7782", "Bartholomew", "Oyelaran", "bartholomew@example.net", "987650002"}

// verifyCampaign imports verifyList through the API into a new campaign, then sends VA's email
// and leaves VB's queued, as the sending engine would record them.
func verifyCampaign(t *testing.T, c *client, db *postgres.DB) string {
	t.Helper()
	ctx := t.Context()
	id := c.createCampaign()
	if resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports", "text/csv", strings.NewReader(verifyList), c.token); resp.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	if _, err := db.ApproveCampaign(ctx, id, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(ctx, id, "starter", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	pgtest.PlanAll(t, db, id, 1000)
	pgtest.Send(t, db, id, breach.ChannelEmail, false, func(cl breach.Claim) *breach.Outcome {
		if cl.Recipient.CustomerID != "VA-7781" {
			return nil
		}
		return &breach.Outcome{State: breach.DeliverySent, ProviderID: "pid-a"}
	})
	return id
}

// getVerify asks GET path with the given headers (name, value pairs), checking the answer
// against openapi.yaml.
func getVerify(t *testing.T, c *client, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", c.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{Transport: validated{t}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

type verifyJSON struct {
	Genuine      *bool  `json:"genuine"`
	Reference    string `json:"reference"`
	Organization string `json:"organization"`
	Domain       string `json:"domain"`
	SentOn       string `json:"sent_on"`
	Contacts     *struct {
		SupportURL   string          `json:"support_url"`
		SupportPhone string          `json:"support_phone"`
		DPO          *breach.Contact `json:"dpo"`
	} `json:"contacts"`
}

func TestVerify_GenuineOrNotAsPageAndJSONShowingNothingPersonal(t *testing.T) {
	c, db := serve(t, t.Name(), func(s *api.Server) { s.Ops.VerifyFloor = 5 * time.Millisecond })
	id := verifyCampaign(t, c, db)
	sent := notice.Reference(testSecret, id, "VA-7781")
	tests := []struct {
		name, ref string
		genuine   bool
	}{
		{"sent", sent, true},
		{"sent, typed loosely", " " + strings.ToLower(strings.ReplaceAll(sent, "-", " ")) + " ", true},
		{"never sent", notice.Reference(testSecret, id, "VB-7782"), false},
		{"made up", "ABCD-EFGH-JK", false},
		{"keyed under another secret", notice.Reference([]byte("not the server's secret at all..."), id, "VA-7781"), false},
		{"another campaign's", notice.Reference(testSecret, uuid.NewString(), "VA-7781"), false},
		{"malformed", "7KQ2", false},
		{"huge", strings.Repeat("7KQ2-M9XD-3F", 500), false},
		{"odd unicode", "\u202e\u0130\u0131\U0001F600" + sent, false},
		{"markup", `"><script>alert(1)</script>`, false},
	}
	for _, tt := range tests {
		path := "/verify?ref=" + urlQueryEscape(tt.ref)
		resp, body := getVerify(t, c, path, "Accept", "application/json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: JSON: %d %s", tt.name, resp.StatusCode, body)
		}
		var got verifyJSON
		if err := json.Unmarshal([]byte(body), &got); err != nil || got.Genuine == nil {
			t.Fatalf("%s: JSON %s: %v", tt.name, body, err)
		}
		if *got.Genuine != tt.genuine {
			t.Errorf("%s: genuine = %v, want %v", tt.name, *got.Genuine, tt.genuine)
		}
		if tt.genuine {
			today := time.Now().UTC().Format(time.DateOnly)
			if got.Reference != sent || got.Organization != "Andina Telecom S.A.A." || got.Domain != "andinatel.com.pe" ||
				got.SentOn != today || got.Contacts == nil || got.Contacts.SupportURL == "" || got.Contacts.SupportPhone == "" ||
				got.Contacts.DPO == nil || got.Contacts.DPO.Email != "dpo@andinatel.com.pe" {
				t.Errorf("%s: JSON %s, want the company, today (%s) and its official contacts", tt.name, body, today)
			}
		} else if got.Organization != "" || got.SentOn != "" || got.Contacts != nil {
			t.Errorf("%s: a code that is not genuine answers %s", tt.name, body)
		}

		pageResp, page := getVerify(t, c, path, "Accept", "text/html", "Accept-Language", "es-PE,es;q=0.9")
		if pageResp.StatusCode != http.StatusOK || !strings.HasPrefix(pageResp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: page: %d %s", tt.name, pageResp.StatusCode, pageResp.Header.Get("Content-Type"))
		}
		text := html.UnescapeString(page)
		wantWords := "Nosotros no enviamos este mensaje"
		if tt.genuine {
			wantWords = "Andina Telecom S.A.A. envió un aviso con la referencia " + sent
		}
		if !strings.Contains(text, wantWords) {
			t.Errorf("%s: the Spanish page lacks %q", tt.name, wantWords)
		}
		if strings.Contains(page, "<script>") {
			t.Errorf("%s: the page echoes markup", tt.name)
		}
		for _, personal := range verifyPersonal {
			if strings.Contains(body, personal) || strings.Contains(text, personal) {
				t.Errorf("%s: the answer shows the customer's %q", tt.name, personal)
			}
		}
	}
	// Nothing of the codes or the customers reaches the log either.
	for _, s := range append(verifyPersonal, sent, strings.ReplaceAll(sent, "-", "")) {
		if strings.Contains(c.logs.String(), s) {
			t.Errorf("the log holds %q", s)
		}
	}
}

func TestVerify_PageWithoutACodeIsTheFormAndJSONWithoutOneIsRefused(t *testing.T) {
	c, _ := serve(t, t.Name(), nil)
	resp, page := getVerify(t, c, "/verify?lang=ko")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="ref"`) || !strings.Contains(page, `lang="ko"`) ||
		resp.Header.Get("Content-Language") != "ko" {
		t.Errorf("GET /verify?lang=ko: %d, Content-Language %q, %.200s", resp.StatusCode, resp.Header.Get("Content-Language"), page)
	}
	resp, page = getVerify(t, c, "/verify", "Accept-Language", "fr-CA,fr;q=0.8")
	if resp.StatusCode != http.StatusOK || !strings.Contains(html.UnescapeString(page), "Ce message vient-il vraiment de nous ?") {
		t.Errorf("GET /verify in French: %d %.300s", resp.StatusCode, page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	resp, body := getVerify(t, c, "/verify", "Accept", "application/json")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"invalid"`) {
		t.Errorf("JSON without a code: %d %s", resp.StatusCode, body)
	}
}

// A client is counted by its address, an IPv6 client by its /64, and only a trusted proxy's
// X-Forwarded-For says who the client is.
func TestVerify_RateLimitedPerClientAndPerSlash64(t *testing.T) {
	c, _ := serve(t, t.Name(), func(s *api.Server) {
		s.Ops.VerifyFloor = time.Millisecond
		s.VerifyPerMinute = 3
		s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	})
	check := func(from, accept string) *http.Response {
		resp, _ := getVerify(t, c, "/verify?ref=ABCD-EFGH-JK", "X-Forwarded-For", from, "Accept", accept)
		return resp
	}
	// Three checks from three addresses of one /64, then a fourth from a fourth: refused.
	for i, from := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"} {
		if resp := check(from, "application/json"); resp.StatusCode != http.StatusOK {
			t.Fatalf("check %d from the /64: %d", i+1, resp.StatusCode)
		}
	}
	for _, accept := range []string{"application/json", "text/html"} {
		resp := check("2001:db8:1:2::77", accept)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("a fourth check from the same /64 (%s): %d, want 429", accept, resp.StatusCode)
		}
		if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("429 (%s) without a useful Retry-After: %q", accept, ra)
		}
	}
	// The page says so in the visitor's language.
	resp, page := getVerify(t, c, "/verify?ref=ABCD-EFGH-JK", "X-Forwarded-For", "2001:db8:1:2::78", "Accept-Language", "es")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(html.UnescapeString(page), "Realizó muchas consultas") {
		t.Errorf("the 429 page: %d %.300s", resp.StatusCode, page)
	}
	// Another /64 and an IPv4 client have limits of their own.
	for _, from := range []string{"2001:db8:1:3::1", "198.51.100.7"} {
		if resp := check(from, "application/json"); resp.StatusCode != http.StatusOK {
			t.Errorf("a check from %s: %d, want 200", from, resp.StatusCode)
		}
	}
	// Seen through a proxy, the client is the rightmost untrusted hop: forged hops to its left
	// change nothing.
	for i := range 3 {
		if resp := check("203.0.113."+string(rune('1'+i))+", 192.0.2.10", "application/json"); resp.StatusCode != http.StatusOK {
			t.Fatalf("check %d from 192.0.2.10: %d", i+1, resp.StatusCode)
		}
	}
	if resp := check("203.0.113.200, 192.0.2.10", "application/json"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a forged hop gave 192.0.2.10 a fresh limit: %d", resp.StatusCode)
	}
}

func TestVerify_ForwardedForFromAnUntrustedPeerIsIgnored(t *testing.T) {
	c, _ := serve(t, t.Name(), func(s *api.Server) {
		s.Ops.VerifyFloor = time.Millisecond
		s.VerifyPerMinute = 2
	})
	var last int
	for i := range 3 {
		resp, _ := getVerify(t, c, "/verify?ref=ABCD-EFGH-JK", "X-Forwarded-For", "198.51.100."+string(rune('1'+i)), "Accept", "application/json")
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("the third check, each claiming another address: %d, want 429 (the header is not believed)", last)
	}
}

// Behind a load balancer each serve replica sees a share of a client's checks: the limit is
// counted in Redis, so the client gets no more in total.
func TestVerify_RateLimitIsSharedByReplicasThroughRedis(t *testing.T) {
	opt, err := redis.ParseURL(redistest.URL(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	replica := func(s *api.Server) {
		s.Ops.VerifyFloor = time.Millisecond
		s.VerifyPerMinute = 4
		s.Redis = rdb
	}
	a, _ := serve(t, t.Name()+"-a", replica)
	b, _ := serve(t, t.Name()+"-b", replica)
	var codes []int
	for i := range 6 {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		resp, _ := getVerify(t, srv, "/verify?ref=ABCD-EFGH-JK", "Accept", "application/json")
		codes = append(codes, resp.StatusCode)
	}
	want := []int{200, 200, 200, 200, 429, 429}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("six checks alternating between two replicas: %v, want %v", codes, want)
		}
	}
	if keys, err := rdb.Keys(context.Background(), "*breachnotice:rate:verify:*").Result(); err != nil || len(keys) != 1 {
		t.Errorf("Redis keys %v (%v), want one bucket for the one client", keys, err)
	}
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23", "\"", "%22", "<", "%3C", ">", "%3E")
	return r.Replace(s)
}
