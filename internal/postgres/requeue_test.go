package postgres_test

import (
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// A completed campaign whose customer P2 nothing reached runs again for P2's email: the
// campaign is running, its retention clock stopped, the audit row says it was reopened.
func TestRequeueFailed_ReopensACompletedCampaign(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := finishedCampaign(t, db)
	n, err := db.RequeueFailed(ctx, c.ID, "operator", breach.ChannelEmail)
	if err != nil || n != 1 {
		t.Fatalf("RequeueFailed = %d, %v; want P2's email", n, err)
	}
	got, err := db.Campaign(ctx, c.ID)
	if err != nil || got.State != breach.CampaignRunning || got.FinishedAt != nil {
		t.Errorf("after the requeue: %+v, %v; want running, not finished", got, err)
	}
	var reopened bool
	if err := rawPool(t).QueryRow(ctx, `SELECT (detail->>'reopened')::boolean FROM audit_log WHERE campaign_id = $1 AND action = $2`,
		c.ID, breach.ActionCampaignRequeue).Scan(&reopened); err != nil || !reopened {
		t.Errorf("audit: reopened %v, %v", reopened, err)
	}
}

// A completed campaign is not reopened once a purge of its personal data has begun (a purge
// marks the campaign only in its last batch: one broken off is resumed later), nor once its
// retention period is over; and a customer whose letter is mailed is reached: their email is
// not sent again (review: each of the three was reopened, and P2 got the letter and the
// email).
func TestRequeueFailed_LeavesAlonePurgingExpiredAndLettered(t *testing.T) {
	ctx := t.Context()
	for name, prepare := range map[string]func(*testing.T, *breach.Campaign){
		"purge begun": func(t *testing.T, c *breach.Campaign) {
			// What purgeRecipients' first committed batch does (TestPurge_InterruptedPurgeResumes).
			if _, err := rawPool(t).Exec(ctx, `UPDATE recipients SET email = NULL, phone = NULL, name = '', attributes = '{}', purged_at = now()
				WHERE campaign_id = $1 AND customer_id = 'P2'`, c.ID); err != nil {
				t.Fatal(err)
			}
		},
		"retention over": func(t *testing.T, c *breach.Campaign) {
			if _, err := rawPool(t).Exec(ctx, `UPDATE campaigns SET finished_at = now() - interval '10 years' WHERE id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			c := finishedCampaign(t, db)
			prepare(t, c)
			if n, err := db.RequeueFailed(ctx, c.ID, "operator", breach.ChannelEmail); breach.ErrorCode(err) != breach.ECONFLICT {
				t.Errorf("RequeueFailed = %d, %v; want a conflict", n, err)
			}
			if got, err := db.Campaign(ctx, c.ID); err != nil || got.State != breach.CampaignCompleted {
				t.Errorf("campaign %+v, %v; want it left completed", got, err)
			}
		})
	}
	t.Run("letter mailed", func(t *testing.T) {
		db := open(t)
		c := finishedCampaign(t, db)
		p2 := recipient(t, db, c, "P2")
		if _, err := db.MarkLettersPrinted(ctx, c.ID, []int64{p2.ID}, []string{"en"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.MoveAllLetters(ctx, c.ID, breach.DeliveryPrinted, breach.DeliveryMailed); err != nil {
			t.Fatal(err)
		}
		if n, err := db.RequeueFailed(ctx, c.ID, "operator", breach.ChannelEmail); err != nil || n != 0 {
			t.Errorf("RequeueFailed = %d, %v; want nothing: P2's letter is mailed", n, err)
		}
		if got, err := db.Campaign(ctx, c.ID); err != nil || got.State != breach.CampaignCompleted {
			t.Errorf("campaign %+v, %v; want it left completed", got, err)
		}
	})
}
