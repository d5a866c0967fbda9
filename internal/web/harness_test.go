package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/logtest"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/password"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/sms"
	"github.com/breachnotice/breachnotice/internal/web"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &dbURL)) }

// redisDB is this package's Redis database (see internal/redistest).
const redisDB = 4

var testSecret = []byte("web-test-secret-web-test-secret-web!!")

// stack is the console and the API served together as `breachnotice serve` does, on the
// package's database, with notices captured in a temporary outbox.
type stack struct {
	t        *testing.T
	db       *postgres.DB
	renderer *notice.Renderer
	test     dispatch.TestSender
	outbox   string
	srv      *httptest.Server
	logs     *logtest.Buffer
	console  *web.Server
	ops      *operation.Service
}

func newStack(t *testing.T, configure func(*web.Server)) *stack {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	// Every test signs in from 127.0.0.1: failures one test counts must not lock the next out.
	forgetFailures := func() {
		if _, err := pool(t).Exec(ctx, `DELETE FROM signin_failures`); err != nil {
			t.Fatal(err)
		}
	}
	forgetFailures()
	t.Cleanup(forgetFailures)
	rd, err := notice.New("", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	st := &stack{t: t, db: db, renderer: rd, outbox: t.TempDir(), logs: &logtest.Buffer{}}
	st.test = dispatch.TestSender{Renderer: rd, Mail: &email.Capture{Dir: filepath.Join(st.outbox, "email")},
		SMS: &sms.Capture{Path: filepath.Join(st.outbox, sms.CaptureFile)}}
	log := slog.New(slog.NewTextHandler(st.logs, nil))
	st.ops = &operation.Service{Store: db, Importer: im, Renderer: rd, Tests: st.test, Secret: testSecret, Log: log}
	st.console = &web.Server{Ops: st.ops, Store: db, Renderer: rd, Log: log, MaxUploadBytes: 64 << 20,
		Outbox: &web.Outbox{EmailDir: filepath.Join(st.outbox, "email"), SMSFile: filepath.Join(st.outbox, sms.CaptureFile)}}
	if configure != nil {
		configure(st.console)
	}
	apiHandler := (&api.Server{Ops: st.ops, Store: db, Renderer: rd, Secret: testSecret, Log: log,
		MaxUploadBytes: 64 << 20}).Handler()
	h, err := st.console.Handler(apiHandler)
	if err != nil {
		t.Fatal(err)
	}
	st.srv = httptest.NewServer(h)
	t.Cleanup(st.srv.Close)
	return st
}

// user creates a console user with the given roles and returns their password.
func (st *stack) user(login string, roles ...breach.Role) string {
	st.t.Helper()
	pw := password.New()
	hash, err := password.Hash(pw)
	if err != nil {
		st.t.Fatal(err)
	}
	if err := st.db.CreateUser(context.Background(), &breach.User{Login: login, Roles: roles}, hash, "cli:test"); err != nil {
		st.t.Fatal(err)
	}
	return pw
}

// browser is an HTTP client with its own cookies that does not follow redirects, so that
// tests see each answer; it sends the headers a browser sends for a same-origin form.
type browser struct {
	st *stack
	c  *http.Client
}

func (st *stack) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{st: st, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signedIn is a browser signed in as a new user with the given roles.
func (st *stack) signedIn(login string, roles ...breach.Role) *browser {
	st.t.Helper()
	password := st.user(login, roles...)
	b := st.browser()
	resp := b.post("/sign-in", url.Values{"login": {login}, "password": {password}})
	if resp.status != http.StatusSeeOther {
		st.t.Fatalf("sign in as %s: %d\n%s", login, resp.status, resp.body)
	}
	return b
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) answer {
	b.st.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.st.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) answer {
	req, _ := http.NewRequest("GET", b.st.srv.URL+path, nil)
	return b.do(req)
}

// post submits a form from the console's own pages (Sec-Fetch-Site: same-origin, as a browser
// says).
func (b *browser) post(path string, form url.Values) answer {
	req, _ := http.NewRequest("POST", b.st.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.st.srv.URL)
	return b.do(req)
}

// campaign creates the example campaign (edited by edit) as createdBy and imports the
// example customers as uploadedBy, as the store's API does.
func (st *stack) campaign(createdBy, uploadedBy string, edit func(*breach.Campaign)) *breach.Campaign {
	st.t.Helper()
	ctx := context.Background()
	c, src, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		st.t.Fatal(err)
	}
	if edit != nil {
		edit(c)
	}
	c.CreatedBy = createdBy
	if err := st.db.CreateCampaign(ctx, c, string(src)); err != nil {
		st.t.Fatal(err)
	}
	im, err := importer.New(st.db)
	if err != nil {
		st.t.Fatal(err)
	}
	if _, err := im.Run(ctx, c, &breach.Import{Filename: "customers.csv", CreatedBy: uploadedBy}, bytes.NewReader(examples.Customers), importer.Options{}); err != nil {
		st.t.Fatal(err)
	}
	return c
}
