package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/optout"
	"github.com/breachnotice/breachnotice/internal/sms"
)

// twilioStatus answers POST /webhooks/twilio/status/{token}: Twilio's status callback for one
// SMS, the token naming its delivery (set by the sending engine as the message's
// StatusCallback).
//
// MessageStatus maps to the record as follows (twilioReport): delivered (and read) →
// delivered; undelivered or failed → bounced when the error code says the number itself cannot
// receive (30003 unreachable handset, 30004 blocked, 30005 unknown number, 30006 landline or
// unreachable carrier, 21211 invalid number, 21614 not a mobile), failed for any other code
// (carrier filtering, capacity, unknown: the message did not arrive, the number may be fine),
// and suppressed plus a suppression of the number for 21610 (the recipient had replied STOP).
// Twilio does not try an undelivered or failed message again, so both settle the delivery
// and, under a fallback policy, queue the customer's email. Bounced numbers are not suppressed: carriers reassign numbers,
// and only the customer's own STOP is an opt-out. Intermediate statuses (queued, sending, sent…)
// change nothing. The answer is 200 with an empty body; a report on a delivery that no longer
// exists is 404.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) {
	form, ok := s.twilioForm(w, r)
	if !ok {
		return
	}
	t, err := optout.ParseReport(s.Secret, r.PathValue("token"))
	if err != nil || t.Channel != breach.ChannelSMS {
		http.NotFound(w, r)
		return
	}
	rep, ok, err := twilioReport(form)
	if err != nil {
		refuse(w, http.StatusBadRequest, err.Error())
		return
	}
	var counts reportCounts
	if ok {
		rep.CampaignID, rep.RecipientID, rep.Channel = t.CampaignID, t.RecipientID, t.Channel
		changed, err := s.Store.ApplyReport(r.Context(), rep)
		if err != nil {
			s.notFoundOr(w, r, err)
			return
		}
		if changed {
			s.countReport(rep)
			counts.add(reportApplied)
		} else {
			counts.add(reportUnchanged)
		}
	} else {
		counts.add(reportIgnored)
	}
	s.logReports(r, counts)
	w.WriteHeader(http.StatusOK)
}

// twilioForm reads a Twilio webhook's form and checks its X-Twilio-Signature against the URL
// Twilio was given: PUBLIC_URL and the request's path (behind a proxy the request's own Host
// may differ from what Twilio signed). Without TWILIO_AUTH_TOKEN or PUBLIC_URL nothing can be
// verified and every request gets 403.
func (s *Server) twilioForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if s.TwilioAuthToken == "" || s.PublicURL == "" {
		refuse(w, http.StatusForbidden, "Twilio webhooks are not configured here (TWILIO_AUTH_TOKEN and PUBLIC_URL)")
		return nil, false
	}
	body, ok := readBody(w, r, maxTwilioBody, "application/x-www-form-urlencoded")
	if !ok {
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		refuse(w, http.StatusBadRequest, "the body is not a valid form")
		return nil, false
	}
	if !sms.ValidSignature(s.TwilioAuthToken, s.PublicURL+r.URL.RequestURI(), form, r.Header.Get("X-Twilio-Signature")) {
		refuse(w, http.StatusForbidden, "missing or invalid X-Twilio-Signature")
		return nil, false
	}
	return form, true
}

// Twilio error codes a status callback may carry that say the number itself cannot receive.
var twilioBadNumber = map[int]string{
	21211: "invalid number",
	21614: "not a mobile number",
	30003: "unreachable handset",
	30004: "message blocked",
	30005: "unknown number",
	30006: "landline or unreachable carrier",
}

// twilioUnsubscribed is Twilio's code for a recipient who replied STOP to the sender.
const twilioUnsubscribed = 21610

