package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/phone"
	"github.com/breachnotice/breachnotice/internal/redistest"
	"github.com/breachnotice/breachnotice/migrations"
)

// metricsRedisDB is the Redis database of the metrics test (see internal/redistest).
const metricsRedisDB = 9

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess starts the binary with env and stops it (SIGTERM, then kill) when the test
// ends, expecting a clean exit. Its stdout lines are sent on the returned channel.
func startProcess(t *testing.T, env []string, args ...string) (lines <-chan string, stderr *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			select {
			case ch <- s.Text():
			default: // nobody reads any more
			}
		}
		close(ch)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s exited with %v after SIGTERM; stderr:\n%s", args[0], err, stderr)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("%s did not stop within 20 s of SIGTERM", args[0])
		}
	})
	return ch, stderr
}

// get answers a GET of url: status and body (status 0 when nothing answered).
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sample returns the value of the metric line name{labels} in a scrape, or -1.
func sample(scrape, series string) float64 {
	for line := range strings.SplitSeq(scrape, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// TestCLI_MetricsOfRunMatchCampaignStatusByRoutePatternWithoutPersonalData is the new
// user: `METRICS_ADDR=… breachnotice run`, send the demo, scrape /metrics.
func TestCLI_MetricsOfRunMatchCampaignStatusByRoutePatternWithoutPersonalData(t *testing.T) {
	db := pgtest.Empty(t) // run loads the demo into an empty database only
	metricsAddr := freeAddr(t)
	lines, stderr := startProcess(t, []string{"DATABASE_URL=" + db, "HTTP_ADDR=127.0.0.1:0", "METRICS_ADDR=" + metricsAddr,
		"REDIS_URL=" + redistest.URL(t, metricsRedisDB), "BREACHNOTICE_STATE_DIR=" + t.TempDir(), "LOG_LEVEL=warn",
		// Rates far above the demo's: the waits are measured, not felt.
		"EMAIL_RATE=10000", "SMS_RATE=10000"}, "run")
	var url, token, campaign string
	timeout := time.After(60 * time.Second)
	for url == "" || token == "" || campaign == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("run stopped; stderr:\n%s", stderr)
			}
			if v, ok := strings.CutPrefix(line, "breachnotice is running at "); ok {
				url = v
			}
			if _, v, ok := strings.Cut(line, "operator token (shown once): "); ok {
				token = v
			}
			if _, v, ok := strings.Cut(line, "demo campaign:"); ok {
				campaign = strings.TrimSpace(v)
			}
		case <-timeout:
			t.Fatalf("run printed no URL, token or campaign; stderr:\n%s", stderr)
		}
	}
	dbEnv := []string{"DATABASE_URL=" + db}
	for _, verb := range []string{"approve", "start"} {
		if _, errOut, err := cliEnv(t, dbEnv, "campaign", verb, campaign); err != nil {
			t.Fatalf("campaign %s: %v\n%s", verb, err, errOut)
		}
	}
	var status breach.CampaignStatus
	waitFor(t, 60*time.Second, "the demo campaign to complete", func() bool {
		out, _, err := cliEnv(t, dbEnv, "campaign", "status", campaign, "--json")
		return err == nil && json.Unmarshal([]byte(out), &status) == nil && status.State == breach.CampaignCompleted
	})
	if code, body := get(t, url+"/api/v1/campaigns/"+campaign, token); code != http.StatusOK {
		t.Fatalf("GET the campaign: %d %s", code, body)
	}
	if code, body := get(t, url+"/readyz", ""); code != http.StatusOK {
		t.Errorf("/readyz with everything up: %d %s", code, body)
	}
	get(t, url+"/no/such/page/"+campaign, "")

	code, scrape := get(t, "http://"+metricsAddr+"/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, scrape)
	}
	for _, ch := range []breach.Channel{breach.ChannelEmail, breach.ChannelSMS} {
		want := status.ByChannel[ch][breach.DeliverySent]
		series := `breachnotice_notices_total{channel="` + string(ch) + `",state="sent"}`
		if got := sample(scrape, series); got != float64(want) || want == 0 {
			t.Errorf("%s = %v, campaign status says %d sent", series, got, want)
		}
		if got := sample(scrape, `breachnotice_send_duration_seconds_count{channel="`+string(ch)+`"}`); got != float64(want) {
			t.Errorf("send_duration_seconds_count{%s} = %v, want one per notice sent (%d)", ch, got, want)
		}
		if got := sample(scrape, `breachnotice_rate_limit_wait_seconds_count{channel="`+string(ch)+`"}`); got < float64(want) {
			t.Errorf("rate_limit_wait_seconds_count{%s} = %v, want at least %d", ch, got, want)
		}
	}
	for series, want := range map[string]float64{
		`breachnotice_import_rows_total{result="accepted"}`:                                               49, // the example list: 57 rows
		`breachnotice_import_rows_total{result="rejected"}`:                                               7,
		`breachnotice_import_rows_total{result="merged"}`:                                                 1,
		`breachnotice_http_request_duration_seconds_count{code="200",route="GET /api/v1/campaigns/{id}"}`: 1,
		`breachnotice_http_request_duration_seconds_count{code="404",route="unmatched"}`:                  1,
	} {
		if got := sample(scrape, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	for _, name := range []string{"asynq_queue_size", "asynq_queue_latency_seconds", "breachnotice_db_pool_max_connections",
		"breachnotice_db_pool_acquires_total", "go_goroutines", "process_resident_memory_bytes"} {
		if !regexp.MustCompile(`(?m)^` + name + `[{ ]`).MatchString(scrape) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if strings.Contains(scrape, campaign) {
		t.Errorf("/metrics contains the campaign's ID (a raw path): labels must be route patterns")
	}
	for _, p := range demoAddresses(t) {
		if strings.Contains(strings.ToLower(scrape), strings.ToLower(p)) {
			t.Errorf("/metrics contains %q of the customer list", p)
		}
	}
	t.Run("dashboard", func(t *testing.T) { checkDashboard(t, scrape) })
}

// demoAddresses is every email address and phone number of the demo list, as written and as
// stored (E.164).
func demoAddresses(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../examples/customers.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	phones, err := phone.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	email, tel, country := col("email"), col("phone"), col("country")
	var out []string
	for _, row := range rows[1:] {
		if email < len(row) && strings.Contains(row[email], "@") {
			out = append(out, row[email])
		}
		if tel < len(row) && len(row[tel]) >= 6 {
			out = append(out, row[tel])
			if country < len(row) {
				if e164, err := phones.Parse(row[tel], row[country]); err == nil {
					out = append(out, e164)
				}
			}
		}
	}
	if len(out) < 40 {
		t.Fatalf("only %d addresses read from the demo list", len(out))
	}
	return out
}

// checkDashboard holds the Grafana dashboard to the metrics really exported: every metric a
// panel queries is in a real scrape.
func checkDashboard(t *testing.T, scrape string) {
	b, err := os.ReadFile("../../deploy/grafana/breachnotice.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("deploy/grafana/breachnotice.json is not valid JSON: %v", err)
	}
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)`).FindAllStringSubmatch(scrape, -1) {
		exported[m[1]] = true
		if m[2] == "histogram" {
			exported[m[1]+"_bucket"], exported[m[1]+"_sum"], exported[m[1]+"_count"] = true, true, true
		}
	}
	metric := regexp.MustCompile(`\b(?:breachnotice|asynq|go|process)_[a-z0-9_]+`)
	queried := 0
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			for _, name := range metric.FindAllString(tg.Expr, -1) {
				queried++
				if !exported[name] {
					t.Errorf("panel %q queries %s, which /metrics does not export", p.Title, name)
				}
			}
		}
	}
	if queried < 10 {
		t.Errorf("the dashboard queries only %d metrics", queried)
	}
}

// TestCLI_ReadyzFailsWhileRedisIsDownOrMigrationsBehind: /readyz turns 503 naming Redis when it
// stops and 200 when it is back, and 503 naming the migrations on a schema behind the binary
// until `migrate` runs; /healthz answers 200 throughout (the process is alive).
func TestCLI_ReadyzFailsWhileRedisIsDownOrMigrationsBehind(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	redisAddr := freeAddr(t)
	_, redisPort, _ := net.SplitHostPort(redisAddr)
	startRedis := func() *exec.Cmd {
		cmd := exec.Command("redis-server", "--port", redisPort, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		waitFor(t, 10*time.Second, "redis-server to listen", func() bool {
			c, err := net.Dial("tcp", redisAddr)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		return cmd
	}
	redis := startRedis()

	// A schema one migration behind this binary.
	db := pgtest.Empty(t)
	newest := migrateTo(t, db, -1)
	httpAddr := freeAddr(t)
	startProcess(t, []string{"DATABASE_URL=" + db, "HTTP_ADDR=" + httpAddr, "REDIS_URL=redis://" + redisAddr + "/0",
		"BREACHNOTICE_SECRET=" + strings.Repeat("s", 32), "LOG_LEVEL=error"}, "serve")
	base := "http://" + httpAddr
	waitFor(t, 30*time.Second, "serve to answer /healthz", func() bool { code, _ := get(t, base+"/healthz", ""); return code == 200 })

	readyz := func() (int, map[string]string) {
		code, body := get(t, base+"/readyz", "")
		var r struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("/readyz answered %d %q, not its JSON", code, body)
		}
		return code, r.Checks
	}
	code, checks := readyz()
	if code != http.StatusServiceUnavailable || checks["migrations"] == "ok" || checks["postgres"] != "ok" || checks["redis"] != "ok" {
		t.Errorf("/readyz on a schema behind the binary: %d %v; want 503 naming the migrations only", code, checks)
	}
	if want := strconv.FormatInt(newest, 10); !strings.Contains(checks["migrations"], want) {
		t.Errorf("migrations check %q does not name the version needed (%s)", checks["migrations"], want)
	}
	if _, errOut, err := cliEnv(t, []string{"DATABASE_URL=" + db}, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut)
	}
	// One round of checks answers the probes of a second (api.readyReuse): a change shows
	// within it.
	time.Sleep(1100 * time.Millisecond)
	if code, checks := readyz(); code != http.StatusOK {
		t.Errorf("/readyz after migrate: %d %v, want 200", code, checks)
	}

	redis.Process.Signal(syscall.SIGTERM)
	redis.Wait()
	time.Sleep(1100 * time.Millisecond)
	start := time.Now()
	code, checks = readyz()
	if code != http.StatusServiceUnavailable || checks["redis"] == "ok" || checks["postgres"] != "ok" || checks["migrations"] != "ok" {
		t.Errorf("/readyz with Redis stopped: %d %v; want 503 naming redis only", code, checks)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("/readyz took %s with Redis down; each check is bounded by 2 s", d)
	}
	if code, _ := get(t, base+"/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz with Redis down: %d; liveness does not depend on Redis", code)
	}
	startRedis()
	waitFor(t, 15*time.Second, "/readyz to answer 200 once Redis is back", func() bool { code, _ := readyz(); return code == http.StatusOK })
}

// migrateTo migrates the empty database at url to the newest embedded migration plus offset
// (-1: all but the last) and returns the newest version.
func migrateTo(t *testing.T, url string, offset int64) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	conn := stdlib.OpenDB(*cfg)
	defer conn.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, conn, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	sources := p.ListSources()
	newest := sources[len(sources)-1].Version
	if _, err := p.UpTo(ctx, newest+offset); err != nil {
		t.Fatal(err)
	}
	return newest
}
