package operation_test

import (
	"testing"

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
