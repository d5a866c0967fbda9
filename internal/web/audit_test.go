package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestAudit_EveryConsoleActionLeavesARowNamingTheUser walks a campaign through every action
// the console offers and checks the audit log names the user for each — and that no
// customer's personal data is in the details.
func TestAudit_EveryConsoleActionLeavesARowNamingTheUser(t *testing.T) {
	st := newStack(t, nil)
	b := st.signedIn("auditor", breach.RoleOperator, breach.RoleApprover)

	got := b.post("/campaigns", url.Values{"source": {string(examples.Campaign)}})
	if got.status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", got.status, got.body)
	}
	id := regexp.MustCompile(`/campaigns/([0-9a-f-]{36})`).FindStringSubmatch(got.header.Get("Location"))[1]

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "customers.csv")
	fw.Write(examples.Customers)
	mw.Close()
	req, _ := http.NewRequest("POST", st.srv.URL+"/campaigns/"+id+"/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if got := b.do(req); got.status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", got.status, got.body)
	}
	imports, err := st.db.Imports(context.Background(), id)
	if err != nil || len(imports) != 1 {
		t.Fatalf("imports: %v %v", imports, err)
	}
	if got := b.get("/campaigns/" + id + "/imports/" + imports[0].ID + "/rejects.csv"); got.status != http.StatusOK || !strings.HasPrefix(got.header.Get("Content-Type"), "text/csv") {
		t.Errorf("rejects.csv: %d %s", got.status, got.header.Get("Content-Type"))
	}
	if got := b.get("/campaigns/" + id + "/recipients?customer_id=AT-100001"); got.status != http.StatusOK || !strings.Contains(got.body, "María") {
		t.Errorf("lookup: %d", got.status)
	}
	if got := b.post("/campaigns/"+id+"/test-send", url.Values{"to": {"reviewer@andinatel.com.pe, +51987000111"}}); got.status != http.StatusOK || !strings.Contains(got.body, "Test notices just sent") {
		t.Errorf("test send: %d\n%s", got.status, got.body)
	}
	for _, step := range []string{"approve", "start", "pause", "resume", "cancel"} {
		var form url.Values
		if step == "approve" {
			form = approveForm(t, st, id)
		}
		if got := b.post("/campaigns/"+id+"/"+step, form); got.status != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", step, got.status, got.body)
		}
	}
	b.post("/sign-out", nil)

	actions := auditActions(t, "user:auditor")
	for _, want := range []string{"console.sign_in", "campaign.create", "import", "import.rejects_download", "recipient.viewed",
		"campaign.test_send", "campaign.approve", "campaign.start", "campaign.pause", "campaign.resume", "campaign.cancelled", "console.sign_out"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %q row for user:auditor; the log has %v", want, actions)
		}
	}
	var details string
	if err := pool(t).QueryRow(context.Background(), `SELECT string_agg(detail::text, ' ') FROM audit_log WHERE actor = 'user:auditor'`).Scan(&details); err != nil {
		t.Fatal(err)
	}
	// The customers' data never; where their test notices went (the reviewers' addresses,
	// staff's) always: an auditor must be able to say where it was sent.
	for _, pii := range []string{"María", "Quispe", "maria.quispe@gmail.com", "+51987654321"} {
		if strings.Contains(strings.ToLower(details), strings.ToLower(pii)) {
			t.Errorf("the audit details hold personal data %q: %s", pii, details)
		}
	}
	if !strings.Contains(details, "reviewer@andinatel.com.pe") || !strings.Contains(details, "+51987000111") {
		t.Errorf("the test send's audit row does not say where the notices went: %s", details)
	}
}
