package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/google/uuid"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// auditAnswer is GET /api/v1/audit's answer.
type auditAnswer struct {
	Entries []struct {
		ID         int64
		Actor      string
		Action     string
		CampaignID string `json:"campaign_id"`
		Detail     map[string]any
	}
	NextBefore int64 `json:"next_before"`
}

// importList imports list into campaign id as a raw body and returns the import's ID.
func (c *client) importList(id, list string) string {
	c.t.Helper()
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports?filename=list.csv", "text/csv", strings.NewReader(list), c.token)
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	return decode[importAnswer](c.t, body).ID
}

func (c *client) audit(query string) auditAnswer {
	c.t.Helper()
	resp, body := c.do("GET", "/api/v1/audit"+query, "", nil, c.token)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET /api/v1/audit%s: %d %s", query, resp.StatusCode, body)
	}
	return decode[auditAnswer](c.t, body)
}

const privacyList = "customer_id,name,email,phone,country\n" +
	"Q1,Anselma Vidaurre,anselma.vidaurre@example.org,+51987650011,PE\n" +
	"Q2,Teodoro Quispe,,+51987650012,PE\n" +
	"Q3,Rejected Row,rejected.row@example.org,,Atlantis\n"

func TestAPI_AuditLogFiltersAndPaginatesNewestFirst(t *testing.T) {
	c := newServer(t)
	a, b := c.createCampaign(), c.createCampaign()
	c.importList(a, privacyList)
	actor := "token:" + t.Name()

	got := c.audit("?campaign=" + a)
	if len(got.Entries) != 2 || got.Entries[0].Action != "import" || got.Entries[1].Action != "campaign.create" || got.NextBefore != 0 {
		t.Fatalf("audit of campaign A = %+v; want its import, then its creation, and no next page", got)
	}
	imp := got.Entries[0]
	if imp.Actor != actor || imp.CampaignID != a || imp.Detail["file"] != "list.csv" || imp.Detail["accepted"] != 2.0 ||
		imp.Detail["rejected"] != 1.0 {
		t.Errorf("import entry = %+v; want who, the file's label and the counts", imp)
	}
	if got := c.audit("?action=campaign.create&campaign=" + b); len(got.Entries) != 1 || got.Entries[0].CampaignID != b {
		t.Errorf("creation of campaign B = %+v", got)
	}

	// Pages of two, following next_before, walk the log newest first without repeats.
	var ids []int64
	query := "?action=campaign.create&limit=2"
	for page := 0; page < 1000; page++ {
		got := c.audit(query)
		for _, e := range got.Entries {
			if len(ids) > 0 && e.ID >= ids[len(ids)-1] {
				t.Errorf("entry %d comes after %d: not newest first", e.ID, ids[len(ids)-1])
			}
			ids = append(ids, e.ID)
		}
		if got.NextBefore == 0 {
			break
		}
		query = fmt.Sprintf("?action=campaign.create&limit=2&before=%d", got.NextBefore)
	}
	all := c.audit("?action=campaign.create&limit=1000")
	if len(ids) != len(all.Entries) || len(ids) < 2 {
		t.Errorf("paging found %d creations, one page of 1000 %d", len(ids), len(all.Entries))
	}

	for _, bad := range []struct{ query, says string }{
		{"?campaign=not-a-uuid", "campaign"},
		{"?action=DROP%20TABLE", "action"},
		{"?before=0", "before"},
		{"?before=abc", "before"},
		{"?limit=0", "limit"},
		{"?limit=1001", "limit"},
		{"?limit=ten", "limit"},
		{"?actor=someone", "unknown parameter"},
	} {
		resp, body := c.do("GET", "/api/v1/audit"+bad.query, "", nil, c.token)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), bad.says) {
			t.Errorf("GET /api/v1/audit%s: %d %s; want 400 about %s", bad.query, resp.StatusCode, body, bad.says)
		}
	}
	if resp, _ := c.do("GET", "/api/v1/audit", "", nil, "bn_wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("audit log without a valid token: %d", resp.StatusCode)
	}
}

