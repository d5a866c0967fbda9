package api_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/optout"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/sns"
	"github.com/breachnotice/breachnotice/internal/sns/snstest"
)

const (
	whPublicURL   = "https://notice.andinatel.example"
	whTwilioToken = "twilio-auth-token-of-the-test-account"
	whSenderHost  = "notificaciones.andinatel.com.pe" // the example campaign's sender domain
)

var whSecret = []byte("generic-webhook-secret-of-the-tests!")

// hooks is a server with the provider webhooks configured, its store, and a campaign whose
// deliveries have all been sent.
type hooks struct {
	*client
	db       *postgres.DB
	signer   *snstest.Signer
	campaign string
	// ids are the recipient IDs by customer ID; addr their addresses (unique to this test:
	// suppressions are shared by every campaign).
	ids  map[string]int64
	addr map[string]string
	// confirmed receives the query of each subscription confirmation the SNS fake answers.
	confirmed chan url.Values
}

// hooksServer serves the API with the webhooks' credentials (edit may change them).
func hooksServer(t *testing.T, edit func(*api.Server)) *hooks {
	t.Helper()
	signer, err := snstest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	h := &hooks{signer: signer, confirmed: make(chan url.Values, 4)}
	// The SNS side: the certificate at its SNS URL, and SubscribeURLs answered by a server of
	// our own that the fetcher is pointed at.
	awsFake := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.confirmed <- r.URL.Query()
		io.WriteString(w, "<ConfirmSubscriptionResponse/>")
	}))
	t.Cleanup(awsFake.Close)
	fetch := func(ctx context.Context, u string) ([]byte, error) {
		if u == snstest.CertURL {
			return signer.CertPEM(), nil
		}
		parsed, _ := url.Parse(u)
		req, _ := http.NewRequestWithContext(ctx, "GET", awsFake.URL+parsed.RequestURI(), nil)
		resp, err := awsFake.Client().Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	h.client, h.db = serve(t, t.Name()+"-"+uuid.NewString(), func(srv *api.Server) {
		srv.PublicURL, srv.TwilioAuthToken, srv.WebhookSecret = whPublicURL, whTwilioToken, whSecret
		srv.SNS = &sns.Verifier{Fetch: fetch, TopicARNs: []string{snstest.TopicArn}}
		if edit != nil {
			edit(srv)
		}
	})
	return h
}

// newHooks is a hooksServer with a campaign whose deliveries have all been sent: the example
// campaign (email first) with customers of its own — W1 with email and phone, W2 with email
// only, W3 and S0…S4 with a phone only — imported, approved and started over the API, every
// delivery planned, claimed and recorded sent through the store, as the engine would.
func newHooks(t *testing.T, edit func(*api.Server)) *hooks {
	t.Helper()
	h := hooksServer(t, edit)
	db := h.db
	n := rand.IntN(10_000_000)
	h.addr = map[string]string{
		"W1.email": fmt.Sprintf("w1.%d@example.com", n), "W1.sms": fmt.Sprintf("+5196%07d", n),
		"W2.email": fmt.Sprintf("w2.%d@example.com", n), "W3.sms": fmt.Sprintf("+5197%07d", n),
	}
	list := fmt.Sprintf("customer_id,email,phone,name,country\nW1,%s,%s,Ana,PE\nW2,%s,,Bo,PE\nW3,,%s,Carla,PE\n",
		h.addr["W1.email"], h.addr["W1.sms"], h.addr["W2.email"], h.addr["W3.sms"])
	for i := range 5 {
		h.addr[fmt.Sprintf("S%d.sms", i)] = fmt.Sprintf("+519%d%07d", i, n)
		list += fmt.Sprintf("S%d,,+519%d%07d,Cliente,PE\n", i, i, n)
	}
	h.campaign = h.createCampaign()
	for _, step := range []struct{ path, contentType, body string }{
		{"/imports", "text/csv", list}, {"/approve", "", ""}, {"/start", "", ""},
	} {
		resp, body := h.do("POST", "/api/v1/campaigns/"+h.campaign+step.path, step.contentType, strings.NewReader(step.body), h.token)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s: %d %s", step.path, resp.StatusCode, body)
		}
	}
	ctx := t.Context()
	if _, err := db.PlanCampaign(ctx, h.campaign, 100); err != nil {
		t.Fatal(err)
	}
	worker := uuid.NewString()
	h.ids = map[string]int64{}
	for _, ch := range breach.Channels {
		claims, _, _, err := db.ClaimRange(ctx, h.campaign, ch, 0, 1<<40, worker, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		var outcomes []breach.Outcome
		for _, cl := range claims {
			h.ids[cl.Recipient.CustomerID] = cl.Recipient.ID
			outcomes = append(outcomes, breach.Outcome{RecipientID: cl.Recipient.ID, State: breach.DeliverySent, ProviderID: "P-" + cl.Recipient.CustomerID})
		}
		if _, err := db.Record(ctx, h.campaign, ch, worker, outcomes, false); err != nil {
			t.Fatal(err)
		}
	}
	if len(h.ids) != 8 {
		t.Fatalf("set-up: %d customers sent to, want 8", len(h.ids))
	}
	return h
}

