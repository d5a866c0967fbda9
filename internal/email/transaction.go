package email

import (
	"bufio"
	"bytes"
	"errors"
	"net/textproto"
	"reflect"
	"strings"

	"github.com/wneessen/go-mail/smtp"
)

// Stages of an SMTP transaction, as Error names them.
const (
	stageMail = "MAIL FROM"
	stageRcpt = "RCPT TO"
	stageData = "DATA"
	stageBody = "message body"
	stageEnd  = "end of data"
)

// Transaction sends raw (a whole message, CRLF line breaks) from from to to on c, an open
// connection: MAIL FROM, RCPT TO, DATA (in one write when the relay offers PIPELINING), the
// message and the final dot, and the relay's reply.
// It is what Sender does for each message, exported for the benchmark's raw client (cmd/bnbench)
// so that its limit is measured with the same lean transaction.
func Transaction(c *smtp.Client, from, to string, raw []byte) error {
	_, err := transaction(c, from, to, raw)
	return err
}

// transaction is Transaction, also saying at which stage it failed.
//
// The message data does not go through go-mail's Data writer: that is net/textproto's
// DotWriter, which handles the message one byte at a time, and a bench send's CPU profile showed
// it taking 18 % of the worker's time, more than anything else. writeData writes the same bytes
// a line at a time.
//
// The data is the concatenation of data's slices (a DKIM-Signature header, then the message),
// each but the last ending with a line break.
func transaction(c *smtp.Client, from, to string, data ...[]byte) (stage string, err error) {
	if ok, _ := c.Extension("PIPELINING"); ok && clientOptions.known {
		stage, err = pipelinedEnvelope(c, from, to)
	} else {
		stage, err = envelope(c, from, to)
	}
	if err != nil {
		return stage, err
	}
	if err := writeData(c.Text.W, data...); err != nil {
		return stageBody, err
	}
	// Any positive completion (2yz, RFC 5321 §4.2.1) is the relay taking the message, not only
	// 250: go-mail's DataCloser wants exactly 250, and a relay answering 251 had the message
	// counted failed and sent again — by the next relay of a Pool at once.
	if _, _, err := c.Text.ReadResponse(2); err != nil {
		return stageEnd, err
	}
	return "", nil
}

// envelope is MAIL FROM, RCPT TO and DATA, each waiting for its reply, up to the relay's 354.
func envelope(c *smtp.Client, from, to string) (stage string, err error) {
	if err := c.Mail("<" + from + ">"); err != nil {
		return stageMail, err
	}
	if err := c.Rcpt("<" + to + ">"); err != nil {
		return stageRcpt, err
	}
	id, err := c.Text.Cmd("DATA")
	if err != nil {
		return stageData, err
	}
	c.Text.StartResponse(id)
	_, _, err = c.Text.ReadResponse(354)
	c.Text.EndResponse(id)
	if err != nil {
		return stageData, err
	}
	return "", nil
}

// pipelinedEnvelope is envelope for a relay that offers PIPELINING (RFC 2920): MAIL FROM, RCPT
// TO and DATA go out in one write and their three replies are read after it, one round trip
// instead of three — and two writes and reads fewer per message, which at sending speed were a
// large part of the worker's system calls. The commands are the ones go-mail's Mail and Rcpt
// send on c, with the parameters its options ask for (envelopeParams).
//
// Every reply is read, whatever the earlier ones said, so that the connection stays in step
// for the next transaction (or the RSET after a refusal). A relay that refused the sender or
// the recipient refuses DATA too (RFC 2920 §3.1); one that accepted it all the same is sent an
// empty message, which it cannot deliver without a recipient, and the first refusal is
// returned. A failure that is not a reply (the connection broke) ends it at once: the
// connection is dropped.
func pipelinedEnvelope(c *smtp.Client, from, to string) (stage string, err error) {
	if strings.ContainsAny(from, "\r\n") || strings.ContainsAny(to, "\r\n") {
		return stageMail, errors.New("smtp: an address contains a line break")
	}
	p := envelopeParams(c)
	if strings.ContainsAny(p.ret, "\r\n") || strings.ContainsAny(p.notify, "\r\n") {
		return stageMail, errors.New("smtp: a DSN option contains a line break")
	}
	w := c.Text.W
	w.WriteString("MAIL FROM:<")
	w.WriteString(from)
	w.WriteByte('>')
	if p.body8bit {
		w.WriteString(" BODY=8BITMIME")
	}
	if p.utf8 {
		w.WriteString(" SMTPUTF8")
	}
	if p.ret != "" {
		w.WriteString(" RET=")
		w.WriteString(p.ret)
	}
	w.WriteString("\r\nRCPT TO:<")
	w.WriteString(to)
	w.WriteByte('>')
	if p.notify != "" {
		w.WriteString(" NOTIFY=")
		w.WriteString(p.notify)
	}
	w.WriteString("\r\nDATA\r\n")
	if err := w.Flush(); err != nil {
		return stageMail, err
	}
	replies := [...]struct {
		stage string
		code  int
	}{{stageMail, 250}, {stageRcpt, 25}, {stageData, 354}}
	dataAccepted := false
	for _, r := range replies {
		_, _, rerr := c.Text.ReadResponse(r.code)
		var refused *textproto.Error
		switch {
		case rerr == nil:
			dataAccepted = r.stage == stageData
		case !errors.As(rerr, &refused):
			if err != nil { // after a refusal (a 421 closes the connection): that is the news
				return stage, err
			}
			return r.stage, rerr
		case err == nil:
			stage, err = r.stage, rerr
		}
	}
	if err != nil && dataAccepted {
		// DATA was accepted after a refusal: end the data at once.
		if werr := writeData(w); werr == nil {
			_, _, _ = c.Text.ReadResponse(250)
		}
	}
	return stage, err
}

