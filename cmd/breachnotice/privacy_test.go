package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/redistest"
)

// privacyRedisDB is the Redis database of the personal-data test (see internal/redistest).
const privacyRedisDB = 5

// The customers of the personal-data test: names, addresses and numbers that cannot appear in
// any output by coincidence. Rows 5 to 7 are rejected (an unknown country, an impossible locale,
// no address at all); Z8 and Z9 arrive by the API's upload rather than the command line.
const (
	privacyCLIList = "customer_id,name,email,phone,country,locale\n" +
		"Z1,Ottoline Fairweather,ottoline.fairweather@example.org,987 650 101,PE,es\n" +
		"Z2,Cuthbert Anyanwu,cuthbert.anyanwu@example.net,,PE,en\n" +
		"Z3,Philippa Okonkwo-Marsh,,+33 6 12 34 56 78,FR,fr\n" +
		"Z4,Leopold Szczepanski,leopold.szczepanski@example.com,987650104,PE,\n" +
		"Z5,Gwendolyn Bracegirdle,gwendolyn.bracegirdle@example.org,,Atlantis,\n" +
		"Z6,Mortimer Featherstonehaugh,mortimer.featherstonehaugh@example.org,,PE,xx-??\n" +
		"Z7,Persephone Vanderslice,,,PE,\n"
	privacyAPIList = "customer_id;name;email;phone;country\n" +
		"Z8;Eulalia Throckmorton;eulalia.throckmorton@example.org;987650108;PE\n" +
		"Z9;Ignatius Bellweather;;+51987650109;PE\n"
)

// personalData is every name, address and number of the lists above, as given and as
// normalized (E.164, and E.164 without its +).
var personalData = []string{
	"Ottoline", "Fairweather", "ottoline.fairweather", "987 650 101", "+51987650101", "51987650101",
	"Cuthbert", "Anyanwu", "cuthbert.anyanwu",
	"Philippa", "Okonkwo", "+33 6 12 34 56 78", "+33612345678", "33612345678",
	"Leopold", "Szczepanski", "leopold.szczepanski", "987650104", "+51987650104",
	"Gwendolyn", "Bracegirdle", "gwendolyn.bracegirdle",
	"Mortimer", "Featherstonehaugh", "mortimer.featherstonehaugh",
	"Persephone", "Vanderslice",
	"Eulalia", "Throckmorton", "eulalia.throckmorton", "987650108", "+51987650108",
	"Ignatius", "Bellweather", "987650109", "+51987650109",
}

