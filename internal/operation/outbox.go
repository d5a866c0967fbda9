package operation

import (
	"context"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// OutboxRead audits a read of the local capture of notices (the console's outbox: the emails
// and SMS written instead of sent when no SMTP relay or SMS provider is configured). Those are
// real customers' notices — names, addresses, phone numbers, exposed data — whenever a real
// list is loaded into a server that captures a channel (a `serve` with SMTP but no Twilio
// captures every SMS), so reading them is a read of personal data like any other: the door
// calls this before it shows anything, and shows nothing when it fails. detail says what was
// read (what: "list", "email", "email_html", "email_raw", and counts), never a capture's file
// name, which holds the recipient's address.
func (s *Service) OutboxRead(ctx context.Context, actor breach.Actor, detail map[string]any) error {
	if err := actor.Require(breach.RoleViewer); err != nil {
		return err
	}
	return s.auditRead(ctx, actor, breach.ActionOutboxRead, "", detail)
}
