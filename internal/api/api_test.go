package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/logtest"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/sms"
)

var dbURL string

var testSecret = []byte("api-test-secret-api-test-secret!")

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &dbURL)) }

type client struct {
	t     *testing.T
	url   string
	token string
	logs  *logtest.Buffer
	// outbox holds the test notices sent to reviewers.
	outbox string
}

// newServer serves the API over a real listener backed by the test database, with a fresh
// operator token named after the test.
// testBodyIdle is how long the test servers wait for a stalled request body or reader.
const testBodyIdle = 2 * time.Second

// testMinRate is the test servers' least average upload rate, bytes per second, past a grace
// of testBodyIdle.
const testMinRate = 4 << 10

func newServer(t *testing.T) *client {
	c, _ := serve(t, t.Name(), nil)
	return c
}

// serve serves the API as newServer does, with an operator token named tokenName, after edit
// (if not nil) has changed the server's settings; it returns the store too.
func serve(t *testing.T, tokenName string, edit func(*api.Server)) (*client, *postgres.DB) {
	t.Helper()
	db, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := notice.New("", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	outbox := t.TempDir()
	test := dispatch.TestSender{Renderer: rd, Mail: &email.Capture{Dir: outbox}, SMS: &sms.Capture{Path: filepath.Join(outbox, "sms.jsonl")}}
	log := slog.New(slog.NewTextHandler(logs, nil))
	ops := &operation.Service{Store: db, Importer: im, Renderer: rd, Tests: test, Secret: testSecret, Log: log}
	srv := &api.Server{Ops: ops, Store: db, Renderer: rd, Secret: testSecret, Log: log, MaxUploadBytes: 1 << 20}
	if edit != nil {
		edit(srv)
	}
	// Served as serve does: behind the stalled-client cut-off (short here, for its test).
	ts := httptest.NewServer(api.Progress(api.Pace{Idle: testBodyIdle, MinRate: testMinRate, Grace: testBodyIdle}, srv.Handler()))
	t.Cleanup(ts.Close)
	token := "bn_test_" + strings.ReplaceAll(tokenName, "/", "_")
	sum := sha256.Sum256([]byte(token))
	if err := db.CreateToken(t.Context(), tokenName, "", sum[:], time.Time{}); err != nil {
		t.Fatal(err)
	}
	return &client{t: t, url: ts.URL, token: token, logs: logs, outbox: outbox}, db
}

func (c *client) do(method, path, contentType string, body io.Reader, token string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.url+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Transport: validated{c.t}}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (c *client) createCampaign() string {
	c.t.Helper()
	resp, body := c.do("POST", "/api/v1/campaigns", "application/yaml", bytes.NewReader(examples.Campaign), c.token)
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("create campaign: %d %s", resp.StatusCode, body)
	}
	var out struct{ ID string }
	json.Unmarshal(body, &out)
	return out.ID
}

