package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
)

func TestAPI_StartPauseResumeCancelAndStatus(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	base := "/api/v1/campaigns/" + id
	resp, body := c.do("POST", base+"/start", "", nil, c.token)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "draft") {
		t.Errorf("starting a draft: %d %s, want 409 naming the state", resp.StatusCode, body)
	}
	c.do("POST", base+"/imports", "text/csv", bytes.NewReader(examples.Customers), c.token)
	c.do("POST", base+"/approve", "", nil, c.token)
	for _, step := range []struct {
		path   string
		status int
		state  string
	}{
		{"/resume", http.StatusConflict, ""},
		{"/start", http.StatusOK, "running"},
		{"/start", http.StatusConflict, ""},
		{"/pause", http.StatusOK, "paused"},
		{"/start", http.StatusConflict, ""},
		{"/resume", http.StatusOK, "running"},
		{"/cancel", http.StatusOK, "cancelled"},
		{"/resume", http.StatusConflict, ""},
	} {
		resp, body := c.do("POST", base+step.path, "", nil, c.token)
		got := decode[struct{ State string }](t, body)
		if resp.StatusCode != step.status || (step.state != "" && got.State != step.state) {
			t.Errorf("POST %s: %d %s, want %d %s", step.path, resp.StatusCode, body, step.status, step.state)
		}
	}
	resp, body = c.do("GET", base+"/status", "", nil, c.token)
	st := decode[struct {
		State     string
		Total     int64
		ByChannel map[string]map[string]int64 `json:"by_channel"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || st.State != "cancelled" || st.Total != 49 || len(st.ByChannel["email"]) != 8 || len(st.ByChannel["sms"]) != 8 {
		t.Errorf("status: %d %s", resp.StatusCode, body)
	}
	// Cancelled before any worker planned it: every notice is recorded as failed, none is open
	// (the 45 customers email or SMS reach; the four reachable only by post are owed letters).
	if failed := st.ByChannel["email"]["failed"] + st.ByChannel["sms"]["failed"]; failed != 45 {
		t.Errorf("after cancel: %d failed, want all 45: %s", failed, body)
	}
}

func TestAPI_TestSendGoesToReviewersOnly(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	base := "/api/v1/campaigns/" + id
	c.do("POST", base+"/imports", "text/csv", bytes.NewReader(examples.Customers), c.token)
	for _, bad := range []string{`{"to": []}`, `{"to": ["not an address"]}`, `{"to": ["0987654321"]}`, `{"to": ["a@example.com"], "extra": 1}`, `not json`} {
		resp, body := c.do("POST", base+"/test-send", "application/json", strings.NewReader(bad), c.token)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("test-send %s: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
	resp, body := c.do("POST", base+"/test-send", "application/json",
		strings.NewReader(`{"to": ["legal@andinatel.example", "+51999888777"], "customers": ["AT-100001"]}`), c.token)
	got := decode[struct {
		Sent []struct {
			CustomerID string `json:"customer_id"`
			Channel    string
			To         string
			Error      string
		}
		Failed int
	}](t, body)
	if resp.StatusCode != http.StatusOK || len(got.Sent) != 2 || got.Failed != 0 {
		t.Fatalf("test-send: %d %s", resp.StatusCode, body)
	}
	emails, _ := filepath.Glob(filepath.Join(c.outbox, "*.eml"))
	if len(emails) != 1 {
		t.Fatalf("%d emails in the outbox, want 1", len(emails))
	}
	raw, _ := os.ReadFile(emails[0])
	if !bytes.Contains(raw, []byte("To: <legal@andinatel.example>")) || !bytes.Contains(raw, []byte("[TEST]")) || bytes.Contains(raw, []byte("List-Unsubscribe")) {
		t.Errorf("the test email is not addressed to the reviewer, marked [TEST], without an opt-out link:\n%.600s", raw)
	}
	smsLog, _ := os.ReadFile(filepath.Join(c.outbox, "sms.jsonl"))
	if !bytes.Contains(smsLog, []byte(`"to":"+51999888777"`)) {
		t.Errorf("the test SMS did not go to the reviewer: %s", smsLog)
	}
	resp, _ = c.do("POST", base+"/test-send", "application/json", strings.NewReader(`{"to": ["legal@andinatel.example"], "customers": ["NOPE"]}`), c.token)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("test-send of an unknown customer: %d, want 404", resp.StatusCode)
	}
	// Never to a customer of the list (in any letter case, or by phone): they would get a
	// notice nobody approved, perhaps another customer's (a review). Nothing is sent.
	for _, customer := range []string{`"maria.quispe@gmail.com"`, `"+51987654321"`} {
		resp, body = c.do("POST", base+"/test-send", "application/json", strings.NewReader(`{"to": ["legal@andinatel.example", `+customer+`]}`), c.token)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "customer on this campaign's list") {
			t.Errorf("test-send to the customer %s: %d %s, want 409 naming it a customer's", customer, resp.StatusCode, body)
		}
	}
	if now, _ := filepath.Glob(filepath.Join(c.outbox, "*.eml")); len(now) != 1 {
		t.Errorf("%d emails in the outbox after the refused test sends, want still 1", len(now))
	}
	// One mailbox in two letter cases, one customer named twice: one notice.
	resp, body = c.do("POST", base+"/test-send", "application/json",
		strings.NewReader(`{"to": ["legal@andinatel.example", "LEGAL@andinatel.example"], "customers": ["AT-100001", "AT-100001 "]}`), c.token)
	if got := decode[struct{ Sent []json.RawMessage }](t, body); resp.StatusCode != http.StatusOK || len(got.Sent) != 1 {
		t.Errorf("test-send to one mailbox twice of one customer twice: %d %s, want one notice", resp.StatusCode, body)
	}
}
