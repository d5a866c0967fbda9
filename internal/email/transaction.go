package email

import (
	"bufio"
	"bytes"

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
// connection: MAIL FROM, RCPT TO, DATA, the message and the final dot, and the relay's reply.
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
	if err := writeData(c.Text.W, data...); err != nil {
		return stageBody, err
	}
	if _, _, err := c.Text.ReadResponse(250); err != nil {
		return stageEnd, err
	}
	return "", nil
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

// writeLines writes raw's lines, dot-stuffed, each ended by CRLF (the last one too).
func writeLines(w *bufio.Writer, raw []byte) {
	for len(raw) > 0 {
		if raw[0] == '.' {
			w.WriteByte('.')
		}
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			w.Write(raw)
			w.WriteString("\r\n")
			return
		}
		if i > 0 && raw[i-1] == '\r' {
			w.Write(raw[:i+1])
		} else {
			w.Write(raw[:i])
			w.WriteString("\r\n")
		}
		raw = raw[i+1:]
	}
}
