package web

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// Outbox is where the local captures write, in development mode (no SMTP_URL, no Twilio):
// the console lists them so that a new user sees what the customers would have received.
type Outbox struct {
	// EmailDir holds one .eml file per email (internal/email.Capture); "" when email is
	// really sent.
	EmailDir string
	// SMSFile holds one JSON line per SMS (internal/sms.Capture); "" when SMS are really sent.
	SMSFile string
}

// Listing bounds: a development outbox can hold a whole campaign's notices.
const (
	maxListedEmails = 200
	maxListedSMS    = 200
	maxEmailBytes   = 4 << 20
)

// captureName is the form of the email capture's file names (see email.captureFileName):
// only such names are ever opened, and only if the directory's listing holds them.
var captureName = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{9}Z-[A-Za-z0-9.@+_-]{1,100}\.eml$`)

type outboxData struct {
	Dir, SMSFile string
	Emails       []string
	MoreEmails   int
	SMS          []capturedSMS
	SMSTotal     int
}

// capturedSMS is a line of the SMS capture (internal/sms.Capture).
type capturedSMS struct {
	ID   string    `json:"id"`
	To   string    `json:"to"`
	Body string    `json:"body"`
	At   time.Time `json:"at"`
}

// outbox lists the newest captured emails and SMS.
func (s *Server) outbox(w http.ResponseWriter, r *http.Request) {
	d := &outboxData{Dir: s.Outbox.EmailDir, SMSFile: s.Outbox.SMSFile}
	names, err := s.emailNames()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "The outbox could not be read: "+err.Error())
		return
	}
	slices.Reverse(names)
	if len(names) > maxListedEmails {
		d.MoreEmails = len(names) - maxListedEmails
		names = names[:maxListedEmails]
	}
	d.Emails = names
	if d.SMS, d.SMSTotal, err = s.lastSMS(maxListedSMS); err != nil {
		s.fail(w, r, http.StatusInternalServerError, "The SMS outbox could not be read: "+err.Error())
		return
	}
	if err := s.Ops.OutboxRead(r.Context(), actorOf(r.Context()), operation.OutboxList, len(d.Emails), len(d.SMS)); err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.render(w, r, http.StatusOK, "outbox", "Local outbox (nothing was really sent)", d)
}

// emailNames lists the captured emails' file names, oldest first (they begin with the time).
func (s *Server) emailNames() ([]string, error) {
	if s.Outbox.EmailDir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(s.Outbox.EmailDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && captureName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// lastSMS returns the last n lines of the SMS capture, newest first, and how many it holds.
func (s *Server) lastSMS(n int) ([]capturedSMS, int, error) {
	if s.Outbox.SMSFile == "" {
		return nil, 0, nil
	}
	f, err := os.Open(s.Outbox.SMSFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var (
		ring  = make([]capturedSMS, 0, n)
		total int
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m capturedSMS
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		total++
		if len(ring) == n {
			ring = ring[1:]
		}
		ring = append(ring, m)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	slices.Reverse(ring)
	return ring, total, nil
}

// openEmail opens a captured email by its base name, which must be in the directory's
// listing: the name from the request is compared, never joined into a path unchecked.
func (s *Server) openEmail(name string) (*os.File, error) {
	names, err := s.emailNames()
	if err != nil {
		return nil, err
	}
	if !captureName.MatchString(name) || !slices.Contains(names, name) {
		return nil, fs.ErrNotExist
	}
	return os.Open(filepath.Join(s.Outbox.EmailDir, name))
}

// emailData is one captured email as the outbox page shows it.
type emailData struct {
	Name                    string
	From, To, Subject, Date string
	Text                    string
	HasHTML                 bool
}

func (s *Server) outboxEmail(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	m, err := s.readEmail(name)
	if err == nil {
		err = s.Ops.OutboxRead(r.Context(), actorOf(r.Context()), operation.OutboxEmail, 0, 0)
	}
	if err != nil {
		s.outboxFailed(w, r, err)
		return
	}
	dec := new(mime.WordDecoder)
	header := func(k string) string {
		v, err := dec.DecodeHeader(m.msg.Header.Get(k))
		if err != nil {
			return m.msg.Header.Get(k)
		}
		return v
	}
	d := &emailData{Name: name, From: header("From"), To: header("To"), Subject: header("Subject"), Date: header("Date"),
		Text: m.text, HasHTML: m.html != ""}
	s.render(w, r, http.StatusOK, "email", "Email: "+d.Subject, d)
}

// outboxEmailHTML answers a captured email's HTML part alone, for the email page's frame.
func (s *Server) outboxEmailHTML(w http.ResponseWriter, r *http.Request) {
	m, err := s.readEmail(r.PathValue("name"))
	if err == nil {
		err = s.Ops.OutboxRead(r.Context(), actorOf(r.Context()), operation.OutboxEmailHTML, 0, 0)
	}
	if err != nil {
		s.outboxFailed(w, r, err)
		return
	}
	writeFramedHTML(w, m.html)
}

// outboxEmailRaw downloads a captured email, to open it in a mail client.
func (s *Server) outboxEmailRaw(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f, err := s.openEmail(name)
	if err != nil {
		s.outboxFailed(w, r, err)
		return
	}
	defer f.Close()
	if err := s.Ops.OutboxRead(r.Context(), actorOf(r.Context()), operation.OutboxEmailRaw, 0, 0); err != nil {
		s.outboxFailed(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = io.Copy(w, f)
}

func (s *Server) outboxFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		s.fail(w, r, http.StatusNotFound, "There is no such email in the outbox.")
		return
	}
	if breach.ErrorCode(err) != breach.EINTERNAL {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err)) // the read's audit refused it
		return
	}
	s.Log.Error("read outbox email", "err", withoutPath(err))
	s.fail(w, r, http.StatusInternalServerError, "The email could not be read.")
}

// withoutPath is err with the file name of a *fs.PathError left out: a captured email's name
// holds its recipient's address, which has no place in a log.
func withoutPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// parsedEmail is a captured email's header and its text and HTML bodies, decoded.
type parsedEmail struct {
	msg        *mail.Message
	text, html string
}

func (s *Server) readEmail(name string) (*parsedEmail, error) {
	f, err := s.openEmail(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	msg, err := mail.ReadMessage(io.LimitReader(f, maxEmailBytes))
	if err != nil {
		return nil, err
	}
	p := &parsedEmail{msg: msg}
	err = p.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return p, err
}

// walk finds the text/plain and text/html bodies in a (possibly nested) MIME structure.
func (p *parsedEmail) walk(contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := p.walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // line breaks are skipped
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch {
	case mt == "text/plain" && p.text == "":
		p.text = string(b)
	case mt == "text/html" && p.html == "":
		p.html = string(b)
	}
	return nil
}
