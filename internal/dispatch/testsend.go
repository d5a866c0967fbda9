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
// customer will. It touches no delivery: nothing is recorded against the customers.
type TestSender struct {
	Renderer *notice.Renderer
	Mail     Mailer
	SMS      sms.Provider
}

// TestSend is one test notice sent (or not).
type TestSend struct {
	CustomerID string         `json:"customer_id"`
	Locale     string         `json:"locale"`
	Channel    breach.Channel `json:"channel"`
	To         string         `json:"to"`
	ProviderID string         `json:"provider_id,omitempty"`
	Error      string         `json:"error,omitempty"`
}

// Send renders each recipient's notice and sends it to every reviewer address in to: an
// email address gets the email (its subject marked [TEST], no opt-out link, which would opt
// the customer out), an E.164 number the SMS. Failures are reported per send, not as an error.
func (ts TestSender) Send(ctx context.Context, c *breach.Campaign, recipients []*breach.Recipient, to []string) ([]TestSend, error) {
	var out []TestSend
	for _, r := range recipients {
		n, err := ts.Renderer.Render(c, r, notice.Options{})
		if err != nil {
			return nil, err
		}
		for _, addr := range to {
			res := TestSend{CustomerID: r.CustomerID, Locale: n.Locale, To: addr}
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

// ReviewerAddress checks and normalizes a test-send destination: an email address or an E.164
// phone number.
func ReviewerAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") {
		return breach.ParseEmail(s)
	}
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' || strings.Trim(s[1:], "0123456789") != "" {
		return "", breach.Errorf(breach.EINVALID, "%q is neither an email address nor a phone number in E.164 form (+51987654321)", s)
	}
	return s, nil
}

// MaxTestNotices bounds one test send, reviewers × customers: it is for a few reviewers, not a
// mailing. The console and the API apply the same limit (ReviewerAddresses).
const MaxTestNotices = 50

// ReviewerAddresses checks and normalizes the destinations of one test send of the notices of
// customers customers (0 counts as 1: the list's first), with ReviewerAddress. An empty list,
// more than MaxTestNotices notices, or an address that is neither an email address nor an
// E.164 number is an EINVALID error saying which.
func ReviewerAddresses(to []string, customers int) ([]string, error) {
	if len(to) == 0 {
		return nil, breach.Errorf(breach.EINVALID, "name at least one reviewer email address or phone number (+51987654321)")
	}
	if n := len(to) * max(1, customers); n > MaxTestNotices {
		return nil, breach.Errorf(breach.EINVALID, "at most %d test notices at a time (%d reviewers × %d customers is %d)",
			MaxTestNotices, len(to), max(1, customers), n)
	}
	out := make([]string, len(to))
	for i, addr := range to {
		norm, err := ReviewerAddress(addr)
		if err != nil {
			return nil, err
		}
		out[i] = norm
	}
	return out, nil
}

// FailedSends counts the test notices of sent that could not be sent.
func FailedSends(sent []TestSend) int {
	n := 0
	for _, t := range sent {
		if t.Error != "" {
			n++
		}
	}
	return n
}
