package dispatch

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

// A cancel stops the notices waiting for a connection to a relay that never answers: they are
// released and recorded failed, never sent, at once — they went on waiting for the relay's
// dials and went out up to 40 s after the cancel (a review), the wrong notice an incident team
// cancels among them.
func TestLifecycle_CancelStopsTheNoticesWaitingForAStuckRelay(t *testing.T) {
	w := newWorld(t)
	port := smtpsink.HangingTB(t)
	stuck := email.NewSender(email.Config{Host: "127.0.0.1", Port: port, TLS: email.TLSNone, Timeout: 20 * time.Second}, nil, 2)
	defer stuck.Close()
	const n = 60
	c := w.campaign(n, nil)
	stop := w.run(w.engine(stuck))
	defer stop()
	w.start(c)
	w.wait(c, time.Minute, "emails waiting for the relay", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySending] >= 10
	})
	if _, err := w.db.MoveCampaign(context.Background(), c.ID, "operator", "", breach.CampaignCancelled); err != nil {
		t.Fatal(err)
	}
	// Within moments (the relay's dials would take 20 s each, two at a time).
	s := w.wait(c, 5*time.Second, "the waiting emails settled", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySending] == 0
	})
	if got := s.ByChannel[breach.ChannelEmail]; got[breach.DeliverySent] != 0 || got[breach.DeliveryFailed] != n*4/5 {
		t.Errorf("emails after the cancel %v, want all %d failed, none sent", got, n*4/5)
	}
}

// slowMailer is a relay that takes delay to answer each message, whatever the context says.
type slowMailer struct {
	next  Mailer
	delay time.Duration
}

func (m slowMailer) Send(ctx context.Context, msg email.Message) (string, error) {
	time.Sleep(m.delay)
	return m.next.Send(context.WithoutCancel(ctx), msg)
}

// A stopping worker waits for its send tasks past asynq's ShutdownTimeout, for as long as a
// relay that answers late takes (HandlerGrace at most): its caller closes the database once Run
// returns, and a task still recording then left its notices sending, to be sent again (a
// review: "closed pool", 177 left sending, one sent twice).
func TestRun_AStoppingWorkerRecordsWhatARelayTookLate(t *testing.T) {
	w := newWorld(t)
	w.cfg.ShutdownTimeout = 500 * time.Millisecond
	c := w.campaign(40, nil)
	stop := w.run(w.engine(slowMailer{next: w.mailer, delay: 2 * time.Second}))
	w.start(c)
	w.wait(c, time.Minute, "emails with the relay", func(s *breach.CampaignStatus) bool {
		return s.ByChannel[breach.ChannelEmail][breach.DeliverySending] > 0
	})
	stop()
	var sending int64
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND state = 'sending'`, c.ID).Scan(&sending); err != nil {
		t.Fatal(err)
	}
	if sending != 0 {
		t.Errorf("%d notices left sending when Run returned, want every one the relay took recorded and the rest released", sending)
	}
}

// A notice the relay may have taken without answering (its verdict came after the sender's
// timeout) is tried once more, not at each of MaxAttempts: a relay answering late delivered a
// copy at every attempt (a review: up to 8). The second such attempt fails it, saying why, and
// the record counts the copies as possible duplicates at most.
func TestSend_ANoticeMaybeDeliveredTwiceIsNotTriedAgain(t *testing.T) {
	w := newWorld(t)
	slow := w.email(3)
	w.sink.Fault = func(to string, _ []byte) error {
		if to == slow {
			time.Sleep(2500 * time.Millisecond) // the world's sender waits 2 s for the verdict
		}
		return nil
	}
	c := w.campaign(10, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	w.wait(c, time.Minute, "completed", completed)
	time.Sleep(time.Second) // the relay's late verdict on the last attempt: its copy lands after the sender gave up
	if got := w.received()[slow]; got != 2 {
		t.Errorf("the slow relay got the notice %d times, want 2 (the first attempt, and one more)", got)
	}
	var state, reason string
	if err := w.pool.QueryRow(context.Background(), `SELECT d.state, d.error FROM deliveries d JOIN recipients r
		ON r.campaign_id = d.campaign_id AND r.id = d.recipient_id
		WHERE d.campaign_id = $1 AND d.channel = 'email' AND r.email = $2`, c.ID, slow).Scan(&state, &reason); err != nil {
		t.Fatal(err)
	}
	if state != "failed" || !strings.Contains(reason, "may have been delivered by 2 attempts") {
		t.Errorf("the slow relay's notice: %s, %q; want failed, saying it may have been delivered twice", state, reason)
	}
}

// An SMS provider's 5xx is "possibly sent" too, but most likely delivered nothing: a short
// outage of the provider is retried through, not failed at its second 503 (the review of the
// cap on maybe-delivered notices, which failed every SMS of such an outage for good).
func TestSend_AnSMSProviderOutageIsRetriedThrough(t *testing.T) {
	w := newWorld(t)
	var mu sync.Mutex
	refused := map[string]int{}
	w.twilio.respond = func(rw http.ResponseWriter, to string) bool {
		mu.Lock()
		defer mu.Unlock()
		if refused[to] < 3 {
			refused[to]++
			http.Error(rw, `{"code":20500,"message":"Internal Server Error"}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	c := w.campaign(10, nil) // customer 0 has only a phone
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, time.Minute, "completed", completed)
	if got := s.ByChannel[breach.ChannelSMS]; got[breach.DeliverySent] != 1 || got[breach.DeliveryFailed] != 0 {
		t.Errorf("SMS after three 503s: %v, want it sent", got)
	}
}
