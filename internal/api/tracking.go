package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TrackingStore is what live tracking and the proof-of-notice export need: statistics by
// channel × state × locale (CampaignStore's CampaignStatus), one recipient's timeline,
// delivery listings, suppressions.
type TrackingStore interface {
	// AuditRead records a read of personal data without waiting for the disk.
	AuditRead(ctx context.Context, actor, action, campaignID string, detail map[string]any) error
	// RecipientRecord returns a customer's deliveries and timeline by customer_id; ENOTFOUND
	// names the campaign or the customer that does not exist.
	RecipientRecord(ctx context.Context, campaignID, customerID string) (*breach.RecipientRecord, error)
	// Deliveries returns a page of a campaign's deliveries passing f after the key after (nil:
	// from the start) and the key the next page starts after, nil at the end. A filtered page
	// may be short, even empty, while more follow: only a nil next ends the listing.
	Deliveries(ctx context.Context, campaignID string, f breach.DeliveryFilter, after *breach.DeliveryKey, limit int) ([]breach.DeliveryRecord, *breach.DeliveryKey, error)
	// ExportDeliveries calls fn with each of a campaign's deliveries as they are read, and
	// returns how many it read; ENOTFOUND before any call for an unknown campaign.
	ExportDeliveries(ctx context.Context, campaignID string, fn func(*breach.DeliveryRecord) error) (int64, error)
	// Suppressions returns a page of the suppression list of channel ch (all when empty).
	Suppressions(ctx context.Context, ch breach.Channel, after *breach.SuppressionKey, limit int) ([]breach.Suppression, *breach.SuppressionKey, error)
}

// trackingRoutes are the status API's read side.
func (s *Server) trackingRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/recipients/{customerID}", handler: s.recipientRecord},
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/deliveries", handler: s.listDeliveries},
		{Method: "GET", Pattern: "/api/v1/campaigns/{id}/deliveries.csv", handler: s.exportDeliveries},
		{Method: "GET", Pattern: "/api/v1/suppressions", handler: s.listSuppressions},
	}
}

// Listing pages: limit defaults to defaultPage and may not exceed maxPage.
const (
	defaultPage = 100
	maxPage     = 1000
)

// recipientRecord answers GET …/recipients/{customerID}: one customer's deliveries and the
// timeline of events. Personal data is in the answer, for the operator who asked; the request
// log has only the route pattern, never the customer's ID. Every read of a customer's personal
// data is audited — who looked at which record (its internal number, never the ID typed).
func (s *Server) recipientRecord(w http.ResponseWriter, r *http.Request) {
	rec, err := s.Store.RecipientRecord(r.Context(), r.PathValue("id"), r.PathValue("customerID"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditRead(r, "recipient.viewed", rec.Recipient.CampaignID, map[string]any{"recipient": rec.Recipient.ID})
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
	q := r.URL.Query()
	campaignID := r.PathValue("id")
	f := breach.DeliveryFilter{State: breach.DeliveryState(q.Get("state")), Channel: breach.Channel(q.Get("channel")), Locale: q.Get("locale")}
	if err := f.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := pageLimit(q.Get("limit"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var after *breach.DeliveryKey
	if c := q.Get("after"); c != "" {
		if after, err = s.openDeliveryCursor(campaignID, c); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	page, next, err := s.Store.Deliveries(r.Context(), campaignID, f, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// A page of names and addresses is a read of personal data: audited with its size, so
	// that paging through a whole list leaves a trace.
	s.auditRead(r, "deliveries.listed", campaignID, map[string]any{"rows": len(page), "state": f.State, "channel": f.Channel, "locale": f.Locale})
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
	q := r.URL.Query()
	f := breach.DeliveryFilter{Channel: breach.Channel(q.Get("channel"))} // the listings' rule for a channel
	if err := f.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := pageLimit(q.Get("limit"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var after *breach.SuppressionKey
	if c := q.Get("after"); c != "" {
		if after, err = s.openSuppressionCursor(c); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	page, next, err := s.Store.Suppressions(r.Context(), f.Channel, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditRead(r, "suppressions.listed", "", map[string]any{"rows": len(page), "channel": f.Channel})
	out := suppressionPage{Suppressions: page}
	if next != nil {
		if out.Next, err = s.suppressionCursor(*next); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// pageLimit reads a listing's limit parameter.
func pageLimit(v string) (int, error) {
	if v == "" {
		return defaultPage, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		return 0, breach.Errorf(breach.EINVALID, "limit: %q is not a number from 1 to %d", v, maxPage)
	}
	return n, nil
}

// auditRead records a read of personal data (see postgres AuditRead); a failure to record is
// logged, and the answer, already computed, is given all the same.
func (s *Server) auditRead(r *http.Request, action, campaignID string, detail map[string]any) {
	if err := s.Store.AuditRead(r.Context(), operator(r.Context()), action, campaignID, detail); err != nil {
		s.Log.Error("audit failed", "action", action, "campaign", campaignID, "err", err)
	}
}
