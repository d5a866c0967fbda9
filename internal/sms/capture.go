package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Capture appends each message as one JSON line to a file instead of sending it: the
// development default when no Twilio credentials are set, so that nothing reaches a real phone
// by default. A line is {"id", "to", "body", "status_callback", "at"}; IDs are "capture-<n>".
//
// The file holds personal data: it is created 0600 in a 0700 directory. Numbering continues
// after the lines already in the file, so IDs stay unique across restarts of one process; two
// processes appending to the same file may repeat numbers. The zero value needs only Path.
type Capture struct {
	Path string

	mu      sync.Mutex
	counted bool  // next has been set from the file's existing lines
	next    int64 // number of the last ID handed out
}

// captured is one line of the capture file.
type captured struct {
	ID             string    `json:"id"`
	To             string    `json:"to"`
	Body           string    `json:"body"`
	StatusCallback string    `json:"status_callback"`
	At             time.Time `json:"at"`
}

// Send appends m to the file. It fails permanently only for a message no provider could send
// (the same check as Twilio's); a file it cannot write gives a transient error, since a full
// disk can be freed.
func (c *Capture) Send(ctx context.Context, m Message) (string, error) {
	if err := m.validate(); err != nil {
		return "", &Error{Permanent: true, Err: fmt.Errorf("capture: %w", err)}
	}
	if c.Path == "" {
		return "", permanent("capture: no file to write to (set OUTBOX_DIR)")
	}
	if err := ctx.Err(); err != nil {
		return "", &Error{Err: fmt.Errorf("capture: %w", err)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.counted {
		n, err := countLines(c.Path)
		if err != nil {
			return "", &Error{Err: fmt.Errorf("capture: reading %s: %w", c.Path, err)}
		}
		c.next, c.counted = n, true
	}
	id := "capture-" + strconv.FormatInt(c.next+1, 10)
	line, err := json.Marshal(captured{ID: id, To: m.To, Body: m.Body, StatusCallback: m.StatusCallback, At: time.Now().UTC()})
	if err != nil {
		return "", &Error{Err: fmt.Errorf("capture: %w", err)}
	}
	if err := appendLine(c.Path, append(line, '\n')); err != nil {
		return "", &Error{Err: fmt.Errorf("capture: %w", err)}
	}
	c.next++
	return id, nil
}

// appendLine writes line with one write on a file opened for appending, so a reader never sees
// half a line from this process. Opening per message keeps Capture free of a Close method and
// lets a developer delete the file while the worker runs.
func appendLine(path string, line []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// countLines counts the newlines of path, 0 if it does not exist.
func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	buf := make([]byte, 64<<10)
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