// state returns a delivery's state and how many entries its history has: its events and
// the sent entry it may hold ("" when there is none).
func (h *hooks) state(customer string, ch breach.Channel) (state string, events int) {
	h.t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	err = conn.QueryRow(context.Background(), `
		SELECT d.state, (SELECT count(*) FROM delivery_events e WHERE e.campaign_id = d.campaign_id AND e.recipient_id = d.recipient_id AND e.channel = d.channel)
			+ (d.state = 'sent' AND d.claimed_at IS NOT NULL)::int -- the sent entry a delivery holds (migration 00025)
		FROM deliveries d WHERE d.campaign_id = $1 AND d.recipient_id = $2 AND d.channel = $3`, h.campaign, h.ids[customer], ch).Scan(&state, &events)
	if err == pgx.ErrNoRows {
		return "", 0
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return state, events
}

// reportToken is the token of a customer's delivery on ch, as the engine sets it.
func (h *hooks) reportToken(customer string, ch breach.Channel) string {
	tok, err := optout.ReportToken(testSecret, optout.Target{CampaignID: h.campaign, RecipientID: h.ids[customer], Channel: ch})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// messageID is the Message-ID of a customer's email, as the engine sets it.
func (h *hooks) messageID(customer string) string {
	return "<" + h.reportToken(customer, breach.ChannelEmail) + "@" + whSenderHost + ">"
}

// twilioSignature signs as Twilio does: base64(HMAC-SHA1(token, URL + sorted name+value pairs)).
func twilioSignature(token, fullURL string, form url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	for _, name := range slices.Sorted(maps.Keys(form)) {
		for _, v := range form[name] {
			b.WriteString(name + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestTwilioSignature_TheTestsSignerReproducesTwiliosTestVector(t *testing.T) {
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"}}
	if got := twilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form); got != "RSOYDt4T1cUTdK1PDd93/VVr8B8=" {
		t.Fatalf("signature = %s, want Twilio's RSOYDt4T1cUTdK1PDd93/VVr8B8=", got)
	}
}

// twilio posts form to path as Twilio would, signed with token over PUBLIC_URL + path ("":
// unsigned).
func (h *hooks) twilio(path string, form url.Values, token string) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), "POST", h.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("X-Twilio-Signature", twilioSignature(token, whPublicURL+path, form))
	}
	resp, err := (&http.Client{Transport: validated{h.t}}).Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func statusForm(status, code string) url.Values {
	f := url.Values{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "From": {"AndinaTel"}, "To": {"+51987654321"}}
	if code != "" {
		f.Set("ErrorCode", code)
	}
	return f
}

func TestTwilioStatus_SignedReportsSettleTheDeliveryOnceAndInOrder(t *testing.T) {
	h := newHooks(t, nil)
	path := dispatch.TwilioStatusPath + "/" + h.reportToken("W3", breach.ChannelSMS)
	_, sentEvents := h.state("W3", breach.ChannelSMS)

	for _, status := range []string{"queued", "sending", "sent"} {
		if resp, body := h.twilio(path, statusForm(status, ""), whTwilioToken); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", status, resp.StatusCode, body)
		}
	}
	if state, events := h.state("W3", breach.ChannelSMS); state != "sent" || events != sentEvents {
		t.Errorf("after intermediate statuses: %s with %d events, want sent and %d", state, events, sentEvents)
	}

	// Unsigned, wrongly signed, signed for another URL: 403, nothing changes.
	other := url.Values{"X": {"1"}}
	for name, send := range map[string]func() (*http.Response, []byte){
		"missing": func() (*http.Response, []byte) { return h.twilio(path, statusForm("delivered", ""), "") },
		"other token": func() (*http.Response, []byte) {
			return h.twilio(path, statusForm("delivered", ""), "not-the-auth-token")
		},
		"other params": func() (*http.Response, []byte) {
			req, _ := http.NewRequestWithContext(t.Context(), "POST", h.url+path, strings.NewReader(statusForm("delivered", "").Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", twilioSignature(whTwilioToken, whPublicURL+path, other))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp, nil
		},
		"request host": func() (*http.Response, []byte) {
			req, _ := http.NewRequestWithContext(t.Context(), "POST", h.url+path, strings.NewReader(statusForm("delivered", "").Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", twilioSignature(whTwilioToken, h.url+path, statusForm("delivered", "")))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp, nil
		},
	} {
		if resp, body := send(); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s signature: %d %s, want 403", name, resp.StatusCode, body)
		}
	}
	if state, _ := h.state("W3", breach.ChannelSMS); state != "sent" {
		t.Fatalf("an unsigned report changed the delivery to %s", state)
	}

	// Signed: delivered, once, however often Twilio says so.
	for range 2 {
		if resp, body := h.twilio(path, statusForm("delivered", ""), whTwilioToken); resp.StatusCode != http.StatusOK {
			t.Fatalf("delivered: %d %s", resp.StatusCode, body)
		}
	}
	if state, events := h.state("W3", breach.ChannelSMS); state != "delivered" || events != sentEvents+1 {
		t.Errorf("after delivered twice: %s with %d events, want delivered and %d (one new event)", state, events, sentEvents+1)
	}

	// Another SMS: a bounce, then a late delivered, stays bounced.
	path = dispatch.TwilioStatusPath + "/" + h.reportToken("S0", breach.ChannelSMS)
	if resp, body := h.twilio(path, statusForm("undelivered", "30005"), whTwilioToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("undelivered: %d %s", resp.StatusCode, body)
	}
	h.twilio(path, statusForm("delivered", ""), whTwilioToken)
	if state, _ := h.state("S0", breach.ChannelSMS); state != "bounced" {
		t.Errorf("undelivered 30005 then delivered: %s, want bounced", state)
	}
	if strings.Contains(h.logs.String(), h.addr["W3.sms"]) || strings.Contains(h.logs.String(), h.reportToken("W3", breach.ChannelSMS)) {
		t.Errorf("the log holds a number or a token:\n%s", h.logs)
	}
}

func TestTwilioStatus_ErrorCodesDecideBouncedFailedOrSuppressed(t *testing.T) {
	h := newHooks(t, nil)
	for i, tt := range []struct{ status, code, want string }{
		{"undelivered", "30003", "bounced"},
		{"undelivered", "30006", "bounced"},
		{"failed", "30007", "failed"},
		{"failed", "", "failed"},
		{"undelivered", "21610", "suppressed"},
	} {
		customer := fmt.Sprintf("S%d", i)
		path := dispatch.TwilioStatusPath + "/" + h.reportToken(customer, breach.ChannelSMS)
		if resp, body := h.twilio(path, statusForm(tt.status, tt.code), whTwilioToken); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", tt.status, tt.code, resp.StatusCode, body)
		}
		if state, _ := h.state(customer, breach.ChannelSMS); state != tt.want {
			t.Errorf("%s %s: state %s, want %s", tt.status, tt.code, state, tt.want)
		}
		if n := suppressed(t, h.addr[customer+".sms"]); (n == 1) != (tt.code == "21610") {
			t.Errorf("%s %s: %d suppressions of the number; only 21610 (the recipient replied STOP) suppresses", tt.status, tt.code, n)
		}
	}
}

func TestTwilioStatus_BadRequestsAreRefusedAndChangeNothing(t *testing.T) {
	h := newHooks(t, nil)
	good := h.reportToken("W3", breach.ChannelSMS)
	// One character changed for another of the token's alphabet: flipping a bit made '_' a '^'
	// or 'a' a '`', which the client percent-encodes, and the request failed Twilio's signature
	// (403) before the token was read — now and then, as the token is random.
	altered := []byte(good)
	altered[5] = map[bool]byte{true: 'B', false: 'A'}[altered[5] == 'A']
	optOut, _ := optout.Token(testSecret, optout.Target{CampaignID: h.campaign, RecipientID: h.ids["W3"], Channel: breach.ChannelSMS})
	foreign, _ := optout.ReportToken([]byte("another server's secret, 32 bytes"), optout.Target{CampaignID: h.campaign, RecipientID: h.ids["W3"], Channel: breach.ChannelSMS})
	for name, tok := range map[string]string{
		"forged": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMk", "altered": string(altered), "opt-out token": optOut,
		"other secret": foreign, "email token": h.reportToken("W2", breach.ChannelEmail),
	} {
		resp, body := h.twilio(dispatch.TwilioStatusPath+"/"+tok, statusForm("delivered", ""), whTwilioToken)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), h.campaign) {
			t.Errorf("%s token: %d %s, want a bare 404", name, resp.StatusCode, body)
		}
	}
	path := dispatch.TwilioStatusPath + "/" + good
	if resp, _ := h.twilio(path, statusForm("exploded", ""), whTwilioToken); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown MessageStatus: %d, want 400", resp.StatusCode)
	}
	if resp, _ := h.twilio(path, statusForm("failed", "30x"), whTwilioToken); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed ErrorCode: %d, want 400", resp.StatusCode)
	}
	resp, _ := h.do("POST", path, "application/json", strings.NewReader(`{"MessageStatus":"delivered"}`), "")
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("JSON body: %d, want 415", resp.StatusCode)
	}
	big := statusForm("delivered", "")
	big.Set("Body", strings.Repeat("x", 70<<10))
	if resp, _ := h.twilio(path, big, whTwilioToken); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", resp.StatusCode)
	}
	if state, _ := h.state("W3", breach.ChannelSMS); state != "sent" {
		t.Errorf("refused requests changed the delivery to %s", state)
	}

	unconfigured := hooksServer(t, func(s *api.Server) { s.TwilioAuthToken = "" })
	for _, p := range []string{path, "/webhooks/twilio/inbound"} {
		if resp, _ := unconfigured.twilio(p, statusForm("delivered", ""), ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s without TWILIO_AUTH_TOKEN: %d, want 403", p, resp.StatusCode)
		}
	}
	noURL := hooksServer(t, func(s *api.Server) { s.PublicURL = "" })
	if resp, _ := noURL.twilio(path, statusForm("delivered", ""), whTwilioToken); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without PUBLIC_URL: %d, want 403", resp.StatusCode)
	}
}

