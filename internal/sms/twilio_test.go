package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTwilio_ConcurrentSendsReachServerOnceEachWithTheirOwnSid(t *testing.T) {
	f := newFakeTwilio(t)
	tw := f.twilio()
	const total, workers = 1000, 8
	ids := make([]string, total)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				id, err := tw.Send(t.Context(), Message{To: fmt.Sprintf("+1415555%04d", i), Body: fmt.Sprintf("notice %d", i)})
				if err != nil {
					t.Errorf("send %d: %v", i, err)
				}
				ids[i] = id
			}
		})
	}
	for i := range total {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	got := f.received()
	if len(got) != total {
		t.Fatalf("server received %d messages, want %d", len(got), total)
	}
	byBody := map[string]received{}
	for _, m := range got {
		if _, dup := byBody[m.Body]; dup {
			t.Errorf("%q received twice", m.Body)
		}
		byBody[m.Body] = m
	}
	for i, id := range ids {
		m, ok := byBody[fmt.Sprintf("notice %d", i)]
		switch {
		case !ok:
			t.Errorf("message %d never reached the server", i)
		case m.To != fmt.Sprintf("+1415555%04d", i) || m.From != testFrom || m.MessagingServiceSid != "":
			t.Errorf("message %d arrived as To=%s From=%s MessagingServiceSid=%s", i, m.To, m.From, m.MessagingServiceSid)
		case m.SID != id:
			t.Errorf("message %d: Send returned %q, server assigned %q", i, id, m.SID)
		}
	}
}

func TestTwilio_MessagingServiceSidReplacesFromAndStatusCallbackPassesThrough(t *testing.T) {
	f := newFakeTwilio(t)
	tw := f.twilio()
	tw.From, tw.MessagingServiceSID = "", testMG
	const callback = "https://notice.example.com/webhooks/twilio/status?d=42"
	if _, err := tw.Send(t.Context(), Message{To: "+14155550100", Body: "hello", StatusCallback: callback}); err != nil {
		t.Fatal(err)
	}
	tw.From, tw.MessagingServiceSID = testFrom, ""
	if _, err := tw.Send(t.Context(), Message{To: "+14155550101", Body: "no callback"}); err != nil {
		t.Fatal(err)
	}
	got := f.received()
	if len(got) != 2 {
		t.Fatalf("received %d messages", len(got))
	}
	if m := got[0]; m.MessagingServiceSid != testMG || m.From != "" || m.Status != callback {
		t.Errorf("with a Messaging Service: %+v", m)
	}
	if m := got[1]; m.From != testFrom || m.MessagingServiceSid != "" || m.Status != "" {
		t.Errorf("with From and no callback: %+v", m)
	}
}

func TestTwilio_ErrorsAreClassifiedForTheQueue(t *testing.T) {
	const to, body = "+14155559876", "Your data was exposed in incident 7"
	tests := []struct {
		name                string
		status, code        int
		permanent, optedOut bool
		mention             string
	}{
		{"rate limited 429", 429, 20429, false, false, "rate limited"},
		{"429 without a code", 429, 0, false, false, "rate limited"},
		{"code 20429 under another status", 400, 20429, false, false, "rate limited"},
		{"internal error 500", 500, 0, false, false, "unavailable"},
		{"unavailable 503", 503, 0, false, false, "unavailable"},
		{"unsubscribed recipient 21610", 400, 21610, true, true, "opted out"},
		{"invalid To 21211", 400, 21211, true, false, "not a valid phone number"},
		{"not a mobile 21614", 400, 21614, true, false, "not a mobile"},
		{"bad credentials 401", 401, 20003, false, false, "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"},
		{"other 4xx", 400, 21606, true, false, "refused"},
		{"forbidden 403", 403, 0, true, false, "refused"},
		{"request timeout 408", 408, 0, false, false, "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t)
			f.respond = func(w http.ResponseWriter, r *http.Request) bool {
				// Twilio's own messages quote the number; none of it may reach the error.
				twilioAnswer(w, tt.status, tt.code, "The 'To' number "+to+" is not valid for "+body)
				return true
			}
			_, err := f.twilio().Send(t.Context(), Message{To: to, Body: body})
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if e.Permanent != tt.permanent || e.OptedOut != tt.optedOut || e.Status != tt.status || e.Code != tt.code {
				t.Errorf("got Permanent=%v OptedOut=%v Status=%d Code=%d, want %v %v %d %d",
					e.Permanent, e.OptedOut, e.Status, e.Code, tt.permanent, tt.optedOut, tt.status, tt.code)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			assertNoSecrets(t, err, to, body)
		})
	}
}

// A wrong token is the account's problem, not the customer's: retried (as a relay's refused
// login is), never failed for good.
func TestTwilio_WrongTokenIsTemporaryAndNamesTheVariablesNotTheValues(t *testing.T) {
	f := newFakeTwilio(t) // checks Basic auth itself
	tw := f.twilio()
	tw.AuthToken = "0badc0de0badc0de0badc0de0badc0de"
	_, err := tw.Send(t.Context(), Message{To: "+14155550100", Body: "hello"})
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Permanent || e.Status != 401 {
		t.Fatalf("got %#v, want a temporary 401", err)
	}
	if !strings.Contains(err.Error(), "TWILIO_AUTH_TOKEN") {
		t.Errorf("error %q does not say which variables to check", err)
	}
	assertNoSecrets(t, err, tw.AuthToken, tw.AccountSID)
}

