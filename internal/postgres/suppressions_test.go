package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// claimAll claims every due delivery of channel ch as a fresh worker, without fallback, and
// returns the customer IDs claimed for sending.
func claimAll(t *testing.T, db *postgres.DB, c *breach.Campaign, ch breach.Channel) []string {
	t.Helper()
	worker := uuid.NewString()
	if err := db.RegisterWorker(t.Context(), worker, "test", 1, ""); err != nil {
		t.Fatal(err)
	}
	claims, _, _, err := db.ClaimRange(t.Context(), c.ID, ch, 0, 1<<40, worker, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, cl := range claims {
		ids = append(ids, cl.Recipient.CustomerID)
	}
	return ids
}

// deliveriesByCustomer lists a campaign's deliveries of channel ch by customer ID.
func deliveriesByCustomer(t *testing.T, db *postgres.DB, c *breach.Campaign, ch breach.Channel) map[string]breach.DeliveryRecord {
	t.Helper()
	all, _ := allDeliveries(t, db, c, breach.DeliveryFilter{Channel: ch}, 100)
	out := map[string]breach.DeliveryRecord{}
	for _, d := range all {
		out[d.CustomerID] = d
	}
	return out
}

func TestClaim_OptedOutEmailIsSuppressedWhateverItsLetterCase(t *testing.T) {
	db, pool := open(t), rawPool(t)
	ctx := t.Context()
	n := rand.IntN(10_000_000) // suppressions are shared by every campaign of the package
	earlier := newCampaign(t, db)
	// María opted out of an earlier campaign with her address capitalised; José's address was
	// suppressed in lower case (a complaint) and the new list writes it in capitals; Pedro's
	// number replied STOP.
	optedOut := fmt.Sprintf("Maria.%d@Ex.com", n)
	if err := db.Suppress(ctx, breach.ChannelEmail, optedOut, "optout", "the customer opted out", earlier.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.SuppressAddress(ctx, breach.ChannelEmail, fmt.Sprintf("jose.%d@ex.com", n), "webhook", "complaint"); err != nil {
		t.Fatal(err)
	}
	phone := fmt.Sprintf("+5196%07d", n)
	if err := db.SuppressAddress(ctx, breach.ChannelSMS, phone, "inbound-sms", "STOP"); err != nil {
		t.Fatal(err)
	}
	c := runningCampaign(t, db, fmt.Sprintf(`customer_id,email,phone,name,country
M1,maria.%[1]d@ex.com,,María,PE
J1,JOSE.%[1]d@EX.COM,,José,PE
A1,ana.%[1]d@ex.com,,Ana,PE
P1,,%[2]s,Pedro,PE
`, n, phone), 100)

	if got := claimAll(t, db, c, breach.ChannelEmail); len(got) != 1 || got[0] != "A1" {
		t.Errorf("email claims for sending: %v, want only A1 (M1 and J1 are suppressed in another case)", got)
	}
	if got := claimAll(t, db, c, breach.ChannelSMS); len(got) != 0 {
		t.Errorf("sms claims for sending: %v, want none (P1's number is suppressed)", got)
	}
	emails := deliveriesByCustomer(t, db, c, breach.ChannelEmail)
	for id, want := range map[string]struct {
		state   breach.DeliveryState
		address string
	}{
		"M1": {breach.DeliverySuppressed, fmt.Sprintf("maria.%d@ex.com", n)}, // as imported, not as opted out
		"J1": {breach.DeliverySuppressed, fmt.Sprintf("JOSE.%d@ex.com", n)},  // the importer lower-cases the domain only
		"A1": {breach.DeliverySending, fmt.Sprintf("ana.%d@ex.com", n)},
	} {
		if d := emails[id]; d.State != want.state || d.Address != want.address {
			t.Errorf("%s: %s to %q, want %s to %q", id, d.State, d.Address, want.state, want.address)
		}
	}
	if d := deliveriesByCustomer(t, db, c, breach.ChannelSMS)["P1"]; d.State != breach.DeliverySuppressed || d.Address != phone {
		t.Errorf("P1: %s to %q, want suppressed to %q", d.State, d.Address, phone)
	}
	if r := recipient(t, db, c, "M1"); r.Email != fmt.Sprintf("maria.%d@ex.com", n) {
		t.Errorf("M1's address is now %q: the match must not rewrite it", r.Email)
	}
	// The suppression list keeps the address as it was given.
	if _, _, ok := suppressed(t, pool, breach.ChannelEmail, optedOut); !ok {
		t.Errorf("the suppression of %q is no longer stored as given", optedOut)
	}
}

func TestClaim_OptedOutEmailIsSuppressedWhateverItsLetterCaseBeyondASCII(t *testing.T) {
	db, pool := open(t), rawPool(t)
	ctx := t.Context()
	var lowered string
	if err := pool.QueryRow(ctx, `SELECT lower('ÉLODIE' COLLATE "default")`).Scan(&lowered); err != nil {
		t.Fatal(err)
	}
	if lowered != "élodie" {
		t.Skipf("the database's locale lower-cases ASCII only (lower('ÉLODIE') = %q)", lowered)
	}
	n := rand.IntN(10_000_000)
	if err := db.SuppressAddress(ctx, breach.ChannelEmail, fmt.Sprintf("Élodie.%d@ex.fr", n), "optout", "the customer opted out"); err != nil {
		t.Fatal(err)
	}
	c := runningCampaign(t, db, fmt.Sprintf("customer_id,email,name,country\nE1,élodie.%d@ex.fr,Élodie,FR\n", n), 100)
	if got := claimAll(t, db, c, breach.ChannelEmail); len(got) != 0 {
		t.Errorf("email claims for sending: %v, want none", got)
	}
	if d := deliveriesByCustomer(t, db, c, breach.ChannelEmail)["E1"]; d.State != breach.DeliverySuppressed || d.Address != fmt.Sprintf("élodie.%d@ex.fr", n) {
		t.Errorf("E1: %s to %q, want suppressed to the address as imported", d.State, d.Address)
	}
}

// The claim's check must stay an index lookup on a suppression list of millions: the
// expression ClaimRange matches with is the one migration 00009 indexes.
func TestSuppressions_CaseInsensitiveMatchIsAnIndexLookup(t *testing.T) {
	pool := rawPool(t)
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `
		EXPLAIN SELECT EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = d.channel
			AND lower(s.address COLLATE "default") = lower(CASE WHEN d.channel = 'email' THEN d.email ELSE d.phone END COLLATE "default"))
		FROM (VALUES ('email', 'Maria@Ex.com'::text, NULL::text)) AS d (channel, email, phone)`)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "suppressions_match") {
		t.Errorf("the case-insensitive match does not use the index suppressions_match:\n%s", p)
	}
}

// TestSuppress_ADecomposedAddressSuppressesItsComposedForm: an opt-out recorded for josé typed
// on a Mac (e and a combining accent) — as a campaign imported before addresses were composed
// stored it — stops the notice to the same mailbox imported composed.
func TestSuppress_ADecomposedAddressSuppressesItsComposedForm(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	if err := db.Suppress(t.Context(), breach.ChannelEmail, "jose\u0301@example.com", "optout", "", c.ID); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT address FROM suppressions WHERE channel = 'email' AND address LIKE 'jos%@example.com' ORDER BY address`)
	if err != nil {
		t.Fatal(err)
	}
	forms, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"jose\u0301@example.com", "jos\u00e9@example.com"}; !slices.Equal(forms, want) {
		t.Errorf("suppressed forms %q, want %q (the decomposed one and its composed twin)", forms, want)
	}
}
