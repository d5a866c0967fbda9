package postgres_test

import (
	"sync"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// A read-audit row that PostgreSQL refuses fails alone: the rows grouped with it in one commit
// are written, and so is every row after it.
func TestAuditRead_ARefusedRowNeverBlocksTheOthers(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make([]error, 41)
	for i := range errs {
		wg.Go(func() {
			campaign := c.ID
			if i == 20 {
				campaign = "urn:uuid:" + c.ID // no uuid PostgreSQL takes
			}
			errs[i] = db.AuditRead(ctx, "user:reader", "recipient.viewed", campaign, map[string]any{"n": i})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 20) != (err != nil) {
			t.Errorf("row %d: %v", i, err)
		}
	}
	if err := db.AuditRead(ctx, "user:reader", "recipient.viewed", c.ID, map[string]any{"n": "after"}); err != nil {
		t.Errorf("a read after the refused row: %v", err)
	}
	entries, err := db.AuditLog(ctx, breach.AuditFilter{CampaignID: c.ID, Action: "recipient.viewed", Limit: 100})
	if err != nil || len(entries) != 41 {
		t.Errorf("audit rows written: %d, %v; want the 40 good ones and the one after", len(entries), err)
	}
}
