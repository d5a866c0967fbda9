package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// An odd spelling of a campaign ID (Go's UUID parser takes urn:uuid:, braces, upper case and
// no hyphens) is refused before anything is read or audited, and the reads that follow are
// audited as ever: a refused row must never block the audit log behind it.
func TestAudit_OddIDSpellingsAre400AndLaterReadsAreStillAudited(t *testing.T) {
	c, db := serve(t, t.Name(), nil)
	viewer := addUser(t, db, "oddviewer", breach.RoleViewer)
	id := c.createCampaign()
	c.importList(id, "customer_id,email\nODD1,odd1@example.com\n")
	for _, odd := range []string{"urn:uuid:" + id, "{" + id + "}", strings.ToUpper(id), strings.ReplaceAll(id, "-", "")} {
		for _, path := range []string{"/api/v1/campaigns/" + odd + "/deliveries", "/api/v1/campaigns/" + odd + "/recipients/ODD1",
			"/api/v1/campaigns/" + odd, "/api/v1/campaigns/" + odd + "/deliveries.csv"} {
			resp, body := c.do("GET", path, "", nil, viewer)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "is not an ID") {
				t.Errorf("GET %s: %d %s, want 400", path, resp.StatusCode, body)
			}
		}
	}
	resp, body := c.do("GET", "/api/v1/campaigns/"+id+"/recipients/ODD1", "", nil, viewer)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("an ordinary read: %d %s", resp.StatusCode, body)
	}
	// The read is audited before it is answered: its row is there now.
	rows := 0
	for _, e := range c.audit("?campaign=" + id + "&action=recipient.viewed").Entries {
		if e.Actor == "user:oddviewer" {
			rows++
		}
	}
	if rows != 1 {
		t.Errorf("audit rows of the viewer's read: %d, want 1", rows)
	}
}

// A read of personal data whose audit row cannot be written in time is refused (503), never
// answered without a trace.
func TestAudit_AReadThatCannotBeAuditedIsRefused(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	c.importList(id, "customer_id,email\nLOCK1,lock1@example.com\n")
	// Another session holds the audit log: no row can be added until it lets go.
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `LOCK TABLE audit_log IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, body := c.do("GET", "/api/v1/campaigns/"+id+"/recipients/LOCK1", "", nil, c.token)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), "lock1@example.com") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a read that cannot be audited: %d %s, want 503 with Retry-After and no personal data", resp.StatusCode, body)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("the refused read waited %s", waited)
	}
	// The proof-of-notice export too: it waited for as long as the log was held (the review's
	// 19 s, and for ever had the lock stayed).
	start = time.Now()
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/deliveries.csv", "", nil, c.token)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), "lock1@example.com") {
		t.Errorf("an export that cannot be audited: %d %s, want 503 and no personal data", resp.StatusCode, body)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("the refused export waited %s", waited)
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	if resp, body := c.do("GET", "/api/v1/campaigns/"+id+"/recipients/LOCK1", "", nil, c.token); resp.StatusCode != http.StatusOK {
		t.Errorf("the same read once the log is free: %d %s", resp.StatusCode, body)
	}
}

// TestErrors_QuoteWhatTheClientSentClipped: the review's action= of 3,000 characters came back
// whole in the error; so did limit=, before= and a preview's channel=.
func TestErrors_QuoteWhatTheClientSentClipped(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	long := strings.Repeat("a", 3000)
	for _, path := range []string{
		"/api/v1/audit?action=" + long,
		"/api/v1/audit?before=" + long,
		"/api/v1/campaigns/" + id + "/deliveries?limit=" + long,
		"/api/v1/campaigns/" + id + "/preview?channel=" + long,
		"/api/v1/campaigns/" + id + "/preview?locale=" + long,
		"/api/v1/campaigns/" + id + "/preview?jurisdiction=" + long,
	} {
		resp, body := c.do("GET", path, "", nil, c.token)
		if resp.StatusCode != http.StatusBadRequest || len(body) > 600 || !strings.Contains(string(body), "…") {
			t.Errorf("%s: %d, %d bytes: want 400 quoting the value clipped\n%.300s", path[:40], resp.StatusCode, len(body), body)
		}
	}
}