// twilioReport turns a status callback into a report; ok is false for a status that settles
// nothing yet. An unknown status or a malformed error code is an error.
func twilioReport(form url.Values) (rep breach.Report, ok bool, err error) {
	status := form.Get("MessageStatus")
	if status == "" {
		status = form.Get("SmsStatus") // the older name, still sent alongside
	}
	rep.ProviderID = form.Get("MessageSid")
	if len(rep.ProviderID) > 64 {
		rep.ProviderID = ""
	}
	switch status {
	case "delivered", "read":
		rep.State = breach.DeliveryDelivered
		return rep, true, nil
	case "undelivered", "failed":
	case "accepted", "scheduled", "queued", "sending", "sent", "partially_delivered", "canceled":
		return rep, false, nil
	case "":
		return rep, false, fmt.Errorf("the callback has no MessageStatus")
	default:
		return rep, false, fmt.Errorf("unknown MessageStatus %q", status)
	}
	code := 0
	if raw := form.Get("ErrorCode"); raw != "" {
		if code, err = strconv.Atoi(raw); err != nil || code < 0 || code > 999999 {
			return rep, false, fmt.Errorf("ErrorCode %q is not a Twilio error code", raw)
		}
	}
	reason, bad := twilioBadNumber[code]
	switch {
	case code == twilioUnsubscribed:
		rep.State, rep.Suppress = breach.DeliverySuppressed, true
		reason = "the recipient has opted out of messages from this sender"
	case bad:
		rep.State = breach.DeliveryBounced
	default:
		rep.State = breach.DeliveryFailed
		reason = "not delivered"
	}
	rep.Error = "twilio " + status + ": " + reason
	if code != 0 {
		rep.Error += fmt.Sprintf(" (https://www.twilio.com/docs/errors/%d)", code)
	}
	return rep, true, nil
}

// twilioInbound answers POST /webhooks/twilio/inbound, the messages customers send to our
// number. A message that is an opt-out keyword (optOutKeyword) suppresses the sender's number
// for SMS, for every campaign (source inbound-sms); any other message is acknowledged and not
// recorded — its text is the customer's and none of our business. The answer is an empty TwiML
// document: Twilio's own opt-out handling sends the confirmation the carriers require.
func (s *Server) twilioInbound(w http.ResponseWriter, r *http.Request) {
	form, ok := s.twilioForm(w, r)
	if !ok {
		return
	}
	var counts reportCounts
	if optOutKeyword(form.Get("Body")) {
		from := form.Get("From")
		if !isE164(from) {
			refuse(w, http.StatusBadRequest, "From is not a phone number in E.164 form")
			return
		}
		if err := s.Store.SuppressAddress(r.Context(), breach.ChannelSMS, from, "inbound-sms",
			"the customer texted an opt-out keyword"); err != nil {
			s.writeError(w, r, err)
			return
		}
		counts.add(reportApplied)
	} else {
		counts.add(reportIgnored)
	}
	s.logReports(r, counts)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response/>\n"))
}

// optOutKeywords are the replies that opt a number out, as optOutKeyword normalizes them:
// upper case, NFC, without spaces. English as the US carriers and Twilio define them, and what
// customers of our other shipped locales write (es, fr, ko).
var optOutKeywords = keywordSet(
	// en
	"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "REVOKE", "OPTOUT",
	// es
	"BAJA", "DARDEBAJA", "ALTANO", "CANCELAR", "PARAR", "DETENER",
	// fr
	"ARRET", "ARRÊT", "DESABONNEMENT", "DÉSABONNEMENT", "DESINSCRIPTION", "DÉSINSCRIPTION", "DESABONNER", "DÉSABONNER",
	// ko
	"수신거부", "거부", "중지", "수신중지", "구독취소",
)

func keywordSet(keywords ...string) map[string]bool {
	set := make(map[string]bool, len(keywords))
	for _, k := range keywords {
		set[norm.NFC.String(k)] = true
	}
	return set
}

// optOutKeyword reports whether an SMS body is an opt-out keyword alone: trimmed of spaces and
// punctuation ("Stop." counts), case-folded, with inner spaces removed ("opt out", "수신 거부")
// and accents composed ("ARRÊT" typed with a combining circumflex). A sentence that merely
// contains one ("don't stop") is not: carriers match the whole message too.
func optOutKeyword(body string) bool {
	k := strings.TrimFunc(body, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	k = strings.Join(strings.Fields(strings.ToUpper(norm.NFC.String(k))), "")
	return optOutKeywords[k]
}

// isE164 reports whether s is "+" and 2 to 15 digits, the first not 0: the form Twilio gives
// numbers in, and the form suppressions are kept in.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return strings.Trim(s[1:], "0123456789") == ""
}
