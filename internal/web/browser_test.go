package web_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/redistest"
	"github.com/breachnotice/breachnotice/internal/web"
)

// chromiumPath is Debian's chromium, which scripts/chromium.sh installs (`make test` runs it).
const chromiumPath = "/usr/bin/chromium"

// TestBrowser_TheWholeJobFromSignInToEveryNoticeSent drives the console in a real browser as
// an incident team would: sign in, create the campaign from its file, upload the customer
// list, preview a Korean SMS and a Spanish email, send a test, approve, start, and watch until
// every notice is sent. The sending engine runs in-process on the package's database and
// Redis, with the local captures `breachnotice run` uses. The tracking page's screenshot is
// kept as an artifact.
func TestBrowser_TheWholeJobFromSignInToEveryNoticeSent(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := chromiumPath + " is missing: run scripts/chromium.sh (make test does) to install Debian's chromium"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	rdb := redisClient(t)
	st := newStack(t, func(s *web.Server) { s.Queues = web.Queues(rdb) })
	st.runEngine(t, rdb)
	password := st.user("incident", breach.RoleOperator, breach.RoleApprover)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun, chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000),
	)...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(browser, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	// waitFor polls expr until it is true. A poll that a page load interrupts (a form's answer
	// arriving, the meta refresh) is started again on the new page.
	waitFor := func(what, expr string, limit time.Duration) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			_, err := chromedp.Run(browser, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
			if err == nil {
				return
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				html, _ := chromedp.Run(browser, chromedp.OuterHTML(chromedp.CSS("main")))
				t.Fatalf("waiting for %s: %v\npage:\n%s", what, err, html)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	stateIs := func(s string) string {
		return `document.querySelector("#state") !== null && document.querySelector("#state").textContent === "` + s + `"`
	}

	// Sign in.
	run("sign in",
		chromedp.Navigate(st.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SetValue(chromedp.CSS("#login"), "incident"),
		chromedp.SetValue(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("form.signin button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`a.button[href="/campaigns/new"]`)),
	)

	// Create the campaign from the example campaign file.
	run("create the campaign",
		chromedp.Navigate(st.srv.URL+"/campaigns/new"),
		chromedp.SetValue(chromedp.CSS("#source"), string(examples.Campaign)),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
	)
	waitFor("the new campaign's page", stateIs("draft"), 30*time.Second)
	page, err := chromedp.Run(browser, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/campaigns/([0-9a-f-]{36})`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("after creating, the browser is at %s", page)
	}
	campaignURL := st.srv.URL + "/campaigns/" + m[1]

	// Upload the customer list and read the import's counts.
	list, err := filepath.Abs("../../examples/customers.csv")
	if err != nil {
		t.Fatal(err)
	}
	run("upload the list",
		chromedp.SetUploadFiles(chromedp.CSS("#list"), []string{list}),
		chromedp.Click(chromedp.CSS("#upload")),
		chromedp.WaitVisible(chromedp.CSS("#import-accepted")),
	)
	count := func(sel string) int {
		n, err := strconv.Atoi(strings.Fields(text(sel))[0])
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return n
	}
	read, accepted, merged, rejected := count("#import-read"), count("#import-accepted"), count("#import-merged"), count("#import-rejected")
	if read == 0 || accepted == 0 || read != accepted+merged+rejected || text("#import-state") != "completed" {
		t.Fatalf("import counts: read %d, accepted %d, merged %d, rejected %d (%s)", read, accepted, merged, rejected, text("#import-state"))
	}
	if rejected > 0 {
		run("the reject report link", chromedp.WaitVisible(chromedp.CSS("#rejects")))
	}

	// Preview a Korean SMS with the campaign page's form.
	run("preview a Korean SMS",
		chromedp.Navigate(campaignURL),
		chromedp.SetValue(chromedp.CSS("#p-locale"), "ko"),
		chromedp.SetValue(chromedp.CSS("#p-channel"), "sms"),
		chromedp.SetValue(chromedp.CSS("#p-jurisdiction"), "kr-pipa"),
		chromedp.Click(chromedp.CSS("#preview")),
		chromedp.WaitVisible(chromedp.CSS("#sms-body")),
	)
	if body := text("#sms-body"); !regexp.MustCompile(`\p{Hangul}`).MatchString(body) {
		t.Errorf("the Korean SMS preview has no Hangul: %q", body)
	}
	if enc := text("#sms-encoding"); enc != "UCS-2" {
		t.Errorf("the Korean SMS is %s, want UCS-2", enc)
	}
	if n, _ := strconv.Atoi(text("#sms-segments")); n < 1 || n > 3 {
		t.Errorf("the Korean SMS takes %d segments, want 1 to 3 (the campaign's budget)", n)
	}

	// Then a Spanish email, with the preview page's own form.
	run("preview a Spanish email",
		chromedp.SetValue(chromedp.CSS("#p-locale"), "es"),
		chromedp.SetValue(chromedp.CSS("#p-channel"), "email"),
		chromedp.SetValue(chromedp.CSS("#p-jurisdiction"), "gdpr"),
		chromedp.Click(chromedp.CSS("#preview")),
		chromedp.WaitVisible(chromedp.CSS("#email-frame")),
	)
	if loc := text("#notice-locale"); !strings.HasPrefix(loc, "es") {
		t.Errorf("the email preview's language is %q, want es", loc)
	}
	frame, err := chromedp.Run(browser, chromedp.Evaluate[string](`document.querySelector("#email-frame").getAttribute("src")`))
	if err != nil {
		t.Fatal(err)
	}
	run("open the framed email", chromedp.Navigate(st.srv.URL+frame), chromedp.WaitReady(chromedp.CSS("body")))
	email, err := chromedp.Run(browser, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(email, "Andina Telecom") || !regexp.MustCompile(`(?i)datos|información`).MatchString(email) {
		t.Errorf("the Spanish email does not read as Spanish from Andina Telecom:\n%.600s", email)
	}

	// A test notice to a reviewer, then approve and start.
	run("send a test",
		chromedp.Navigate(campaignURL),
		chromedp.SetValue(chromedp.CSS("#t-to"), "revisor@andinatel.com.pe"),
		chromedp.Click(chromedp.CSS(`form[action$="/test-send"] button[type=submit]`)),
	)
	waitFor("the test send's result", `document.body.innerText.includes("Test notices just sent")`, 30*time.Second)
	run("approve", chromedp.Click(chromedp.CSS("#approve")))
	waitFor("the approval", stateIs("approved"), time.Minute)
	run("start", chromedp.Click(chromedp.CSS("#start")))
	waitFor("the start", stateIs("running")+` || `+stateIs("completed"), 30*time.Second)

	// Watch the tracking section refresh itself until the campaign is done and says that every
	// customer was notified — by email or SMS, but for the example list's four customers
	// reachable only by post, whose letters are still to print.
	waitFor("every customer notified", `document.querySelector("#done") !== null && `+
		`document.querySelector("#done").innerText.includes("All `+strconv.Itoa(accepted-4)+` customers email or SMS reach were notified") && `+
		`document.querySelector("#done").innerText.includes("4 letters owed by post: 4 still to print") && `+
		stateIs("completed"), 2*time.Minute)
	t.Logf("tracking: %s", text("#done"))
	if n, err := chromedp.Run(browser, chromedp.Evaluate[int](`document.querySelectorAll("#by-locale tbody tr").length`)); err != nil || n == 0 {
		t.Errorf("the table by language has %d rows (%v)", n, err)
	}
	// The chart of the sending, drawn on the server: a line per channel and outcome, and a
	// sent line that rose above zero (an SVG the page's content security policy let render).
	if n, err := chromedp.Run(browser, chromedp.Evaluate[int](`document.querySelectorAll("#activity svg polyline").length`)); err != nil || n != 4 {
		t.Errorf("the chart has %d lines, want 4 (%v)", n, err)
	}
	if up, err := chromedp.Run(browser, chromedp.Evaluate[bool](`Math.min(...Array.from(document.querySelector("#activity svg polyline").points, p => p.y)) < `+
		`document.querySelector("#activity .axes line").y1.baseVal.value`)); err != nil || !up {
		t.Errorf("the chart's email sent line never rises above zero (%v)", err)
	}
	shot, err := chromedp.Run(browser, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
	if err != nil {
		t.Fatal(err)
	}
	path := artifactPath(t, "console-tracking.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the tracking page: %s", path)

	// The record agrees with the page: every notice of the campaign is sent, and the letters of
	// the four customers reachable only by post are still to print.
	s, err := st.db.CampaignStatus(context.Background(), m[1])
	if err != nil {
		t.Fatal(err)
	}
	if s.ByChannel[breach.ChannelLetter][breach.DeliveryPending] != 4 {
		t.Errorf("letters: %v, want 4 pending", s.ByChannel[breach.ChannelLetter])
	}
	accepted -= 4
	var sent, all int64
	for ch, byState := range s.ByChannel {
		if ch == breach.ChannelLetter {
			continue
		}
		for state, n := range byState {
			all += n
			if state == breach.DeliverySent || state == breach.DeliveryDelivered {
				sent += n
			}
		}
	}
	if s.State != breach.CampaignCompleted || sent != all || all != int64(accepted) {
		t.Errorf("record: %s, %d of %d notices sent, %d customers accepted", s.State, sent, all, accepted)
	}

	// And the local outbox shows what the customers would have received.
	run("the outbox", chromedp.Navigate(st.srv.URL+"/outbox"), chromedp.WaitVisible(chromedp.CSS("#emails")))
	if n, err := chromedp.Run(browser, chromedp.Evaluate[int](`document.querySelectorAll("#emails li").length`)); err != nil || n == 0 {
		t.Errorf("the outbox lists %d emails (%v)", n, err)
	}
}

// artifactPath is where a test keeps a file for people to look at: $BREACHNOTICE_ARTIFACTS,
// or the repository's .local/artifacts.
func artifactPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("BREACHNOTICE_ARTIFACTS")
	if dir == "" {
		root, err := filepath.Abs("../..")
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".local", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// redisClient connects to the package's own Redis database, emptied.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(redistest.URL(t, redisDB))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// runEngine runs the sending engine on the stack's database, rdb and the stack's captures, as
// `breachnotice run` does, until the test ends.
func (st *stack) runEngine(t *testing.T, rdb *redis.Client) {
	t.Helper()
	cfg := dispatch.DefaultConfig()
	cfg.PublicURL, cfg.Secret = "https://notice.andinatel.example", testSecret
	cfg.ShutdownTimeout = 5 * time.Second
	e := dispatch.New(cfg, st.db, rdb, st.renderer, st.test.Mail, st.test.SMS, slog.New(slog.NewTextHandler(st.logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
}
