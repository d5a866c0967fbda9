package dispatch

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

// A relay that refuses our sender (it wants authentication the configuration lacks: 5xx at
// MAIL FROM) says nothing about any customer: their emails wait in the queue for the relay to
// be fixed, none fails for good (review: every email of the campaign failed within 250 ms).
func TestSend_ARelayRefusingTheSenderFailsNoCustomer(t *testing.T) {
	w := newWorld(t)
	w.sink.Username, w.sink.Password = "relay-user", "relay-pass" // SMTP_URL has no credentials
	w.mailer = email.NewSender(email.Config{Host: "127.0.0.1", Port: w.sink.Port(), TLS: email.TLSNone, Timeout: time.Second}, nil, 8)
	w.cfg.RetryBase, w.cfg.RetryMax = time.Minute, time.Minute // one attempt within the test
	c := w.campaign(50, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	// Every email is tried once and waits for its retry, saying why; none fails.
	var retried, failed int
	for deadline := time.Now().Add(30 * time.Second); retried+failed < 40 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE state = 'queued' AND error LIKE '%temporary failure at MAIL FROM%'),
			count(*) FILTER (WHERE state = 'failed') FROM deliveries WHERE campaign_id = $1 AND channel = 'email'`, c.ID).Scan(&retried, &failed); err != nil {
			t.Fatal(err)
		}
	}
	if retried != 40 || failed != 0 {
		var why string
		w.pool.QueryRow(context.Background(), `SELECT error FROM deliveries WHERE campaign_id = $1 AND channel = 'email' AND state = 'failed' LIMIT 1`, c.ID).Scan(&why)
		t.Errorf("%d of 40 emails wait for a retry saying the relay refused the sender, %d failed for good (%q)", retried, failed, why)
	}
	if cur, err := w.db.Campaign(context.Background(), c.ID); err != nil || cur.State != breach.CampaignRunning {
		t.Errorf("the campaign: %v (%v), want running", cur, err)
	}
}

// A relay that refuses every message for good (here 554 5.7.1 to every one: a policy that
// rejects the notice, an account the relay has blocked) would fail the whole campaign in
// minutes: after DefaultFailureStreak failures in a row with none sent, the engine pauses it,
// and its status says why.
func TestSend_NoticesFailingInARowPauseTheCampaign(t *testing.T) {
	w := newWorld(t)
	w.sink.Fault = func(string, []byte) error {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "message rejected by policy"}
	}
	w.cfg.Concurrency, w.cfg.Parallel, w.cfg.EmailParallel = 2, 2, 2 // few in flight when it trips
	const n = 400
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, 30*time.Second, "paused, its last outcomes recorded", func(s *breach.CampaignStatus) bool {
		return s.State == breach.CampaignPaused && s.ByChannel[breach.ChannelEmail][breach.DeliverySending] == 0
	})
	failed := s.ByChannel[breach.ChannelEmail][breach.DeliveryFailed]
	// The streak, and the sends in flight when it ended (2 tasks × 2 at a time).
	if failed < DefaultFailureStreak || failed > DefaultFailureStreak+4 {
		t.Errorf("%d emails failed before the pause, want %d and the few in flight\n%s", failed, DefaultFailureStreak, tail(w.logs.String(), 3000))
	}
	if !strings.Contains(s.Stalled(), "paused by breachnotice: 25 email notices in a row failed for good") {
		t.Errorf("the status does not say why the campaign paused: %q", s.Stalled())
	}
	time.Sleep(time.Second)
	if s2, err := w.db.CampaignStatus(context.Background(), c.ID); err != nil || s2.ByChannel[breach.ChannelEmail][breach.DeliveryFailed] > failed {
		t.Errorf("emails went on failing after the pause: %d then %v (%v)", failed, s2.ByChannel[breach.ChannelEmail], err)
	}
	var actor, reason string
	err := w.pool.QueryRow(context.Background(), `SELECT actor, detail->>'reason' FROM audit_log WHERE campaign_id = $1 AND action = $2 ORDER BY id DESC LIMIT 1`,
		c.ID, breach.ActionCampaignPause).Scan(&actor, &reason)
	if err != nil || actor != "system" || !strings.Contains(reason, "in a row failed for good") {
		t.Errorf("audit of the pause: actor %q reason %q (%v)", actor, reason, err)
	}
	// Resumed by an operator, the count starts again: it sends once the relay takes mail.
	w.sink.Fault = nil
	if _, err := w.db.MoveCampaign(context.Background(), c.ID, "operator", breach.CampaignPaused, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	w.wait(c, 60*time.Second, "sending again", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] > 0
	})
}

func TestFailureStreaks_ASentNoticeStartsTheCountAgain(t *testing.T) {
	var f failureStreaks
	k := lineKey{campaign: "c", ch: breach.ChannelEmail}
	failed := breach.Outcome{State: breach.DeliveryFailed, Refused: true}
	sent := breach.Outcome{State: breach.DeliverySent}
	retried := breach.Outcome{State: breach.DeliveryQueued}
	add := func(k lineKey, os ...breach.Outcome) (tripped int) {
		for _, o := range os {
			tripped = max(tripped, f.add(k, o, 4))
		}
		return tripped
	}
	if got := add(k, failed, failed, retried, failed); got != 0 {
		t.Errorf("3 failures tripped at %d", got)
	}
	if got := add(k, sent, failed, failed, failed); got != 0 {
		t.Errorf("a sent notice between did not start the count again: tripped at %d", got)
	}
	if got := add(k, failed); got != 4 {
		t.Errorf("the fourth failure in a row: tripped %d, want 4", got)
	}
	if got := add(lineKey{campaign: "c", ch: breach.ChannelSMS}, failed, failed, failed); got != 0 {
		t.Errorf("the channels share a count: tripped %d", got)
	}
	// A run of landlines or dead mailboxes, or of retries running out, is the customers', not
	// the provider's: not counted.
	theirs := breach.Outcome{State: breach.DeliveryFailed}
	k2 := lineKey{campaign: "d", ch: breach.ChannelSMS}
	if got := add(k2, theirs, theirs, theirs, theirs, theirs, failed); got != 0 {
		t.Errorf("failures not refusals tripped at %d", got)
	}
}

// Once the relay is fixed, the notices it failed for good are sent again (RequeueFailed): each
// customer nothing had reached gets their email, once; a customer whose SMS went out instead
// gets no email on top.
func TestRequeueFailed_SendsAgainWhatTheBrokenRelayFailed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	broken := w.brokenRelay()
	w.cfg.Concurrency, w.cfg.Parallel, w.cfg.EmailParallel = 2, 2, 2
	const n = 100
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	w.wait(c, 30*time.Second, "paused", func(s *breach.CampaignStatus) bool {
		return s.State == breach.CampaignPaused && s.ByChannel[breach.ChannelEmail][breach.DeliverySending] == 0
	})
	if _, err := w.db.RequeueFailed(ctx, c.ID, "operator", breach.ChannelEmail); breach.ErrorCode(err) != "" {
		t.Fatalf("requeue while paused: %v", err)
	}
	broken.Store(false)
	if _, err := w.db.MoveCampaign(ctx, c.ID, "operator", breach.CampaignPaused, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	w.wait(c, time.Minute, "completed", completed)
	got := w.received()
	var smsSent int
	for i := range n {
		if i%5 == 0 {
			continue // no email address
		}
		if got[w.email(i)] > 1 {
			t.Errorf("customer %d got %d emails", i, got[w.email(i)])
		}
		if i%2 == 0 && w.emailState(c, i) == breach.DeliveryFailed {
			smsSent++ // reached by SMS instead: the email stays failed
			continue
		}
		if got[w.email(i)] != 1 {
			t.Errorf("customer %d (no SMS sent) got %d emails after the relay was fixed, want 1 (email %s)", i, got[w.email(i)], w.emailState(c, i))
		}
	}
	var audited int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE campaign_id = $1 AND action = $2 AND (detail->>'requeued')::int > 0`,
		c.ID, breach.ActionCampaignRequeue).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("audit rows of the requeue: %d (%v)", audited, err)
	}
	t.Logf("customers reached by SMS instead: %d", smsSent)
	// Completed, with every customer reached one way or the other: nothing to send again, and
	// the campaign stays completed.
	if n, err := w.db.RequeueFailed(ctx, c.ID, "operator", breach.ChannelEmail); err != nil || n != 0 {
		t.Errorf("requeue of a completed campaign that reached everyone: %d, %v; want 0", n, err)
	}
	if st, err := w.db.CampaignStatus(ctx, c.ID); err != nil || st.State != breach.CampaignCompleted {
		t.Errorf("after an empty requeue: %+v, %v; want completed", st, err)
	}
}

