package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/optout"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// suppressed counts the suppression rows of an address.
func suppressed(t *testing.T, address string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	conn.QueryRow(context.Background(), `SELECT count(*) FROM suppressions WHERE address = $1`, address).Scan(&n)
	return n
}

func TestOptOut_PageAsksThenOneClickAndFormRecordIt(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	c.do("POST", "/api/v1/campaigns/"+id+"/imports", "text/csv", bytes.NewReader(examples.Customers), c.token)
	db, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.Recipient(t.Context(), id, "AT-100001") // María, es-PE, email and phone
	if err != nil {
		t.Fatal(err)
	}
	emailToken, _ := optout.Token(testSecret, optout.Target{CampaignID: id, RecipientID: r.ID, Channel: breach.ChannelEmail})
	smsToken, _ := optout.Token(testSecret, optout.Target{CampaignID: id, RecipientID: r.ID, Channel: breach.ChannelSMS})

	// GET asks, in Spanish, and records nothing (link scanners follow links).
	resp, body := c.do("GET", "/u/"+emailToken, "", nil, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `lang="es"`) || !strings.Contains(string(body), "Dejar de recibir") {
		t.Fatalf("GET: %d %.300s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), r.Email) || strings.Contains(string(body), "María") {
		t.Error("the opt-out page shows the customer's personal data")
	}
	if suppressed(t, r.Email) != 0 {
		t.Fatal("a GET opted the customer out")
	}
	// RFC 8058 one-click: no cookie, no token header, 200, no redirect.
	resp, _ = c.do("POST", "/u/"+emailToken, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"), "")
	if resp.StatusCode != http.StatusOK || suppressed(t, r.Email) != 1 {
		t.Errorf("one-click POST: %d, %d suppressions", resp.StatusCode, suppressed(t, r.Email))
	}
	resp, _ = c.do("POST", "/u/"+emailToken, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"), "")
	if resp.StatusCode != http.StatusOK || suppressed(t, r.Email) != 1 {
		t.Errorf("a second one-click: %d, %d suppressions", resp.StatusCode, suppressed(t, r.Email))
	}
	// The page's own form, for the SMS channel: the phone number is suppressed, not the email.
	resp, body = c.do("POST", "/u/"+smsToken, "application/x-www-form-urlencoded", strings.NewReader("confirm=1"), "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Listo") || suppressed(t, r.Phone) != 1 {
		t.Errorf("form POST: %d %.200s", resp.StatusCode, body)
	}
	// The customer's record says both opt-outs, with when and why: an operator asked "did she
	// opt out?" finds it there (review: an opt-out left no trace on the record).
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/recipients/AT-100001", "", nil, c.token)
	rec := decode[breach.RecipientRecord](t, body)
	if resp.StatusCode != http.StatusOK || len(rec.Suppressions) != 2 || rec.Suppressions[0].Channel != breach.ChannelEmail ||
		rec.Suppressions[1].Channel != breach.ChannelSMS || rec.Suppressions[0].Source != "optout" || rec.Suppressions[0].CampaignID != id {
		t.Errorf("the customer's record after two opt-outs: %d %+v", resp.StatusCode, rec.Suppressions)
	}
}

func TestOptOut_ForgedTokensAndBadBodiesChangeNothing(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	c.do("POST", "/api/v1/campaigns/"+id+"/imports", "text/csv", bytes.NewReader(examples.Customers), c.token)
	db, _ := postgres.Open(t.Context(), dbURL)
	defer db.Close()
	r, _ := db.Recipient(t.Context(), id, "AT-100002")
	good, _ := optout.Token(testSecret, optout.Target{CampaignID: id, RecipientID: r.ID, Channel: breach.ChannelEmail})
	forged, _ := optout.Token([]byte("not the server's secret, not at all"), optout.Target{CampaignID: id, RecipientID: r.ID, Channel: breach.ChannelEmail})
	unknown, _ := optout.Token(testSecret, optout.Target{CampaignID: id, RecipientID: r.ID + 1_000_000, Channel: breach.ChannelEmail})
	altered := []byte(good)
	altered[5] ^= 1
	for name, tok := range map[string]string{"forged": forged, "altered": string(altered), "unknown recipient": unknown,
		"garbage": "x", "traversal": "..%2F..%2Fetc%2Fpasswd"} {
		for _, method := range []string{"GET", "POST"} {
			resp, body := c.do(method, "/u/"+tok, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"), "")
			if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), id) {
				t.Errorf("%s %s: %d %.100s, want a bare 404", method, name, resp.StatusCode, body)
			}
		}
	}
	for _, bad := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "List-Unsubscribe=Maybe"},
		{"application/json", `{"List-Unsubscribe":"One-Click"}`},
		{"application/x-www-form-urlencoded", "List-Unsubscribe=One-Click&pad=" + strings.Repeat("x", 2000)},
	} {
		resp, _ := c.do("POST", "/u/"+good, bad.ct, strings.NewReader(bad.body), "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %s %.40s: %d, want 400", bad.ct, bad.body, resp.StatusCode)
		}
	}
	if suppressed(t, r.Email) != 0 {
		t.Error("a refused request suppressed the address")
	}
}

// A process whose secret is not known to be the database's (serve started before the
// migrations that let it check, or with another secret) cannot tell a genuine opt-out link or
// provider report from a forged one: it answers 503 with Retry-After, so that the customer and
// the provider try again, rather than 404 or "ignored" — which would lose them.
func TestKeyedRoutes_WaitForTheSecretInsteadOfDroppingOptOutsAndReports(t *testing.T) {
	c, _ := serve(t, t.Name(), func(s *api.Server) {
		s.Ops.SecretCheck.Binder = s.Store.(operation.SecretBinder)
		s.Ops.SecretCheck.MayBind = false // a secret that may not bind: never the database's here
		s.Ops.Secret = []byte("another-secret-of-at-least-thirty-two-bytes")
	})
	token, _ := optout.Token(testSecret, optout.Target{CampaignID: "00000000-0000-4000-8000-000000000001", RecipientID: 1, Channel: breach.ChannelEmail})
	for _, req := range []struct{ method, path, ctype, body string }{
		{"GET", "/u/" + token, "", ""},
		{"POST", "/u/" + token, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"},
		{"POST", "/webhooks/email", "application/json", "[]"},
	} {
		resp, body := c.do(req.method, req.path, req.ctype, strings.NewReader(req.body), "")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s with the secret unchecked: %d %q, want 503 with Retry-After", req.method, req.path, resp.StatusCode, body)
		}
	}
}
