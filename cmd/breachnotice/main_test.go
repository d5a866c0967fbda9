package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/migrations"
)

var (
	dbURL string
	bin   string // the breachnotice binary, built once for these tests
)

// testSecret is the BREACHNOTICE_SECRET of every process these tests run against the
// package's database (TestMain puts it in the environment they inherit), and keys the
// in-process doors' reference codes too: the database is bound to the first secret used
// (operation.Service.CheckSecret) and refuses any other.
const testSecret = "doors-test-secret-0123456789abcdef0123456789"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "breachnotice-cli")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "breachnotice")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	os.Setenv("BREACHNOTICE_SECRET", testSecret)
	code := pgtest.Main(m, &dbURL)
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary with DATABASE_URL set and returns stdout, stderr and the error.
func cli(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	return cliIn(t, stdin, nil, args...)
}

// cliEnv runs the binary as cli does, with env (NAME=value) added to its environment.
func cliEnv(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	return cliIn(t, "", env, args...)
}

func cliIn(t *testing.T, stdin string, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(append(os.Environ(), "DATABASE_URL="+dbURL, "LOG_LEVEL=warn"), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func createCampaign(t *testing.T) string {
	t.Helper()
	return createCampaignIn(t, dbURL)
}

func TestCLI_ImportTheExampleListWithRejectsFile(t *testing.T) {
	id := createCampaign(t)
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	out, stderr, err := cli(t, "", "import", "--campaign", id, "--rejects", rejects, "--json", "../../examples/customers.csv")
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	var sum struct{ Read, Accepted, Rejected, Merged, Warned int64 }
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("import --json printed %q: %v", out, err)
	}
	if sum.Read != 57 || sum.Accepted != 49 || sum.Merged != 1 || sum.Rejected != 7 || sum.Warned != 2 {
		t.Errorf("summary = %+v, want 57 read = 49 accepted + 1 merged + 7 rejected, 2 warned (line 35's <script> name, line 36's landline)", sum)
	}
	f, err := os.Open(rejects)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil || len(records) != 8 || records[0][0] != "line" || records[1][0] != "10" {
		t.Errorf("rejects file = %v, %v; want a header and 7 rows, the first for line 10", records, err)
	}

	out, stderr, err = cli(t, "", "campaign", "show", id, "--json")
	if err != nil {
		t.Fatalf("campaign show: %v\n%s", err, stderr)
	}
	var show struct {
		Recipients int64
		Imports    []struct{ Read int64 }
	}
	if err := json.Unmarshal([]byte(out), &show); err != nil || show.Recipients != 49 || len(show.Imports) != 1 {
		t.Errorf("campaign show --json = %s (%v); want 49 recipients and one import", out, err)
	}
}

func TestCLI_ImportFromStdinWithMapAndHumanSummary(t *testing.T) {
	id := createCampaign(t)
	list := "Kundennummer;Mail;Handy\nK1;a@example.com;987654321\nK2;b@;\n"
	out, stderr, err := cli(t, list, "import", "--campaign", id, "--map", "Kundennummer=customer_id", "--map", "Handy=phone", "-")
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	for _, want := range []string{"read      2", "accepted  1", "rejected  1", "line 3 (K2): email"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestCLI_CampaignFileErrorNamesFileLineAndField(t *testing.T) {
	src, err := os.ReadFile("../../examples/campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "seguridad@notificaciones.andinatel.com.pe", "security@", 1)
	path := filepath.Join(t.TempDir(), "campaign.yaml")
	os.WriteFile(path, []byte(bad), 0o600)
	_, stderr, err := cli(t, "", "campaign", "create", "-f", path)
	if err == nil {
		t.Fatal("campaign create accepted a bad sender email")
	}
	if !regexp.MustCompile(`campaign\.yaml:\d+: sender\.email: "security@" is not an email address`).MatchString(stderr) {
		t.Errorf("error = %q", stderr)
	}
}

func TestCLI_MalformedConfigurationNamesTheVariable(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), bin, "migrate")
	cmd.Env = append(os.Environ(), "DATABASE_URL=mysql://x", "HTTP_ADDR=nowhere")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "DATABASE_URL") || !strings.Contains(string(out), "HTTP_ADDR") {
		t.Errorf("migrate with bad configuration: %v, %s", err, out)
	}
}

// TestCLI_RunServesWithAFreshTokenAndStopsOnSIGTERM is `make run` as a new user meets it.
func TestCLI_RunServesWithAFreshTokenAndStopsOnSIGTERM(t *testing.T) {
	cmd := exec.Command(bin, "run")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "HTTP_ADDR=127.0.0.1:0",
		"BREACHNOTICE_STATE_DIR="+t.TempDir(), "LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	var url, token, campaign string
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	for lines.Scan() && (url == "" || token == "" || campaign == "") {
		line := lines.Text()
		if v, ok := strings.CutPrefix(line, "breachnotice is running at "); ok {
			url = v
		}
		if _, v, ok := strings.Cut(line, "operator token (shown once): "); ok {
			token = v
		}
		if _, v, ok := strings.Cut(line, "demo campaign:"); ok {
			campaign = strings.TrimSpace(v)
		}
	}
	deadline.Stop()
	if url == "" || token == "" || campaign == "" {
		t.Fatalf("run printed no URL, token or campaign; stderr:\n%s", stderr.String())
	}
	go func() {
		for lines.Scan() {
		}
	}()

	req, _ := http.NewRequest("GET", url+"/api/v1/campaigns/"+campaign, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET the demo campaign with the printed token: %d", resp.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run exited with %v after SIGTERM; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop within 15 s of SIGTERM")
	}
}

