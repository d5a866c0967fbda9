package dispatch

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

// wantLocale is the notice language of customer i (the list gives no locale: the country
// decides, see world.customers).
func wantLocale(i int) string { return []string{"es", "en", "fr", "ko"}[i%4] }

// Every customer of a list of thousands gets one notice, DKIM-signed, in their language, on
// their channel. (Ten thousand took 80 s of the suite under -race, three quarters of it sending;
// every check is per customer, so 2,500 hold each as well: the benchmark sends the millions.)
func TestSend_EveryRecipientOfThousandsGetsOneSignedLocalizedNotice(t *testing.T) {
	w := newWorld(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	signer, err := email.LoadDKIM("notificaciones.andinatel.com.pe", "bn2026", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	mailer := email.NewSender(email.Config{Host: "127.0.0.1", Port: w.sink.Port(), TLS: email.TLSNone, Timeout: 5 * time.Second}, signer, 8)
	defer mailer.Close()

	const n = 2_500
	c := w.campaign(n, nil)
	stop := w.run(w.engine(mailer))
	defer stop()
	w.start(c)
	s := w.wait(c, 5*time.Minute, "completed", completed)

	record := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	lookup := func(domain string) ([]string, error) {
		if domain != "bn2026._domainkey.notificaciones.andinatel.com.pe" {
			return nil, fmt.Errorf("no record for %s", domain)
		}
		return []string{record}, nil
	}
	byTo := map[string]smtpsink.Message{}
	for _, m := range w.sink.Messages() {
		if _, dup := byTo[m.To[0]]; dup {
			t.Errorf("a second message to %s", m.To[0])
		}
		byTo[m.To[0]] = m
	}
	sms := w.twilio.counts()
	checked := 0
	for i := range n {
		switch {
		case i%5 != 0:
			m, ok := byTo[w.email(i)]
			if !ok {
				t.Errorf("customer %d: no email", i)
				continue
			}
			if sms[w.phone(i)] != 0 {
				t.Errorf("customer %d has an email and got %d SMS too", i, sms[w.phone(i)])
			}
			checkNotice(t, i, m.Data, wantLocale(i), lookup)
			checked++
		case i%2 == 0:
			if sms[w.phone(i)] != 1 {
				t.Errorf("SMS-only customer %d: %d SMS, want 1", i, sms[w.phone(i)])
			}
		}
		if t.Failed() && i > 50 {
			t.FailNow()
		}
	}
	if got := s.ByChannel[breach.ChannelEmail][breach.DeliverySent]; got != int64(checked) {
		t.Errorf("status says %d emails sent, the sink has %d", got, checked)
	}
	if got := s.ByChannel[breach.ChannelSMS][breach.DeliverySent]; got != int64(n/10) {
		t.Errorf("status says %d SMS sent, want %d", got, n/10)
	}
}

// checkNotice checks one received email: its DKIM signature verifies, it carries the RFC 8058
// one-click opt-out headers, and its HTML is in the customer's language.
func checkNotice(t *testing.T, i int, raw []byte, locale string, lookup func(string) ([]string, error)) {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Errorf("customer %d: DKIM does not verify: %v %+v", i, err, vs)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("customer %d: %v", i, err)
	}
	if got := msg.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("customer %d: List-Unsubscribe-Post = %q", i, got)
	}
	if got := msg.Header.Get("List-Unsubscribe"); !strings.HasPrefix(got, "<https://notice.andinatel.example/u/") {
		t.Errorf("customer %d: List-Unsubscribe = %q", i, got)
	}
	html := htmlPart(t, msg)
	if m := regexp.MustCompile(`<html lang="([a-z]+)"`).FindStringSubmatch(html); m == nil || m[1] != locale {
		t.Errorf("customer %d: notice language %v, want %s", i, m, locale)
	}
}