func TestTwilioInbound_StopInAnyLanguageSuppressesTheNumber(t *testing.T) {
	h := newHooks(t, nil)
	const path = "/webhooks/twilio/inbound"
	n := rand.IntN(10_000_000)
	for i, body := range []string{"STOP", " baja ", "Arre\u0302t", "수신 거부", "opt out!", "Cancelar."} {
		from := fmt.Sprintf("+519%d%07d", i, n)
		resp, answer := h.twilio(path, url.Values{"From": {from}, "To": {"+51100200300"}, "Body": {body}, "MessageSid": {"SM1"}}, whTwilioToken)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") || !strings.Contains(string(answer), "<Response/>") {
			t.Errorf("%q: %d %s %s", body, resp.StatusCode, resp.Header.Get("Content-Type"), answer)
		}
		if suppressed(t, from) != 1 {
			t.Errorf("%q did not suppress the number", body)
		}
	}
	for _, body := range []string{"Hola, ¿qué pasó con mis datos?", "don't stop", ""} {
		from := fmt.Sprintf("+5198%07d", n)
		resp, _ := h.twilio(path, url.Values{"From": {from}, "Body": {body}}, whTwilioToken)
		if resp.StatusCode != http.StatusOK || suppressed(t, from) != 0 {
			t.Errorf("%q: %d, suppressions %d; want 200 and nothing recorded", body, resp.StatusCode, suppressed(t, from))
		}
	}
	unsigned := fmt.Sprintf("+5199%07d", n)
	if resp, _ := h.twilio(path, url.Values{"From": {unsigned}, "Body": {"STOP"}}, ""); resp.StatusCode != http.StatusForbidden || suppressed(t, unsigned) != 0 {
		t.Errorf("unsigned STOP: %d, want 403 and no suppression", resp.StatusCode)
	}
	if resp, _ := h.twilio(path, url.Values{"From": {"AndinaTel"}, "Body": {"STOP"}}, whTwilioToken); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("STOP from a non-number: %d, want 400", resp.StatusCode)
	}
	if strings.Contains(h.logs.String(), fmt.Sprintf("%07d", n)) || strings.Contains(h.logs.String(), "Hola") {
		t.Errorf("the log holds a number or a message:\n%s", h.logs)
	}
}

