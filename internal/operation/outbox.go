package operation

import (
	"context"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// OutboxView is what of the console's outbox a door shows: the list, or one captured email as
// text, as its HTML part, or whole (raw).
type OutboxView string

// The outbox's views.
const (
	OutboxList      OutboxView = "list"
	OutboxEmail     OutboxView = "email"
	OutboxEmailHTML OutboxView = "email_html"
	OutboxEmailRaw  OutboxView = "email_raw"
)

// OutboxRead audits a read of the local capture of notices (the console's outbox: the emails
// and SMS written instead of sent when no SMTP relay or SMS provider is configured). Those are
// real customers' notices — names, addresses, phone numbers, exposed data — whenever a real
// list is loaded into a server that captures a channel (a `serve` with SMTP but no Twilio
// captures every SMS), so reading them is a read of personal data like any other: the door
// calls this before it shows anything, and shows nothing when it fails. The audit row says
// which view, and for the list how many emails and SMS it showed; never a capture's file name,
// which holds the recipient's address.
func (s *Service) OutboxRead(ctx context.Context, actor breach.Actor, view OutboxView, emails, sms int) error {
	if err := s.require(ctx, actor, breach.RoleViewer, "OutboxRead", ""); err != nil {
		return err
	}
	detail := map[string]any{"what": string(view)}
	if view == OutboxList {
		detail["emails"], detail["sms"] = emails, sms
	}
	return s.auditRead(ctx, actor, breach.ActionOutboxRead, "", detail)
}
