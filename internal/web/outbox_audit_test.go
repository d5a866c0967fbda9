package web_test

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// The outbox holds real customers' notices whenever a real list meets a server that captures a
// channel (SMTP configured but no SMS provider captures every SMS): reading it is a read of
// personal data, audited like the others — the listing, an email, its HTML, its raw file —
// with no file name (it holds the recipient's address) in the row.
func TestOutbox_EveryReadIsAuditedWithoutTheAddress(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("user:maker", "user:maker", nil)
	if _, err := st.ops.TestSend(context.Background(), breach.CLIActor("setup"), c.ID,
		operation.TestSendRequest{To: []string{"reviewer@example.org", "+51987000111"}}); err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(st.console.Outbox.EmailDir, "*.eml"))
	if err != nil || len(names) != 1 {
		t.Fatalf("captured emails: %v %v", names, err)
	}
	name := filepath.Base(names[0])
	b := st.signedIn("outboxreader", breach.RoleViewer)
	for _, path := range []string{"/outbox", "/outbox/email/" + name, "/outbox/email/" + name + "/html", "/outbox/email/" + name + "/raw"} {
		if got := b.get(path); got.status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", path, got.status, got.body)
		}
	}
	if got := auditActions(t, "user:outboxreader"); strings.Count(strings.Join(got, " "), breach.ActionOutboxRead) != 4 {
		t.Errorf("audit rows of user:outboxreader: %v, want 4 %s", got, breach.ActionOutboxRead)
	}
	var details string
	if err := pool(t).QueryRow(context.Background(), `SELECT string_agg(detail::text, ' ') FROM audit_log WHERE actor = 'user:outboxreader'`).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`reviewer|example\.org|51987000111|\.eml`).MatchString(details) {
		t.Errorf("the outbox's audit rows hold an address or a file name: %s", details)
	}
}
