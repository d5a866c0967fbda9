package email

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCapture_WritesOneParseableFilePerMessage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	c := &Capture{Dir: dir}

	ids := map[string]bool{}
	for _, to := range []string{"a@example.net", "b@example.net", "c@example.net"} {
		id, err := c.Send(context.Background(), testMessage(to))
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d files in the outbox, want 3", len(entries))
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".eml") || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("file %q is not a visible .eml", e.Name())
		}
		info, _ := e.Info()
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v: personal data must be readable by the owner only", e.Name(), perm)
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		msg := parse(t, raw)
		if id := msg.Header.Get("Message-ID"); !ids[id] {
			t.Errorf("%s holds Message-ID %q, which Send did not return", e.Name(), id)
		}
		parts(t, msg)
	}
}

func TestCapture_MessageIDCannotEscapeTheDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "outbox")
	c := &Capture{Dir: dir}

	for _, id := range []string{
		"<../../../escape@example.com>",
		"<..@example.com>",
		"<a/b/../../../../escape@example.com>",
		"<" + strings.Repeat("x", 300) + "@example.com>",
	} {
		m := testMessage("a@example.net")
		m.MessageID = id
		if _, err := c.Send(context.Background(), m); err != nil {
			t.Fatalf("Send with Message-ID %.40q: %v", id, err)
		}
	}

	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if filepath.Dir(path) != dir {
			t.Errorf("file written outside the outbox: %s", path)
		}
		if len(d.Name()) > 200 {
			t.Errorf("file name is %d bytes long", len(d.Name()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("%d files in the outbox, want 4", len(entries))
	}
}

func TestCaptureFileName_IsSafe(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	got := captureFileName(at, "<../etc/passwd@example.com>")
	if strings.ContainsAny(got, `/\`) || got != filepath.Base(got) || strings.HasPrefix(got, ".") {
		t.Errorf("captureFileName = %q, not a plain file name", got)
	}
}

func TestCapture_InvalidMessageIsPermanent(t *testing.T) {
	c := &Capture{Dir: t.TempDir()}
	_, err := c.Send(context.Background(), testMessage("not an address"))
	var e *Error
	if !errors.As(err, &e) || !e.Permanent {
		t.Fatalf("Send error = %v, want a permanent *Error", err)
	}
}