// capture collects what every process of the test printed, stdout and stderr alike.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capture) writer(label string) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.buf.WriteString("[" + label + "] ")
		return c.buf.Write(p)
	})
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestCLI_NoPersonalDataInAnyOutput runs a whole campaign through the real binary — create,
// import by the command line and the API (with rejected rows), preview, test-send, approve,
// start, a worker sending to the local outboxes, status, export, an opt-out by its link, purge
// — with every log at debug level, and checks that none of the customers' names, emails or
// phone numbers appears in anything any process printed.
func TestCLI_NoPersonalDataInAnyOutput(t *testing.T) {
	dir := t.TempDir()
	outbox := filepath.Join(dir, "outbox")
	out := &capture{}
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+redistest.URL(t, privacyRedisDB),
		"BREACHNOTICE_SECRET="+testSecret, "OUTBOX_DIR="+outbox,
		"PUBLIC_URL=https://notice.example.test", "BREACHNOTICE_STATE_DIR="+dir, "HTTP_ADDR=127.0.0.1:0",
		"LOG_LEVEL=debug")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = env
		var stdout bytes.Buffer
		cmd.Stdout = io.MultiWriter(&stdout, out.writer(args[0]))
		cmd.Stderr = out.writer(args[0])
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return stdout.String()
	}
	background := func(role string) (*exec.Cmd, *capture) {
		t.Helper()
		own := &capture{}
		cmd := exec.Command(bin, role)
		cmd.Env = env
		cmd.Stdout = io.MultiWriter(out.writer(role), own.writer(role))
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, own
	}

	var created struct{ ID string }
	json.Unmarshal([]byte(run("campaign", "create", "-f", "../../examples/campaign.yaml", "--json")), &created)
	id := created.ID
	list := filepath.Join(dir, "customers.csv")
	os.WriteFile(list, []byte(privacyCLIList), 0o600)
	if got := run("import", "--campaign", id, "--rejects", filepath.Join(dir, "rejects.csv"), list); !strings.Contains(got, "rejected  3") {
		t.Fatalf("import: want 3 rejected rows:\n%s", got)
	}

	serve, serveOut := background("serve")
	var base string
	waitFor(t, 30*time.Second, "serving", func() bool {
		m := regexp.MustCompile(`url=(http://\S+)`).FindStringSubmatch(serveOut.String())
		if m != nil {
			base = m[1]
		}
		return base != ""
	})
	token := strings.TrimSpace(run("token", "create", "--name", "privacy-test"))
	api := func(method, path, contentType string, body io.Reader) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, base+path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	expect := func(want int, method, path, contentType string, body io.Reader) string {
		t.Helper()
		status, b := api(method, path, contentType, body)
		if status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
		}
		return b
	}

	var upload bytes.Buffer
	mw := multipart.NewWriter(&upload)
	fw, _ := mw.CreateFormFile("file", "../../more customers.csv")
	fw.Write([]byte(privacyAPIList))
	mw.Close()
	expect(http.StatusCreated, "POST", "/api/v1/campaigns/"+id+"/imports", mw.FormDataContentType(), &upload)

	run("preview", "--campaign", id, "--customer", "Z1", "--out", filepath.Join(dir, "z1.html"))
	run("preview", "--campaign", id, "--customer", "Z3", "--channel", "sms", "--out", filepath.Join(dir, "z3.txt"))
	run("preview", "--campaign", id, "--sample", "--locale", "es")
	run("lint", "--campaign", id)
	expect(http.StatusOK, "GET", "/api/v1/campaigns/"+id+"/preview?customer_id=Z8", "", nil)
	run("campaign", "test-send", id, "--to", "reviewer@example.com", "--to", "+51900000000", "--customer", "Z1", "--customer", "Z3")
	expect(http.StatusOK, "POST", "/api/v1/campaigns/"+id+"/test-send", "application/json",
		strings.NewReader(`{"to": ["reviewer@example.com"], "customers": ["Z9", "Z2"]}`))

	run("campaign", "approve", id)
	worker, workerOut := background("worker")
	expect(http.StatusOK, "POST", "/api/v1/campaigns/"+id+"/start", "", nil)
	waitFor(t, 2*time.Minute, "completed", func() bool {
		var st struct{ State string }
		json.Unmarshal([]byte(run("campaign", "status", id, "--json")), &st)
		return st.State == "completed"
	})
	run("campaign", "status", id)
	expect(http.StatusOK, "GET", "/api/v1/campaigns/"+id+"/status", "", nil)
	if status, body := api("GET", "/api/v1/campaigns/"+id+"/deliveries.csv", "", nil); status != http.StatusNotFound &&
		status != http.StatusOK {
		t.Errorf("export: %d %s", status, body)
	}

	// Opt out by the link of the notice Z1 received.
	optOut := unsubscribeToken(t, filepath.Join(outbox, "email"), "ottoline.fairweather@example.org")
	expect(http.StatusOK, "GET", "/u/"+optOut, "", nil)
	expect(http.StatusOK, "POST", "/u/"+optOut, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))

	if got := run("purge", "--campaign", id); !strings.Contains(got, "Purged campaign") {
		t.Errorf("purge printed %q", got)
	}
	if got := run("purge", "--campaign", id); !strings.Contains(got, "already purged") {
		t.Errorf("second purge printed %q", got)
	}
	run("campaign", "show", id)
	expect(http.StatusOK, "GET", "/api/v1/campaigns/"+id+"/status", "", nil)
	expect(http.StatusOK, "GET", "/api/v1/audit?campaign="+id, "", nil)

	for _, p := range []*exec.Cmd{serve, worker} {
		p.Process.Signal(syscall.SIGTERM)
		p.Wait()
	}

	// The personal data did flow through these processes: the notices carry it.
	if n := count(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND state = 'sent'`, id); n < 6 {
		t.Fatalf("%d notices sent; the test proves nothing", n)
	}
	for _, want := range []string{"worker started", "http request", "Purged campaign"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the captured output lacks %q: the capture missed a process", want)
		}
	}
	if !strings.Contains(workerOut.String(), "level=DEBUG") && !strings.Contains(workerOut.String(), "level=INFO") {
		t.Errorf("the worker logged nothing:\n%s", workerOut)
	}
	all := strings.ToLower(out.String())
	for _, pii := range personalData {
		if i := strings.Index(all, strings.ToLower(pii)); i >= 0 {
			t.Errorf("%q appears in the output: …%s…", pii, all[max(0, i-200):min(len(all), i+100)])
		}
	}
	if n := count(t, `SELECT count(*) FROM recipients WHERE campaign_id = $1 AND (email IS NOT NULL OR phone IS NOT NULL OR name <> '')`, id); n != 0 {
		t.Errorf("%d recipients keep personal data after the purge", n)
	}
}

// unsubscribeToken finds the captured notice sent to address and returns the opt-out token of
// its List-Unsubscribe header.
func unsubscribeToken(t *testing.T, dir, address string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captured email in %s: %v", dir, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Header.Get("To"), address) {
			continue
		}
		if tok := regexp.MustCompile(`/u/([A-Za-z0-9_.\-]+)`).FindStringSubmatch(m.Header.Get("List-Unsubscribe")); tok != nil {
			return tok[1]
		}
	}
	t.Fatalf("no captured notice to %s with a List-Unsubscribe link", address)
	return ""
}

// TestCLI_WorkerPurgesCampaignsPastTheirRetention: a worker's retention sweep purges a
// finished campaign once its retention days are over, as system:retention, and leaves a
// campaign still within them alone.
func TestCLI_WorkerPurgesCampaignsPastTheirRetention(t *testing.T) {
	expired, recent := createCampaign(t), createCampaign(t)
	for _, id := range []string{expired, recent} {
		if _, stderr, err := cli(t, "customer_id,email\nQ1,quentin.expired@example.org\n", "import", "--campaign", id, "-"); err != nil {
			t.Fatalf("import: %v\n%s", err, stderr)
		}
		if _, stderr, err := cli(t, "", "campaign", "cancel", id); err != nil {
			t.Fatalf("cancel: %v\n%s", err, stderr)
		}
	}
	// The example campaign keeps its data 365 days.
	count(t, `WITH aged AS (UPDATE campaigns SET finished_at = now() - interval '366 days' WHERE id = $1 RETURNING 1)
		SELECT count(*) FROM aged`, expired)

	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+redistest.URL(t, privacyRedisDB),
		"BREACHNOTICE_SECRET="+testSecret, "OUTBOX_DIR="+t.TempDir(), "LOG_LEVEL=warn")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, 30*time.Second, "purged", func() bool {
		return count(t, `SELECT count(*) FROM campaigns WHERE id = $1 AND purged_by = 'system:retention'`, expired) == 1
	})
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if n := count(t, `SELECT count(*) FROM recipients WHERE campaign_id = $1 AND email IS NOT NULL`, expired); n != 0 {
		t.Errorf("the expired campaign keeps %d addresses", n)
	}
	if n := count(t, `SELECT count(*) FROM campaigns WHERE id = $1 AND purged_at IS NULL`, recent); n != 1 {
		t.Error("a campaign within its retention period was purged")
	}
	if n := count(t, `SELECT count(*) FROM audit_log WHERE campaign_id = $1 AND action = 'campaign.purge' AND actor = 'system:retention'`, expired); n != 1 {
		t.Errorf("%d audit entries for the automatic purge, want 1", n)
	}
}
