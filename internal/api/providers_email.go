package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/plaintext"
	"github.com/breachnotice/breachnotice/internal/sns"
)

// sesNotification answers POST /webhooks/ses, an Amazon SNS HTTP(S) subscription carrying
// Amazon SES notifications (or SES event publishing, which names the type eventType).
//
// The SNS message is verified first (package sns: signature, certificate host, age, topic
// allow-list SNS_TOPIC_ARNS) → 403 otherwise; an SNS Type it does not know is 400. A
// SubscriptionConfirmation is confirmed by getting its SubscribeURL (an SNS host only); an
// UnsubscribeConfirmation is acknowledged. A Notification's SES message names the delivery by
// the Message-ID we set (mail.commonHeaders.messageId, else the Message-ID in mail.headers):
//
//   - Bounce, bounceType Permanent → bounced, and the delivery's address suppressed for email;
//   - Bounce Transient or Undetermined → ignored: the receiving server refused for now (a
//     full mailbox, greylisting) or SES cannot tell why, which says nothing final about the
//     address; and the record's events are transitions, so there is nothing to write;
//   - Complaint → the address suppressed (the delivery stays delivered: it was);
//   - Delivery → delivered; Reject → failed;
//   - Send, Open, Click, DeliveryDelay, Rendering Failure, Subscription and SES's subscription
//     test message → acknowledged, nothing recorded;
//   - any other type → 400, nothing recorded.
//
// SES rewrites the Message-ID when it sends; ours survives only in the notification's copy of
// the original headers, so SES must be told to include them (the identity's "include original
// email headers" setting, SetIdentityHeadersInNotificationsEnabled, for Bounce, Complaint and
// Delivery): without them a notification names no delivery and is ignored.
//
// Only the delivery's own address (from the record) is ever suppressed, never one the
// notification names: a notice goes to one address, and a report must not be able to suppress
// somebody else. A message that is not one of our deliveries is acknowledged and ignored.
func (s *Server) sesNotification(w http.ResponseWriter, r *http.Request) {
	if s.SNS == nil {
		refuse(w, http.StatusForbidden, "SES notifications are not accepted here: name the SNS topics in SNS_TOPIC_ARNS")
		return
	}
	body, ok := readBody(w, r, maxSNSBody, "text/plain", "application/json")
	if !ok {
		return
	}
	m, err := sns.Parse(bytes.NewReader(body))
	if err != nil {
		refuse(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	if err := s.SNS.Verify(ctx, m); err != nil {
		s.snsFailure(w, r, err)
		return
	}
	var counts reportCounts
	switch m.Type {
	case sns.TypeSubscriptionConfirmation:
		if err := s.SNS.Confirm(ctx, m); err != nil {
			s.snsFailure(w, r, err)
			return
		}
		s.Log.Info("SNS subscription confirmed", "route", r.Pattern)
	case sns.TypeUnsubscribeConfirmation:
		s.Log.Info("SNS subscription ended", "route", r.Pattern)
	case sns.TypeNotification:
		messageID, rep, ok, err := sesReport(m.Message)
		if err != nil {
			refuse(w, http.StatusBadRequest, err.Error())
			return
		}
		res := reportIgnored
		if ok {
			if res, err = s.applyEmailReport(ctx, messageID, rep); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		counts.add(res)
		s.logReports(r, counts)
	}
	writeJSON(w, http.StatusOK, counts)
}

// snsFailure answers a message sns refused (403) or could not check for now (503: SNS retries).
func (s *Server) snsFailure(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, sns.ErrRejected) {
		refuse(w, http.StatusForbidden, "the SNS message is not acceptable: "+strings.TrimPrefix(err.Error(), "sns: "))
		return
	}
	s.Log.Warn("SNS message not verified", "route", r.Pattern, "error", err)
	refuse(w, http.StatusServiceUnavailable, "the SNS message could not be verified now; try again")
}

// sesMessage is the part of an SES notification (or event) that matters here.
type sesMessage struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			// Status is the enhanced status code (5.1.1). The recipient's emailAddress and
			// diagnosticCode (which quotes it) are deliberately not read.
			Status string `json:"status"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint struct {
		FeedbackType string `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Mail struct {
		// MessageID is SES's own ID, not ours; ours is in the headers.
		MessageID     string `json:"messageId"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"mail"`
}

// sesIgnored are the SES notification and event types that report nothing about delivery.
var sesIgnored = map[string]bool{
	"Send": true, "Open": true, "Click": true, "DeliveryDelay": true, "Rendering Failure": true,
	"Subscription": true, "AmazonSnsSubscriptionSucceeded": true,
}

// word is what a provider's code may look like to be recorded: a status (5.1.1), a type
// (abuse, General). Anything else — free text could quote an address — is left out.
var word = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

// sesReport turns an SES notification into a report on the message with Message-ID
// messageID; ok is false for the types that report nothing. An unknown type is an error.
func sesReport(message string) (messageID string, rep breach.Report, ok bool, err error) {
	var n sesMessage
	if err := json.Unmarshal([]byte(message), &n); err != nil {
		return "", rep, false, errors.New("the notification's Message is not an SES notification (JSON)")
	}
	kind := n.NotificationType
	if kind == "" {
		kind = n.EventType
	}
	messageID = n.Mail.CommonHeaders.MessageID
	for _, h := range n.Mail.Headers {
		if messageID == "" && strings.EqualFold(h.Name, "Message-ID") {
			messageID = h.Value
		}
	}
	switch kind {
	case "Bounce":
		if n.Bounce.BounceType != "Permanent" {
			return messageID, rep, false, nil
		}
		rep.State, rep.Suppress = breach.DeliveryBounced, true
		rep.Error = "ses bounce: Permanent"
		if word.MatchString(n.Bounce.BounceSubType) {
			rep.Error += "/" + n.Bounce.BounceSubType
		}
		if len(n.Bounce.BouncedRecipients) > 0 && word.MatchString(n.Bounce.BouncedRecipients[0].Status) {
			rep.Error += " (" + n.Bounce.BouncedRecipients[0].Status + ")"
		}
	case "Complaint":
		rep.Suppress = true
		rep.Error = "ses complaint"
		if word.MatchString(n.Complaint.FeedbackType) {
			rep.Error += ": " + n.Complaint.FeedbackType
		}
	case "Delivery":
		rep.State = breach.DeliveryDelivered
	case "Reject":
		rep.State, rep.Error = breach.DeliveryFailed, "ses reject"
	case "":
		return "", rep, false, errors.New("the SES notification has no notificationType or eventType")
	default:
		if sesIgnored[kind] {
			return messageID, rep, false, nil
		}
		return "", rep, false, fmt.Errorf("unknown SES notification type %q", kind)
	}
	if id := n.Mail.MessageID; len(id) <= 100 && !strings.ContainsAny(id, "@ \r\n") {
		rep.ProviderID = id
	}
	return messageID, rep, true, nil
}

// Generic email webhook: signature header, tolerance, and what a batch may hold.
const (
	signatureHeader    = "X-Breachnotice-Signature"
	signatureTolerance = 5 * time.Minute
	maxReasonLength    = 200
)

// emailEvents answers POST /webhooks/email: delivery reports from a mail relay other than
// SES, in breachnotice's own format, signed with the shared WEBHOOK_SECRET.
//
// Signature (Stripe's scheme): the header
//
//	X-Breachnotice-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, t + "." + body)>
//
// where body is the exact bytes sent; v1 may appear more than once (while a secret is being
// rotated, one per secret) and any one matching suffices. t must be within 5 minutes of our
// clock, which bounds replays. Otherwise 403, nothing read.
//
// Body (application/json, at most 64 KiB; unknown fields are an error, to catch typos):
//
//	{"events": [
//	  {"message_id": "<token@notice.example.com>", "type": "delivered"},
//	  {"message_id": "<token@notice.example.com>", "type": "bounced", "permanent": true, "reason": "5.1.1"},
//	  {"message_id": "<token@notice.example.com>", "type": "complained", "reason": "abuse"}
//	]}
//
// message_id is the Message-ID header of the message reported on, with or without its angle
// brackets. type delivered → delivered; bounced with permanent → bounced and the address
// suppressed; bounced without permanent (a soft bounce the relay is still retrying) → ignored;
// complained → the address suppressed. reason is the relay's code or short reason, recorded
// with the delivery (cut to 200 characters; a word with an '@' in it is replaced, so that an
// address quoted by the relay does not end up in the record).
//
// A body that is not such a list is refused (400) and applies nothing. Within a list, an
// event without a message_id or of a type that reports nothing we record (a relay's "opened",
// "deferred") is skipped and listed in the answer's invalid, and the others are applied: a relay
// does not send a refused batch again, and one stray event must not drop the complaint or
// the hard bounce beside it. The answer counts the events applied, unchanged (duplicates, late
// reports, complaints) and ignored (messages that are not our deliveries, soft bounces):
// {"applied":1,"unchanged":0,"ignored":2,"invalid":["events[3]: …"]}. Events are applied one
// by one; a relay retrying a batch after an error is safe, since duplicates change nothing.
func (s *Server) emailEvents(w http.ResponseWriter, r *http.Request) {
	if len(s.WebhookSecret) == 0 {
		refuse(w, http.StatusForbidden, "the email webhook is not configured here (WEBHOOK_SECRET)")
		return
	}
	body, ok := readBody(w, r, maxEmailBody, "application/json")
	if !ok {
		return
	}
	if !validSignature(s.WebhookSecret, r.Header.Get(signatureHeader), body, time.Now()) {
		refuse(w, http.StatusForbidden, "missing, invalid or expired "+signatureHeader)
		return
	}
	type event struct {
		MessageID string `json:"message_id"`
		Type      string `json:"type"`
		Permanent bool   `json:"permanent"`
		Reason    string `json:"reason"`
	}
	var in struct {
		Events []event `json:"events"`
	}
	if err := decodeJSON(bytes.NewReader(body), &in); err != nil {
		refuse(w, http.StatusBadRequest, "the body is not {\"events\": [...]}: "+err.Error())
		return
	}
	if len(in.Events) == 0 {
		refuse(w, http.StatusBadRequest, "events is empty")
		return
	}
	var counts reportCounts
	reports := make([]*breach.Report, len(in.Events))
	skipped := make([]bool, len(in.Events))
	for i, e := range in.Events {
		if strings.TrimSpace(e.MessageID) == "" {
			skipped[i] = true
			counts.Invalid = append(counts.Invalid, fmt.Sprintf("events[%d]: message_id is required", i))
			continue
		}
		reason := cleanReason(e.Reason)
		switch e.Type {
		case "delivered":
			reports[i] = &breach.Report{State: breach.DeliveryDelivered}
		case "bounced":
			if e.Permanent {
				reports[i] = &breach.Report{State: breach.DeliveryBounced, Suppress: true, Error: "bounce: " + reason}
			}
		case "complained":
			reports[i] = &breach.Report{Suppress: true, Error: "complaint: " + reason}
		default:
			skipped[i] = true
			counts.Invalid = append(counts.Invalid, fmt.Sprintf("events[%d]: type %q is not delivered, bounced or complained", i, breach.QuoteText(e.Type)))
		}
	}
	if len(counts.Invalid) == len(in.Events) {
		// Not one event could be read: most likely a relay sending its own type names. A 400
		// that it sees, not a 200 that drops its complaints silently.
		refuse(w, http.StatusBadRequest, "no event of the batch could be read: "+strings.Join(counts.Invalid[:min(len(counts.Invalid), 3)], "; "))
		return
	}
	for i, rep := range reports {
		if skipped[i] {
			continue
		}
		res := reportIgnored
		if rep != nil {
			var err error
			if res, err = s.applyEmailReport(r.Context(), in.Events[i].MessageID, *rep); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		counts.add(res)
	}
	s.logReports(r, counts)
	writeJSON(w, http.StatusOK, counts)
}

// validSignature checks an X-Breachnotice-Signature header against body at time now.
func validSignature(secret []byte, header string, body []byte, now time.Time) bool {
	var (
		ts   string
		sigs [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return false
	}
	if d := now.Sub(time.Unix(unix, 0)); d > signatureTolerance || d < -signatureTolerance {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	ok := false
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			ok = true
		}
	}
	return ok
}

// cleanReason makes a relay's reason fit for the record: one line, at most maxReasonLength
// characters, no control character, any word with an '@' in it (an address) replaced.
func cleanReason(reason string) string {
	// Control characters are the remote server's, not text: a NUL cannot be stored (the batch
	// failed at it, for good), an escape sequence would act on an operator's terminal.
	reason = plaintext.ReplaceControls(reason, ' ')
	words := strings.Fields(reason)
	for i, w := range words {
		if strings.Contains(w, "@") {
			words[i] = "[address]"
		}
	}
	reason = strings.Join(words, " ")
	if utf8.RuneCountInString(reason) > maxReasonLength {
		reason = string([]rune(reason)[:maxReasonLength])
	}
	if reason == "" {
		reason = "no reason given"
	}
	return reason
}
