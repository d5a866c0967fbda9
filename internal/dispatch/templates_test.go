package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// What is sent is what was approved: a worker whose templates render other notices than those
// the approvers saw (its TEMPLATES_DIR, a later release, another PUBLIC_URL) sends none of the
// campaign's notices, and claims none, so a worker with the approved templates sends them; a
// worker with the approved templates sends as ever.
func TestSend_AWorkerWithOtherTemplatesSendsNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.campaign(10, nil)
	if _, err := w.pool.Exec(ctx, `UPDATE campaigns SET templates_digest = 'edited-templates' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	// Workers earlier tests left registered would count as running.
	if _, err := w.pool.Exec(ctx, `DELETE FROM workers`); err != nil {
		t.Fatal(err)
	}
	e := w.engine(nil)
	stop := w.run(e)
	w.start(c)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(w.logs.String(), "other notice templates") {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("no refusal logged:\n%s", tail(w.logs.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	// The campaign's status says why nothing goes: its one worker renders other templates.
	st, err := w.db.CampaignStatus(ctx, c.ID)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	if st.Workers == nil || *st.Workers != (breach.WorkerCount{Live: 1, OtherTemplates: 1}) || !strings.Contains(st.Stalled(), "every running worker (1) renders other notice templates") {
		t.Errorf("status while the only worker has other templates: workers %+v, stalled %q", st.Workers, st.Stalled())
	}
	stop()
	// Stopped, it is no longer counted: the status says that nothing is sending at all.
	if st, err = w.db.CampaignStatus(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if st.Workers == nil || st.Workers.Live != 0 || !strings.Contains(st.Stalled(), "no worker is running") {
		t.Errorf("status with no worker: workers %+v, stalled %q", st.Workers, st.Stalled())
	}
	if got := len(w.sink.Messages()); got != 0 {
		t.Errorf("%d notices sent by a worker with other templates, want none", got)
	}
	var claimed int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND state NOT IN ('queued')`, c.ID).Scan(&claimed); err != nil {
		t.Fatal(err)
	}
	if claimed != 0 {
		t.Errorf("%d deliveries moved past queued, want none claimed", claimed)
	}
	if _, err := e.campaign(ctx, c.ID); breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "approved with other notice templates") {
		t.Errorf("campaign with other templates: %v, want ECONFLICT saying why", err)
	}

	// The approved templates are this worker's: it sends.
	if _, err := w.pool.Exec(ctx, `UPDATE campaigns SET templates_digest = $2 WHERE id = $1`, c.ID, w.renderer.Digest()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.campaign(ctx, c.ID); err != nil {
		t.Errorf("campaign with the worker's templates: %v", err)
	}
	// One worker with the approved templates beside one without: the status names the one.
	if err := w.db.RegisterWorker(ctx, "00000000-0000-4000-8000-000000000001", "test", 1, w.renderer.Digest()); err != nil {
		t.Fatal(err)
	}
	if err := w.db.RegisterWorker(ctx, "00000000-0000-4000-8000-000000000002", "test", 2, "edited"); err != nil {
		t.Fatal(err)
	}
	st, err = w.db.CampaignStatus(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *st.Workers != (breach.WorkerCount{Live: 2, OtherTemplates: 1}) || !strings.Contains(st.Stalled(), "1 of the 2 running workers") {
		t.Errorf("status with one worker of each: workers %+v, stalled %q", st.Workers, st.Stalled())
	}
}
