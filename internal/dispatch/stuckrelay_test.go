package dispatch

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
)

// A cancel stops the notices waiting for a connection to a relay that never answers: they are
// released and recorded failed, never sent, at once — they went on waiting for the relay's
// dials and went out up to 40 s after the cancel (a review), the wrong notice an incident team
// cancels among them.
func TestLifecycle_CancelStopsTheNoticesWaitingForAStuckRelay(t *testing.T) {
	w := newWorld(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		held []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never greeted
			mu.Unlock()
		}
	}()
	defer func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	stuck := email.NewSender(email.Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, TLS: email.TLSNone, Timeout: 20 * time.Second}, nil, 2)
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