// htmlPart returns the decoded text/html part of a multipart/alternative message.
func htmlPart(t *testing.T, msg *mail.Message) string {
	t.Helper()
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/html part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			var r io.Reader = p
			if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
				r = base64.NewDecoder(base64.StdEncoding, p)
			}
			b, _ := io.ReadAll(r)
			return string(b)
		}
	}
}

// attempts counts the messages the sink saw per recipient, accepted or not.
type attempts struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *attempts) next(to string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n[to]++
	return a.n[to]
}

func TestSend_RelayFaultsAreRetriedFailedOrFallenBack(t *testing.T) {
	w := newWorld(t)
	const n = 700
	// Customer i's email: i%7 == 1 gets 451 on the first try, i%7 == 2 gets 550 every time,
	// i%7 == 3 hangs on the first try (the client times out).
	kind := map[string]int{}
	for i := range n {
		kind[w.email(i)] = i % 7
	}
	seen := &attempts{n: map[string]int{}}
	hung := &attempts{n: map[string]int{}}
	w.sink.Hang = func(to string) bool { return kind[to] == 3 && hung.next(to) == 1 }
	w.sink.Fault = func(to string, _ []byte) error {
		try := seen.next(to)
		switch {
		case kind[to] == 1 && try == 1:
			return smtpsink.Reply(451)
		case kind[to] == 2:
			return smtpsink.Reply(550)
		}
		return nil
	}
	w.mailer = email.NewSender(email.Config{Host: "127.0.0.1", Port: w.sink.Port(), TLS: email.TLSNone, Timeout: time.Second}, nil, 8)
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, 2*time.Minute, "completed", completed)

	got, sms := w.received(), w.twilio.counts()
	failed := 0
	for i := range n {
		if i%5 == 0 {
			continue // SMS-only
		}
		switch i % 7 {
		case 2:
			failed++
			if got[w.email(i)] != 0 {
				t.Errorf("customer %d: a 550 was accepted", i)
			}
			want := 0
			if i%2 == 0 {
				want = 1 // falls back to SMS
			}
			if sms[w.phone(i)] != want {
				t.Errorf("customer %d: 550 on email, %d SMS, want %d", i, sms[w.phone(i)], want)
			}
		default:
			if got[w.email(i)] != 1 {
				t.Errorf("customer %d (fault %d): %d emails accepted, want exactly 1", i, i%7, got[w.email(i)])
			}
		}
	}
	if s.ByChannel[breach.ChannelEmail][breach.DeliveryFailed] != int64(failed) {
		t.Errorf("status: %d emails failed, want %d: %+v", s.ByChannel[breach.ChannelEmail][breach.DeliveryFailed], failed, s)
	}
	var errText string
	if err := w.pool.QueryRow(context.Background(), `SELECT error FROM deliveries WHERE campaign_id = $1 AND state = 'failed' LIMIT 1`, c.ID).Scan(&errText); err != nil || !strings.Contains(errText, "550") {
		t.Errorf("a failed delivery records %q (%v), want the 550", errText, err)
	}
}

