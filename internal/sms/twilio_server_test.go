package sms

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "f00dfeedf00dfeedf00dfeedf00dfeed"
	testFrom  = "+15005550006"
	testMG    = "MG0123456789abcdef0123456789abcdef"
)

// received is one message as the fake Twilio saw it.
type received struct {
	SID                                         string
	To, From, MessagingServiceSid, Body, Status string
}

// fakeTwilio speaks the part of Twilio's Messages API that Send uses, and fails the test on
// anything Twilio itself would refuse as malformed. respond, when set, scripts the answer.
type fakeTwilio struct {
	t   *testing.T
	srv *httptest.Server

	// respond, if not nil, answers instead of accepting (return false to accept after all).
	respond func(w http.ResponseWriter, r *http.Request) bool

	stop chan struct{} // closed before the server, to release hanging handlers

	mu       sync.Mutex
	n        int
	messages []received
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{t: t, stop: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.stop) }) // runs first: Close waits for handlers
	return f
}

// hang makes the server read each request and never answer, as an overloaded API can. (The
// server only notices a client hanging up once the body is read, hence the read.)
func (f *fakeTwilio) hang() {
	f.respond = func(w http.ResponseWriter, r *http.Request) bool {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-f.stop:
		}
		return true
	}
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.t.Errorf("method %s, want POST", r.Method)
	}
	if want := "/2010-04-01/Accounts/" + testSID + "/Messages.json"; r.URL.Path != want {
		f.t.Errorf("path %s, want %s", r.URL.Path, want)
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != testSID || pass != testToken {
		twilioAnswer(w, 401, 20003, "Authenticate")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("Content-Type %q", ct)
	}
	if f.respond != nil && f.respond(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("form: %v", err)
	}
	msg := received{
		To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"),
		MessagingServiceSid: r.PostForm.Get("MessagingServiceSid"), Status: r.PostForm.Get("StatusCallback"),
	}
	if msg.To == "" || msg.Body == "" || (msg.From == "") == (msg.MessagingServiceSid == "") {
		twilioAnswer(w, 400, 21604, "A 'To' phone number, a 'Body' and one of 'From' or 'MessagingServiceSid' are required.")
		return
	}
	f.mu.Lock()
	f.n++
	msg.SID = fmt.Sprintf("SM%032x", f.n)
	f.messages = append(f.messages, msg)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"sid": msg.SID, "status": "queued", "to": msg.To, "from": msg.From, "body": msg.Body,
		"account_sid": testSID, "num_segments": "1",
	})
}

func (f *fakeTwilio) received() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.messages...)
}

// twilio returns a sender pointed at the fake.
func (f *fakeTwilio) twilio() *Twilio {
	return &Twilio{AccountSID: testSID, AuthToken: testToken, From: testFrom, BaseURL: f.srv.URL}
}

// twilioAnswer writes an error the way Twilio does. Like Twilio's, message may quote the number.
func twilioAnswer(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": message, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	})
}