// A campaign that completed with notices a relay refused for good — too few in a row to pause
// it — runs again when they are put back, sends each once, and completes again. Before, a
// completed campaign refused: those customers had no way to be told (acceptance walk).
func TestRequeueFailed_ACompletedCampaignRunsAgainForWhatFailed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	broken := w.brokenRelay()
	const n = 20 // 16 with an email: fewer failures in a row than pause a campaign
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	w.wait(c, 30*time.Second, "completed with failures", completed)
	broken.Store(false)
	requeued, err := w.db.RequeueFailed(ctx, c.ID, "operator", breach.ChannelEmail)
	if err != nil || requeued == 0 {
		t.Fatalf("requeue of a completed campaign with failed notices: %d, %v", requeued, err)
	}
	w.wait(c, time.Minute, "completed again", completed)
	got := w.received()
	var sent int
	for i := range n {
		if got[w.email(i)] > 1 {
			t.Errorf("customer %d got %d emails", i, got[w.email(i)])
		}
		sent += got[w.email(i)]
	}
	if int64(sent) != requeued {
		t.Errorf("%d emails after the requeue of %d", sent, requeued)
	}
	var reopened int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE campaign_id = $1 AND action = $2 AND (detail->>'reopened')::boolean`,
		c.ID, breach.ActionCampaignRequeue).Scan(&reopened); err != nil || reopened != 1 {
		t.Errorf("audit rows of the reopening requeue: %d (%v)", reopened, err)
	}
}

// A healthy campaign whose full mailboxes (452, temporary) run out of retries together at its
// end is not paused: those are the customers' mailboxes, not the relay refusing everyone
// (review: such a campaign ended paused, "check the relay").
func TestSend_RetriesRunningOutAtTheEndDoNotPauseTheCampaign(t *testing.T) {
	w := newWorld(t)
	full := map[string]bool{}
	const n = 1000
	for i := range n {
		if i%33 == 1 && i%5 != 0 { // about 3 % of the list, scattered
			full[w.email(i)] = true
		}
	}
	w.sink.Fault = func(to string, _ []byte) error {
		if full[to] {
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
		}
		return nil
	}
	w.cfg.MaxAttempts = 3
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, 90*time.Second, "completed or paused", func(s *breach.CampaignStatus) bool {
		return s.State == breach.CampaignCompleted || (s.State == breach.CampaignPaused && s.ByChannel[breach.ChannelEmail][breach.DeliverySending] == 0)
	})
	if s.State != breach.CampaignCompleted || s.ByChannel[breach.ChannelEmail][breach.DeliveryFailed] < int64(len(full)) {
		t.Errorf("%d full mailboxes: the campaign is %s (%q), email %v; want it completed, those failed", len(full), s.State, s.Stalled(), s.ByChannel[breach.ChannelEmail])
	}
}

// An email task holds as many emails in flight as keep the Mailer's connections busy, twice
// over, and no fewer than minEmailParallel: more connections than tasks × 8 are not left idle.
func TestNew_EmailsInFlightFollowTheMailersConnections(t *testing.T) {
	w := newWorld(t)
	w.cfg.Concurrency = 4
	for _, tt := range []struct{ conns, want int }{{8, minEmailParallel}, {64, 32}, {65, 33}} {
		mail := email.NewSender(email.Config{Host: "127.0.0.1", Port: 25, TLS: email.TLSNone}, nil, tt.conns)
		if got := w.engine(mail).cfg.EmailParallel; got != tt.want {
			t.Errorf("%d connections over 4 tasks: %d emails in flight a task, want %d", tt.conns, got, tt.want)
		}
		mail.Close()
	}
}

// Two relays that both refuse every message (one account suspended behind two endpoints, a
// sender domain verified on neither) pause the campaign as one such relay does. Once both
// were set aside for refusing, every later notice was answered "no relay for now", retried
// until it gave up, and the campaign completed with every email failed (review).
func TestSend_TwoRelaysRefusingEverythingPauseTheCampaign(t *testing.T) {
	w := newWorld(t)
	_, s := w.sendOnTwoRelays(func(string, []byte) error {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "message rejected by policy"}
	})
	if s.State != breach.CampaignPaused {
		t.Errorf("two relays refusing everything: campaign %s (email %v), want paused as with one relay", s.State, s.ByChannel[breach.ChannelEmail])
	}
}

// Two healthy relays that refuse unknown mailboxes at the end of the data (550 5.1.1, as
// relays verifying recipients after DATA answer). The list holds a run of dead mailboxes
// (c11..c19; the failure guard's own comment: "a list sorted by domain may hold a run of dead
// mailboxes"). The campaign completes, every live customer is sent, only the dead ones fail.
// With refusals counted toward the relays' breakers, both healthy relays were set aside and 18
// live customers failed "no such mailbox" with another's refusal (review).
func TestSend_ARunOfStaleAddressesOnTwoRelaysFailsNoLiveCustomer(t *testing.T) {
	w := newWorld(t)
	stale := map[string]bool{}
	for i := 11; i <= 19; i++ {
		stale[w.email(i)] = true
	}
	c, s := w.sendOnTwoRelays(func(to string, _ []byte) error {
		if stale[to] {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: Recipient address rejected: User unknown"}
		}
		return nil
	})
	rows, err := w.pool.Query(context.Background(), `SELECT r.email, d.error FROM deliveries d JOIN recipients r ON r.id = d.recipient_id
		WHERE d.campaign_id = $1 AND d.channel = 'email' AND d.state = 'failed'`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	liveFailed, staleFailed := 0, 0
	var sample []string
	for rows.Next() {
		var addr, e string
		if err := rows.Scan(&addr, &e); err != nil {
			t.Fatal(err)
		}
		if stale[addr] {
			staleFailed++
			continue
		}
		liveFailed++
		if len(sample) < 3 {
			sample = append(sample, addr+": "+e)
		}
	}
	if s.State != breach.CampaignCompleted || liveFailed > 0 || staleFailed == 0 {
		t.Errorf("healthy relays, 9 dead mailboxes: campaign %s, %d live and %d dead failed for good (%s); want completed, no live one failed",
			s.State, liveFailed, staleFailed, strings.Join(sample, " | "))
	}
}

// sendOnTwoRelays sends a campaign of 400 customers through two relays — the world's sink and
// a second one — that both answer each message's data with fault, and waits until it is
// paused or completed.
func (w *world) sendOnTwoRelays(fault func(to string, data []byte) error) (*breach.Campaign, *breach.CampaignStatus) {
	w.t.Helper()
	second := smtpsink.StartTB(w.t)
	w.sink.Fault, second.Fault = fault, fault
	relay := func(port int) email.Relay {
		return email.Relay{Config: email.Config{Host: "127.0.0.1", Port: port, TLS: email.TLSNone, Timeout: 2 * time.Second},
			Name: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Weight: 1}
	}
	pool := email.NewPool([]email.Relay{relay(w.sink.Port()), relay(second.Port())}, nil, email.PoolOptions{Conns: 2})
	w.t.Cleanup(func() { pool.Close() })
	w.cfg.Concurrency, w.cfg.Parallel, w.cfg.EmailParallel = 2, 2, 2
	c := w.campaign(400, nil)
	stop := w.run(w.engine(pool))
	defer stop()
	w.start(c)
	return c, w.wait(c, time.Minute, "paused or completed", func(s *breach.CampaignStatus) bool {
		return s.State == breach.CampaignPaused || s.State == breach.CampaignCompleted
	})
}

// brokenRelay makes the world's relay refuse every message (554 5.7.1: an account suspended)
// until the flag it returns is cleared.
func (w *world) brokenRelay() *atomic.Bool {
	var broken atomic.Bool
	broken.Store(true)
	w.sink.Fault = func(string, []byte) error {
		if broken.Load() {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "account suspended"}
		}
		return nil
	}
	return &broken
}