func TestTwilio_HangingServerIsTransientAndReturnsAtTheClientTimeout(t *testing.T) {
	f := newFakeTwilio(t)
	f.hang()
	tw := f.twilio()
	tw.Client = &http.Client{Timeout: 200 * time.Millisecond}
	start := time.Now()
	_, err := tw.Send(t.Context(), Message{To: "+14155550100", Body: "hello"})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Send returned after %v with a 200ms client timeout", took)
	}
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Permanent || e.Status != 0 {
		t.Fatalf("got %#v, want a transient *Error without status", err)
	}
	assertNoSecrets(t, err, testSID, testToken, "+14155550100", "hello")
}

func TestTwilio_CancelledContextReturnsPromptly(t *testing.T) {
	f := newFakeTwilio(t)
	f.hang()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.twilio().Send(ctx, Message{To: "+14155550100", Body: "hello"}) // default client: 15 s
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Send returned %v after ctx ended", took)
	}
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Permanent || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a transient *Error wrapping context.DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if _, err := f.twilio().Send(ctx, Message{To: "+14155550100", Body: "hello"}); !errors.Is(err, context.Canceled) {
		t.Errorf("already cancelled ctx: got %v", err)
	}
	if n := len(f.received()); n != 0 {
		t.Errorf("%d messages accepted", n)
	}
}

func TestTwilio_UnreachableServerIsTransient(t *testing.T) {
	f := newFakeTwilio(t)
	tw := f.twilio()
	f.srv.Close()
	_, err := tw.Send(t.Context(), Message{To: "+14155550100", Body: "hello"})
	if e, ok := errors.AsType[*Error](err); !ok || e.Permanent {
		t.Fatalf("got %#v, want a transient *Error", err)
	}
	assertNoSecrets(t, err, testSID, testToken)
}

func TestTwilio_AcceptedWithoutSidIsTransient(t *testing.T) {
	f := newFakeTwilio(t)
	f.respond = func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte("<html>proxy</html>"))
		return true
	}
	_, err := f.twilio().Send(t.Context(), Message{To: "+14155550100", Body: "hello"})
	if e, ok := errors.AsType[*Error](err); !ok || e.Permanent || e.Status != 201 {
		t.Fatalf("got %#v, want a transient *Error with status 201", err)
	}
}

func TestTwilio_UnsendableMessageOrConfigFailsWithoutARequest(t *testing.T) {
	f := newFakeTwilio(t)
	tests := []struct {
		name   string
		modify func(*Twilio)
		msg    Message
	}{
		{"To not E.164", nil, Message{To: "4155550100", Body: "hello"}},
		{"To with letters", nil, Message{To: "+1415CALLNOW", Body: "hello"}},
		{"empty body", nil, Message{To: "+14155550100", Body: "  "}},
		{"no token", func(tw *Twilio) { tw.AuthToken = "" }, Message{To: "+14155550100", Body: "hello"}},
		{"From and service", func(tw *Twilio) { tw.MessagingServiceSID = testMG }, Message{To: "+14155550100", Body: "hello"}},
		{"neither From nor service", func(tw *Twilio) { tw.From = "" }, Message{To: "+14155550100", Body: "hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := f.twilio()
			if tt.modify != nil {
				tt.modify(tw)
			}
			_, err := tw.Send(t.Context(), tt.msg)
			if e, ok := errors.AsType[*Error](err); !ok || !e.Permanent || e.OptedOut {
				t.Fatalf("got %#v, want a permanent *Error", err)
			}
			assertNoSecrets(t, err, tt.msg.To, "hello", testToken)
		})
	}
	if n := len(f.received()); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// assertNoSecrets fails if err's text contains any of the values (tokens, numbers, bodies).
func assertNoSecrets(t *testing.T, err error, values ...string) {
	t.Helper()
	for _, v := range values {
		if v != "" && strings.Contains(err.Error(), v) {
			t.Errorf("error %q contains %q", err, v)
		}
	}
}

// Whether a failure may have sent the message all the same: a refusal (429, 4xx) or a
// connection never made cannot; a 5xx, or an answer lost after the request went out, may.
func TestTwilio_SaysWhenAFailedSendMayHaveGoneOut(t *testing.T) {
	for _, tc := range []struct {
		status int
		maybe  bool
	}{{429, false}, {400, false}, {401, false}, {500, true}, {503, true}} {
		if got := classify(tc.status, 0).MaybeSent; got != tc.maybe {
			t.Errorf("HTTP %d: MaybeSent %v, want %v", tc.status, got, tc.maybe)
		}
	}
	for code, want := range map[int]bool{codeInvalidTo: true, codeNotMobile: true, 21606: false, 0: false} {
		if got := classify(400, code).RecipientFault; got != want {
			t.Errorf("code %d: RecipientFault %v, want %v", code, got, want)
		}
	}
	send := func(base string) *Error {
		tw := &Twilio{AccountSID: testSID, AuthToken: testToken, From: "+14155550100", BaseURL: base}
		_, err := tw.Send(t.Context(), Message{To: "+14155550101", Body: "hello"})
		e, ok := errors.AsType[*Error](err)
		if !ok || e.Permanent {
			t.Fatalf("%s: %#v, want a temporary *Error", base, err)
		}
		return e
	}
	if e := send("http://127.0.0.1:1"); e.MaybeSent {
		t.Errorf("a refused connection: %v, said possibly sent", e)
	}
	untrusted := httptest.NewTLSServer(http.NotFoundHandler()) // a certificate the client does not trust
	defer untrusted.Close()
	if e := send(untrusted.URL); e.MaybeSent {
		t.Errorf("a TLS handshake refused: %v, said possibly sent", e)
	}
	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // took the request, then the connection breaks
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}))
	defer hangUp.Close()
	if e := send(hangUp.URL); !e.MaybeSent {
		t.Errorf("a connection lost after the request: %v, not said possibly sent", e)
	}
}