// sesMessage is an SES notification of kind about the message with Message-ID messageID.
func sesMessage(kind, messageID, detail string) string {
	m := map[string]any{"notificationType": kind, "mail": map[string]any{
		"messageId": "0100018f2b-ses-id", "source": "seguridad@" + whSenderHost,
		"headers":       []map[string]string{{"name": "Message-ID", "value": messageID}},
		"commonHeaders": map[string]any{"messageId": messageID},
	}}
	if detail != "" {
		var d map[string]any
		json.Unmarshal([]byte(detail), &d)
		for k, v := range d {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// postSNS posts m as SNS does (text/plain JSON).
func (h *hooks) postSNS(m *sns.Message) (*http.Response, []byte) {
	h.t.Helper()
	b, _ := json.Marshal(m)
	return h.do("POST", "/webhooks/ses", "text/plain; charset=UTF-8", bytes.NewReader(b), "")
}

func (h *hooks) signedSNS(m *sns.Message, version string) *sns.Message {
	h.t.Helper()
	if err := h.signer.Sign(m, version); err != nil {
		h.t.Fatal(err)
	}
	return m
}

func TestSES_DeliveryBounceAndComplaintReachTheRecord(t *testing.T) {
	h := newHooks(t, nil)
	// Delivery, SignatureVersion 1.
	resp, body := h.postSNS(h.signedSNS(snstest.Notification("n1", sesMessage("Delivery", h.messageID("W2"), "")), "1"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivery: %d %s", resp.StatusCode, body)
	}
	if state, _ := h.state("W2", breach.ChannelEmail); state != "delivered" {
		t.Errorf("W2's email is %s, want delivered", state)
	}
	// Complaint about it: suppressed, still delivered.
	resp, _ = h.postSNS(h.signedSNS(snstest.Notification("n2", sesMessage("Complaint", h.messageID("W2"),
		`{"complaint":{"complaintFeedbackType":"abuse","complainedRecipients":[{"emailAddress":"someone.else@example.com"}]}}`)), "2"))
	if state, _ := h.state("W2", breach.ChannelEmail); resp.StatusCode != http.StatusOK || state != "delivered" || suppressed(t, h.addr["W2.email"]) != 1 {
		t.Errorf("complaint: %d, state %s, suppressions %d; want 200, delivered, 1", resp.StatusCode, state, suppressed(t, h.addr["W2.email"]))
	}
	if suppressed(t, "someone.else@example.com") != 0 {
		t.Error("an address named by the notification was suppressed: only the delivery's own may be")
	}
	// A transient bounce changes nothing; a permanent one bounces W1's email, suppresses it,
	// and queues W1's SMS as the fallback (email first, campaign running).
	h.postSNS(h.signedSNS(snstest.Notification("n3", sesMessage("Bounce", h.messageID("W1"), `{"bounce":{"bounceType":"Transient","bounceSubType":"MailboxFull"}}`)), "2"))
	if state, _ := h.state("W1", breach.ChannelEmail); state != "sent" || suppressed(t, h.addr["W1.email"]) != 0 {
		t.Errorf("after a transient bounce: %s, %d suppressions; want sent, none", state, suppressed(t, h.addr["W1.email"]))
	}
	if state, _ := h.state("W1", breach.ChannelSMS); state != "" {
		t.Fatalf("set-up: W1 already has an SMS (%s)", state)
	}
	permanent := h.signedSNS(snstest.Notification("n4", sesMessage("Bounce", h.messageID("W1"),
		`{"bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"x@example.com","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 <x@example.com> unknown"}]}}`)), "2")
	resp, body = h.postSNS(permanent)
	if state, _ := h.state("W1", breach.ChannelEmail); resp.StatusCode != http.StatusOK || state != "bounced" || suppressed(t, h.addr["W1.email"]) != 1 {
		t.Errorf("permanent bounce: %d %s, state %s", resp.StatusCode, body, state)
	}
	if state, _ := h.state("W1", breach.ChannelSMS); state != "queued" {
		t.Errorf("W1's fallback SMS is %q, want queued", state)
	}
	// The same notification again (SNS retries): nothing new.
	_, events := h.state("W1", breach.ChannelEmail)
	h.postSNS(permanent)
	if state, again := h.state("W1", breach.ChannelEmail); state != "bounced" || again != events {
		t.Errorf("replayed bounce: %s, %d events, want bounced and still %d", state, again, events)
	}
	// A late Delivery does not undo the bounce.
	h.postSNS(h.signedSNS(snstest.Notification("n5", sesMessage("Delivery", h.messageID("W1"), "")), "1"))
	if state, _ := h.state("W1", breach.ChannelEmail); state != "bounced" {
		t.Errorf("late delivery: %s, want bounced", state)
	}
	// A message that is not ours, and SES's types that say nothing of delivery: acknowledged.
	for _, m := range []*sns.Message{
		snstest.Notification("n6", sesMessage("Delivery", "<random-id@example.org>", "")),
		snstest.Notification("n7", sesMessage("Open", h.messageID("W2"), "")),
	} {
		if resp, body := h.postSNS(h.signedSNS(m, "2")); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", m.MessageID, resp.StatusCode, body)
		}
	}
	for _, pii := range []string{h.addr["W1.email"], h.addr["W2.email"], "x@example.com", "5.1.1 <"} {
		if strings.Contains(h.logs.String(), pii) {
			t.Errorf("the log holds %q:\n%s", pii, h.logs)
		}
	}
}

func TestSES_SubscriptionConfirmationGetsTheSubscribeURL(t *testing.T) {
	h := newHooks(t, nil)
	subscribe := "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(snstest.TopicArn) + "&Token=tok-1"
	resp, body := h.postSNS(h.signedSNS(snstest.Confirmation("c1", subscribe), "2"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirmation: %d %s", resp.StatusCode, body)
	}
	select {
	case q := <-h.confirmed:
		if q.Get("Action") != "ConfirmSubscription" || q.Get("Token") != "tok-1" {
			t.Errorf("confirmed with %v", q)
		}
	default:
		t.Fatal("the SubscribeURL was not fetched")
	}
	// A SubscribeURL off SNS's hosts is not fetched.
	resp, _ = h.postSNS(h.signedSNS(snstest.Confirmation("c2", "https://attacker.example/?Action=ConfirmSubscription"), "2"))
	if resp.StatusCode != http.StatusForbidden || len(h.confirmed) != 0 {
		t.Errorf("foreign SubscribeURL: %d, %d fetches; want 403 and none", resp.StatusCode, len(h.confirmed))
	}
}

func TestSES_BadMessagesAreRefusedAndChangeNothing(t *testing.T) {
	h := newHooks(t, nil)
	bounce := func(id string) *sns.Message {
		return snstest.Notification(id, sesMessage("Bounce", h.messageID("W2"), `{"bounce":{"bounceType":"Permanent"}}`))
	}
	stale := bounce("stale")
	stale.Timestamp = time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	foreignCert := bounce("cert")
	foreignCert.SigningCertURL = "https://certs.attacker.example/SimpleNotificationService.pem"
	otherTopic := bounce("topic")
	otherTopic.TopicArn = "arn:aws:sns:us-east-1:999999999999:strangers"
	tampered := h.signedSNS(bounce("tampered"), "2")
	tampered.Message = strings.Replace(tampered.Message, "Permanent", "Permanent ", 1)
	unsigned := bounce("unsigned")
	unsigned.SigningCertURL, unsigned.SignatureVersion, unsigned.Signature = snstest.CertURL, "2", base64.StdEncoding.EncodeToString([]byte("nope"))

	for name, tt := range map[string]struct {
		m      *sns.Message
		status int
	}{
		"stale timestamp":        {h.signedSNS(stale, "2"), http.StatusForbidden},
		"certificate off SNS":    {h.signedSNS(foreignCert, "2"), http.StatusForbidden},
		"topic not allowed":      {h.signedSNS(otherTopic, "2"), http.StatusForbidden},
		"tampered after signing": {tampered, http.StatusForbidden},
		"bad signature":          {unsigned, http.StatusForbidden},
		"unknown SNS type":       {&sns.Message{Type: "Surprise", MessageID: "x"}, http.StatusBadRequest},
		"unknown SES type": {h.signedSNS(snstest.Notification("u", sesMessage("Teleported", h.messageID("W2"), "")), "2"),
			http.StatusBadRequest},
	} {
		if resp, body := h.postSNS(tt.m); resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, body, tt.status)
		}
	}
	good, _ := json.Marshal(h.signedSNS(bounce("xml"), "2"))
	if resp, _ := h.do("POST", "/webhooks/ses", "application/xml", bytes.NewReader(good), ""); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("XML content type: %d, want 415", resp.StatusCode)
	}
	huge := h.signedSNS(snstest.Notification("huge", strings.Repeat(" ", 300<<10)+sesMessage("Delivery", h.messageID("W2"), "")), "2")
	if resp, _ := h.postSNS(huge); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("300 KiB message: %d, want 413", resp.StatusCode)
	}
	if state, _ := h.state("W2", breach.ChannelEmail); state != "sent" || suppressed(t, h.addr["W2.email"]) != 0 {
		t.Errorf("refused messages changed the record: %s, %d suppressions", state, suppressed(t, h.addr["W2.email"]))
	}
}

