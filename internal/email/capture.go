package email

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxIDInFileName keeps capture file names well under every file system's limit.
const maxIDInFileName = 100

// Capture writes each message as an .eml file into Dir instead of sending it: the development
// default when SMTP_URL is unset, so that nothing reaches a real person by accident and every
// notice can still be opened in a mail client. Its Send has Sender.Send's signature and
// errors.
//
// The files hold customers' personal data: they are readable by the owner only.
type Capture struct {
	Dir string
}

// Send renders m and writes it to Dir as <time>-<message-id>.eml. The file appears complete
// or not at all (written under a temporary name, then renamed), so a console listing the
// directory never shows half a message.
func (c *Capture) Send(ctx context.Context, m Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", &Error{Err: err, stage: "wait"}
	}
	raw, _, id, err := render(nil, m, nil)
	if err != nil {
		return "", messageError(err)
	}
	if err := c.write(raw, id); err != nil {
		return "", &Error{Err: err, stage: "capture"}
	}
	return id, nil
}

func (c *Capture) write(raw []byte, id string) error {
	if c.Dir == "" {
		return fmt.Errorf("capture email: no directory (OUTBOX_DIR)")
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("capture email: %w", err)
	}
	tmp, err := os.CreateTemp(c.Dir, ".partial-*.eml")
	if err != nil {
		return fmt.Errorf("capture email: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("capture email: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("capture email: write %s: %w", tmp.Name(), err)
	}
	name := filepath.Join(c.Dir, captureFileName(time.Now(), id))
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("capture email: %w", err)
	}
	return nil
}

// captureFileName makes a file name from a time and a Message-ID. The ID may come from the
// caller and may legally contain '/' (RFC 5322 atext), so everything but letters, digits and
// ".-_@+" becomes '_': the name can never leave the directory nor start with a dot. The time
// prefix makes names sort in sending order.
func captureFileName(t time.Time, id string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '.', r == '-', r == '_', r == '@', r == '+':
			return r
		default:
			return '_'
		}
	}, strings.Trim(id, "<>"))
	if len(safe) > maxIDInFileName {
		safe = safe[:maxIDInFileName]
	}
	return t.UTC().Format("20060102T150405.000000000Z") + "-" + safe + ".eml"
}