func TestAPI_PurgeOnlyFinishedCampaignsThenProveNotice(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	c.importList(id, privacyList)

	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/purge", "", nil, c.token)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "completed or cancelled") {
		t.Fatalf("purge of a draft: %d %s; want 409 saying what can be purged", resp.StatusCode, body)
	}
	if resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/cancel", "", nil, c.token); resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %d %s", resp.StatusCode, body)
	}
	resp, body = c.do("POST", "/api/v1/campaigns/"+id+"/purge", "", nil, c.token)
	rep := decode[breach.PurgeReport](t, body)
	if resp.StatusCode != http.StatusOK || rep.AlreadyPurged || rep.Recipients != 2 || rep.Rejects != 1 ||
		rep.PurgedBy != "token:"+t.Name() {
		t.Fatalf("purge of a cancelled campaign: %d %s", resp.StatusCode, body)
	}
	resp, body = c.do("POST", "/api/v1/campaigns/"+id+"/purge", "", nil, c.token)
	again := decode[breach.PurgeReport](t, body)
	if resp.StatusCode != http.StatusOK || !again.AlreadyPurged || !again.PurgedAt.Equal(rep.PurgedAt) {
		t.Errorf("second purge: %d %s; want 200 already_purged", resp.StatusCode, body)
	}

	resp, body = c.do("GET", "/api/v1/campaigns/"+id, "", nil, c.token)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"purged_at"`) {
		t.Errorf("the purged campaign: %d %s; want purged_at shown", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/preview?customer_id=Q1", "", nil, c.token)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "purged") {
		t.Errorf("preview of a purged customer: %d %s; want 409 saying the data was purged", resp.StatusCode, body)
	}
	resp, body = c.do("POST", "/api/v1/campaigns/"+id+"/test-send", "application/json",
		strings.NewReader(`{"to": ["reviewer@example.com"]}`), c.token)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "purged") {
		t.Errorf("test-send of a purged campaign: %d %s; want 409", resp.StatusCode, body)
	}
	if resp, body := c.do("GET", "/api/v1/campaigns/"+id+"/status", "", nil, c.token); resp.StatusCode != http.StatusOK ||
		!strings.Contains(string(body), `"total":2`) {
		t.Errorf("status of a purged campaign: %d %s; want its 2 recipients counted", resp.StatusCode, body)
	}

	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/recipients/Q1", "", nil, c.token)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"purged":true`) ||
		!strings.Contains(string(body), `"email_proof"`) || strings.Contains(string(body), "anselma") {
		t.Errorf("lookup of a purged customer: %d %s; want purged, the proofs and no address", resp.StatusCode, body)
	}

	proof := func(address string) (int, map[string]any) {
		b, _ := json.Marshal(map[string]string{"address": address})
		resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/proof", "application/json", bytes.NewReader(b), c.token)
		var v map[string]any
		json.Unmarshal(body, &v)
		return resp.StatusCode, v
	}
	// The mailbox in any letter case, as everywhere else addresses are compared (a review:
	// only the stored spelling matched, and the same mailbox was "not notified").
	for _, spelled := range []string{" anselma.vidaurre@EXAMPLE.org ", "Anselma.Vidaurre@example.org", "ANSELMA.VIDAURRE@EXAMPLE.ORG"} {
		if status, p := proof(spelled); status != http.StatusOK || p["matched"] != true ||
			p["customer_id"] != "Q1" || p["channel"] != "email" {
			t.Errorf("proof of Q1's email as %q: %d %v", spelled, status, p)
		}
	}
	if status, p := proof("+51987650012"); status != http.StatusOK || p["matched"] != true || p["customer_id"] != "Q2" {
		t.Errorf("proof of Q2's phone: %d %v", status, p)
	}
	for _, other := range []string{"anselma.vidaurre@example.com", "+51987650013", "rejected.row@example.org"} {
		if status, p := proof(other); status != http.StatusOK || p["matched"] != false || p["customer_id"] != nil {
			t.Errorf("proof of %s: %d %v; want no match", other, status, p)
		}
	}
	if status, p := proof("not an address"); status != http.StatusBadRequest {
		t.Errorf("proof of a malformed address: %d %v; want 400", status, p)
	}

	// (Filtered by action: the reads before, audited in batches, may be recorded after them.)
	got := c.audit("?campaign=" + id + "&action=campaign.proof&limit=3")
	var actions []string
	for _, e := range got.Entries {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "campaign.proof campaign.proof campaign.proof" {
		t.Errorf("latest audit entries = %v; want the proof lookups", actions)
	}
	purges := c.audit("?campaign=" + id + "&action=campaign.purge")
	if len(purges.Entries) != 1 || purges.Entries[0].Detail["recipients"] != 2.0 {
		t.Errorf("purge audit = %+v; want one entry with the count", purges)
	}
	if strings.Contains(c.logs.String(), "anselma") || strings.Contains(c.logs.String(), "98765001") {
		t.Errorf("personal data in the server's log:\n%s", c.logs)
	}
}