// postEvents posts a generic webhook body signed at time at with secret (nil: unsigned).
func (h *hooks) postEvents(body string, secret []byte, at time.Time) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequestWithContext(h.t.Context(), "POST", h.url+"/webhooks/email", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != nil {
		ts := strconv.FormatInt(at.Unix(), 10)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(ts + "." + body))
		req.Header.Set("X-Breachnotice-Signature", "t="+ts+",v1=00ff,v1="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := (&http.Client{Transport: validated{h.t}}).Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestEmailWebhook_SignedEventsApplyAndBadOnesChangeNothing(t *testing.T) {
	h := newHooks(t, nil)
	events := func(list ...string) string { return `{"events":[` + strings.Join(list, ",") + `]}` }
	delivered := fmt.Sprintf(`{"message_id":%q,"type":"delivered"}`, h.messageID("W2"))
	bounced := fmt.Sprintf(`{"message_id":%q,"type":"bounced","permanent":true,"reason":"550 5.1.1 <%s> unknown"}`,
		strings.Trim(h.messageID("W1"), "<>"), h.addr["W1.email"])
	soft := fmt.Sprintf(`{"message_id":%q,"type":"bounced","permanent":false}`, h.messageID("W2"))
	complained := fmt.Sprintf(`{"message_id":%q,"type":"complained","reason":"abuse"}`, h.messageID("W2"))
	foreign := `{"message_id":"<abc@example.org>","type":"delivered"}`

	// Refused: unsigned, wrong secret, expired, future, malformed, too big, wrong type.
	body := events(delivered, bounced)
	for name, tt := range map[string]struct {
		body, contentType string
		secret            []byte
		at                time.Time
		status            int
	}{
		"unsigned":        {body, "", nil, time.Now(), http.StatusForbidden},
		"wrong secret":    {body, "", []byte("not-the-webhook-secret-of-the-tests"), time.Now(), http.StatusForbidden},
		"expired":         {body, "", whSecret, time.Now().Add(-6 * time.Minute), http.StatusForbidden},
		"from the future": {body, "", whSecret, time.Now().Add(6 * time.Minute), http.StatusForbidden},
		"unknown field":   {events(`{"messageId":"<a@b>","type":"delivered"}`), "", whSecret, time.Now(), http.StatusBadRequest},
		"no events":       {`{"events":[]}`, "", whSecret, time.Now(), http.StatusBadRequest},
		// Not one event readable (a relay's own type names): a 400 it sees, not a silent 200.
		"only stray events": {events(`{"message_id":"<a@b>","type":"complaint"}`, `{"type":"hard_bounce"}`), "", whSecret, time.Now(), http.StatusBadRequest},
		"oversized":         {events(delivered, fmt.Sprintf(`{"message_id":"<a@b>","type":"delivered","reason":%q}`, strings.Repeat("x", 70<<10))), "", whSecret, time.Now(), http.StatusRequestEntityTooLarge},
	} {
		resp, answer := h.postEvents(tt.body, tt.secret, tt.at)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, answer, tt.status)
		}
	}
	resp, _ := h.do("POST", "/webhooks/email", "application/x-www-form-urlencoded", strings.NewReader(body), "")
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form content type: %d, want 415", resp.StatusCode)
	}
	if state, _ := h.state("W2", breach.ChannelEmail); state != "sent" {
		t.Fatalf("refused batches changed W2's email to %s", state)
	}

	// A stray event (a relay's "opened", one without message_id) is skipped and said; the
	// complaint beside it is applied all the same (the review's batch lost it: a relay does
	// not send a refused batch again).
	resp, answer := h.postEvents(events(complained, `{"message_id":"<a@b>","type":"opened"}`, `{"type":"delivered"}`), whSecret, time.Now())
	skipped := decode[struct {
		Unchanged int
		Invalid   []string
	}](t, answer)
	if resp.StatusCode != http.StatusOK || skipped.Unchanged != 1 || len(skipped.Invalid) != 2 ||
		!strings.Contains(skipped.Invalid[0], `events[1]: type "opened"`) || !strings.Contains(skipped.Invalid[1], "events[2]: message_id") {
		t.Fatalf("a batch with stray events: %d %s; want 200, the complaint taken, two events listed invalid", resp.StatusCode, answer)
	}
	if n := suppressed(t, h.addr["W2.email"]); n != 1 {
		t.Fatalf("the complaint beside stray events suppressed %d addresses, want 1", n)
	}

	resp, answer = h.postEvents(events(delivered, bounced, soft, complained, foreign), whSecret, time.Now())
	counts := decode[struct{ Applied, Unchanged, Ignored int }](t, answer)
	if resp.StatusCode != http.StatusOK || counts.Applied != 2 || counts.Unchanged != 1 || counts.Ignored != 2 {
		t.Fatalf("batch: %d %s; want 2 applied, 1 unchanged (the complaint), 2 ignored (soft bounce, not ours)", resp.StatusCode, answer)
	}
	if state, _ := h.state("W2", breach.ChannelEmail); state != "delivered" || suppressed(t, h.addr["W2.email"]) != 1 {
		t.Errorf("W2: %s, %d suppressions; want delivered and suppressed (complaint)", state, suppressed(t, h.addr["W2.email"]))
	}
	if state, _ := h.state("W1", breach.ChannelEmail); state != "bounced" || suppressed(t, h.addr["W1.email"]) != 1 {
		t.Errorf("W1: %s, want bounced and suppressed", state)
	}
	var stored string
	conn, _ := pgx.Connect(t.Context(), dbURL)
	defer conn.Close(context.Background())
	conn.QueryRow(t.Context(), `SELECT error FROM deliveries WHERE campaign_id = $1 AND recipient_id = $2 AND channel = 'email'`,
		h.campaign, h.ids["W1"]).Scan(&stored)
	if !strings.Contains(stored, "5.1.1") || strings.Contains(stored, "@") {
		t.Errorf("recorded error %q: want the relay's code, never the address", stored)
	}
	// Replayed within the window: nothing changes twice.
	resp, answer = h.postEvents(events(delivered, bounced), whSecret, time.Now())
	if counts := decode[struct{ Applied, Unchanged int }](t, answer); resp.StatusCode != http.StatusOK || counts.Applied != 0 || counts.Unchanged != 2 {
		t.Errorf("replay: %d %s, want nothing applied", resp.StatusCode, answer)
	}

	unconfigured := hooksServer(t, func(s *api.Server) { s.WebhookSecret = nil })
	if resp, _ := unconfigured.postEvents(events(delivered), whSecret, time.Now()); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without WEBHOOK_SECRET: %d, want 403", resp.StatusCode)
	}
}

