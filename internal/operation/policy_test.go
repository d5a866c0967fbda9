package operation_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// REQUIRE_TWO_PERSON is the deployment's rule, not one process's: once a process started with
// it has run, a campaign's author cannot approve alone from a process started without it (a
// command line on a laptop, a replica missing the variable), and every process shows two
// approvals needed. Recording it is audited once.
func TestApprove_TheTwoPersonRuleIsTheDatabasesNotTheProcesss(t *testing.T) {
	url := migratedDB(t)
	server, db := serviceOn(t, url)
	server.TwoPersonAlways = true
	server.SecretCheck.By = "breachnotice serve"
	ctx := t.Context()
	for range 2 { // as serve starts, twice: recorded once
		if err := server.RecordApprovalPolicy(ctx); err != nil {
			t.Fatal(err)
		}
	}
	author := breach.CLIActor("maker")
	cli, _ := serviceOn(t, url) // REQUIRE_TWO_PERSON unset
	c := draft(t, cli, author)
	shown, err := cli.Campaign(ctx, author, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if shown.ApprovalsRequired != 2 {
		t.Errorf("a process without the variable shows %d approvals needed, want the deployment's 2", shown.ApprovalsRequired)
	}
	if got, err := cli.Approve(ctx, author, c.ID, operation.ApproveRequest{}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("the list's author approved alone from a process without REQUIRE_TWO_PERSON: %v (campaign %v)", err, got)
	}
	rows, err := db.AuditLog(ctx, breach.AuditFilter{Action: breach.ActionPolicyTwoPerson, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Actor != "breachnotice serve" {
		t.Errorf("audit rows of the rule: %+v, want one by the process that recorded it", rows)
	}
}

// Who may sign in to the console is decided at the command line: a console user, even with
// every role, or an API token cannot create or disable users. A user made at the command line
// is in the audit log with the act that made them (one transaction), and a password chosen
// too short is refused before anything is stored.
func TestUsers_ManagedAtTheCommandLineOnlyAndAudited(t *testing.T) {
	ops, db := service(t)
	ctx := t.Context()
	admin := user("admin", breach.Roles...)
	if _, _, err := ops.CreateUser(ctx, admin, operation.NewUser{Login: "mallory", Roles: breach.Roles}); breach.ErrorCode(err) != breach.EFORBIDDEN {
		t.Errorf("a console user created a user: %v, want EFORBIDDEN", err)
	}
	if _, _, err := ops.CreateUser(ctx, breach.Actor{Name: "token:ci"}, operation.NewUser{Login: "mallory", Roles: breach.Roles}); breach.ErrorCode(err) != breach.EFORBIDDEN {
		t.Errorf("an unbound token created a user: %v, want EFORBIDDEN", err)
	}
	if _, _, err := ops.CreateUser(ctx, breach.CLIActor("root"), operation.NewUser{Login: "shortpw", Roles: breach.Roles, Password: "short"}); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("a short password: %v, want EINVALID", err)
	}
	u, made, err := ops.CreateUser(ctx, breach.CLIActor("root"), operation.NewUser{Login: "lucia", Roles: []breach.Role{breach.RoleApprover}})
	if err != nil || len(made) < 20 || u.ID == 0 {
		t.Fatalf("create at the command line: %v, password %q, user %+v", err, made, u)
	}
	if err := ops.DisableUser(ctx, admin, "lucia"); breach.ErrorCode(err) != breach.EFORBIDDEN {
		t.Errorf("a console user disabled a user: %v, want EFORBIDDEN", err)
	}
	if err := ops.DisableUser(ctx, breach.CLIActor("root"), "lucia"); err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, action := range []string{breach.ActionUserCreate, breach.ActionUserDisable} {
		rows, err := db.AuditLog(ctx, breach.AuditFilter{Action: action, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Actor == "cli:root" && strings.Contains(string(r.Detail), `"lucia"`) {
				acts = append(acts, r.Action)
			}
		}
	}
	if !slices.Equal(acts, []string{breach.ActionUserCreate, breach.ActionUserDisable}) {
		t.Errorf("audit rows by cli:root about lucia: %v, want the create and the disable", acts)
	}
}

// The database holds its two-person rule against any writer: a process of an earlier release,
// which applies only its own REQUIRE_TWO_PERSON, approving on one approval — its approval row,
// then the campaign's move to approved — is refused by the database.
func TestApprove_TheDatabaseRefusesOneApprovalUnderItsTwoPersonRule(t *testing.T) {
	url := migratedDB(t)
	server, _ := serviceOn(t, url)
	server.TwoPersonAlways = true
	ctx := t.Context()
	if err := server.RecordApprovalPolicy(ctx); err != nil {
		t.Fatal(err)
	}
	c := draft(t, server, breach.CLIActor("maker"))
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// As the previous release approves with one approval required.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO campaign_approvals (campaign_id, actor) VALUES ($1, 'cli:maker')`, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `UPDATE campaigns SET state = 'approved', approved_by = 'cli:maker', approved_at = now() WHERE id = $1`, c.ID)
	if err == nil || !strings.Contains(err.Error(), "two approvers") {
		t.Fatalf("one approval moved the campaign to approved under the database's rule: %v", err)
	}
	tx.Rollback(ctx)
	// Two people, as the current release asks: approved.
	ana, ben := user("ana", breach.RoleApprover), user("ben", breach.RoleApprover)
	if _, err := server.Approve(ctx, ana, c.ID, operation.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}
	got, err := server.Approve(ctx, ben, c.ID, operation.ApproveRequest{})
	if err != nil || got.State != breach.CampaignApproved {
		t.Fatalf("two approvers: %v, %v", got, err)
	}
}

// How the record is kept across an upgrade is decided at the command line: a console user with
// every role, or an API token, can neither finish an upgrade nor prepare a rollback.
func TestUpgrade_FinishAndRollbackAtTheCommandLineOnly(t *testing.T) {
	ops, _ := service(t)
	ctx := t.Context()
	for _, actor := range []breach.Actor{user("admin", breach.Roles...), {Name: "token:ci"}} {
		if err := ops.FinishUpgrade(ctx, actor); breach.ErrorCode(err) != breach.EFORBIDDEN {
			t.Errorf("%s finished the upgrade: %v, want EFORBIDDEN", actor.Name, err)
		}
		if err := ops.PrepareRollback(ctx, actor); breach.ErrorCode(err) != breach.EFORBIDDEN {
			t.Errorf("%s prepared a rollback: %v, want EFORBIDDEN", actor.Name, err)
		}
	}
	if err := ops.FinishUpgrade(ctx, breach.CLIActor("root")); err != nil {
		t.Errorf("the command line could not finish the upgrade: %v", err)
	}
}