func TestCLI_PreviewAndLintTheExampleCampaign(t *testing.T) {
	id := createCampaign(t)
	if _, stderr, err := cli(t, "", "import", "--campaign", id, "../../examples/customers.csv"); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	env := "BREACHNOTICE_SECRET=" + testSecret
	run := func(args ...string) (string, string, error) {
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, env)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	out, stderr, err := run("preview", "--campaign", id, "--customer", "AT-300001", "--channel", "sms")
	if err != nil || !strings.Contains(out, "SMS (UCS-2") || !strings.Contains(out, "locale ko") || !strings.Contains(out, "kr-pipa") {
		t.Errorf("preview of a Korean customer's SMS: %v\n%s%s", err, out, stderr)
	}
	out, _, err = run("preview", "--campaign", id, "--sample", "--json")
	var notices []struct {
		Locale, Jurisdiction, Subject, HTML, Text, Sample string
		SMS                                               struct{ Segments int }
	}
	// The example's offer reads each customer's code from the list: every variant is shown
	// with a code and without one, whose notice says how to get it.
	if err != nil || json.Unmarshal([]byte(out), &notices) != nil || len(notices) != 32 {
		t.Fatalf("preview --sample --json: %v, %d notices (want 4 locales × 4 jurisdictions × with and without a code)", err, len(notices))
	}
	for i, n := range notices {
		if n.Subject == "" || !strings.Contains(n.HTML, `lang="`+n.Locale+`"`) || n.SMS.Segments == 0 {
			t.Errorf("sample %s/%s is incomplete", n.Locale, n.Jurisdiction)
		}
		withCode := i%2 == 0
		if want := map[bool]string{true: "with an enrolment code", false: "without an enrolment code"}[withCode]; n.Sample != want {
			t.Errorf("sample %d %s/%s is for %q, want %q", i, n.Locale, n.Jurisdiction, n.Sample, want)
		}
		if n.Locale == "en" && strings.Contains(n.Text, "SAMPLE-0000-CODE") != withCode {
			t.Errorf("sample %s/%s (%s) shows the code: %v", n.Locale, n.Jurisdiction, n.Sample, !withCode)
		}
		if n.Locale == "en" && strings.Contains(n.Text, "could not be included in this notice") == withCode {
			t.Errorf("sample %s/%s (%s): the sentence telling how to get a missing code is wrong:\n%s", n.Locale, n.Jurisdiction, n.Sample, n.Text)
		}
	}
	if out, stderr, err := run("preview", "--campaign", id, "--sample", "--locale", "en"); err != nil || !strings.Contains(out, "sample customer without an enrolment code") {
		t.Errorf("preview --sample does not say which samples have no code: %v\n%s%s", err, out, stderr)
	}
	html := filepath.Join(t.TempDir(), "notice.html")
	if _, stderr, err := run("preview", "--campaign", id, "--customer", "AT-100001", "--out", html); err != nil {
		t.Fatalf("preview --out: %v\n%s", err, stderr)
	}
	if b, _ := os.ReadFile(html); !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Errorf("preview --out wrote %.80q, want the email's HTML", b)
	}
	out, stderr, err = run("lint", "--campaign", id)
	if err != nil || !strings.Contains(out, "16 variants checked") {
		t.Errorf("lint of the example campaign: %v\n%s%s", err, out, stderr)
	}
	if _, _, err := run("preview", "--campaign", id, "--customer", "AT-100001", "--locale", "pt"); err == nil {
		t.Error("preview in a locale the campaign does not offer succeeded")
	}
	if out, stderr, err := run("campaign", "approve", id); err != nil || !strings.Contains(out, "Approved campaign") {
		t.Errorf("campaign approve: %v\n%s%s", err, out, stderr)
	}
	if _, stderr, err := run("campaign", "approve", id); err == nil || !strings.Contains(stderr, "approved") {
		t.Errorf("approving twice: %v %s", err, stderr)
	}
}

