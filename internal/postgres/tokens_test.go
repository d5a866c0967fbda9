package postgres_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

func TestTokens_ABoundTokenActsAsItsUserUntilTheUserIsDisabled(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	u := &breach.User{Login: "tokenowner", Roles: []breach.Role{breach.RoleApprover}}
	if err := db.CreateUser(ctx, u, "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", "cli:test"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, "owner-laptop", "TokenOwner", []byte("bound-1"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	tok, err := db.TokenByHash(ctx, []byte("bound-1"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Name != "owner-laptop" || tok.User == nil || tok.User.Login != "tokenowner" || tok.Actor().Name != "user:tokenowner" ||
		!tok.Can(breach.RoleApprover) || tok.Can(breach.RoleOperator) {
		t.Errorf("bound token = %+v (user %+v), want acting as user:tokenowner with the approver role only", tok, tok.User)
	}
	for _, bad := range []struct {
		login, code string
	}{{"nobody", breach.ENOTFOUND}, {"../x", breach.EINVALID}} {
		if err := db.CreateToken(ctx, "t-"+bad.login, bad.login, []byte("bad-"+bad.login), time.Time{}); breach.ErrorCode(err) != bad.code {
			t.Errorf("a token for %q: %v, want %s", bad.login, err, bad.code)
		}
	}
	if err := db.CreateToken(ctx, "owner-laptop", "tokenowner", []byte("bound-2"), time.Time{}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("a second token of the same name: %v, want ECONFLICT", err)
	}

	if err := db.DisableUser(ctx, "tokenowner", "cli:test"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TokenByHash(ctx, []byte("bound-1")); breach.ErrorCode(err) != breach.EUNAUTHORIZED {
		t.Errorf("the token of a disabled user: %v, want EUNAUTHORIZED", err)
	}
	if err := db.CreateToken(ctx, "owner-phone", "tokenowner", []byte("bound-3"), time.Time{}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("a token for a disabled user: %v, want ECONFLICT", err)
	}
	// Rotating a token of that name hands out an unbound one (run's demo token).
	if err := db.RotateToken(ctx, "owner-laptop", []byte("rotated")); err != nil {
		t.Fatal(err)
	}
	if tok, err := db.TokenByHash(ctx, []byte("rotated")); err != nil || tok.User != nil || tok.Actor().Name != "token:owner-laptop" {
		t.Errorf("rotated token = %+v, %v; want unbound", tok, err)
	}
}

// twoPersonDraft creates a draft of the example campaign that needs two approvers, created by
// cli:maria, with a list of one customer.
func twoPersonDraft(t *testing.T, db *postgres.DB) *breach.Campaign {
	t.Helper()
	c, src, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	c.Approval.TwoPerson, c.CreatedBy = true, "cli:maria"
	if err := db.CreateCampaign(t.Context(), c, string(src)); err != nil {
		t.Fatal(err)
	}
	mustImport(t, db, c, "customer_id,email\nC1,a@example.com\n")
	return c
}

func TestApproveCampaign_ACampaignNeedingTwoStaysADraftUntilTheSecondAndAnImportVoidsApprovals(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := twoPersonDraft(t, db)
	var seenAuthors []string
	var seenApprovals int
	two := func(_ *breach.Campaign, authors []string, approvals []breach.Approval) (int, error) {
		seenAuthors, seenApprovals = authors, len(approvals)
		return 2, nil
	}
	got, err := db.ApproveCampaign(ctx, c.ID, "user:bob", "", "", two)
	if err != nil || got.State != breach.CampaignDraft || len(got.Approvals) != 1 || got.ApprovalsRequired != 2 {
		t.Fatalf("first of two approvals: %+v, %v; want a draft with 1 of 2", got, err)
	}
	if !slices.Contains(seenAuthors, "cli:maria") {
		t.Errorf("authors given to the check: %v, want the creator among them", seenAuthors)
	}
	// An import changes the list: the approval given before it no longer counts.
	mustImport(t, db, c, "customer_id,email\nC2,b@example.com\n")
	if aps, err := db.Approvals(ctx, c.ID); err != nil || len(aps) != 0 {
		t.Fatalf("approvals after an import: %v, %v; want none", aps, err)
	}
	if _, err := db.ApproveCampaign(ctx, c.ID, "user:bob", "", "", two); err != nil || seenApprovals != 0 {
		t.Fatalf("approval after the import: %v (check saw %d earlier approvals)", err, seenApprovals)
	}
	got, err = db.ApproveCampaign(ctx, c.ID, "user:carla", "", "", two)
	if err != nil || got.State != breach.CampaignApproved || got.ApprovedBy != "user:carla" || seenApprovals != 1 {
		t.Fatalf("second approval: %+v, %v (check saw %d)", got, err, seenApprovals)
	}
	entries, err := db.AuditLog(ctx, breach.AuditFilter{CampaignID: c.ID, Action: breach.ActionCampaignApprove, Limit: 10})
	if err != nil || len(entries) != 3 {
		t.Fatalf("approve audit rows: %d, %v; want 3", len(entries), err)
	}
	if !strings.Contains(string(entries[0].Detail), `"complete": true`) && !strings.Contains(string(entries[0].Detail), `"complete":true`) {
		t.Errorf("last approval's audit detail %s, want complete", entries[0].Detail)
	}
}

// A serve process answers tokens from memory (CacheTokens); a change made by any other process
// — a revocation, a disabled user — must still refuse them at once.
func TestTokens_CachedTokensAreRefusedAsSoonAsAnotherProcessRevokesThemOrDisablesTheirUser(t *testing.T) {
	db, other := open(t), open(t)
	ctx := t.Context()
	listenCtx, stop := context.WithCancel(ctx)
	listening, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- db.CacheTokens(listenCtx, func() { close(listening) }) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("CacheTokens: %v", err)
		}
	})
	<-listening

	if err := db.CreateUser(ctx, &breach.User{Login: "cacheduser", Roles: []breach.Role{breach.RoleViewer}}, "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", "cli:test"); err != nil {
		t.Fatal(err)
	}
	for name, login := range map[string]string{"cached-free": "", "cached-bound": "cacheduser", "cached-revoked": ""} {
		if err := other.CreateToken(ctx, name, login, []byte(name), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.TokenByHash(ctx, []byte(name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Answered from memory: a revocation that announces nothing (triggers off in this
	// session) goes unseen.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE name = 'cached-free'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TokenByHash(ctx, []byte("cached-free")); err != nil {
		t.Fatalf("a cached token after a silent change: %v, want it answered from memory", err)
	}

	refusedSoon := func(hash string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			_, err := db.TokenByHash(ctx, []byte(hash))
			if breach.ErrorCode(err) == breach.EUNAUTHORIZED {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("token %s still accepted (%v) 5 s after the change", hash, err)
			}
		}
	}
	if err := other.RevokeToken(ctx, "cached-revoked", ""); err != nil {
		t.Fatal(err)
	}
	refusedSoon("cached-revoked")
	refusedSoon("cached-free") // every change empties the cache: the silent revocation is seen now
	if _, err := db.TokenByHash(ctx, []byte("cached-bound")); err != nil {
		t.Fatalf("a live token after another's revocation: %v", err)
	}
	if err := other.DisableUser(ctx, "cacheduser", "cli:test"); err != nil {
		t.Fatal(err)
	}
	refusedSoon("cached-bound")
}

// Two approvers approve the same notices: one who saw them rendered from other templates than
// the first approver (another TEMPLATES_DIR, another release) is refused, and the campaign
// keeps the templates it was approved with.
func TestApproveCampaign_ApprovalsOfOtherTemplatesDoNotAddUp(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := twoPersonDraft(t, db)
	two := func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 2, nil }
	if _, err := db.ApproveCampaign(ctx, c.ID, "user:bob", "", "templates-a", two); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApproveCampaign(ctx, c.ID, "user:carla", "", "templates-b", two); breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "user:bob approved the notices as other templates") {
		t.Fatalf("approval of other templates: %v, want ECONFLICT naming the first approver", err)
	}
	got, err := db.ApproveCampaign(ctx, c.ID, "user:carla", "", "templates-a", two)
	if err != nil || got.State != breach.CampaignApproved {
		t.Fatalf("approval of the same templates: %+v, %v", got, err)
	}
	if read, err := db.Campaign(ctx, c.ID); err != nil || read.ApprovedTemplates != "templates-a" {
		t.Errorf("approved templates %q (%v), want templates-a", read.ApprovedTemplates, err)
	}
}

// Token names that differ only in letter case are one name to a reader of the audit log
// ("token:Alice", "token:alice"): the second is refused (a review).
func TestTokens_NamesDifferingOnlyInCaseAreRefused(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	name := "Case-" + strings.ReplaceAll(t.Name(), "/", "-")
	if err := db.CreateToken(ctx, name, "", []byte("hash-of-the-first-token-0123456789"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	err := db.CreateToken(ctx, strings.ToLower(name), "", []byte("hash-of-the-second-token-012345678"), time.Time{})
	if breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "letter case") {
		t.Errorf("a token named %q beside %q: %v, want ECONFLICT", strings.ToLower(name), name, err)
	}
}