func TestSend_SMSProviderFaults(t *testing.T) {
	w := newWorld(t)
	const n = 200
	// SMS-only customers (i%10 == 0): i%20 == 0 opted out at the carrier (21610); the others
	// get a 429 on their first try.
	tries := &attempts{n: map[string]int{}}
	optedOut := map[string]bool{}
	for i := 0; i < n; i += 20 {
		optedOut[w.phone(i)] = true
	}
	w.twilio.respond = func(rw http.ResponseWriter, to string) bool {
		rw.Header().Set("Content-Type", "application/json")
		if optedOut[to] {
			rw.WriteHeader(http.StatusBadRequest)
			io.WriteString(rw, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`)
			return true
		}
		if tries.next(to) == 1 {
			rw.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(rw, `{"code":20429,"message":"Too Many Requests","status":429}`)
			return true
		}
		return false
	}
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, time.Minute, "completed", completed)
	sms := w.twilio.counts()
	for i := 0; i < n; i += 10 {
		want := 1
		if optedOut[w.phone(i)] {
			want = 0
		}
		if sms[w.phone(i)] != want {
			t.Errorf("customer %d: %d SMS, want %d", i, sms[w.phone(i)], want)
		}
	}
	if got := s.ByChannel[breach.ChannelSMS][breach.DeliverySuppressed]; got != int64(len(optedOut)) {
		t.Errorf("suppressed SMS = %d, want %d", got, len(optedOut))
	}
	var listed int
	w.pool.QueryRow(context.Background(), `SELECT count(*) FROM suppressions WHERE channel = 'sms' AND campaign_id = $1`, c.ID).Scan(&listed)
	if listed != len(optedOut) {
		t.Errorf("%d numbers on the suppression list, want %d", listed, len(optedOut))
	}
}

func TestSend_SuppressedAddressesAreSkippedAndFallBack(t *testing.T) {
	w := newWorld(t)
	const n = 100
	c := w.campaign(n, nil)
	ctx := context.Background()
	for _, i := range []int{2, 3, 4} { // 2 and 4 have a phone, 3 has none
		if _, err := w.pool.Exec(ctx, `INSERT INTO suppressions (channel, address, source) VALUES ('email', $1, 'test')`, w.email(i)); err != nil {
			t.Fatal(err)
		}
	}
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, time.Minute, "completed", completed)
	got, sms := w.received(), w.twilio.counts()
	for _, i := range []int{2, 3, 4} {
		if got[w.email(i)] != 0 {
			t.Errorf("customer %d: suppressed, yet emailed", i)
		}
	}
	if sms[w.phone(2)] != 1 || sms[w.phone(4)] != 1 {
		t.Errorf("suppressed customers with a phone: SMS %d and %d, want 1 each", sms[w.phone(2)], sms[w.phone(4)])
	}
	if s.ByChannel[breach.ChannelEmail][breach.DeliverySuppressed] != 3 {
		t.Errorf("status: %+v, want 3 emails suppressed", s.ByChannel[breach.ChannelEmail])
	}
}

func TestSend_RedisFlushedMidCampaignLosesNothing(t *testing.T) {
	w := newWorld(t)
	w.cfg.EmailRate = 400 // about 5 s for the campaign: time to flush in the middle
	const n = 2500
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	w.wait(c, time.Minute, "a quarter sent", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] > n/4
	})
	if err := w.rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	w.wait(c, 2*time.Minute, "completed", completed)
	w.assertEachOnce(n)
}

// assertEachOnce checks that every customer with an email got exactly one.
func (w *world) assertEachOnce(n int) {
	w.t.Helper()
	got := w.received()
	for i := range n {
		if i%5 != 0 && got[w.email(i)] != 1 {
			w.t.Errorf("customer %d: %d emails, want exactly 1%s", i, got[w.email(i)], w.timeline(i))
		}
	}
}

// timeline is customer i's email timeline in the record of the test's campaigns, to tell why
// they got more than one.
func (w *world) timeline(i int) string {
	rows, err := w.pool.Query(context.Background(), `
		SELECT e.at, e.state, e.source, e.error FROM (
			SELECT campaign_id, recipient_id, channel, at, state, source, error FROM delivery_events
			UNION ALL -- a sent entry held on its delivery (migration 00025)
			SELECT campaign_id, recipient_id, channel, updated_at, state, source, error FROM deliveries
			WHERE state = 'sent' AND claimed_at IS NOT NULL
		) e
		JOIN recipients r ON r.campaign_id = e.campaign_id AND r.id = e.recipient_id
		WHERE r.email = $1 AND e.channel = 'email' ORDER BY e.at`, w.email(i))
	if err != nil {
		return ": " + err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var (
			at                   time.Time
			state, source, error string
		)
		if err := rows.Scan(&at, &state, &source, &error); err != nil {
			return ": " + err.Error()
		}
		fmt.Fprintf(&b, "\n\t%s %s by %s %s", at.Format("15:04:05.000"), state, source, error)
	}
	return b.String()
}

func TestSend_StoppedWorkerLeavesNothingSendingAndAnotherFinishes(t *testing.T) {
	w := newWorld(t)
	w.cfg.EmailRate = 300
	const n = 1500
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	w.start(c)
	w.wait(c, time.Minute, "some sent", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] > 100
	})
	stop()
	s := w.wait(c, time.Second, "stopped", func(*breach.CampaignStatus) bool { return true })
	if sending := s.ByChannel[breach.ChannelEmail][breach.DeliverySending]; sending != 0 {
		t.Errorf("a gracefully stopped worker left %d notices sending", sending)
	}
	if s.State == breach.CampaignCompleted {
		t.Fatal("the campaign completed before the worker was stopped; nothing tested")
	}
	stop = w.run(w.engine(nil))
	defer stop()
	w.wait(c, time.Minute, "completed", completed)
	w.assertEachOnce(n)
}

func TestLifecycle_PauseStopsSendingResumeFinishesCancelSettles(t *testing.T) {
	w := newWorld(t)
	w.cfg.EmailRate = 300
	const n = 1500
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	ctx := context.Background()
	w.start(c)
	w.wait(c, time.Minute, "some sent", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] > 100
	})
	if _, err := w.db.MoveCampaign(ctx, c.ID, "operator", breach.CampaignRunning, breach.CampaignPaused); err != nil {
		t.Fatal(err)
	}
	// Within seconds what was in flight has landed (a count unchanged for a second), and then
	// nothing more leaves.
	settled := time.Now().Add(5 * time.Second)
	for before := int64(-1); ; {
		time.Sleep(time.Second)
		now := w.sink.Count()
		if now == before {
			break
		}
		if time.Now().After(settled) {
			t.Fatalf("paused 5 s ago, emails still leave (%d sent)", now)
		}
		before = now
	}
	before := w.sink.Count()
	time.Sleep(time.Second)
	if after := w.sink.Count(); after != before {
		t.Errorf("paused, yet %d more emails were sent", after-before)
	}
	s := w.wait(c, time.Second, "paused", func(*breach.CampaignStatus) bool { return true })
	if s.State != breach.CampaignPaused || s.ByChannel[breach.ChannelEmail][breach.DeliveryQueued] == 0 {
		t.Fatalf("after pause: %+v", s)
	}
	if _, err := w.db.MoveCampaign(ctx, c.ID, "operator", breach.CampaignPaused, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	w.wait(c, time.Minute, "completed", completed)
	w.assertEachOnce(n)

	// Cancel: a second campaign stopped midway settles everything unsent as failed.
	w2 := *w
	w2.tag += "b"
	c2 := w2.campaign(n, nil)
	w2.start(c2)
	w2.wait(c2, time.Minute, "some sent", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] > 50
	})
	if _, err := w.db.MoveCampaign(ctx, c2.ID, "operator", "", breach.CampaignCancelled); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	s = w2.wait(c2, 5*time.Second, "settled", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySending] == 0
	})
	sent, failed := s.ByChannel[breach.ChannelEmail][breach.DeliverySent], s.ByChannel[breach.ChannelEmail][breach.DeliveryFailed]
	if s.State != breach.CampaignCancelled || sent+failed != int64(n*4/5) || failed == 0 || s.Remaining() != 0 {
		t.Errorf("after cancel: %+v", s)
	}
	var got int64
	for to, k := range w2.received() {
		if strings.Contains(to, "."+w2.tag+"@") {
			got += int64(k)
		}
	}
	if got != sent {
		t.Errorf("after cancel the sink has %d of this campaign's emails, the record says %d sent", got, sent)
	}
}

func TestLifecycle_StartIsRefusedUnlessApproved(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.campaign(10, nil)
	if _, err := w.db.MoveCampaign(ctx, c.ID, "operator", breach.CampaignRunning, breach.CampaignPaused); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("pausing an approved campaign: %v, want ECONFLICT", err)
	}
	if _, err := w.db.MoveCampaign(ctx, c.ID, "operator", "", breach.CampaignCancelled); err != nil {
		t.Fatal(err)
	}
	_, err := w.db.MoveCampaign(ctx, c.ID, "operator", breach.CampaignApproved, breach.CampaignRunning)
	if breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(breach.ErrorMessage(err), "cancelled") {
		t.Errorf("starting a cancelled campaign: %v, want ECONFLICT naming its state", err)
	}
	draft := &breach.Campaign{}
	*draft = *c
	if err := w.db.CreateCampaign(ctx, draft, "name: x"); err != nil {
		t.Fatal(err)
	}
	_, err = w.db.MoveCampaign(ctx, draft.ID, "operator", breach.CampaignApproved, breach.CampaignRunning)
	if breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(breach.ErrorMessage(err), "draft") {
		t.Errorf("starting a draft: %v, want ECONFLICT naming its state", err)
	}
}

func TestSend_RateLimitsAreSharedByAllWorkers(t *testing.T) {
	w := newWorld(t)
	// Two workers, one limit: 600 emails at 200/s across both take at least 2 s (the bucket
	// allows one second's burst), however fast the machine. Customers at slow.example are
	// limited to 10/s on top.
	w.cfg.EmailRate = 200
	w.cfg.DomainRates = map[string]int{"slow.example": 10}
	const n = 750 // 600 with an email
	c := w.campaign(n, nil)
	if _, err := w.pool.Exec(context.Background(), `
		UPDATE recipients SET email = replace(email, '@example.com', '@slow.example')
		WHERE campaign_id = $1 AND id IN (SELECT id FROM recipients WHERE campaign_id = $1 AND email IS NOT NULL ORDER BY id LIMIT 30)`, c.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		stop := w.run(w.engine(nil))
		defer stop()
	}
	start := time.Now()
	w.start(c)
	w.wait(c, 2*time.Minute, "completed", completed)
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("600 emails at 200/s across two workers took %v, want at least 2 s", took)
	}
	var slow []time.Time
	for _, m := range w.sink.Messages() {
		if strings.HasSuffix(m.To[0], "@slow.example") {
			slow = append(slow, m.At)
		}
	}
	if len(slow) != 30 {
		t.Fatalf("%d emails to slow.example, want 30", len(slow))
	}
	slices.SortFunc(slow, func(a, b time.Time) int { return a.Compare(b) })
	if span := slow[len(slow)-1].Sub(slow[0]); span < time.Second {
		t.Errorf("30 emails to slow.example at 10/s went out in %v, want at least 1 s after the burst", span)
	}
}

func TestSend_DatabaseConnectionsCutMidCampaignLoseNothing(t *testing.T) {
	w := newWorld(t)
	w.cfg.EmailRate = 400
	const n = 2500
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	// Cut every other connection to the database, as a PostgreSQL restart or failover does,
	// five times while the campaign sends: claims and records in flight fail and are retried.
	ctx := context.Background()
	for range 5 {
		w.wait(c, time.Minute, "sending", func(s *breach.CampaignStatus) bool {
			return s.ByChannel[breach.ChannelEmail][breach.DeliverySent] > 0
		})
		time.Sleep(500 * time.Millisecond)
		if _, err := w.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
	}
	s := w.wait(c, 2*time.Minute, "completed", completed)
	w.assertEachOnce(n)
	if s.ByChannel[breach.ChannelEmail][breach.DeliverySent] != n*4/5 {
		t.Errorf("status after the cuts: %+v", s.ByChannel[breach.ChannelEmail])
	}
	t.Logf("writes retried after a cut: %d", strings.Count(w.logs.String(), "outcomes not recorded yet"))
}