// A command line run without BREACHNOTICE_SECRET falls back to a demo secret kept in its state
// directory. Against a deployment's database — bound to the deployment's secret by the first
// process that used it — it is refused before it does anything, saying why and what to set: a
// list imported under the demo secret got reference codes /verify then called fake.
func TestCLI_ACommandWithAnotherSecretIsRefusedBeforeItImports(t *testing.T) {
	// A command that keys records with the deployment's secret (testSecret) binds the
	// database, if nothing did before.
	if _, stderr, err := cli(t, "", "import", "--campaign", createCampaign(t), "../../examples/customers.csv"); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	id := createCampaign(t)
	state := t.TempDir()
	_, stderr, err := cliEnv(t, []string{"BREACHNOTICE_SECRET=", "BREACHNOTICE_STATE_DIR=" + state},
		"import", "--campaign", id, "../../examples/customers.csv")
	if err == nil || !strings.Contains(stderr, "not the secret this database's records are keyed with") ||
		!strings.Contains(stderr, filepath.Join(state, "secret")) {
		t.Fatalf("import under the demo secret: %v\n%s\nwant it refused, naming the demo secret's file", err, stderr)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var imports int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM imports WHERE campaign_id = $1`, id).Scan(&imports); err != nil || imports != 0 {
		t.Errorf("imports of the campaign after the refused command: %d (%v), want none", imports, err)
	}
	// A process with another explicit secret is refused too (a worker deployed with a stale one).
	_, stderr, err = cliEnv(t, []string{"BREACHNOTICE_SECRET=" + strings.Repeat("x", 40)}, "import", "--campaign", id, "../../examples/customers.csv")
	if err == nil || !strings.Contains(stderr, "Give every process") {
		t.Fatalf("import under another secret: %v\n%s", err, stderr)
	}
	// A command that keys nothing needs no secret: operators' shells need not hold the key.
	if _, stderr, err := cliEnv(t, []string{"BREACHNOTICE_SECRET=", "BREACHNOTICE_STATE_DIR=" + state}, "campaign", "show", id); err != nil {
		t.Errorf("campaign show without a secret: %v\n%s", err, stderr)
	}
	// Only run keeps a demo secret: a command line leaves no secret file behind.
	if _, err := os.Stat(filepath.Join(state, "secret")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the command line wrote a demo secret: %v", err)
	}
}

// `run` against a deployment's database with another secret (its demo secret, a stale one) is
// refused before it changes anything — its migrations included: a database a release or more
// behind stays behind, for the deployment's own upgrade to take forward. Both a database bound
// to its secret and one from before the binding (migration 22), whose stored reference codes
// tell the secret.
func TestCLI_RunWithAnotherSecretIsRefusedBeforeItMigrates(t *testing.T) {
	for _, version := range []int64{25, 21} {
		t.Run(fmt.Sprint(version), func(t *testing.T) {
			db := pgtest.Empty(t)
			env := []string{"DATABASE_URL=" + db}
			if _, stderr, err := cliEnv(t, env, "migrate"); err != nil {
				t.Fatalf("migrate: %v\n%s", err, stderr)
			}
			if _, stderr, err := cliEnv(t, env, "import", "--campaign", createCampaignIn(t, db), "../../examples/customers.csv"); err != nil {
				t.Fatalf("import under the deployment's secret: %v\n%s", err, stderr)
			}
			sqlDB, err := sql.Open("pgx", db)
			if err != nil {
				t.Fatal(err)
			}
			defer sqlDB.Close()
			p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(t.Context(), version); err != nil {
				t.Fatalf("down to %d: %v", version, err)
			}
			_, stderr, err := cliEnv(t, append(env, "BREACHNOTICE_SECRET=", "BREACHNOTICE_STATE_DIR="+t.TempDir(), "HTTP_ADDR=127.0.0.1:0"), "run", "--no-demo")
			if err == nil || !strings.Contains(stderr, "BREACHNOTICE_SECRET is not the secret this database's") {
				t.Fatalf("run with its demo secret on a deployment's database: %v\n%s", err, stderr)
			}
			if v, err := p.GetDBVersion(t.Context()); err != nil || v != version {
				t.Errorf("the refused run moved the database from migration %d to %d (%v)", version, v, err)
			}
		})
	}
}

// createCampaignIn creates the example campaign in the database at url.
func createCampaignIn(t *testing.T, url string) string {
	t.Helper()
	out, stderr, err := cliEnv(t, []string{"DATABASE_URL=" + url}, "campaign", "create", "-f", "../../examples/campaign.yaml", "--json")
	if err != nil {
		t.Fatalf("campaign create: %v\n%s", err, stderr)
	}
	var c struct{ ID string }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == "" {
		t.Fatalf("campaign create --json printed %q", out)
	}
	return c.ID
}
