package dispatch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// outageStore is the record with the writes of outcomes cut off on demand: while it is down,
// Record hangs as a statement to an unreachable database does, until its context ends or the
// database is back, and then fails. Everything else goes through: the worker stays alive and
// healthy, and its reconciler keeps running.
type outageStore struct {
	*postgres.DB
	mu      sync.Mutex
	down    chan struct{} // closed when the database is back; nil while it is up
	refused atomic.Int64
}

func (s *outageStore) cut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = make(chan struct{})
}

func (s *outageStore) restore() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.down)
	s.down = nil
}

func (s *outageStore) Record(ctx context.Context, campaignID string, ch breach.Channel, worker string, outcomes []breach.Outcome,
	fallback bool) ([]int64, error) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down != nil {
		s.refused.Add(1)
		select {
		case <-down:
		case <-ctx.Done():
		}
		return nil, errors.New("connect: connection refused")
	}
	return s.DB.Record(ctx, campaignID, ch, worker, outcomes, fallback)
}

// The recorder cut off from the database for much longer than TaskTimeout (and than
// ClaimLostAfter): the notices handed to the relay meanwhile are still this live worker's, in
// its journal, and must not be released and sent again however old their claims get. Sending
// stops within MaxUnrecorded notices of the cut, and when the database is back every customer
// has exactly one email and the record counts no possible duplicate.
func TestSend_RecorderCutOffPastTaskTimeoutSendsNothingTwice(t *testing.T) {
	w := newWorld(t)
	w.cfg.EmailRate = 300
	w.cfg.TaskTimeout = time.Second
	w.cfg.ClaimLostAfter = time.Second
	w.cfg.MaxUnrecorded = 40
	const n = 1500
	c := w.campaign(n, nil)
	store := &outageStore{DB: w.db}
	stop := w.run(w.engineOn(store, nil))
	defer stop()
	w.start(c)
	w.wait(c, time.Minute, "some sent", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] > 100
	})

	store.cut()
	atCut := w.sink.Count()
	// Five times TaskTimeout + ClaimLostAfter, with a reconciliation every 300 ms.
	time.Sleep(10 * time.Second)
	during := w.sink.Count() - atCut
	var old int64
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM deliveries
		WHERE campaign_id = $1 AND state = 'sending' AND updated_at < now() - interval '5 seconds'`, c.ID).Scan(&old); err != nil {
		t.Fatal(err)
	}
	store.restore()
	t.Logf("record cut off for 10 s: %d emails sent meanwhile, %d writes refused, %d claims older than 5 s at the end",
		during, store.refused.Load(), old)
	if store.refused.Load() == 0 || during == 0 {
		t.Fatal("nothing was sent and left unrecorded during the cut; nothing tested")
	}
	if old == 0 {
		t.Error("no claim older than TaskTimeout + ClaimLostAfter left at the end of the cut: the worker's own claims, " +
			"sent and waiting in its journal, were released")
	}
	if during > int64(w.cfg.MaxUnrecorded) {
		t.Errorf("%d emails sent while nothing could be recorded, want at most MaxUnrecorded (%d)", during, w.cfg.MaxUnrecorded)
	}

	s := w.wait(c, 2*time.Minute, "completed", completed)
	w.assertEachOnce(n)
	if s.PossibleDuplicates != 0 {
		t.Errorf("%d possible duplicates recorded, want none: no worker died", s.PossibleDuplicates)
	}
	if strings.Contains(w.logs.String(), "released the claims") {
		t.Errorf("claims were released:\n%s", tail(w.logs.String(), 3000))
	}
}

// A record that stops answering stops the sending within RecordStall, not MaxUnrecorded
// notices later: every notice handed over meanwhile is one that a kill, or another worker
// taking this one for dead, would send again (a review: 508 duplicates from one kill during a
// table lock, with the 512 slots as the only bound).
func TestSend_AStalledRecordStopsTheSendingWithinRecordStall(t *testing.T) {
	w := newWorld(t)
	w.cfg.EmailRate = 150
	w.cfg.MaxUnrecorded = 400
	w.cfg.RecordStall = 100 * time.Millisecond
	const n = 1200
	c := w.campaign(n, nil)
	store := &outageStore{DB: w.db}
	stop := w.run(w.engineOn(store, nil))
	defer stop()
	w.start(c)
	w.wait(c, time.Minute, "some sent", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] > 100
	})
	// Past the rate limit's first burst: the rate is steady when the record stalls.
	time.Sleep(500 * time.Millisecond)
	store.cut()
	atCut := w.sink.Count()
	// What was past the rate limit when the record stalled still goes, within RecordStall and
	// the notices in flight; after that, nothing more.
	time.Sleep(500 * time.Millisecond)
	settled := w.sink.Count()
	time.Sleep(1500 * time.Millisecond)
	late := w.sink.Count() - settled
	store.restore()
	t.Logf("record stalled for 2 s: %d emails sent in its first half second, %d after", settled-atCut, late)
	// The slots alone let the rate go on: 225 more in the last 1.5 s.
	if late > 10 {
		t.Errorf("%d emails sent between 0.5 s and 2 s into the record's stall, want the sending stopped within RecordStall (at most 10)", late)
	}
	if !strings.Contains(w.logs.String(), "the record is not being written") {
		t.Errorf("the stall was not logged:\n%s", tail(w.logs.String(), 2000))
	}
	w.wait(c, 2*time.Minute, "completed", completed)
	w.assertEachOnce(n)
}
