package dispatch

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

// TestRelays_FailingRelaysAreSetAsideAndEveryCustomerGetsOneNotice sends a campaign through four
// relays (SMTP_URLS): two sound ones weighted 3:1, one refusing connections and one answering
// 421 to every message. The failing two are set aside after their first failures and their
// notices go to the others in the same attempt: every customer gets exactly one email, the
// sound relays share them about 3:1, and the campaign's status (as `campaign status --json`
// prints it) counts each relay's sent and failed.
func TestRelays_FailingRelaysAreSetAsideAndEveryCustomerGetsOneNotice(t *testing.T) {
	w := newWorld(t)
	heavy := w.sink // weight 3, with a rate of its own (a shared bucket in Redis)
	light := smtpsink.StartTB(t)
	busy := smtpsink.StartTB(t)
	busy.Fault = func(string, []byte) error { return smtpsink.Reply(421) }
	refusing := closedPort(t)

	relay := func(port, weight, rate int) email.Relay {
		return email.Relay{Config: email.Config{Host: "127.0.0.1", Port: port, TLS: email.TLSNone, Timeout: 2 * time.Second},
			Name: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Weight: weight, Rate: rate}
	}
	relays := []email.Relay{relay(heavy.Port(), 3, 5000), relay(refusing, 2, 0), relay(busy.Port(), 2, 0), relay(light.Port(), 1, 0)}
	pool := email.NewPool(relays, nil, email.PoolOptions{Conns: 4, Limiter: NewRelayLimits(w.rdb), SetAside: time.Minute})
	defer pool.Close()

	const n = 400
	c := w.campaign(n, nil)
	stop := w.run(w.engine(pool))
	defer stop()
	w.start(c)
	s := w.wait(c, time.Minute, "completed", completed)

	// Every email customer got exactly one email, from a sound relay.
	got := map[string]int{}
	for _, snk := range []*smtpsink.Sink{heavy, light, busy} {
		for _, m := range snk.Messages() {
			got[m.To[0]]++
		}
	}
	emails := 0
	for i := range n {
		if i%5 == 0 {
			continue
		}
		emails++
		if got[w.email(i)] != 1 {
			t.Errorf("customer %d got %d emails, want 1", i, got[w.email(i)])
		}
	}
	if sent := s.ByChannel[breach.ChannelEmail][breach.DeliverySent]; sent != int64(emails) {
		t.Errorf("status: %d emails sent, want %d", sent, emails)
	}
	if busy.Count() != 0 {
		t.Errorf("the relay answering 421 accepted %d messages", busy.Count())
	}
	// Once the failing relays are set aside, the sound ones share exactly 3:1; before, a few
	// notices went elsewhere after a failure. Roughly 3:1 then.
	if ratio := float64(heavy.Count()) / float64(max(light.Count(), 1)); ratio < 2.2 || ratio > 4 {
		t.Errorf("weights 3:1 split the emails %d:%d", heavy.Count(), light.Count())
	}

	counts := map[string]breach.RelayCount{}
	for _, rc := range s.Relays {
		counts[rc.Relay] = rc
	}
	for _, r := range []struct {
		relay   email.Relay
		sent    int64
		failing bool
	}{
		{relays[0], heavy.Count(), false}, {relays[3], light.Count(), false},
		{relays[1], 0, true}, {relays[2], 0, true},
	} {
		rc := counts[r.relay.Name]
		if rc.Sent != r.sent {
			t.Errorf("status: relay %s sent %d, its sink accepted %d", r.relay.Name, rc.Sent, r.sent)
		}
		switch {
		case r.failing && (rc.Failed < 3 || rc.SetAsideUntil == nil || !rc.SetAsideUntil.After(time.Now())):
			t.Errorf("status: failing relay %s: %+v, want at least 3 failures and set aside", r.relay.Name, rc)
		case !r.failing && (rc.Failed != 0 || rc.SetAsideUntil != nil):
			t.Errorf("status: sound relay %s: %+v, want no failure", r.relay.Name, rc)
		}
	}

	// campaign status --json prints the status as it is.
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"` + relays[0].Name + `","sent":` + strconv.FormatInt(heavy.Count(), 10) + `,"failed":0,"rejected":0}`; !strings.Contains(string(out), want) {
		t.Errorf("status JSON lacks %s:\n%s", want, out)
	}
	if !strings.Contains(string(out), `"name":"`+relays[1].Name+`","sent":0,"failed":`) || !strings.Contains(string(out), `"set_aside_until":"`) {
		t.Errorf("status JSON lacks the refusing relay's failures and set-aside time:\n%s", out)
	}

	// The per-relay counts are written per batch of outcomes, not per notice.
	var rows int
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM relay_counts WHERE campaign_id = $1`, c.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(relays) {
		t.Errorf("relay_counts has %d rows for the campaign, want one per relay (%d)", rows, len(relays))
	}
}

// closedPort is a port nobody listens on: connections to it are refused.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
