package operation_test

import (
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// With StatusMaxAge, requests share a campaign's status; a change made through this service
// (approve, start, cancel) is seen at once all the same, and a draft's, whose list is still
// changing, is never kept.
func TestStatus_SharedWithinMaxAgeButFreshAfterThisServicesMoves(t *testing.T) {
	ops, db := service(t)
	ctx := t.Context()
	ops.StatusMaxAge = time.Hour
	fresh := &operation.Service{Store: db} // reads at every request
	actor := breach.CLIActor("setup")
	state := func(ops *operation.Service, c *breach.Campaign) breach.CampaignState {
		t.Helper()
		s, err := ops.Status(ctx, actor, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s.State
	}
	c := draft(t, ops, actor)
	if got := state(ops, c); got != breach.CampaignDraft {
		t.Fatalf("state %s, want draft", got)
	}
	if _, err := ops.Approve(ctx, actor, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := state(ops, c); got != breach.CampaignApproved {
		t.Fatalf("after approving through the service: %s, want approved (a draft's status is not kept)", got)
	}
	// Started behind this service's back (another process): its status is the shared one.
	if _, err := db.MoveCampaign(ctx, c.ID, "elsewhere", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	if got, now := state(ops, c), state(fresh, c); got != breach.CampaignApproved || now != breach.CampaignRunning {
		t.Errorf("started elsewhere: shared %s, read %s; want approved (read within the hour), running", got, now)
	}
	if _, err := ops.MoveCampaign(ctx, actor, c.ID, operation.Pause); err != nil {
		t.Fatal(err)
	}
	if got := state(ops, c); got != breach.CampaignPaused {
		t.Errorf("paused through the service: %s, want paused", got)
	}
}
