package postgres_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
)

func TestTokens_ABoundTokenActsAsItsUserUntilTheUserIsDisabled(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	u := &breach.User{Login: "tokenowner", Roles: []breach.Role{breach.RoleApprover}}
	if err := db.CreateUser(ctx, u, "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUserToken(ctx, "owner-laptop", "TokenOwner", []byte("bound-1")); err != nil {
		t.Fatal(err)
	}
	tok, err := db.TokenByHash(ctx, []byte("bound-1"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Name != "owner-laptop" || tok.User == nil || tok.User.Login != "tokenowner" || tok.Actor() != "user:tokenowner" ||
		!tok.Can(breach.RoleApprover) || tok.Can(breach.RoleOperator) {
		t.Errorf("bound token = %+v (user %+v), want acting as user:tokenowner with the approver role only", tok, tok.User)
	}
	for _, bad := range []struct {
		login, code string
	}{{"nobody", breach.ENOTFOUND}, {"../x", breach.EINVALID}} {
		if err := db.CreateUserToken(ctx, "t-"+bad.login, bad.login, []byte("bad-"+bad.login)); breach.ErrorCode(err) != bad.code {
			t.Errorf("a token for %q: %v, want %s", bad.login, err, bad.code)
		}
	}
	if err := db.CreateUserToken(ctx, "owner-laptop", "tokenowner", []byte("bound-2")); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("a second token of the same name: %v, want ECONFLICT", err)
	}

	if err := db.DisableUser(ctx, "tokenowner"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TokenByHash(ctx, []byte("bound-1")); breach.ErrorCode(err) != breach.EUNAUTHORIZED {
		t.Errorf("the token of a disabled user: %v, want EUNAUTHORIZED", err)
	}
	if err := db.CreateUserToken(ctx, "owner-phone", "tokenowner", []byte("bound-3")); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("a token for a disabled user: %v, want ECONFLICT", err)
	}
	// Rotating a token of that name hands out an unbound one (run's demo token).
	if err := db.RotateToken(ctx, "owner-laptop", []byte("rotated")); err != nil {
		t.Fatal(err)
	}
	if tok, err := db.TokenByHash(ctx, []byte("rotated")); err != nil || tok.User != nil || tok.Actor() != "token:owner-laptop" {
		t.Errorf("rotated token = %+v, %v; want unbound", tok, err)
	}
}

func TestApprove_TwoPersonCampaignRefusesTheCommandLineAndUnboundTokens(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c, src, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	c.Approval.TwoPerson, c.CreatedBy = true, "user:maria"
	if err := db.CreateCampaign(ctx, c, string(src)); err != nil {
		t.Fatal(err)
	}
	mustImport(t, db, c, "customer_id,email\nC1,a@example.com\n")
	pass := func(*breach.Campaign) error { return nil }
	for _, actor := range []string{"cli:maria", "token:ci", "run:demo"} {
		_, err := db.ApproveCampaign(ctx, c.ID, actor, pass)
		if breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "token create --name NAME --user LOGIN") {
			t.Errorf("%s approving a two-person campaign: %v, want ECONFLICT saying how to approve", actor, err)
		}
	}
	if _, err := db.ApproveCampaign(ctx, c.ID, "user:maria", pass); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("the author approving: %v, want ECONFLICT", err)
	}
	got, err := db.ApproveCampaign(ctx, c.ID, "user:bob", pass)
	if err != nil || got.State != breach.CampaignApproved || got.ApprovedBy != "user:bob" {
		t.Errorf("a user approving: %+v, %v", got, err)
	}
}