// writeData writes raws, one after the other, as SMTP message data and flushes it: every line
// break CRLF, a '.' added before each line that starts with one (RFC 5321 §4.5.2), and the
// final ".\r\n" — the bytes textproto's DotWriter writes, a line rather than a byte at a time.
// Each of raws but the last must end with a line break.
func writeData(w *bufio.Writer, raws ...[]byte) error {
	for _, raw := range raws {
		writeLines(w, raw)
	}
	w.WriteString(".\r\n")
	return w.Flush()
}

// writeLines writes raw's lines, dot-stuffed, each ended by CRLF (the last one too). The
// runs of lines that need nothing added — all of a message Build made, but for lines that start
// with a dot — are written whole, so that a message goes to the connection in one write rather
// than copied through its 4 KB buffer a line at a time.
func writeLines(w *bufio.Writer, raw []byte) {
	start := 0 // raw[start:] is not written yet
	for i := 0; i < len(raw); {
		// i starts a line.
		if raw[i] == '.' {
			w.Write(raw[start:i])
			w.WriteByte('.')
			start = i
		}
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			w.Write(raw[start:])
			w.WriteString("\r\n")
			return
		}
		j += i
		if j == 0 || raw[j-1] != '\r' {
			w.Write(raw[start:j])
			w.WriteString("\r\n")
			start = j + 1
		}
		i = j + 1
	}
	w.Write(raw[start:])
}

// envelopeParams returns the parameters go-mail's Client.Mail and Client.Rcpt (v0.8.1) add to
// MAIL FROM and RCPT TO on c: BODY=8BITMIME when the relay offers 8BITMIME; SMTPUTF8 when it
// offers it and the client was not told to skip it (mail.WithoutSMTPUTF8); RET= and NOTIFY=
// when the relay offers DSN and the client was given those options (SetDSNMailReturnOption,
// SetDSNRcptNotifyOption). go-mail sends no ENVID.
//
// go-mail keeps those options in unexported fields, read here through reflect (clientOptions);
// when they are not there (another go-mail), transaction sends the envelope in lock step
// through go-mail's own Mail and Rcpt. TestPipelinedEnvelope_SendsWhatGoMailSends compares
// the two for every combination.
func envelopeParams(c *smtp.Client) (p mailParams) {
	v := reflect.ValueOf(c).Elem()
	p.body8bit, _ = c.Extension("8BITMIME")
	if ok, _ := c.Extension("SMTPUTF8"); ok {
		p.utf8 = !v.FieldByIndex(clientOptions.skipUTF8).Bool()
	}
	if ok, _ := c.Extension("DSN"); ok {
		p.ret = v.FieldByIndex(clientOptions.ret).String()
		p.notify = v.FieldByIndex(clientOptions.notify).String()
	}
	return p
}

// mailParams are the parameters of an envelope's MAIL FROM and RCPT TO (envelopeParams).
type mailParams struct {
	body8bit, utf8 bool   // BODY=8BITMIME, SMTPUTF8
	ret            string // RET=, if not empty
	notify         string // NOTIFY= on RCPT TO, if not empty
}

// clientOptions locates the fields of go-mail's smtp.Client that its Mail and Rcpt read for
// their parameters. known is false if one is missing or not of the kind expected.
var clientOptions = func() (o struct {
	skipUTF8, ret, notify []int
	known                 bool
}) {
	t := reflect.TypeFor[smtp.Client]()
	field := func(name string, kind reflect.Kind) []int {
		f, ok := t.FieldByName(name)
		if !ok || f.Type.Kind() != kind {
			return nil
		}
		return f.Index
	}
	o.skipUTF8 = field("skipUTF8", reflect.Bool)
	o.ret = field("dsnmrtype", reflect.String)
	o.notify = field("dsnrntype", reflect.String)
	o.known = o.skipUTF8 != nil && o.ret != nil && o.notify != nil
	return o
}()
