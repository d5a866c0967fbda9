package dispatch

import (
	"context"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/sms"
)

// TestSender sends real notices of real recipients to reviewers (`campaign test-send`), so
// that legal and communications staff read in their own mailbox and phone exactly what a
// customer will. It touches no delivery: nothing is recorded against the customers. Who may
// send tests, to whom and how many is the test-send operation's business (package operation);
// this is only the sending.
type TestSender struct {
	Renderer *notice.Renderer
	Mail     Mailer
	SMS      sms.Provider
}

// Send renders each recipient's notice and sends it to every reviewer address in to: an
// email address gets the email (its subject marked [TEST], no opt-out link, which would opt
// the customer out), an E.164 number the SMS. Failures are reported per send, not as an error.
func (ts TestSender) Send(ctx context.Context, c *breach.Campaign, recipients []*breach.Recipient, to []string) ([]breach.TestSend, error) {
	var out []breach.TestSend
	for _, r := range recipients {
		n, err := ts.Renderer.Render(c, r, notice.Options{})
		if err != nil {
			return nil, err
		}
		for _, addr := range to {
			res := breach.TestSend{CustomerID: r.CustomerID, Locale: n.Locale, To: addr}
			if strings.Contains(addr, "@") {
				res.Channel = breach.ChannelEmail
				m := emailMessage(c, n, addr, "")
				m.Subject = "[TEST] " + m.Subject
				res.ProviderID, err = ts.Mail.Send(ctx, m)
			} else {
				res.Channel = breach.ChannelSMS
				res.ProviderID, err = ts.SMS.Send(ctx, smsMessage(n, addr, ""))
			}
			if err != nil {
				res.Error = err.Error()
			}
			out = append(out, res)
		}
	}
	return out, nil
}
