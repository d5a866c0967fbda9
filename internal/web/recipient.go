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
	// Suppressions are the suppression list's entries for the customer's addresses.
	Suppressions []breach.Suppression
}

// lookup finds a recipient of the campaign by customer_id and shows their record; the lookup
// is audited whether it matched or not (operation.Service.Recipient), never with the text typed.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := actorOf(ctx)
	c, err := s.Ops.Campaign(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	d := &lookupData{C: c, CustomerID: r.URL.Query().Get("customer_id")}
	if d.CustomerID == "" {
		s.render(w, r, http.StatusOK, "recipient", "Find a customer", d)
		return
	}
	rec, err := s.Ops.Recipient(ctx, a, c.ID, d.CustomerID)
	if err != nil {
		s.renderError(w, r, s.httpStatus(r, err), "recipient", "Find a customer", d, errorMessage(err))
		return
	}
	d.R, d.Deliveries, d.Events, d.Suppressions = rec.Recipient, rec.Deliveries, rec.Events, rec.Suppressions
	s.render(w, r, http.StatusOK, "recipient", "Customer "+d.CustomerID, d)
}
