package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/metrics"
)

// A provider report is counted in notices_total once when it changes its delivery (delivered,
// bounced), never again for a duplicate or a late report the record refuses; the counts carry
// no address, token or Message-ID.
func TestProviderReports_CountedOncePerChangeOfState(t *testing.T) {
	m := metrics.New(string(breach.ChannelEmail), string(breach.ChannelSMS))
	h := newHooks(t, func(s *api.Server) { s.Metrics = m })

	path := dispatch.TwilioStatusPath + "/" + h.reportToken("W3", breach.ChannelSMS)
	for range 2 { // Twilio repeats itself
		if resp, body := h.twilio(path, statusForm("delivered", ""), whTwilioToken); resp.StatusCode != http.StatusOK {
			t.Fatalf("delivered: %d %s", resp.StatusCode, body)
		}
	}
	path = dispatch.TwilioStatusPath + "/" + h.reportToken("S0", breach.ChannelSMS)
	h.twilio(path, statusForm("undelivered", "30005"), whTwilioToken)
	h.twilio(path, statusForm("delivered", ""), whTwilioToken) // late: the bounce stands
	delivered := fmt.Sprintf(`{"events":[{"message_id":%q,"type":"delivered"}]}`, h.messageID("W2"))
	for range 2 {
		if resp, body := h.postEvents(delivered, whSecret, time.Now()); resp.StatusCode != http.StatusOK {
			t.Fatalf("email delivered: %d %s", resp.StatusCode, body)
		}
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`breachnotice_notices_total{channel="sms",state="delivered"} 1`,
		`breachnotice_notices_total{channel="sms",state="bounced"} 1`,
		`breachnotice_notices_total{channel="email",state="delivered"} 1`,
		`breachnotice_notices_total{channel="email",state="bounced"} 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	for _, secret := range []string{h.addr["W3.sms"], h.addr["W2.email"], h.reportToken("W3", breach.ChannelSMS)} {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("scrape contains %q", secret)
		}
	}
}
