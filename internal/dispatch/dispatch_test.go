package dispatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

func TestSend_EveryRecipientGetsExactlyOneNotice(t *testing.T) {
	w := newWorld(t)
	const n = 1000
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, 60*time.Second, "completed", completed)

	perTo := map[string]int{}
	for _, m := range w.sink.Messages() {
		perTo[m.To[0]]++
	}
	sms := w.twilio.counts()
	for i := range n {
		mail := fmt.Sprintf("c%d@example.com", i)
		phone := fmt.Sprintf("+519%08d", 10000000+i)
		switch {
		case i%5 != 0 && perTo[mail] != 1:
			t.Errorf("customer %d: %d emails, want 1", i, perTo[mail])
		case i%5 == 0 && i%2 == 0 && sms[phone] != 1:
			t.Errorf("SMS-only customer %d: %d SMS, want 1", i, sms[phone])
		case i%5 != 0 && sms[phone] != 0:
			t.Errorf("customer %d has an email but got %d SMS", i, sms[phone])
		}
	}
	if got := s.ByChannel[breach.ChannelEmail][breach.DeliverySent]; got != n*4/5 {
		t.Errorf("email sent = %d, want %d (%+v)", got, n*4/5, s)
	}
	t.Logf("status: %+v", s)
}