type importAnswer struct {
	ID                                        string
	State                                     string
	Read, Accepted, Merged, Rejected, Updated int64
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestAPI_EveryRouteRequiresAValidTokenAndLeaksNothing(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/campaigns"},
		{"POST", "/api/v1/campaigns"},
		{"GET", "/api/v1/campaigns/" + id},
		{"GET", "/api/v1/campaigns/6f1f3e56-0000-4000-8000-000000000000"},
		{"POST", "/api/v1/campaigns/" + id + "/imports"},
		{"GET", "/api/v1/campaigns/" + id + "/imports/6f1f3e56-0000-4000-8000-000000000000"},
		{"GET", "/api/v1/campaigns/" + id + "/imports/x/rejects.csv"},
		{"GET", "/api/v1/campaigns/" + id + "/preview"},
		{"GET", "/api/v1/campaigns/" + id + "/lint"},
		{"POST", "/api/v1/campaigns/" + id + "/approve"},
		{"POST", "/api/v1/campaigns/" + id + "/start"},
		{"POST", "/api/v1/campaigns/" + id + "/pause"},
		{"POST", "/api/v1/campaigns/" + id + "/resume"},
		{"POST", "/api/v1/campaigns/" + id + "/cancel"},
		{"GET", "/api/v1/campaigns/" + id + "/status"},
		{"POST", "/api/v1/campaigns/" + id + "/test-send"},
		{"GET", "/api/v1/no-such-route"},
	}
	for _, r := range routes {
		for _, token := range []string{"", "bn_wrong"} {
			resp, body := c.do(r.method, r.path, "text/csv", strings.NewReader("customer_id,email\nC1,a@example.com\n"), token)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: %d, want 401", r.method, r.path, token, resp.StatusCode)
			}
			e := decode[struct {
				Error struct{ Code, Message string }
			}](t, body)
			if e.Error.Code != "unauthorized" || strings.Contains(string(body), id) {
				t.Errorf("%s %s: body %s", r.method, r.path, body)
			}
		}
	}
	// Nothing was imported by the refused uploads.
	resp, body := c.do("GET", "/api/v1/campaigns/"+id, "", nil, c.token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorized GET: %d %s", resp.StatusCode, body)
	}
	// Two Authorization headers, a valid one among them: refused, not the first one's act (a
	// proxy that authorizes or logs the last would name another actor).
	req, err := http.NewRequestWithContext(t.Context(), "POST", c.url+"/api/v1/campaigns/"+id+"/cancel", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Add("Authorization", "Bearer "+c.token)
	req.Header.Add("Authorization", "Bearer bn_someone_else")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("two Authorization headers: %d, want 401", resp.StatusCode)
	}
	if resp, body := c.do("GET", "/api/v1/campaigns/"+id, "", nil, c.token); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"state":"draft"`) {
		t.Errorf("after the refused cancel: %d %s, want the campaign still a draft", resp.StatusCode, body)
	}
}

func TestAPI_CampaignFileErrorsNameTheLine(t *testing.T) {
	c := newServer(t)
	bad := strings.Replace(string(examples.Campaign), "seguridad@notificaciones.andinatel.com.pe", "security@", 1)
	resp, body := c.do("POST", "/api/v1/campaigns", "application/yaml", strings.NewReader(bad), c.token)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
	}
	e := decode[struct {
		Error struct {
			Code     string
			Problems []struct {
				Line  int
				Field string
			}
		}
	}](t, body)
	if e.Error.Code != "invalid" || len(e.Error.Problems) != 1 || e.Error.Problems[0].Field != "sender.email" || e.Error.Problems[0].Line == 0 {
		t.Errorf("problems = %+v, want one on sender.email with its line", e.Error.Problems)
	}
}

func TestAPI_ImportRawBodyThenReadItsReportAndRejects(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	list := "customer_id,email,phone,name\nC1,a@example.com,,Ana\n=HYPERLINK(\"x\"),broken@,,Bob\nC2,,987654321,Carla\n"
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports?filename=../../etc/list.csv", "text/csv", strings.NewReader(list), c.token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	imp := decode[importAnswer](t, body)
	if imp.Read != 3 || imp.Accepted != 2 || imp.Rejected != 1 || imp.State != "completed" {
		t.Fatalf("import = %+v", imp)
	}
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/imports/"+imp.ID, "", nil, c.token)
	got := decode[struct {
		importAnswer
		Filename string
	}](t, body)
	if resp.StatusCode != http.StatusOK || got.Read != 3 || got.Filename != "list.csv" {
		t.Errorf("GET import: %d %s (the file name must be a bare label)", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/imports/"+imp.ID+"/rejects.csv", "", nil, c.token)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("rejects.csv: %d %s", resp.StatusCode, body)
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(records) != 2 {
		t.Fatalf("rejects.csv = %q, %v", body, err)
	}
	if records[1][0] != "3" || records[1][1] != `'=HYPERLINK("x")` || records[1][2] != "email" {
		t.Errorf("reject row = %q; want line 3, the customer_id escaped against formula injection, field email", records[1])
	}
}

