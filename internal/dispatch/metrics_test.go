package dispatch

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/metrics"
	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

// metricValue reads one series of m's scrape (-1 when absent).
func metricValue(t *testing.T, m *metrics.Metrics, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

// Every outcome the engine records is counted once in notices_total, so that the counters
// agree with the record: sends, permanent failures, suppressions (found at claim time) and
// transient failures put back in the queue (retried); every provider round trip is timed.
func TestSend_MetricsCountEveryRecordedOutcomeOnce(t *testing.T) {
	w := newWorld(t)
	const n = 140
	// Customer i's email: i%7 == 1 gets 451 on the first try, i%7 == 2 gets 550 every time.
	kind := map[string]int{}
	for i := range n {
		kind[w.email(i)] = i % 7
	}
	seen := &attempts{n: map[string]int{}}
	w.sink.Fault = func(to string, _ []byte) error {
		switch try := seen.next(to); {
		case kind[to] == 1 && try == 1:
			return smtpsink.Reply(451)
		case kind[to] == 2:
			return smtpsink.Reply(550)
		}
		return nil
	}
	m := metrics.New(string(breach.ChannelEmail), string(breach.ChannelSMS))
	w.cfg.Metrics = m
	c := w.campaign(n, nil)
	suppressed := []int{3, 4} // kind 3 and 4: no fault of their own
	for _, i := range suppressed {
		if _, err := w.pool.Exec(context.Background(), `INSERT INTO suppressions (channel, address, source) VALUES ('email', $1, 'test')`, w.email(i)); err != nil {
			t.Fatal(err)
		}
	}
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, time.Minute, "completed", completed)

	retried := 0
	for i := range n {
		if i%5 != 0 && i%7 == 1 {
			retried++
		}
	}
	email, text := s.ByChannel[breach.ChannelEmail], s.ByChannel[breach.ChannelSMS]
	for series, want := range map[string]int64{
		`breachnotice_notices_total{channel="email",state="sent"}`:       email[breach.DeliverySent],
		`breachnotice_notices_total{channel="email",state="failed"}`:     email[breach.DeliveryFailed],
		`breachnotice_notices_total{channel="email",state="suppressed"}`: email[breach.DeliverySuppressed],
		`breachnotice_notices_total{channel="email",state="retried"}`:    int64(retried),
		`breachnotice_notices_total{channel="sms",state="sent"}`:         text[breach.DeliverySent],
		// Every attempt handed to the relay: the sends, the 550s, the 451s.
		`breachnotice_send_duration_seconds_count{channel="email"}`: email[breach.DeliverySent] + email[breach.DeliveryFailed] + int64(retried),
		`breachnotice_send_duration_seconds_count{channel="sms"}`:   text[breach.DeliverySent],
	} {
		if got := metricValue(t, m, series); got != float64(want) {
			t.Errorf("%s = %v, want %d (status %+v)", series, got, want, s.ByChannel)
		}
	}
	if email[breach.DeliverySuppressed] != int64(len(suppressed)) || email[breach.DeliveryFailed] == 0 || retried == 0 {
		t.Fatalf("the campaign did not exercise every outcome: %+v", s.ByChannel)
	}
	if got := metricValue(t, m, `breachnotice_rate_limit_wait_seconds_count{channel="email"}`); got != -1 {
		t.Errorf("rate_limit_wait_seconds_count{email} = %v with no rate set; want no series", got)
	}
}