// A relay's reason is the text of whatever server refused the message — one the customer may
// run — and may hold control characters: a NUL, which PostgreSQL refuses, made the batch answer
// 500 at that event, so the relay's retries stuck there for good and the events after it were
// never applied; an escape sequence reached operators' terminals. Control characters are
// dropped from the recorded reason, and the batch applies whole.
func TestEmailWebhook_AReasonWithControlCharactersIsRecordedWithoutThem(t *testing.T) {
	h := newHooks(t, nil)
	bounced := fmt.Sprintf(`{"message_id":%q,"type":"bounced","permanent":true,"reason":"550 5.1.1 no\u0000such\u001b]52;c;eA==\u0007user"}`, h.messageID("W1"))
	delivered := fmt.Sprintf(`{"message_id":%q,"type":"delivered"}`, h.messageID("W2"))
	resp, answer := h.postEvents(`{"events":[`+bounced+`,`+delivered+`]}`, whSecret, time.Now())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batch with a NUL in a reason: %d %s, want 200", resp.StatusCode, answer)
	}
	if state, _ := h.state("W2", breach.ChannelEmail); state != "delivered" {
		t.Errorf("the event after the NUL: W2's email is %s, want delivered", state)
	}
	var stored string
	conn, _ := pgx.Connect(t.Context(), dbURL)
	defer conn.Close(context.Background())
	conn.QueryRow(t.Context(), `SELECT error FROM deliveries WHERE campaign_id = $1 AND recipient_id = $2 AND channel = 'email'`,
		h.campaign, h.ids["W1"]).Scan(&stored)
	if strings.ContainsFunc(stored, unicode.IsControl) || !strings.Contains(stored, "5.1.1") {
		t.Errorf("recorded error %q: want the reason without control characters", stored)
	}
}
