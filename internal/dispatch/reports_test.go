package dispatch

import (
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/optout"
)

// TestReports_MessagesCarryTheirDeliverysSignedReportToken: what the providers echo back — the
// SMS status callback URL, the email Message-ID — names the delivery, signed as a report token
// (not an opt-out one).
func TestReports_MessagesCarryTheirDeliverysSignedReportToken(t *testing.T) {
	e := &Engine{cfg: Config{PublicURL: "https://notice.andinatel.example", Secret: testSecret}}
	c := &breach.Campaign{ID: "6f1f3e56-0000-4000-8000-000000000001"}
	c.Sender.Email = "seguridad@notificaciones.andinatel.example"
	r := &breach.Recipient{ID: 77, Email: "ana@example.com", Phone: "+51987654321"}
	n := &notice.Notice{Subject: "Aviso", Text: "texto", HTML: "<p>texto</p>"}
	n.SMS.Body = "aviso"

	callback := smsMessage(n, r.Phone, e.statusCallback(c.ID, r.ID)).StatusCallback
	tok, ok := strings.CutPrefix(callback, "https://notice.andinatel.example"+TwilioStatusPath+"/")
	if !ok {
		t.Fatalf("StatusCallback = %q", callback)
	}
	want := optout.Target{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelSMS}
	if got, err := optout.ParseReport(testSecret, tok); err != nil || got != want {
		t.Errorf("callback token names %+v, %v; want %+v", got, err, want)
	}
	if _, err := optout.Parse(testSecret, tok); err == nil {
		t.Error("the callback token works as an opt-out token")
	}

	m := e.customerEmail(c, n, r)
	local, ok := email.MessageIDLocal(m.MessageID)
	if !ok || !strings.HasSuffix(m.MessageID, "@notificaciones.andinatel.example>") {
		t.Fatalf("Message-ID = %q, want <token@the sender's domain>", m.MessageID)
	}
	want.Channel = breach.ChannelEmail
	if got, err := optout.ParseReport(testSecret, local); err != nil || got != want {
		t.Errorf("Message-ID token names %+v, %v; want %+v", got, err, want)
	}
	if _, err := email.Build(m, nil); err != nil {
		t.Errorf("the message does not build with its Message-ID: %v", err)
	}

	e.cfg.PublicURL = ""
	if got := e.statusCallback(c.ID, r.ID); got != "" {
		t.Errorf("without PUBLIC_URL, StatusCallback = %q, want none", got)
	}
}
