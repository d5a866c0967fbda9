package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

func TestCLI_TokenCreateBindsTheTokenToAUserAndAuditsWhich(t *testing.T) {
	const tessPassword = "correct horse battery staple tess"
	if _, stderr, err := cli(t, tessPassword+"\n", "user", "add", "--login", "tess", "--role", "approver", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, stderr)
	}
	// A token acts as its user, approvals included: whoever runs the CLI cannot mint one for
	// someone without their password (the review's two approvals given by one person).
	for _, c := range []struct{ why, stdin, want string }{
		{"no password and no terminal", "", "needs their password"},
		{"an empty password", "\n", "created with their password"},
		{"another password", "not tess's password\n", "not the password of tess"},
	} {
		args := []string{"token", "create", "--name", "minted-for-tess", "--user", "tess"}
		if c.stdin != "" {
			args = append(args, "--password-stdin")
		}
		if out, stderr, err := cli(t, c.stdin, args...); err == nil || !strings.Contains(stderr, c.want) || strings.Contains(out, "bn_") {
			t.Errorf("%s: token create --user tess: %v, printed %q, said %q (want %q)", c.why, err, out, stderr, c.want)
		}
	}
	out, stderr, err := cli(t, tessPassword+"\n", "token", "create", "--name", "tess-laptop", "--user", "Tess", "--password-stdin")
	if err != nil || !strings.HasPrefix(out, "bn_") {
		t.Fatalf("token create --user: %v, printed %q\n%s", err, out, stderr)
	}
	// A disabled user's token is refused before their password is checked: the answer does not
	// tell their right password from a wrong one.
	if _, stderr, err := cli(t, tessPassword+"\n", "user", "add", "--login", "gone", "--role", "approver", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, stderr)
	}
	if _, stderr, err := cli(t, "", "user", "disable", "--login", "gone"); err != nil {
		t.Fatalf("user disable: %v\n%s", err, stderr)
	}
	_, right, _ := cli(t, tessPassword+"\n", "token", "create", "--name", "gone-1", "--user", "gone", "--password-stdin")
	_, wrong, _ := cli(t, "not it\n", "token", "create", "--name", "gone-2", "--user", "gone", "--password-stdin")
	if !strings.Contains(right, "disabled") || right != strings.ReplaceAll(wrong, "gone-2", "gone-1") {
		t.Errorf("a disabled user's token: right password said %q, a wrong one %q; want the same refusal", right, wrong)
	}
	if _, stderr, err := cli(t, "whatever\n", "token", "create", "--name", "ghost", "--user", "nobody", "--password-stdin"); err == nil || !strings.Contains(stderr, `no user with login "nobody"`) {
		t.Errorf("a token for an unknown user: %v, %q", err, stderr)
	}
	db, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{Action: "token.create"})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range entries {
		var d map[string]any
		if json.Unmarshal(e.Detail, &d) == nil && d["name"] == "tess-laptop" {
			found = d["user"] == "tess" && strings.HasPrefix(e.Actor, "cli") && d["confirmed_by"] == "the user's password"
		}
		if strings.Contains(string(e.Detail), "ghost") || strings.Contains(string(e.Detail), "minted-for-tess") {
			t.Errorf("the refused token is in the audit log: %s", e.Detail)
		}
	}
	if !found {
		t.Errorf("no token.create entry for tess-laptop bound to user tess: %+v", entries)
	}
}

func TestCLI_ApproveRefusesATwoPersonCampaignAndSaysHow(t *testing.T) {
	src, err := os.ReadFile("../../examples/campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "campaign.yaml")
	twoPerson := strings.Replace(string(src), "two_person: false", "two_person: true", 1)
	if twoPerson == string(src) {
		t.Fatal("examples/campaign.yaml no longer says two_person: false")
	}
	if err := os.WriteFile(file, []byte(twoPerson), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := cli(t, "", "campaign", "create", "-f", file, "--json")
	if err != nil {
		t.Fatalf("campaign create: %v\n%s", err, stderr)
	}
	var c struct{ ID string }
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("campaign create --json printed %q", out)
	}
	if _, stderr, err := cli(t, "", "import", "--campaign", c.ID, "../../examples/customers.csv"); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	_, stderr, err = cli(t, "", "campaign", "approve", c.ID)
	if err == nil || !strings.Contains(stderr, "approve it in the web console, or through the API with a token bound to your user") {
		t.Errorf("approving a two-person campaign from the command line: %v, stderr %q; want a refusal saying how", err, stderr)
	}
	// The one-person demo flow still approves from the command line.
	id := createCampaign(t)
	if _, stderr, err := cli(t, "", "import", "--campaign", id, "../../examples/customers.csv"); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	if out, stderr, err := cli(t, "", "campaign", "approve", id); err != nil || !strings.Contains(out, "Approved campaign") {
		t.Errorf("approving a one-person campaign: %v, %q\n%s", err, out, stderr)
	}
}

// TestCLI_TokenRevokeAndExpiryShutTheAPIAtOnce: `token revoke NAME` makes the token's next
// request 401, an expired token is refused the same way, and `token list` shows both.
func TestCLI_TokenRevokeAndExpiryShutTheAPIAtOnce(t *testing.T) {
	env := newDoorEnv(t)
	get := func(token string) int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", env.srv.URL+"/api/v1/campaigns", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp := env.send(t, http.DefaultClient, req)
		return resp.StatusCode
	}
	token, stderr, err := cli(t, "", "token", "create", "--name", "to-revoke")
	if err != nil || !strings.Contains(stderr, "expires 20") {
		t.Fatalf("token create: %v\n%s (want the default expiry said)", err, stderr)
	}
	token = strings.TrimSpace(token)
	if status := get(token); status != http.StatusOK {
		t.Fatalf("the new token: %d", status)
	}
	if out, stderr, err := cli(t, "", "token", "revoke", "to-revoke"); err != nil || !strings.Contains(out, "Revoked token to-revoke") {
		t.Fatalf("token revoke: %v %q\n%s", err, out, stderr)
	}
	if status := get(token); status != http.StatusUnauthorized {
		t.Errorf("the revoked token's next request: %d, want 401", status)
	}
	if _, stderr, err := cli(t, "", "token", "revoke", "to-revoke"); err == nil || !strings.Contains(stderr, "no live token") {
		t.Errorf("revoking twice: %v %q, want an error", err, stderr)
	}

	short, _, err := cli(t, "", "token", "create", "--name", "short-lived", "--expires", "1s")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if status := get(strings.TrimSpace(short)); status != http.StatusUnauthorized {
		t.Errorf("an expired token: %d, want 401", status)
	}
	out, _, err := cli(t, "", "token", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Tokens []breach.TokenInfo }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, tk := range list.Tokens {
		states[tk.Name] = map[bool]string{true: "live", false: "dead"}[tk.Live(time.Now())]
		if tk.Name == "to-revoke" && (tk.RevokedAt == nil || tk.LastUsedAt == nil) {
			t.Errorf("to-revoke listed as %+v, want revoked and used", tk)
		}
	}
	if states["to-revoke"] != "dead" || states["short-lived"] != "dead" {
		t.Errorf("token list states: %v", states)
	}
	if strings.Contains(out, token) {
		t.Error("token list shows a token itself")
	}
}
