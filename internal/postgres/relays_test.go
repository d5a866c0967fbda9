package postgres_test

import (
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestCountRelays_AddsUpConcurrentBatchesAndShowsOnlyACurrentSetAside: batches counted at once
// by several workers (in opposite orders of relays) add up without deadlocking; a set-aside
// time only moves later, and one already over is not shown.
func TestCountRelays_AddsUpConcurrentBatchesAndShowsOnlyACurrentSetAside(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := newCampaign(t, db)
	later := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	earlier := time.Now().Add(time.Minute)
	past := time.Now().Add(-time.Minute)

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			batch := []breach.RelayCount{{Relay: "b:587", Sent: 2, Failed: 1}, {Relay: "a:587", Sent: 3, Rejected: 1}}
			if i%2 == 0 {
				batch[0], batch[1] = batch[1], batch[0]
			}
			switch i {
			case 3:
				batch[0].SetAsideUntil = &later
			case 7:
				batch[0].SetAsideUntil = &earlier
			}
			if err := db.CountRelays(ctx, c.ID, batch); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := db.CountRelays(ctx, c.ID, []breach.RelayCount{{Relay: "c:25", Failed: 4, SetAsideUntil: &past}}); err != nil {
		t.Fatal(err)
	}

	s, err := db.CampaignStatus(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Relays) != 3 {
		t.Fatalf("status relays = %+v, want a, b and c", s.Relays)
	}
	a, b, cc := s.Relays[0], s.Relays[1], s.Relays[2]
	if a.Relay != "a:587" || a.Sent != 60 || a.Rejected != 20 || a.Failed != 0 {
		t.Errorf("relay a = %+v, want 60 sent, 20 rejected", a)
	}
	if b.Relay != "b:587" || b.Sent != 40 || b.Failed != 20 {
		t.Errorf("relay b = %+v, want 40 sent, 20 failed", b)
	}
	// Batches 3 and 7 both set aside their first relay (b for odd i): the later time wins.
	if b.SetAsideUntil == nil || !b.SetAsideUntil.Equal(later) {
		t.Errorf("relay b set aside until %v, want the later %v", b.SetAsideUntil, later)
	}
	if a.SetAsideUntil != nil {
		t.Errorf("relay a set aside until %v, want in service", a.SetAsideUntil)
	}
	if cc.Relay != "c:25" || cc.Failed != 4 || cc.SetAsideUntil != nil {
		t.Errorf("relay c = %+v, want 4 failed and its past set-aside not shown", cc)
	}
}