func TestAPI_ImportMultipartUpload(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("file", `C:\Users\ana\Desktop\clientes.csv`)
	fw.Write([]byte("customer_id;correo;telefono\nC1;a@example.com;987 654 321\n"))
	mw.Close()
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports?map=correo=email&map=telefono=phone", mw.FormDataContentType(), &buf, c.token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	got := decode[struct {
		importAnswer
		Filename, Delimiter string
	}](t, body)
	if got.Accepted != 1 || got.Filename != "clientes.csv" || got.Delimiter != ";" {
		t.Errorf("import = %s", body)
	}
}

func TestAPI_BadUploadsGetClearErrors(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	tests := []struct {
		name, path, contentType, body string
		status                        int
		want                          string
	}{
		{"empty file", "", "text/csv", "", 400, "empty"},
		{"no customer_id column", "", "text/csv", "email\na@example.com\n", 400, "customer_id"},
		{"bad map", "?map=nocolon", "text/csv", "customer_id,email\n", 400, "COLUMN=FIELD"},
		{"multipart without file", "", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--x--\r\n", 400, "file"},
		{"too large", "", "text/csv", "customer_id,email\n" + strings.Repeat("C1,a@example.com\n", 70000), 413, "larger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports"+tt.path, tt.contentType, strings.NewReader(tt.body), c.token)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Errorf("%d %s; want %d mentioning %q", resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
	resp, body := c.do("POST", "/api/v1/campaigns/6f1f3e56-0000-4000-8000-000000000000/imports", "text/csv", strings.NewReader("customer_id,email\n"), c.token)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown campaign: %d %s, want 404", resp.StatusCode, body)
	}
}

func TestAPI_LogsCarryNoPersonalData(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports", "text/csv", bytes.NewReader(examples.Customers), c.token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	// Phones as the list and the record hold them: "987" alone matched a timestamp's
	// milliseconds (…:49.987Z) and failed the test by chance.
	for _, pii := range []string{"Quispe", "gmail.com", "987 654 321", "987654321", "AT-1000"} {
		if strings.Contains(c.logs.String(), pii) {
			t.Errorf("log contains %q:\n%s", pii, c.logs)
		}
	}
	if !strings.Contains(c.logs.String(), `route="POST /api/v1/campaigns/{id}/imports"`) {
		t.Errorf("the log does not name the route:\n%s", c.logs)
	}
	// Public routes too (they are not behind the token check's inner mux).
	c.do("GET", "/api/v1/openapi.json", "", nil, "")
	if !strings.Contains(c.logs.String(), `route="GET /api/v1/openapi.json"`) {
		t.Errorf("the log does not name a public route:\n%s", c.logs)
	}
}

func TestAPI_PreviewACustomersNoticeAndLintTheCampaign(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports", "text/csv", bytes.NewReader(examples.Customers), c.token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	// AT-300001 in examples/customers.csv lives in Korea.
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/preview?customer_id=AT-300001&channel=sms", "", nil, c.token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d %s", resp.StatusCode, body)
	}
	n := decode[struct {
		Locale, LocaleReason, Jurisdiction, Reference, HTML string
		SMS                                                 struct {
			Body, Encoding string
			Segments       int
		}
		Lint []any
	}](t, body)
	if n.Locale != "ko" || n.Jurisdiction != "kr-pipa" || n.SMS.Encoding != "UCS-2" || n.SMS.Segments == 0 || n.HTML != "" || n.Reference == "" || n.Lint == nil {
		t.Errorf("preview = %s", body)
	}
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/preview?locale=fr&channel=email", "", nil, c.token)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `lang=\"fr\"`) {
		t.Errorf("sample preview in French: %d %.300s", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/preview?locale=pt", "", nil, c.token)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("preview in a locale the campaign does not offer: %d %s, want 400", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/preview?locale=en&channel=email&without_code=true", "", nil, c.token)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "could not be included in this notice") {
		t.Errorf("the sample customer without a code: %d %.300s", resp.StatusCode, body)
	}
	for _, q := range []string{"without_code=maybe", "without_code=true&customer_id=AT-100001"} {
		resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/preview?"+q, "", nil, c.token)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("preview?%s: %d %s, want 400", q, resp.StatusCode, body)
		}
	}
	resp, body = c.do("GET", "/api/v1/campaigns/"+id+"/lint", "", nil, c.token)
	l := decode[struct {
		Approvable bool
		Findings   []any
	}](t, body)
	if resp.StatusCode != http.StatusOK || !l.Approvable {
		t.Errorf("lint of the example campaign: %d %s", resp.StatusCode, body)
	}
}

