package api

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
)

// PrivacyStore is what the audit log and personal-data purge need.
type PrivacyStore interface {
	// AuditLog returns the audit entries the filter selects, newest first.
	AuditLog(ctx context.Context, f breach.AuditFilter) ([]breach.AuditEntry, error)
	// PurgeCampaign deletes a finished campaign's personal data, keeping counts, the delivery
	// record and keyed hashes of the addresses; a purged campaign answers AlreadyPurged. A
	// campaign not finished is an ECONFLICT error.
	PurgeCampaign(ctx context.Context, id, actor string, secret []byte) (*breach.PurgeReport, error)
	// NoticeProof says whether address was notified on channel ch by a purged campaign.
	NoticeProof(ctx context.Context, campaignID string, ch breach.Channel, address string, secret []byte) (*breach.NoticeProof, error)
}

// privacyRoutes are the audit log and purge.
func (s *Server) privacyRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/audit", handler: s.auditLog},
		{Method: "POST", Pattern: "/api/v1/campaigns/{id}/purge", handler: s.purge},
		{Method: "POST", Pattern: "/api/v1/campaigns/{id}/proof", handler: s.proof},
	}
}

// auditAction is what an action name looks like ("campaign.start", "token.create"): a filter
// that could never match is a mistake worth telling, not an empty page.
var auditAction = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// auditPage is the answer of GET /api/v1/audit. NextBefore, when set, is the ?before= of the
// next (older) page.
type auditPage struct {
	Entries    []breach.AuditEntry `json:"entries"`
	NextBefore int64               `json:"next_before,omitempty"`
}

// auditLog answers GET /api/v1/audit?campaign=ID&action=NAME&before=ID&limit=N: the audit
// entries, newest first, keyset-paginated on their IDs.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	f, err := parseAuditFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, err := s.Store.AuditLog(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page := auditPage{Entries: entries}
	if page.Entries == nil {
		page.Entries = []breach.AuditEntry{}
	}
	if len(entries) == f.Limit {
		page.NextBefore = entries[len(entries)-1].ID
	}
	writeJSON(w, http.StatusOK, page)
}

// parseAuditFilter reads and checks the audit log's query parameters.
func parseAuditFilter(r *http.Request) (breach.AuditFilter, error) {
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "campaign", "action", "before", "limit":
		default:
			return breach.AuditFilter{}, breach.Errorf(breach.EINVALID, "unknown parameter %q: use campaign, action, before and limit", name)
		}
	}
	f := breach.AuditFilter{CampaignID: q.Get("campaign"), Action: q.Get("action")}
	if f.CampaignID != "" {
		if _, err := uuid.Parse(f.CampaignID); err != nil {
			return f, breach.Errorf(breach.EINVALID, "campaign=%q is not a campaign ID", f.CampaignID)
		}
	}
	if f.Action != "" && (len(f.Action) > 64 || !auditAction.MatchString(f.Action)) {
		return f, breach.Errorf(breach.EINVALID, "action=%q is not an action name such as campaign.start", f.Action)
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, breach.Errorf(breach.EINVALID, "before=%q must be an entry ID (a positive integer, the next_before of the previous page)", v)
		}
		f.Before = n
	}
	limit, err := pageLimit(q.Get("limit")) // pages as every listing pages
	if err != nil {
		return f, err
	}
	f.Limit = limit

	return f, nil
}

// purge answers POST …/purge: deletes a finished campaign's personal data now, without
// waiting for its retention period. A campaign already purged answers 200 with
// already_purged; one still sending answers 409.
func (s *Server) purge(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Store.PurgeCampaign(r.Context(), r.PathValue("id"), operator(r.Context()), s.Secret)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// proofRequest is the body of POST …/proof. The address travels in the body, not the URL,
// so that it stays out of every access log on the way.
type proofRequest struct {
	Address string `json:"address"`
}

// proof answers POST …/proof: whether an address (an email, or a phone number in E.164 form)
// was notified by a purged campaign, and how, from the hashes the purge kept.
func (s *Server) proof(w http.ResponseWriter, r *http.Request) {
	var req proofRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.writeError(w, r, breach.Errorf(breach.EINVALID, `the body must be JSON {"address": "…"}: %v`, err))
		return
	}
	addr, err := dispatch.ReviewerAddress(req.Address)
	if err != nil {
		// The requester's own input, quoted back to them: a parse error, never an internal one.
		s.writeError(w, r, breach.Errorf(breach.EINVALID, "address: %v", err))
		return
	}
	ch := breach.ChannelSMS
	if strings.Contains(addr, "@") {
		ch = breach.ChannelEmail
	}
	p, err := s.Store.NoticeProof(r.Context(), r.PathValue("id"), ch, addr, s.Secret)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Who asked about whom is itself worth recording; the address is not recorded.
	s.audit(r, "campaign.proof", r.PathValue("id"), map[string]any{"channel": ch, "matched": p.Matched})
	writeJSON(w, http.StatusOK, p)
}
