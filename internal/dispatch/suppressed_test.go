package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// An opt-out recorded after a notice was claimed, while it waits for the rate limit, stops it:
// the claim checked the suppression list seconds before, and the worker hears of the opt-out
// (review of the public endpoints, finding 3: such notices were sent and recorded sent after
// the customer had opted out).
func TestSend_AnOptOutRecordedWhileTheNoticeWaitsStopsIt(t *testing.T) {
	w := newWorld(t)
	w.cfg.EmailRate = 10 // a throttled relay: a claimed chunk waits seconds
	w.cfg.ChunkSize = 256
	const n = 60
	c := w.campaign(n, nil)
	ctx := context.Background()
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	// Past the limiter's first burst (its notices are past their check at once, and may not
	// have reached the sink yet): then one notice leaves every 100 ms.
	for len(w.sink.Messages()) < 20 {
		time.Sleep(20 * time.Millisecond)
	}
	// Four customers whose email is claimed and not sent yet opt out.
	var optedOut []int
	received := w.received()
	for i := n - 1; i >= 0 && len(optedOut) < 4; i-- {
		if i%5 != 0 && received[w.email(i)] == 0 && w.emailState(c, i) == breach.DeliverySending {
			optedOut = append(optedOut, i)
			if err := w.db.Suppress(ctx, "email", w.email(i), "optout", "the customer opted out", c.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(optedOut) < 4 {
		t.Fatalf("only %d customers' emails are claimed and unsent: the test proves nothing", len(optedOut))
	}
	w.wait(c, 2*time.Minute, "completed", completed)
	got := w.received()
	for _, i := range optedOut {
		if got[w.email(i)] != 0 {
			t.Errorf("customer %d was emailed after opting out", i)
		}
		if st := w.emailState(c, i); st != breach.DeliverySuppressed {
			t.Errorf("customer %d's email is %s, want suppressed", i, st)
		}
	}
	if sent := len(got); sent != 48-len(optedOut) { // 48 of 60 have an email address
		t.Errorf("%d customers emailed, want the %d who did not opt out", sent, 48-len(optedOut))
	}
}

// emailState is the state of customer i's email delivery.
func (w *world) emailState(c *breach.Campaign, i int) breach.DeliveryState {
	w.t.Helper()
	var st breach.DeliveryState
	if err := w.pool.QueryRow(context.Background(), `SELECT d.state FROM deliveries d JOIN recipients r ON r.campaign_id = d.campaign_id AND r.id = d.recipient_id
		WHERE d.campaign_id = $1 AND d.channel = 'email' AND r.email = $2`, c.ID, w.email(i)).Scan(&st); err != nil {
		w.t.Fatal(err)
	}
	return st
}

func TestLateSuppressions_MatchTheDatabasesKeys(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.campaign(1, nil)
	if err := w.db.Suppress(ctx, "email", "Ana.Quispe@Example.COM", "optout", "", c.ID); err != nil {
		t.Fatal(err)
	}
	keys, err := w.db.RecentSuppressions(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var l lateSuppressions
	if err := w.db.Suppress(ctx, "email", "JOSÉ.Pérez@Example.PE", "optout", "", c.ID); err != nil {
		t.Fatal(err)
	}
	if keys, err = w.db.RecentSuppressions(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		l.add(k, time.Now())
	}
	// Non-ASCII letters keep their case on both sides, whatever the database's locale.
	if !l.has(breach.ChannelEmail, "josÉ.pérez@example.pe") {
		t.Errorf("an address with non-ASCII letters does not match its own suppression (keys %v)", keys)
	}
	if !l.has(breach.ChannelEmail, "ana.quispe@example.com") || l.has(breach.ChannelSMS, "ana.quispe@example.com") || l.has(breach.ChannelEmail, "ana@example.com") {
		t.Errorf("the database's key of a suppression does not match the engine's (keys %v)", keys)
	}
	// Whatever else arrives on the channel (any database user may NOTIFY) is ignored.
	for _, junk := range []string{"", "zz", strings.Repeat("ab", 64), strings.Repeat("g", 64)} {
		l.add(junk, time.Now())
	}
	l.forget(time.Now().Add(time.Second))
	if l.has(breach.ChannelEmail, "ana.quispe@example.com") {
		t.Error("a forgotten key still matches")
	}
}