func TestAPI_ApproveOnlyWithRecipientsAndOnce(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/approve", "", nil, c.token)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "no recipients") {
		t.Errorf("approve without a list: %d %s, want 409", resp.StatusCode, body)
	}
	c.do("POST", "/api/v1/campaigns/"+id+"/imports", "text/csv", bytes.NewReader(examples.Customers), c.token)
	// The body may name the list version the caller reviewed: another one is refused, a body
	// that is not that JSON is a 400.
	for _, tt := range []struct {
		body string
		want int
	}{
		{`{"list_version": "99999999"}`, http.StatusConflict},
		{`{"list_version": "20200101T000000.000000Z"}`, http.StatusBadRequest},
		{`{"list_version": "0"}`, http.StatusBadRequest},
		{`{"list_version": "x\u0000"}`, http.StatusBadRequest},
		{`{"list_version": 7}`, http.StatusBadRequest},
		{`{"version": "x"}`, http.StatusBadRequest},
		{`{"list_version": "x"} {"list_version": "y"}`, http.StatusBadRequest},
		{`{"list_version": "` + strings.Repeat("9", 100) + `"}`, http.StatusBadRequest},
	} {
		if resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/approve", "application/json", strings.NewReader(tt.body), c.token); resp.StatusCode != tt.want {
			t.Errorf("approve with %.40s: %d %s, want %d", tt.body, resp.StatusCode, body, tt.want)
		}
	}
	resp, body = c.do("GET", "/api/v1/campaigns/"+id, "", nil, c.token)
	version := decode[struct {
		ListVersion string `json:"list_version"`
	}](t, body).ListVersion
	if resp.StatusCode != http.StatusOK || version == "" {
		t.Fatalf("campaign: %d %s, want its list_version", resp.StatusCode, body)
	}
	resp, body = c.do("POST", "/api/v1/campaigns/"+id+"/approve", "application/json", strings.NewReader(`{"list_version": "`+version+`"}`), c.token)
	got := decode[struct {
		State      string
		ApprovedBy string `json:"approved_by"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || got.State != "approved" || !strings.HasPrefix(got.ApprovedBy, "token:") {
		t.Errorf("approve: %d %s", resp.StatusCode, body)
	}
	resp, _ = c.do("POST", "/api/v1/campaigns/"+id+"/approve", "", nil, c.token)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("approving twice: %d, want 409", resp.StatusCode)
	}
}

// TestAPI_RetryFailedNamesItsChannelAndOnlyWhileSending: the door refuses a missing or unknown
// channel (400) and a campaign that is not sending (409); on a running one it answers how many
// notices it queued again (none here: nothing failed).
func TestAPI_RetryFailedNamesItsChannelAndOnlyWhileSending(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	c.do("POST", "/api/v1/campaigns/"+id+"/imports", "text/csv", bytes.NewReader(examples.Customers), c.token)
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"", http.StatusBadRequest},
		{"?channel=letter", http.StatusBadRequest},
		{"?channel=fax", http.StatusBadRequest},
		{"?channel=email&channel=sms", http.StatusBadRequest},
		{"?channel=email", http.StatusConflict}, // a draft sends nothing
	} {
		if resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/retry-failed"+tt.query, "", nil, c.token); resp.StatusCode != tt.want {
			t.Errorf("retry-failed%s: %d %s, want %d", tt.query, resp.StatusCode, body, tt.want)
		}
	}
	c.do("POST", "/api/v1/campaigns/"+id+"/approve", "", nil, c.token)
	c.do("POST", "/api/v1/campaigns/"+id+"/start", "", nil, c.token)
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/retry-failed?channel=sms", "", nil, c.token)
	if resp.StatusCode != http.StatusOK || decode[map[string]int64](t, body)["requeued"] != 0 {
		t.Errorf("retry-failed on a running campaign with nothing failed: %d %s", resp.StatusCode, body)
	}
}
