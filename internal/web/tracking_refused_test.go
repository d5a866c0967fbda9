package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/pgtest"
)

// While the audit log cannot take a read (here: locked by another transaction past the read's
// wait), the recent failures — customers' data — are not shown, but the campaign page still is:
// its counts and the button that pauses a running campaign are what the team needs then.
func TestCampaignPage_ShowsWithoutTheFailuresWhenTheirReadCannotBeAudited(t *testing.T) {
	st := newStack(t, nil)
	ctx := context.Background()
	c := startedCampaign(t, st)
	pgtest.PlanAll(t, st.db, c.ID, 50_000)
	failed := 0
	pgtest.Send(t, st.db, c.ID, breach.ChannelEmail, false, func(breach.Claim) *breach.Outcome {
		if failed++; failed > 1 {
			return nil
		}
		return &breach.Outcome{State: breach.DeliveryFailed, Error: "550 5.1.1 mailbox unavailable"}
	})
	if failed == 0 {
		t.Fatal("no claims")
	}
	b := st.signedIn("pauser", breach.RoleViewer, breach.RoleOperator)
	if page := b.get("/campaigns/" + c.ID); page.status != http.StatusOK || !strings.Contains(page.body, `id="failures"`) {
		t.Fatalf("campaign page before: %d, failures shown %v", page.status, strings.Contains(page.body, `id="failures"`))
	}

	lock, err := pool(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/campaigns/" + c.ID, "/campaigns/" + c.ID + "/tracking"} {
		page := b.get(path)
		if page.status != http.StatusOK {
			t.Errorf("%s while the audit log is locked: %d, want the page without its failures", path, page.status)
			continue
		}
		if strings.Contains(page.body, `id="failures"`) || strings.Contains(page.body, "mailbox unavailable") || !strings.Contains(page.body, `id="failures-refused"`) {
			t.Errorf("%s shows the failures or does not say why they are missing", path)
		}
		if path == "/campaigns/"+c.ID && !strings.Contains(page.body, `id="pause"`) {
			t.Errorf("the campaign page has no pause button")
		}
	}
}