func TestAPI_PurgeOfARunningCampaignIsAConflictAndChangesNothing(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	c.importList(id, privacyList)
	for _, step := range []string{"approve", "start"} {
		if resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/"+step, "", nil, c.token); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", step, resp.StatusCode, body)
		}
	}
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/purge", "", nil, c.token)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "running") {
		t.Errorf("purge of a running campaign: %d %s; want 409 saying it is running", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/preview?customer_id=Q1", "", nil, c.token)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Anselma") {
		t.Errorf("preview after a refused purge: %d; want the customer's notice still", resp.StatusCode)
	}
	if got := c.audit("?campaign=" + id + "&action=campaign.purge"); len(got.Entries) != 0 {
		t.Errorf("a refused purge was audited as done: %+v", got)
	}
	if resp, _ := c.do("POST", "/api/v1/campaigns/"+uuid.NewString()+"/purge", "", nil, c.token); resp.StatusCode != http.StatusNotFound {
		t.Errorf("purge of an unknown campaign: %d, want 404", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/api/v1/campaigns/not-a-campaign/purge", "", nil, c.token); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("purge of a malformed campaign ID: %d, want 400", resp.StatusCode)
	}
}

func TestAPI_UploadedFileNamesAreLabelsNeverPaths(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	for _, tt := range []struct{ name, want string }{
		{"../../etc/passwd", "passwd"},
		{`..\..\Windows\win.ini`, "win.ini"},
		{"/etc/shadow", "shadow"},
		{"..", ""},
	} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", tt.name)
		fw.Write([]byte("customer_id,email\nF1,f1@example.com\n"))
		mw.Close()
		resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports", mw.FormDataContentType(), &buf, c.token)
		got := decode[struct{ ID, Filename string }](t, body)
		if resp.StatusCode != http.StatusCreated || got.Filename != tt.want {
			t.Errorf("upload named %q: %d, stored as %q; want %q", tt.name, resp.StatusCode, got.Filename, tt.want)
		}
		// The raw-body form names the file in the query string.
		resp, body = c.do("POST", "/api/v1/campaigns/"+id+"/imports?filename="+url.QueryEscape(tt.name), "text/csv",
			strings.NewReader("customer_id,email\nF1,f1@example.com\n"), c.token)
		got = decode[struct{ ID, Filename string }](t, body)
		if resp.StatusCode != http.StatusCreated || got.Filename != tt.want {
			t.Errorf("raw upload named %q: %d, stored as %q; want %q", tt.name, resp.StatusCode, got.Filename, tt.want)
		}
	}
	if got := c.audit("?campaign=" + id + "&action=import&limit=1"); len(got.Entries) != 1 ||
		strings.ContainsAny(fmt.Sprint(got.Entries[0].Detail["file"]), "/\\\r\n") {
		t.Errorf("the audited file name = %+v; want a bare label", got)
	}
}

func TestFileLabel_NeutralisesPathsAndControlCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"customers.csv":                   "customers.csv",
		"../../etc/passwd":                "passwd",
		"..%2F..%2Fetc%2Fpasswd":          "..%2F..%2Fetc%2Fpasswd", // not decoded: a label, never a path
		`C:\Users\ana\clientes.csv`:       "clientes.csv",
		"/":                               "",
		".":                               "",
		"..":                              "",
		"":                                "",
		"a\x00b\x1b[31m.csv":              "ab[31m.csv",
		"bad\xffutf8.csv":                 "badutf8.csv",
		"invoice\u202efdp.exe":            "invoicefdp.exe", // a right-to-left override showed it as ...exe.pdf
		"list\u200b\u2066.csv":            "list.csv",
		strings.Repeat("é", 200) + ".csv": strings.Repeat("é", 127),
	} {
		if got := breach.FileLabel(in); got != want {
			t.Errorf("FileLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
