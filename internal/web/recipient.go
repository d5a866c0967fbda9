package web

import (
	"net/http"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// lookupData is the recipient page: the customer, their deliveries per channel and the
// timeline of every transition.
type lookupData struct {
	C          *breach.Campaign
	CustomerID string
	R          *breach.Recipient
	Deliveries []breach.DeliveryRecord
	Events     []breach.DeliveryEvent
}

// lookup finds a recipient of the campaign by customer_id and shows their record. Viewing a
// customer's record is audited — whether the lookup matched, and the recipient's internal
// number when it did, never the text typed: an operator may paste an email address into the
// box, and the audit log is append-only, never purged.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.Store.Campaign(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	d := &lookupData{C: c, CustomerID: r.URL.Query().Get("customer_id")}
	if d.CustomerID == "" {
		s.render(w, r, http.StatusOK, "recipient", "Find a customer", d)
		return
	}
	rec, err := s.Store.RecipientRecord(ctx, c.ID, d.CustomerID)
	if err != nil {
		if breach.ErrorCode(err) == breach.ENOTFOUND {
			s.audit(r, "recipient.view", c.ID, map[string]any{"found": false})
		}
		s.renderError(w, r, s.httpStatus(r, err), "recipient", "Find a customer", d, errorMessage(err))
		return
	}
	d.R, d.Deliveries, d.Events = rec.Recipient, rec.Deliveries, rec.Events
	s.audit(r, "recipient.view", c.ID, map[string]any{"found": true, "recipient": rec.Recipient.ID})
	s.render(w, r, http.StatusOK, "recipient", "Customer "+d.CustomerID, d)
}
