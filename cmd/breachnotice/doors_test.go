package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/logtest"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/password"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/sms"
	"github.com/breachnotice/breachnotice/internal/web"
)

// door is one way in to the operations: the command line, the JSON API or the web console.
// Each method performs one operator operation on campaign id and fails the test if the door
// reports a failure.
type door interface {
	name() string
	create(t *testing.T) string
	importList(t *testing.T, id, path string) (importID string)
	preview(t *testing.T, id, customer string)
	approve(t *testing.T, id string)
	testSend(t *testing.T, id, to string)
	move(t *testing.T, id, verb string)
	recipient(t *testing.T, id, customer string)
	rejects(t *testing.T, id, importID string)
	export(t *testing.T, id string)
	purge(t *testing.T, id string)
}

// TestDoors_EveryOperationHasTheSameOutcomeAndAuditRowThroughEveryDoor runs a campaign's
// whole life through the command line, the API and the console, and expects each door to
// leave the same audit rows — action and detail — in the same order: a rule or an audit call
// copied into one door and changed there fails here.
func TestDoors_EveryOperationHasTheSameOutcomeAndAuditRowThroughEveryDoor(t *testing.T) {
	env := newDoorEnv(t)
	var want []string
	for _, d := range []door{cliDoor{env}, apiDoor{env}, consoleDoor{env}} {
		t.Run(d.name(), func(t *testing.T) {
			id := d.create(t)
			importID := d.importList(t, id, "../../examples/customers.csv")
			d.rejects(t, id, importID)
			d.preview(t, id, "AT-100001")
			d.testSend(t, id, "reviewer@example.org")
			d.approve(t, id)
			for _, verb := range []string{"start", "pause", "resume", "cancel"} {
				d.move(t, id, verb)
			}
			d.recipient(t, id, "AT-100001")
			d.export(t, id)
			d.purge(t, id)

			got := env.auditTrail(t, id)
			if want == nil {
				want = got
				for _, action := range []string{breach.ActionCampaignCreate, breach.ActionImport, breach.ActionRejectsRead,
					breach.ActionPreviewCustomer, breach.ActionCampaignTestSend, breach.ActionCampaignApprove, breach.ActionCampaignStart,
					breach.ActionCampaignPause, breach.ActionCampaignResume, breach.ActionCampaignCancel, breach.ActionRecipientView,
					breach.ActionCampaignExport, breach.ActionCampaignPurge} {
					if !slices.ContainsFunc(got, func(row string) bool { return strings.HasPrefix(row, action+" ") }) {
						t.Errorf("no %s row in the audit trail:\n%s", action, strings.Join(got, "\n"))
					}
				}
				return
			}
			if !slices.Equal(got, want) {
				t.Errorf("the %s door's audit trail differs from the command line's:\n%s\nwant\n%s", d.name(), strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// doorEnv is a database, an API and a console on it, a user with every role, a token bound to
// them, and a signed-in browser.
type doorEnv struct {
	db      *postgres.DB
	srv     *httptest.Server
	token   string
	browser *http.Client
	outbox  string
}

func newDoorEnv(t *testing.T) *doorEnv {
	t.Helper()
	ctx := t.Context()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	secret := []byte(testSecret)
	rd, err := notice.New("", secret)
	if err != nil {
		t.Fatal(err)
	}
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	env := &doorEnv{db: db, outbox: t.TempDir()}
	log := slog.New(slog.NewTextHandler(&logtest.Buffer{}, nil))
	tests := dispatch.TestSender{Renderer: rd, Mail: &email.Capture{Dir: filepath.Join(env.outbox, "email")},
		SMS: &sms.Capture{Path: filepath.Join(env.outbox, sms.CaptureFile)}}
	ops := &operation.Service{Store: db, Importer: im, Renderer: rd, Tests: tests, Secret: secret, Log: log}
	console := &web.Server{Ops: ops, Store: db, Renderer: rd, Log: log, MaxUploadBytes: 64 << 20, Secret: secret}
	h, err := console.Handler((&api.Server{Ops: ops, Store: db, Renderer: rd, Secret: secret, Log: log, MaxUploadBytes: 64 << 20}).Handler())
	if err != nil {
		t.Fatal(err)
	}
	env.srv = httptest.NewServer(h)
	t.Cleanup(env.srv.Close)

	login := fmt.Sprintf("doors%d", time.Now().UnixNano())
	pw := password.New()
	hash, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &breach.User{Login: login, Roles: breach.Roles}, hash, "cli:test"); err != nil {
		t.Fatal(err)
	}
	env.token = "bn_doors_" + login
	sum := sha256.Sum256([]byte(env.token))
	if err := db.CreateToken(ctx, "doors-"+login, login, sum[:], time.Time{}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	env.browser = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp := env.form(t, "/sign-in", url.Values{"login": {login}, "password": {pw}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	return env
}

// auditTrail is a campaign's audit rows, oldest first, as "action detail" with what differs
// by nature between runs (IDs, times, the campaign's own numbers) masked, and the credential
// it came through left out.
func (env *doorEnv) auditTrail(t *testing.T, id string) []string {
	t.Helper()
	entries, err := env.db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: id, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range slices.Backward(entries) {
		var detail map[string]any
		if err := json.Unmarshal(e.Detail, &detail); err != nil {
			t.Fatal(err)
		}
		// The credential is each door's own: a token, a console session, none at the command
		// line (internal/api and internal/web test that it is named).
		delete(detail, "via")
		for _, k := range []string{"import", "recipient", "recipients", "expires_at", "list_version"} {
			if _, ok := detail[k]; ok {
				detail[k] = "…"
			}
		}
		b, _ := json.Marshal(detail)
		out = append(out, e.Action+" "+string(b))
	}
	return out
}

// form posts a console form as the console's own page would.
func (env *doorEnv) form(t *testing.T, path string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", env.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", env.srv.URL)
	return env.send(t, env.browser, req)
}

func (env *doorEnv) send(t *testing.T, c *http.Client, req *http.Request) *http.Response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

func bodyOf(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// cliDoor runs the real binary.
type cliDoor struct{ env *doorEnv }

func (cliDoor) name() string { return "cli" }

func (d cliDoor) run(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := cliEnv(t, []string{"BREACHNOTICE_SECRET=" + testSecret, "OUTBOX_DIR=" + d.env.outbox}, args...)
	if err != nil {
		t.Fatalf("breachnotice %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

func (d cliDoor) create(t *testing.T) string {
	var c struct{ ID string }
	if err := json.Unmarshal([]byte(d.run(t, "campaign", "create", "-f", "../../examples/campaign.yaml", "--json")), &c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (d cliDoor) importList(t *testing.T, id, path string) string {
	var s struct{ ID string }
	if err := json.Unmarshal([]byte(d.run(t, "import", "--campaign", id, "--json", path)), &s); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (d cliDoor) rejects(t *testing.T, id, importID string) {
	// The command line reads an import's rejects as it imports (--rejects); this reads them
	// again as the API and the console do, through the same operation.
	out := filepath.Join(t.TempDir(), "rejects.csv")
	d.run(t, "campaign", "rejects", id, importID, "-o", out)
	if b, err := os.ReadFile(out); err != nil || !strings.HasPrefix(string(b), "line,customer_id,field,reason") {
		t.Errorf("rejects file: %q, %v", b, err)
	}
}

func (d cliDoor) preview(t *testing.T, id, customer string) {
	if out := d.run(t, "preview", "--campaign", id, "--customer", customer, "--json"); !strings.Contains(out, `"reference"`) {
		t.Errorf("preview: %.200s", out)
	}
}

func (d cliDoor) approve(t *testing.T, id string)    { d.run(t, "campaign", "approve", id) }
func (d cliDoor) move(t *testing.T, id, verb string) { d.run(t, "campaign", verb, id) }
func (d cliDoor) testSend(t *testing.T, id, to string) {
	d.run(t, "campaign", "test-send", id, "--to", to)
}
func (d cliDoor) recipient(t *testing.T, id, customer string) {
	if out := d.run(t, "campaign", "recipient", id, customer, "--json"); !strings.Contains(out, customer) {
		t.Errorf("recipient: %.200s", out)
	}
}
func (d cliDoor) export(t *testing.T, id string) {
	if out := d.run(t, "campaign", "export", id); !strings.HasPrefix(out, "customer_id,") {
		t.Errorf("export: %.200s", out)
	}
}
func (d cliDoor) purge(t *testing.T, id string) { d.run(t, "purge", "--campaign", id) }

// apiDoor calls the JSON API with a token bound to the user.
type apiDoor struct{ env *doorEnv }

func (apiDoor) name() string { return "api" }

func (d apiDoor) call(t *testing.T, method, path, contentType string, body io.Reader, want int) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, d.env.srv.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+d.env.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp := d.env.send(t, http.DefaultClient, req)
	b := bodyOf(resp)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	return b
}

func (d apiDoor) create(t *testing.T) string {
	f, _ := os.Open("../../examples/campaign.yaml")
	defer f.Close()
	var c struct{ ID string }
	json.Unmarshal([]byte(d.call(t, "POST", "/api/v1/campaigns", "application/yaml", f, http.StatusCreated)), &c)
	return c.ID
}

func (d apiDoor) importList(t *testing.T, id, path string) string {
	f, _ := os.Open(path)
	defer f.Close()
	var imp struct{ ID string }
	json.Unmarshal([]byte(d.call(t, "POST", "/api/v1/campaigns/"+id+"/imports?filename=customers.csv", "text/csv", f, http.StatusCreated)), &imp)
	return imp.ID
}

func (d apiDoor) rejects(t *testing.T, id, importID string) {
	d.call(t, "GET", "/api/v1/campaigns/"+id+"/imports/"+importID+"/rejects.csv", "", nil, http.StatusOK)
}
func (d apiDoor) preview(t *testing.T, id, customer string) {
	d.call(t, "GET", "/api/v1/campaigns/"+id+"/preview?customer_id="+customer, "", nil, http.StatusOK)
}
func (d apiDoor) approve(t *testing.T, id string) {
	d.call(t, "POST", "/api/v1/campaigns/"+id+"/approve", "", nil, http.StatusOK)
}
func (d apiDoor) move(t *testing.T, id, verb string) {
	d.call(t, "POST", "/api/v1/campaigns/"+id+"/"+verb, "", nil, http.StatusOK)
}
func (d apiDoor) testSend(t *testing.T, id, to string) {
	d.call(t, "POST", "/api/v1/campaigns/"+id+"/test-send", "application/json", strings.NewReader(`{"to": ["`+to+`"]}`), http.StatusOK)
}
func (d apiDoor) recipient(t *testing.T, id, customer string) {
	d.call(t, "GET", "/api/v1/campaigns/"+id+"/recipients/"+customer, "", nil, http.StatusOK)
}
func (d apiDoor) export(t *testing.T, id string) {
	d.call(t, "GET", "/api/v1/campaigns/"+id+"/deliveries.csv", "", nil, http.StatusOK)
}
func (d apiDoor) purge(t *testing.T, id string) {
	d.call(t, "POST", "/api/v1/campaigns/"+id+"/purge", "", nil, http.StatusOK)
}

// consoleDoor submits the console's forms as a signed-in browser.
type consoleDoor struct{ env *doorEnv }

func (consoleDoor) name() string { return "console" }

func (d consoleDoor) get(t *testing.T, path string, want int) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", d.env.srv.URL+path, nil)
	resp := d.env.send(t, d.env.browser, req)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%.500s", path, resp.StatusCode, want, bodyOf(resp))
	}
	return bodyOf(resp)
}

// post submits a form and returns where it redirected to.
func (d consoleDoor) post(t *testing.T, path string, form url.Values) string {
	t.Helper()
	resp := d.env.form(t, path, form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST %s: %d, want a redirect\n%.800s", path, resp.StatusCode, bodyOf(resp))
	}
	return resp.Header.Get("Location")
}

var consoleID = regexp.MustCompile(`/campaigns/([0-9a-f-]{36})(?:/imports/([0-9a-f-]{36}))?`)

func (d consoleDoor) create(t *testing.T) string {
	src, _ := os.ReadFile("../../examples/campaign.yaml")
	return consoleID.FindStringSubmatch(d.post(t, "/campaigns", url.Values{"source": {string(src)}}))[1]
}

func (d consoleDoor) importList(t *testing.T, id, path string) string {
	body := &strings.Builder{}
	mw := multipart.NewWriter(body)
	part, _ := mw.CreateFormFile("file", "customers.csv")
	f, _ := os.Open(path)
	io.Copy(part, f)
	f.Close()
	mw.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", d.env.srv.URL+"/campaigns/"+id+"/imports", strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", d.env.srv.URL)
	resp := d.env.send(t, d.env.browser, req)
	m := consoleID.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil || m[2] == "" {
		t.Fatalf("upload: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return m[2]
}

func (d consoleDoor) rejects(t *testing.T, id, importID string) {
	d.get(t, "/campaigns/"+id+"/imports/"+importID+"/rejects.csv", http.StatusOK)
}
func (d consoleDoor) preview(t *testing.T, id, customer string) {
	d.get(t, "/campaigns/"+id+"/preview?customer_id="+customer, http.StatusOK)
}

// approve approves as a browser does: with the list version the campaign's page shows.
func (d consoleDoor) approve(t *testing.T, id string) {
	m := listVersionField.FindStringSubmatch(d.get(t, "/campaigns/"+id, http.StatusOK))
	if m == nil {
		t.Fatal("the campaign page has no approve form with a list_version")
	}
	d.post(t, "/campaigns/"+id+"/approve", url.Values{"list_version": {m[1]}})
}

var listVersionField = regexp.MustCompile(`name="list_version" value="([^"]+)"`)

func (d consoleDoor) move(t *testing.T, id, verb string) {
	d.post(t, "/campaigns/"+id+"/"+verb, nil)
}
func (d consoleDoor) testSend(t *testing.T, id, to string) {
	resp := d.env.form(t, "/campaigns/"+id+"/test-send", url.Values{"to": {to}})
	if b := bodyOf(resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "Test notices sent") {
		t.Fatalf("test send: %d\n%.500s", resp.StatusCode, b)
	}
}
func (d consoleDoor) recipient(t *testing.T, id, customer string) {
	d.get(t, "/campaigns/"+id+"/recipients?customer_id="+customer, http.StatusOK)
}
func (d consoleDoor) export(t *testing.T, id string) {
	d.get(t, "/campaigns/"+id+"/deliveries.csv", http.StatusOK)
}
func (d consoleDoor) purge(t *testing.T, id string) { d.post(t, "/campaigns/"+id+"/purge", nil) }
