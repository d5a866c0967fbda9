package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/optout"
)

// ProviderStore is what the provider webhooks need: delivery reports, bounces, complaints and
// inbound STOP messages applied to the record.
type ProviderStore interface {
	// ApplyReport applies a provider's report to the delivery it names and reports whether the
	// delivery's state changed; ENOTFOUND when there is no such delivery. Duplicate and late
	// reports change nothing (breach.ReportStates).
	ApplyReport(ctx context.Context, r breach.Report) (changed bool, err error)
	// SuppressAddress puts an address on a channel's suppression list outside any campaign.
	SuppressAddress(ctx context.Context, ch breach.Channel, address, source, reason string) error
}

// Body limits of the webhooks: a Twilio callback or a relay's batch is a few kilobytes, an SNS
// message carries an SES notification with the message's headers (SES caps them).
const (
	maxTwilioBody = 64 << 10
	maxEmailBody  = 64 << 10
	maxSNSBody    = 256 << 10
)

// providerRoutes are the public, signature-checked webhooks of the SMS and email providers.
// They name deliveries by the signed report token the provider echoes back (optout.ReportToken:
// in the status callback URL of each SMS, in the Message-ID of each email), so a report finds
// its delivery by primary key and nobody can report on a delivery they were not told about.
//
// Every refusal changes nothing: a wrong content type is 415, an oversized body 413, a missing
// or wrong signature 403 (so is a webhook whose credential is not configured: nothing can be
// verified), a malformed body 400, and a token that fails its signature 404 without detail.
// The log gets the route, the status and counts, never an address, a token or a body.
func (s *Server) providerRoutes() []Route {
	return []Route{
		{Method: "POST", Pattern: dispatch.TwilioStatusPath + "/{token}", Public: true, handler: s.keyed(s.twilioStatus)},
		{Method: "POST", Pattern: "/webhooks/twilio/inbound", Public: true, handler: s.twilioInbound},
		{Method: "POST", Pattern: "/webhooks/ses", Public: true, handler: s.keyed(s.sesNotification)},
		{Method: "POST", Pattern: "/webhooks/email", Public: true, handler: s.keyed(s.emailEvents)},
	}
}

// refusalCodes are the error codes of the webhooks' refusals, by HTTP status: the API's own
// codes, so that every error answer has the same shape and vocabulary. A missing or wrong
// signature is a request without valid credentials.
var refusalCodes = map[int]string{
	http.StatusBadRequest: breach.EINVALID, http.StatusForbidden: breach.EUNAUTHORIZED, http.StatusNotFound: breach.ENOTFOUND,
	http.StatusRequestEntityTooLarge: breach.EINVALID, http.StatusUnsupportedMediaType: breach.EINVALID,
	http.StatusServiceUnavailable: breach.EUNAVAILABLE,
}

// refuse answers a webhook request it will not act on, in the API's error shape. The message
// says what is wrong with the request, never what the request held.
func refuse(w http.ResponseWriter, status int, message string) {
	var body errorBody
	body.Error.Code = refusalCodes[status]
	if body.Error.Code == "" {
		body.Error.Code = breach.EINTERNAL
	}
	body.Error.Message = message
	writeJSON(w, status, body)
}

// readBody reads a webhook's body of one of the media types given, up to limit bytes,
// answering 415 or 413 itself (ok false) when it will not.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, types ...string) (body []byte, ok bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(types, mt) {
		refuse(w, http.StatusUnsupportedMediaType, "the body must be "+strings.Join(types, " or "))
		return nil, false
	}
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		refuse(w, http.StatusRequestEntityTooLarge, "the body is larger than this webhook accepts")
		return nil, false
	case err != nil:
		refuse(w, http.StatusBadRequest, "the body could not be read")
		return nil, false
	}
	return body, true
}

// reportResult is what became of one report: applied (the delivery changed), unchanged (a
// duplicate or late report, or one that only suppresses), or ignored (about a message that is
// not one of our deliveries).
type reportResult int

const (
	reportIgnored reportResult = iota
	reportUnchanged
	reportApplied
)

// reportCounts tallies a webhook request's reports for its answer and its log line.
type reportCounts struct {
	Applied   int `json:"applied"`
	Unchanged int `json:"unchanged"`
	Ignored   int `json:"ignored"`
	// Invalid lists the events of a batch that were skipped, each with its index and why
	// (the email webhook's; the others report one event per request).
	Invalid []string `json:"invalid,omitempty"`
}

func (c *reportCounts) add(r reportResult) {
	switch r {
	case reportApplied:
		c.Applied++
	case reportUnchanged:
		c.Unchanged++
	default:
		c.Ignored++
	}
}

// applyEmailReport applies rep to the email delivery whose Message-ID is messageID. A
// Message-ID that is not one of our report tokens is ignored, not refused: relays report every
// message they carry — reviewers' test sends, other applications' mail — and the request
// itself is authenticated, so there is nothing forged to refuse. So is one naming a delivery
// that no longer exists (its campaign purged).
func (s *Server) applyEmailReport(ctx context.Context, messageID string, rep breach.Report) (reportResult, error) {
	local, ok := email.MessageIDLocal(messageID)
	if !ok {
		return reportIgnored, nil
	}
	t, err := optout.ParseReport(s.Secret, local)
	if err != nil || t.Channel != breach.ChannelEmail {
		return reportIgnored, nil
	}
	rep.CampaignID, rep.RecipientID, rep.Channel = t.CampaignID, t.RecipientID, t.Channel
	changed, err := s.Store.ApplyReport(ctx, rep)
	switch {
	case breach.ErrorCode(err) == breach.ENOTFOUND:
		return reportIgnored, nil
	case err != nil:
		return reportIgnored, err
	case changed:
		s.countReport(rep)
		return reportApplied, nil
	}
	return reportUnchanged, nil
}

// countReport counts a report that changed its delivery's state (a duplicate or late one
// changes nothing and is not counted) in breachnotice_notices_total.
func (s *Server) countReport(rep breach.Report) {
	if rep.State != "" {
		s.Metrics.Notices(string(rep.Channel), string(rep.State), 1)
	}
}

// logReports logs a webhook request's counts (and nothing of its content).
func (s *Server) logReports(r *http.Request, c reportCounts) {
	if len(c.Invalid) > 0 {
		s.Log.Warn("provider reports with invalid events, skipped", "route", r.Pattern, "applied", c.Applied, "unchanged", c.Unchanged,
			"ignored", c.Ignored, "invalid", len(c.Invalid), "first", c.Invalid[0])
		return
	}
	s.Log.Info("provider reports", "route", r.Pattern, "applied", c.Applied, "unchanged", c.Unchanged, "ignored", c.Ignored)
}
