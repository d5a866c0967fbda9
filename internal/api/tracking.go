package api

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// trackingRoutes are the status API's read side.
func (s *Server) trackingRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/recipients/{customerID}", handler: s.recipientRecord},
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/deliveries", handler: s.listDeliveries},
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/deliveries.csv", handler: s.exportDeliveries},
		{Method: "GET", Pattern: "/api/v1/suppressions", handler: s.listSuppressions},
	}
}

// recipientRecord answers GET …/recipients/{customerID}: one customer's deliveries and the
// timeline of events, audited (operation.Service.Recipient). Personal data is in the answer,
// for the operator who asked; the request log has only the route pattern, never the ID.
func (s *Server) recipientRecord(w http.ResponseWriter, r *http.Request) {
	rec, err := s.Ops.Recipient(r.Context(), actor(r.Context()), r.PathValue("id"), r.PathValue("customerID"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// deliveryPage is the answer of GET …/deliveries.
type deliveryPage struct {
	Deliveries []breach.DeliveryRecord `json:"deliveries"`
	// Next is the cursor of the next page (pass it as after); absent when the listing is over.
	Next string `json:"next,omitempty"`
}

// listDeliveries answers GET …/deliveries?state=&channel=&locale=&after=&limit=.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q, err := queryOf(r, nil, "state", "channel", "locale", "after", "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	campaignID, err := breach.ParseID("campaign", r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req := operation.DeliveriesRequest{Filter: breach.DeliveryFilter{State: breach.DeliveryState(q.Get("state")),
		Channel: breach.Channel(q.Get("channel")), Locale: q.Get("locale")}}
	if req.Limit, err = operation.PageLimit(q.Get("limit")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if c := q.Get("after"); c != "" {
		if req.After, err = s.openDeliveryCursor(campaignID, c); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	page, next, err := s.Ops.Deliveries(r.Context(), actor(r.Context()), campaignID, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := deliveryPage{Deliveries: page}
	if next != nil {
		if out.Next, err = s.deliveryCursor(campaignID, *next); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// suppressionPage is the answer of GET /api/v1/suppressions.
type suppressionPage struct {
	Suppressions []breach.Suppression `json:"suppressions"`
	// Next is the cursor of the next page (pass it as after); absent when the listing is over.
	Next string `json:"next,omitempty"`
}

// listSuppressions answers GET /api/v1/suppressions?channel=&after=&limit=: the addresses no
// notice goes to any more (opt-outs, complaints, hard bounces, STOP replies).
func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) {
	q, err := queryOf(r, nil, "channel", "after", "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req := operation.SuppressionsRequest{Channel: breach.Channel(q.Get("channel"))}
	if req.Limit, err = operation.PageLimit(q.Get("limit")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if c := q.Get("after"); c != "" {
		if req.After, err = s.openSuppressionCursor(c); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	page, next, err := s.Ops.Suppressions(r.Context(), actor(r.Context()), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := suppressionPage{Suppressions: page}
	if next != nil {
		if out.Next, err = s.suppressionCursor(*next); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// queryOf returns r's query parameters when each is one of known, and given once unless it is
// repeatable. An unknown one is refused rather than ignored: GET …/deliveries?customer_id=X
// answered a page of everyone's names and addresses to a caller who asked for one record. A
// repeated one is ambiguous (which state?) and refused too.
func queryOf(r *http.Request, repeatable []string, known ...string) (url.Values, error) {
	// Not r.URL.Query(), which drops the pairs it cannot read: ?limit=5;state=sent answered
	// a page of everyone, neither filter applied.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, breach.Errorf(breach.EINVALID, "the query string cannot be read (%v): separate parameters with &, and escape %% as %%25", err)
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(known, name):
			return nil, breach.Errorf(breach.EINVALID, "%s: unknown parameter: this request takes %s", breach.Clip(name), strings.Join(known, ", "))
		case len(q[name]) > 1 && !slices.Contains(repeatable, name):
			return nil, breach.Errorf(breach.EINVALID, "%s: given %d times: give it once", name, len(q[name]))
		}
	}
	return q, nil
}
