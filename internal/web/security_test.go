package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/password"
	"github.com/breachnotice/breachnotice/internal/web"
)

// pool is a direct connection for the checks the store has no method for (the audit log, the
// stored session hashes).
func pool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// auditActions returns the actions the audit log holds for actor, oldest first.
func auditActions(t *testing.T, actor string) []string {
	t.Helper()
	rows, err := pool(t).Query(context.Background(), `SELECT action FROM audit_log WHERE actor = $1 ORDER BY id`, actor)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var actions []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a)
	}
	return actions
}

func state(t *testing.T, st *stack, id string) breach.CampaignState {
	t.Helper()
	c, err := st.db.Campaign(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.State
}

func TestCrossOriginPost_IsRefusedAndChangesNothing(t *testing.T) {
	st := newStack(t, nil)
	b := st.signedIn("xorigin", breach.RoleOperator, breach.RoleApprover)
	c := st.campaign("test", "test", nil)
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
	} {
		req, _ := http.NewRequest("POST", st.srv.URL+"/campaigns/"+c.ID+"/approve", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		got := b.do(req)
		if got.status != http.StatusForbidden || !strings.Contains(got.body, "came from another site") {
			t.Errorf("%v: status %d, want 403 with an explanation\n%s", h, got.status, got.body)
		}
	}
	if s := state(t, st, c.ID); s != breach.CampaignDraft {
		t.Errorf("after refused cross-origin approvals the campaign is %s, want draft", s)
	}
	// The same request from the console's own page goes through.
	if got := b.post("/campaigns/"+c.ID+"/approve", approveForm(t, st, c.ID)); got.status != http.StatusSeeOther {
		t.Fatalf("same-origin approve: %d\n%s", got.status, got.body)
	}
	if s := state(t, st, c.ID); s != breach.CampaignApproved {
		t.Errorf("after the same-origin approval the campaign is %s", s)
	}
}

func TestSignIn_SessionCookieIsHttpOnlyStrictAndSecureHostPrefixedOverHTTPS(t *testing.T) {
	st := newStack(t, behindProxy) // https as the trusted TLS proxy says in X-Forwarded-Proto
	password := st.user("cookies", breach.RoleViewer)
	signIn := func(https bool) *http.Cookie {
		form := url.Values{"login": {"cookies"}, "password": {password}}
		req, _ := http.NewRequest("POST", st.srv.URL+"/sign-in", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if https {
			req.Header.Set("X-Forwarded-Proto", "https")
		}
		got := st.browser().do(req)
		if got.status != http.StatusSeeOther {
			t.Fatalf("sign in: %d\n%s", got.status, got.body)
		}
		cookies := (&http.Response{Header: got.header}).Cookies()
		if len(cookies) != 1 {
			t.Fatalf("sign in set %d cookies, want 1", len(cookies))
		}
		return cookies[0]
	}
	plain := signIn(false)
	if plain.Name != "breachnotice" || !plain.HttpOnly || plain.SameSite != http.SameSiteStrictMode || plain.Secure || plain.Path != "/" || plain.Domain != "" {
		t.Errorf("over http: cookie %+v, want breachnotice, HttpOnly, SameSite=Strict, Path=/, no Domain, not Secure", plain)
	}
	secure := signIn(true)
	if secure.Name != "__Host-breachnotice" || !secure.HttpOnly || secure.SameSite != http.SameSiteStrictMode || !secure.Secure || secure.Path != "/" || secure.Domain != "" {
		t.Errorf("over https: cookie %+v, want __Host-breachnotice, Secure, HttpOnly, SameSite=Strict, Path=/, no Domain", secure)
	}
	if len(plain.Value) < 43 {
		t.Errorf("session value %d characters, want 256 bits (43 base64 characters)", len(plain.Value))
	}
	// Only the hash is stored: the cookie's value itself is nowhere in the table.
	var stored, hashed int
	sum := sha256.Sum256([]byte(plain.Value))
	if err := pool(t).QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE hash = $1), count(*) FILTER (WHERE hash = $2) FROM user_sessions`,
		[]byte(plain.Value), sum[:]).Scan(&stored, &hashed); err != nil {
		t.Fatal(err)
	}
	if stored != 0 || hashed != 1 {
		t.Errorf("sessions stored with the raw value: %d, with its SHA-256: %d; want 0 and 1", stored, hashed)
	}
}

func TestSignIn_WrongPasswordOrUnknownLoginGetTheSameRefusalAndNoCookie(t *testing.T) {
	st := newStack(t, nil)
	st.user("wrongpw", breach.RoleViewer)
	// A disabled account's right password is refused as a wrong one is (the review told them
	// apart: 403 "disabled" for the right password, 401 for a wrong one), and audited.
	leftPW := st.user("leftco", breach.RoleViewer)
	if err := st.db.DisableUser(context.Background(), "leftco", "cli:test"); err != nil {
		t.Fatal(err)
	}
	if got := st.browser().post("/sign-in", url.Values{"login": {"leftco"}, "password": {leftPW}}); got.status != http.StatusUnauthorized ||
		!strings.Contains(got.body, "The login or the password is wrong.") || len((&http.Response{Header: got.header}).Cookies()) != 0 {
		t.Errorf("a disabled user's right password: status %d, want the 401 of a wrong one\n%s", got.status, got.body)
	}
	if got := auditActions(t, "user:leftco"); len(got) != 1 || got[0] != "console.sign_in_failed" {
		t.Errorf("audit of the disabled user's sign-in: %v", got)
	}
	for _, login := range []string{"wrongpw", "nosuchuser"} {
		got := st.browser().post("/sign-in", url.Values{"login": {login}, "password": {"not the password at all"}})
		if got.status != http.StatusUnauthorized || !strings.Contains(got.body, "The login or the password is wrong.") {
			t.Errorf("%s: status %d, want 401 with the same message for both\n%s", login, got.status, got.body)
		}
		if c := (&http.Response{Header: got.header}).Cookies(); len(c) != 0 {
			t.Errorf("%s: a failed sign-in set a cookie %v", login, c)
		}
	}
	if got := auditActions(t, "user:wrongpw"); len(got) != 1 || got[0] != "console.sign_in_failed" {
		t.Errorf("audit of the failed sign-in: %v", got)
	}
	// The unknown login's failure says where it came from and which login was tried (keyed,
	// never as typed: people type passwords there).
	var detail string
	if err := pool(t).QueryRow(context.Background(), `SELECT detail::text FROM audit_log WHERE actor = 'anonymous' AND action = 'console.sign_in_failed' ORDER BY id DESC LIMIT 1`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, `"source"`) || !strings.Contains(detail, `"login_key"`) || strings.Contains(detail, "nosuchuser") {
		t.Errorf("the unknown login's failure: %s; want its source and keyed login, not the login", detail)
	}
}

// signInFrom posts a sign-in as a client behind the trusted proxy 127.0.0.1 whose address the
// proxy gives in X-Forwarded-For ("" for the proxy's own, a direct request).
func (b *browser) signInFrom(client, login, password string) answer {
	b.st.t.Helper()
	form := url.Values{"login": {login}, "password": {password}}
	req, _ := http.NewRequest("POST", b.st.srv.URL+"/sign-in", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client != "" {
		req.Header.Set("X-Forwarded-For", client)
	}
	return b.do(req)
}

func behindProxy(s *web.Server) {
	s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

func TestSignIn_FiveFailuresLockTheLoginFromThatAddressOnly(t *testing.T) {
	st := newStack(t, behindProxy)
	password := st.user("guessed", breach.RoleViewer)
	other := st.user("colleague", breach.RoleViewer)
	b := st.browser()
	const attacker, approver = "198.51.100.66", "203.0.113.10"
	for i := range 5 {
		if got := b.signInFrom(attacker, "guessed", "guess number "+string(rune('a'+i))); got.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, got.status)
		}
	}
	got := b.signInFrom(attacker, "guessed", password)
	if got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") == "" || !strings.Contains(got.body, "Too many failed sign-ins") {
		t.Fatalf("sixth attempt: status %d, Retry-After %q; want 429 with a clear message\n%s", got.status, got.header.Get("Retry-After"), got.body)
	}
	if c := (&http.Response{Header: got.header}).Cookies(); len(c) != 0 {
		t.Errorf("a refused sign-in set a cookie")
	}
	// The attacker cannot lock the account's owner out: from their own address they sign in.
	if got := st.browser().signInFrom(approver, "guessed", password); got.status != http.StatusSeeOther {
		t.Errorf("the owner's sign-in from another address: %d, want 303\n%s", got.status, got.body)
	}
	// Another login from the attacker's address is below the address ceiling.
	if got := st.browser().signInFrom(attacker, "colleague", other); got.status != http.StatusSeeOther {
		t.Errorf("the colleague's sign-in: %d, want 303", got.status)
	}
}

func TestSignIn_ForwardedForIsIgnoredFromAnUntrustedPeer(t *testing.T) {
	st := newStack(t, nil) // no trusted proxies: 127.0.0.1 is the client
	password := st.user("rotated", breach.RoleViewer)
	b := st.browser()
	for i := range 5 {
		b.signInFrom("198.51.100."+strconv.Itoa(i+1), "rotated", "wrong")
	}
	if got := b.signInFrom("198.51.100.99", "rotated", password); got.status != http.StatusTooManyRequests {
		t.Errorf("after 5 failures with a different forged X-Forwarded-For each: %d, want 429", got.status)
	}
}

func TestSignIn_ThirtyFailuresFromOneAddressLockEveryLoginFromIt(t *testing.T) {
	st := newStack(t, behindProxy)
	password := st.user("victim", breach.RoleViewer)
	b := st.browser()
	for i := range 30 {
		b.signInFrom("198.51.100.7", "spray"+strconv.Itoa(i), "spray")
	}
	if got := b.signInFrom("198.51.100.7", "victim", password); got.status != http.StatusTooManyRequests {
		t.Errorf("after 30 failures from one address: %d, want 429", got.status)
	}
	if got := st.browser().signInFrom("198.51.100.8", "victim", password); got.status != http.StatusSeeOther {
		t.Errorf("from another address behind the same proxy: %d, want 303", got.status)
	}
}

func TestSignIn_ParallelGuessesCannotExceedTheLimit(t *testing.T) {
	st := newStack(t, nil)
	st.user("burst", breach.RoleViewer)
	const guesses = 16
	statuses := make(chan int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			statuses <- st.browser().post("/sign-in", url.Values{"login": {"burst"}, "password": {"guess " + strconv.Itoa(i)}}).status
		})
	}
	wg.Wait()
	close(statuses)
	checked := 0
	for s := range statuses {
		if s == http.StatusUnauthorized {
			checked++
		} else if s != http.StatusTooManyRequests {
			t.Errorf("a guess got %d", s)
		}
	}
	if checked > 5 {
		t.Errorf("%d of %d parallel guesses had their password checked, want at most 5", checked, guesses)
	}
}

func TestSignIn_FailureTableKeepsAKeyedHashOfTheLogin(t *testing.T) {
	st := newStack(t, nil)
	typed := "my secret password" // typed into the login box by mistake
	st.browser().post("/sign-in", url.Values{"login": {typed}, "password": {"x"}})
	var stored []byte
	if err := pool(t).QueryRow(context.Background(), `SELECT login_hash FROM signin_failures`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for _, unkeyed := range []string{typed, "login:" + typed, "signin-login:" + typed} {
		if sum := sha256.Sum256([]byte(unkeyed)); bytes.Equal(stored, sum[:]) {
			t.Errorf("the failure table keeps the unkeyed SHA-256 of %q", unkeyed)
		}
	}
	if bytes.Contains(stored, []byte(typed)) {
		t.Error("the failure table keeps the typed login")
	}
}

func TestSignIn_NextCannotLeaveTheConsole(t *testing.T) {
	st := newStack(t, nil)
	password := st.user("redirected", breach.RoleViewer)
	for next, want := range map[string]string{
		"/\t/evil.example":      "/campaigns",
		"/%09/evil.example":     "/campaigns",
		"//evil.example":        "/campaigns",
		"/\\evil.example":       "/campaigns",
		"https://evil.example/": "/campaigns",
		"/campaigns/1":          "/campaigns/1",
	} {
		got := st.browser().post("/sign-in", url.Values{"login": {"redirected"}, "password": {password}, "next": {next}})
		if got.status != http.StatusSeeOther || got.header.Get("Location") != want {
			t.Errorf("next %q: %d to %q, want %q", next, got.status, got.header.Get("Location"), want)
		}
	}
}

func TestQueues_EveryChangeIsAuditedAndReadsAreNot(t *testing.T) {
	var calls []string
	st := newStack(t, func(s *web.Server) {
		s.Queues = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls = append(calls, r.Method+" "+r.URL.Path)
			if r.Method == http.MethodDelete {
				w.WriteHeader(http.StatusNoContent)
			}
		})
	})
	b := st.signedIn("queueop", breach.RoleOperator)
	if got := b.get("/admin/queues/api/queues"); got.status != http.StatusOK {
		t.Fatalf("GET the dashboard's API: %d", got.status)
	}
	req, _ := http.NewRequest("DELETE", st.srv.URL+"/admin/queues/api/queues/default", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if got := b.do(req); got.status != http.StatusNoContent {
		t.Fatalf("DELETE a queue: %d\n%s", got.status, got.body)
	}
	b.post("/admin/queues/api/queues/default/scheduled_tasks/t1:run", nil)
	if len(calls) != 3 {
		t.Fatalf("the dashboard saw %v", calls)
	}
	rows, err := pool(t).Query(context.Background(), `SELECT action, detail->>'path' FROM audit_log WHERE actor = 'user:queueop' AND action LIKE 'queues.%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var action, path string
		if err := rows.Scan(&action, &path); err != nil {
			t.Fatal(err)
		}
		got = append(got, action+" "+path)
	}
	want := []string{"queues.delete /admin/queues/api/queues/default", "queues.post /admin/queues/api/queues/default/scheduled_tasks/t1:run"}
	if !slices.Equal(got, want) {
		t.Errorf("queue audit rows %v, want %v", got, want)
	}
}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestPassword_HashIsSaltedArgon2idInPHCFormat(t *testing.T) {
	h1, err := password.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := password.Hash("correct horse battery")
	if !phc.MatchString(h1) {
		t.Errorf("hash %q is not an argon2id PHC string", h1)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	if ok, err := password.Check(h1, "correct horse battery"); !ok || err != nil {
		t.Errorf("the right password: %v, %v", ok, err)
	}
	if ok, _ := password.Check(h1, "correct horse batterY"); ok {
		t.Error("a wrong password matched")
	}
	if _, err := password.Check("$2a$10$bcrypt", "x"); err == nil {
		t.Error("an unreadable hash gave no error")
	}
	if err := password.CheckNew("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	// What the store keeps is the PHC string, never the password.
	st := newStack(t, nil)
	password := st.user("hashed", breach.RoleViewer)
	var stored string
	if err := pool(t).QueryRow(context.Background(), `SELECT password_hash FROM users WHERE login = 'hashed'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !phc.MatchString(stored) || strings.Contains(stored, password) {
		t.Errorf("stored %q", stored)
	}
}

func TestRoles_ViewerCannotStartAndOperatorCannotApprove(t *testing.T) {
	st := newStack(t, nil)
	viewer := st.signedIn("viewer1", breach.RoleViewer)
	operator := st.signedIn("operator1", breach.RoleOperator)
	c := st.campaign("test", "test", nil)
	if got := viewer.get("/campaigns/" + c.ID); got.status != http.StatusOK || strings.Contains(got.body, `id="start"`) || strings.Contains(got.body, `id="upload"`) {
		t.Errorf("viewer's campaign page: %d, or it offers operator actions", got.status)
	}
	if got := operator.post("/campaigns/"+c.ID+"/approve", approveForm(t, st, c.ID)); got.status != http.StatusForbidden || !strings.Contains(got.body, "approver role") {
		t.Errorf("operator approving: %d, want 403 naming the role\n%s", got.status, got.body)
	}
	if s := state(t, st, c.ID); s != breach.CampaignDraft {
		t.Fatalf("after the operator's refused approval: %s", s)
	}
	if _, err := st.db.ApproveCampaign(context.Background(), c.ID, "test", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if got := viewer.post("/campaigns/"+c.ID+"/start", nil); got.status != http.StatusForbidden || !strings.Contains(got.body, "operator role") {
		t.Errorf("viewer starting: %d, want 403 naming the role\n%s", got.status, got.body)
	}
	if got := viewer.post("/campaigns", url.Values{"source": {"name: x"}}); got.status != http.StatusForbidden {
		t.Errorf("viewer creating a campaign: %d, want 403", got.status)
	}
	if s := state(t, st, c.ID); s != breach.CampaignApproved {
		t.Errorf("after the viewer's refused start: %s, want approved", s)
	}
	// Each refusal is audited, as the operations' are.
	if got := auditActions(t, "user:viewer1"); len(got) < 2 || !slices.Contains(got, "access.denied") {
		t.Errorf("the viewer's audit rows %v, want its refusals as access.denied", got)
	}
	if got := auditActions(t, "user:operator1"); !slices.Contains(got, "access.denied") {
		t.Errorf("the operator's audit rows %v, want its refused approval", got)
	}
	// Naming the route once: it read "POST POST /campaigns/{id}/start" (a review).
	var attempted string
	if err := pool(t).QueryRow(context.Background(), `SELECT detail->>'attempted' FROM audit_log
		WHERE actor = 'user:viewer1' AND action = 'access.denied' AND campaign_id = $1 ORDER BY id DESC LIMIT 1`, c.ID).Scan(&attempted); err != nil {
		t.Fatal(err)
	}
	if attempted != "POST /campaigns/{id}/start" {
		t.Errorf("the viewer's refused start is audited as attempting %q, want POST /campaigns/{id}/start", attempted)
	}
}

func TestApproval_TwoPersonCampaignNeedsTwoOthersThanItsAuthors(t *testing.T) {
	st := newStack(t, nil)
	author := st.signedIn("author", breach.RoleOperator, breach.RoleApprover)
	uploader := st.signedIn("uploader", breach.RoleOperator, breach.RoleApprover)
	second := st.signedIn("second", breach.RoleApprover)
	third := st.signedIn("third", breach.RoleApprover)
	c := st.campaign("user:author", "user:uploader", func(c *breach.Campaign) { c.Approval.TwoPerson = true })
	for who, b := range map[string]*browser{"creator": author, "uploader": uploader} {
		got := b.post("/campaigns/"+c.ID+"/approve", approveForm(t, st, c.ID))
		if got.status != http.StatusConflict || !strings.Contains(got.body, "other approvers must approve it") {
			t.Errorf("the %s approving alone: %d, want 409 saying other approvers must\n%s", who, got.status, got.body)
		}
		if s := state(t, st, c.ID); s != breach.CampaignDraft {
			t.Fatalf("after the %s's refused approval: %s", who, s)
		}
	}
	got := second.post("/campaigns/"+c.ID+"/approve", approveForm(t, st, c.ID))
	if got.status != http.StatusSeeOther || !strings.Contains(got.header.Get("Location"), "done=approval") {
		t.Fatalf("the first approver: %d %q\n%s", got.status, got.header.Get("Location"), got.body)
	}
	if page := second.get("/campaigns/" + c.ID); !strings.Contains(page.body, "1 of 2 approvals, by user:second") {
		t.Errorf("the campaign page after one approval does not say 1 of 2:\n%s", page.body)
	}
	if s := state(t, st, c.ID); s != breach.CampaignDraft {
		t.Fatalf("after one of two approvals: %s, want draft", s)
	}
	if got := third.post("/campaigns/"+c.ID+"/approve", approveForm(t, st, c.ID)); got.status != http.StatusSeeOther {
		t.Fatalf("the second approver: %d\n%s", got.status, got.body)
	}
	c2, err := st.db.Campaign(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c2.State != breach.CampaignApproved || c2.ApprovedBy != "user:third" {
		t.Errorf("after the second approver: %s by %q", c2.State, c2.ApprovedBy)
	}
	// The approval's audit row names the sign-in it came through, as the sign-in's row does
	// (with where it came from), and no other user's.
	var approvedVia, signInVia, source, otherVia string
	err = pool(t).QueryRow(context.Background(), `
		SELECT (SELECT detail->>'via' FROM audit_log WHERE actor = 'user:third' AND action = $1),
			(SELECT detail->>'via' FROM audit_log WHERE actor = 'user:third' AND action = $2),
			(SELECT detail->>'source' FROM audit_log WHERE actor = 'user:third' AND action = $2),
			(SELECT detail->>'via' FROM audit_log WHERE actor = 'user:second' AND action = $2)`,
		breach.ActionCampaignApprove, breach.ActionSignIn).Scan(&approvedVia, &signInVia, &source, &otherVia)
	if err != nil || !strings.HasPrefix(approvedVia, "session:") || approvedVia != signInVia || source == "" || otherVia == approvedVia {
		t.Errorf("approval via %q, sign-in via %q from %q, the other approver's sign-in via %q (%v); want one session named in both, its source, another for the other user",
			approvedVia, signInVia, source, otherVia, err)
	}
	if got := auditActions(t, "user:author"); !contains(got, "campaign.approve_refused") {
		t.Errorf("the refusal is not in the audit log: %v", got)
	}
	// A one-person campaign may be approved by its creator.
	solo := st.campaign("user:author", "user:author", nil)
	if got := author.post("/campaigns/"+solo.ID+"/approve", approveForm(t, st, solo.ID)); got.status != http.StatusSeeOther {
		t.Errorf("the creator approving a one-person campaign: %d\n%s", got.status, got.body)
	}
}

func TestSignedOut_PagesRedirectToSignInAndActionsAreRefused(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	b := st.browser()
	got := b.get("/campaigns/" + c.ID)
	if got.status != http.StatusSeeOther || got.header.Get("Location") != "/sign-in?next=%2Fcampaigns%2F"+c.ID {
		t.Errorf("signed-out page: %d to %q", got.status, got.header.Get("Location"))
	}
	if got := b.post("/campaigns/"+c.ID+"/approve", approveForm(t, st, c.ID)); got.status != http.StatusUnauthorized {
		t.Errorf("signed-out approve: %d, want 401", got.status)
	}
	// The JSON API behind the console still wants its bearer token.
	if got := b.get("/api/v1/campaigns"); got.status != http.StatusUnauthorized {
		t.Errorf("the API through the console's handler: %d, want 401", got.status)
	}
	// After signing out, the old cookie opens nothing.
	signed := st.signedIn("leaver", breach.RoleViewer)
	if got := signed.post("/sign-out", nil); got.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", got.status)
	}
	if got := signed.get("/campaigns"); got.status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want a redirect to sign in", got.status)
	}
	if got := auditActions(t, "user:leaver"); !contains(got, "console.sign_in") || !contains(got, "console.sign_out") {
		t.Errorf("audit of sign-in and sign-out: %v", got)
	}
}

func TestOutbox_NamesOutsideTheListingAreNotFound(t *testing.T) {
	st := newStack(t, nil)
	b := st.signedIn("looker", breach.RoleViewer)
	for _, name := range []string{"..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "20260101T000000.000000000Z-x.eml", ".partial-1.eml", "..%5C..%5Cx.eml"} {
		if got := b.get("/outbox/email/" + name); got.status != http.StatusNotFound {
			t.Errorf("/outbox/email/%s: %d, want 404", name, got.status)
		}
	}
	// A literal ".." never reaches the handler: the router cleans the path and redirects.
	if got := b.get("/outbox/email/../../../etc/passwd"); got.status == http.StatusOK || strings.Contains(got.body, "root:") {
		t.Errorf("/outbox/email/../../../etc/passwd: %d", got.status)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cookieSignIn signs in as login and returns the session cookie set, failing unless there is
// exactly one; header adds request headers.
func (st *stack) cookieSignIn(login, password string, header map[string]string) *http.Cookie {
	st.t.Helper()
	form := url.Values{"login": {login}, "password": {password}}
	req, _ := http.NewRequest("POST", st.srv.URL+"/sign-in", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	got := st.browser().do(req)
	if got.status != http.StatusSeeOther {
		st.t.Fatalf("sign in: %d\n%s", got.status, got.body)
	}
	cookies := (&http.Response{Header: got.header}).Cookies()
	if len(cookies) != 1 {
		st.t.Fatalf("sign in set %d cookies, want 1", len(cookies))
	}
	return cookies[0]
}

func TestSignIn_CookieIsSecureHostPrefixedWhenPublicURLIsHTTPSWhateverTheHeaders(t *testing.T) {
	st := newStack(t, func(s *web.Server) {
		behindProxy(s)
		s.PublicURL = "https://notice.example.com"
	})
	password := st.user("publichttps", breach.RoleViewer)
	// The request reaches the console over plain http, with no X-Forwarded-Proto, then with a
	// trusted proxy saying http: PUBLIC_URL says the console is served over https.
	for _, header := range []map[string]string{nil, {"X-Forwarded-Proto": "http"}} {
		c := st.cookieSignIn("publichttps", password, header)
		if c.Name != "__Host-breachnotice" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
			t.Errorf("headers %v: cookie %+v, want __Host-breachnotice, Secure, HttpOnly, Path=/, no Domain", header, c)
		}
	}
	// The session is read under that name only: a plain-named cookie (which a sibling
	// subdomain or a plain-http answer could plant) is not a session.
	c := st.cookieSignIn("publichttps", password, nil)
	for name, want := range map[string]int{"__Host-breachnotice": http.StatusOK, "breachnotice": http.StatusSeeOther} {
		req, _ := http.NewRequest("GET", st.srv.URL+"/campaigns", nil)
		req.AddCookie(&http.Cookie{Name: name, Value: c.Value})
		if got := st.browser().do(req); got.status != want {
			t.Errorf("the session's value in a cookie named %s: %d, want %d", name, got.status, want)
		}
	}
}

func TestSignIn_ForwardedProtoFromAnUntrustedPeerIsIgnored(t *testing.T) {
	st := newStack(t, nil) // no trusted proxies: 127.0.0.1 is the client itself
	password := st.user("forgedproto", breach.RoleViewer)
	c := st.cookieSignIn("forgedproto", password, map[string]string{"X-Forwarded-Proto": "https"})
	if c.Name != "breachnotice" || c.Secure {
		t.Errorf("X-Forwarded-Proto: https from an untrusted peer: cookie %s (Secure %v), want breachnotice as over http", c.Name, c.Secure)
	}
}

func TestSignIn_IPv6FailuresCountPerSlash64(t *testing.T) {
	st := newStack(t, behindProxy)
	password := st.user("sixtyfour", breach.RoleViewer)
	b := st.browser()
	// Five guesses, each from another address of one /64: one client, as far as the limit goes.
	for i := range 5 {
		client := fmt.Sprintf("2001:db8:1:2::%x", 0x100+i*0x1111)
		if got := b.signInFrom(client, "sixtyfour", "wrong guess"); got.status != http.StatusUnauthorized {
			t.Fatalf("guess %d from %s: status %d", i+1, client, got.status)
		}
	}
	if got := b.signInFrom("2001:db8:1:2:ffff:ffff:ffff:fffe", "sixtyfour", password); got.status != http.StatusTooManyRequests {
		t.Errorf("from a sixth address of the same /64: %d, want 429", got.status)
	}
	// Another /64 is another client.
	if got := st.browser().signInFrom("2001:db8:1:3::1", "sixtyfour", password); got.status != http.StatusSeeOther {
		t.Errorf("from the next /64: %d, want 303", got.status)
	}
	var stored int
	if err := pool(t).QueryRow(context.Background(),
		`SELECT count(*) FROM signin_failures WHERE client_ip = '2001:db8:1:2::/64'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	// The five guesses; the sixth attempt, refused unchecked, is not kept (it would lengthen
	// the pause at every retry).
	if stored != 5 {
		t.Errorf("%d failures kept under the /64, want 5", stored)
	}
}

func TestSignIn_IPv4MappedAddressCountsAsTheIPv4Address(t *testing.T) {
	st := newStack(t, behindProxy)
	password := st.user("mapped", breach.RoleViewer)
	b := st.browser()
	for i := range 5 {
		client := "198.51.100.44"
		if i%2 == 0 {
			client = "::ffff:198.51.100.44"
		}
		b.signInFrom(client, "mapped", "wrong guess")
	}
	for _, client := range []string{"198.51.100.44", "::ffff:198.51.100.44"} {
		if got := b.signInFrom(client, "mapped", password); got.status != http.StatusTooManyRequests {
			t.Errorf("from %s after 5 failures from it in either form: %d, want 429", client, got.status)
		}
	}
	// The mapped address is not an IPv6 client of ::ffff:0:0/64 either: its neighbour is free.
	if got := st.browser().signInFrom("::ffff:198.51.100.45", "mapped", password); got.status != http.StatusSeeOther {
		t.Errorf("from the neighbouring IPv4 address in mapped form: %d, want 303", got.status)
	}
}

// The approve form carries the version of the list the page showed (list_version): a post for
// another version — a list imported since the page was drawn — is refused with a page saying
// so, and so is one for none; the campaign stays a draft; the page's own version approves it.
func TestApproval_TheFormApprovesTheListThePageShowed(t *testing.T) {
	st := newStack(t, nil)
	approver := st.signedIn("approver", breach.RoleApprover)
	c := st.campaign("test", "test", nil)
	page := approver.get("/campaigns/" + c.ID)
	m := regexp.MustCompile(`name="list_version" value="([^"]+)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("the approve form has no list_version:\n%s", page.body)
	}
	if now, err := st.db.Campaign(context.Background(), c.ID); err != nil || now.ListVersion != m[1] {
		t.Fatalf("the form's list_version %q, the campaign's %+v (%v)", m[1], now, err)
	}
	other, _ := strconv.ParseInt(m[1], 10, 64)
	got := approver.post("/campaigns/"+c.ID+"/approve", url.Values{"list_version": {strconv.FormatInt(other+1, 10)}})
	if got.status != http.StatusConflict || !strings.Contains(got.body, "changed since it was reviewed") {
		t.Errorf("approving another version: %d, want 409 saying the list changed\n%s", got.status, got.body)
	}
	if s := state(t, st, c.ID); s != breach.CampaignDraft {
		t.Fatalf("after approving another version: %s, want draft", s)
	}
	// A form without the version (a page drawn before it was added, a form made by hand) is
	// no approval of the list as it happens to be.
	if got := approver.post("/campaigns/"+c.ID+"/approve", nil); got.status != http.StatusBadRequest || !strings.Contains(got.body, "which version of the list") {
		t.Errorf("approving without a version: %d, want 400 saying which version is missing\n%s", got.status, got.body)
	}
	if got := approver.post("/campaigns/"+c.ID+"/approve", url.Values{"list_version": {m[1]}}); got.status != http.StatusSeeOther {
		t.Fatalf("approving the page's version: %d\n%s", got.status, got.body)
	}
	if s := state(t, st, c.ID); s != breach.CampaignApproved {
		t.Errorf("after approving the page's version: %s, want approved", s)
	}
}

// approveForm is the approve form as the campaign's page fills it: the list's version now.
func approveForm(t *testing.T, st *stack, id string) url.Values {
	t.Helper()
	c, err := st.db.Campaign(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"list_version": {c.ListVersion}}
}
