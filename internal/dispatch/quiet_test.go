package dispatch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// refusingMailer refuses one address for good (a 550) and sends the rest.
type refusingMailer struct {
	Mailer
	refuse string
}

func (m refusingMailer) Send(ctx context.Context, msg email.Message) (string, error) {
	if msg.To == m.refuse {
		return "", &email.Error{Permanent: true, Code: 550, Err: errors.New("no such mailbox")}
	}
	return m.Mailer.Send(ctx, msg)
}

// TestQuietHours_SMSDueAtNightWaitsForMorningAndGoesOnce runs the real dispatch (PostgreSQL,
// Redis, SMTP sink, Twilio fake) on a moved clock: at 22:00 in Lima, the emails go at once and
// the SMS (Peruvian numbers; one of them an email→SMS fallback) wait until 08:00 Lima; a worker
// restart with Redis flushed does not send them early; at 08:01 each goes exactly once.
func TestQuietHours_SMSDueAtNightWaitsForMorningAndGoesOnce(t *testing.T) {
	w := newWorld(t)
	lima, err := time.LoadLocation("America/Lima")
	if err != nil {
		t.Fatal(err)
	}
	night := time.Date(2026, 3, 10, 22, 0, 0, 0, lima)
	morning := time.Date(2026, 3, 11, 8, 0, 0, 0, lima)
	clock := &testClock{t: night}
	w.db.Now = clock.Now

	// 20 customers (see world.customers): 0 and 10 have only a phone; 2 has both and their
	// email is refused for good, so their SMS is a fallback.
	const n = 20
	c := w.campaign(n, func(c *breach.Campaign) {
		c.SMS.QuietHours = &breach.QuietHours{Start: "21:00", End: "08:00", TimeZone: "Europe/Paris"}
	})
	// The numbers are shared by this package's tests, and one opts phone(0) out at the carrier
	// (the suppression list is global): this test wants them reachable.
	if _, err := w.pool.Exec(context.Background(), `DELETE FROM suppressions WHERE channel = 'sms' AND address = ANY ($1)`,
		[]string{w.phone(0), w.phone(2), w.phone(10)}); err != nil {
		t.Fatal(err)
	}
	mail := refusingMailer{Mailer: w.mailer, refuse: w.email(2)}
	engine := func() *Engine {
		e := w.engine(mail)
		e.Now = clock.Now
		return e
	}
	stop := w.run(engine())
	w.start(c)
	s := w.wait(c, time.Minute, "emails sent and 3 SMS held", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] == n-n/5-1 && s.QuietHours.Count == 3
	})
	if s.QuietHours.Earliest == nil || !s.QuietHours.Earliest.Equal(morning) || !s.QuietHours.Latest.Equal(morning) {
		t.Errorf("status says the SMS wait until %v–%v, want %v", s.QuietHours.Earliest, s.QuietHours.Latest, morning)
	}
	if s.ByChannel[breach.ChannelSMS][breach.DeliveryQueued] != 3 || s.State != breach.CampaignRunning {
		t.Errorf("status %+v: want the 3 SMS queued and the campaign running", s.ByChannel[breach.ChannelSMS])
	}
	if got := w.twilio.counts(); len(got) != 0 {
		t.Fatalf("SMS sent at 22:00 Lima: %v", got)
	}

	// The night goes on: a worker restart, Redis flushed (its wake-up tasks lost), several
	// reconciliations. Nothing is sent before morning.
	stop()
	if err := w.rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	clock.Set(morning.Add(-2 * time.Minute))
	restarted := engine()
	stop = w.run(restarted)
	defer func() { stop() }()
	// A stray task covering them (a duplicate, an old retry) claims nothing either.
	if err := restarted.enqueueRange(context.Background(), c.ID, breach.ChannelSMS, 0, n); err != nil {
		t.Fatal(err)
	}
	if claims, _, _, err := w.db.ClaimRange(context.Background(), c.ID, breach.ChannelSMS, 0, n, restarted.workerID, true, 0); err != nil || len(claims) != 0 {
		t.Fatalf("a claim at 07:58 took %d held SMS (%v)", len(claims), err)
	}
	time.Sleep(4 * w.cfg.ReconcileEvery)
	if got := w.twilio.counts(); len(got) != 0 {
		t.Fatalf("SMS sent at 07:58 Lima after a restart: %v", got)
	}
	if s, err := w.db.CampaignStatus(context.Background(), c.ID); err != nil || s.QuietHours.Count != 3 {
		t.Fatalf("after the restart, status %+v (%v): want 3 SMS still held", s, err)
	}

	// Morning: the reconciler finds them due and they go, once each.
	clock.Set(morning.Add(time.Minute))
	s = w.wait(c, time.Minute, "completed", completed)
	time.Sleep(3 * w.cfg.ReconcileEvery) // a late duplicate would show now
	got := w.twilio.counts()
	for _, i := range []int{0, 2, 10} {
		if got[w.phone(i)] != 1 {
			t.Errorf("customer %d: %d SMS after 08:00, want 1", i, got[w.phone(i)])
		}
	}
	if len(got) != 3 {
		t.Errorf("SMS sent to %d numbers, want 3: %v", len(got), got)
	}
	if s.QuietHours.Count != 0 || s.ByChannel[breach.ChannelSMS][breach.DeliverySent] != 3 {
		t.Errorf("final status: %d held, %d SMS sent; want 0 and 3", s.QuietHours.Count, s.ByChannel[breach.ChannelSMS][breach.DeliverySent])
	}
	mails := w.received()
	for i := range n {
		if want := map[bool]int{true: 1}[i%5 != 0 && i != 2]; mails[w.email(i)] != want {
			t.Errorf("customer %d: %d emails, want %d", i, mails[w.email(i)], want)
		}
	}
}
