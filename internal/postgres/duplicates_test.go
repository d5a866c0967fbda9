package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// claimEmails registers a worker and claims every due email of c for it.
func claimEmails(t *testing.T, db *postgres.DB, c *breach.Campaign) (worker string, claims []breach.Claim) {
	t.Helper()
	worker = uuid.NewString()
	if err := db.RegisterWorker(t.Context(), worker, "test", 1, ""); err != nil {
		t.Fatal(err)
	}
	claims, _, _, err := db.ClaimRange(t.Context(), c.ID, breach.ChannelEmail, 0, 1<<40, worker, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	return worker, claims
}

// recordSent records the given recipients' emails sent by worker.
func recordSent(t *testing.T, db *postgres.DB, c *breach.Campaign, worker string, ids ...int64) {
	t.Helper()
	var outcomes []breach.Outcome
	for _, id := range ids {
		outcomes = append(outcomes, breach.Outcome{RecipientID: id, State: breach.DeliverySent, ProviderID: fmt.Sprintf("<m%d@x>", id)})
	}
	if _, err := db.Record(t.Context(), c.ID, breach.ChannelEmail, worker, outcomes, false); err != nil {
		t.Fatal(err)
	}
}

// releaseDead releases the claims of c's dead workers as the reconciler of live worker self
// does, and returns how many went back to the queue.
func releaseDead(t *testing.T, db *postgres.DB, c *breach.Campaign, self string) int {
	t.Helper()
	released, err := db.ReleaseOrphans(t.Context(), c.ID, self, 30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(released[breach.ChannelEmail])
}

// A worker dies holding claims: two recorded sent, four not. The four are released possibly
// sent (the timeline says so); a late record of one by its first worker is not a duplicate, the
// new worker's sends of the three others are, and so is every earlier possible send of a
// notice released twice. The status, the listing, the record and the export all say which.
func TestReleaseOrphans_DeadWorkersClaimsArePossiblySentAndTheirResendsPossibleDuplicates(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	var list strings.Builder
	list.WriteString("customer_id,email\n")
	for i := range 6 {
		fmt.Fprintf(&list, "D%d,d%d.%s@example.com\n", i, i, uuid.NewString()[:8])
	}
	c := runningCampaign(t, db, list.String(), 100)
	dead, claims := claimEmails(t, db, c)
	if len(claims) != 6 {
		t.Fatalf("%d claims, want 6", len(claims))
	}
	id := func(i int) int64 { return claims[i].Recipient.ID }
	recordSent(t, db, c, dead, id(0), id(1))
	// A live worker's own claims stay where they are, however old, unless its reconciler
	// takes them for lost (selfAfter): they may be sent and about to be recorded. (Queued and
	// claimed a day ago: the claim's time is its updated_at, the timeline's sending entry.)
	if _, err := rawPool(t).Exec(ctx, `UPDATE deliveries SET updated_at = now() - interval '1 day',
		queued_at = queued_at - interval '1 day'
		WHERE campaign_id = $1 AND state = 'sending'`, c.ID); err != nil {
		t.Fatal(err)
	}
	if n := releaseDead(t, db, c, dead); n != 0 {
		t.Fatalf("a live worker's reconciler released %d of its own claims", n)
	}

	if err := db.UnregisterWorker(ctx, dead); err != nil { // found dead, as buryDeadNeighbours does
		t.Fatal(err)
	}
	live := uuid.NewString()
	if n := releaseDead(t, db, c, live); n != 4 {
		t.Fatalf("released %d claims of the dead worker, want the 4 unrecorded", n)
	}
	rec, err := db.RecipientRecord(ctx, c.ID, claims[2].Recipient.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	last := rec.Events[len(rec.Events)-1]
	if last.State != breach.DeliveryQueued || last.Source != "reconciler" || !strings.HasPrefix(last.Error, "possibly sent:") {
		t.Errorf("the release's event = %+v, want queued by the reconciler, possibly sent", last)
	}
	// The dead worker was only cut off: its late record of D2 is the send itself.
	recordSent(t, db, c, dead, id(2))

	// D3, D4 and D5 are claimed and lost once more: two possible sends each. The second
	// worker's late record of D3 is one of them (one earlier send besides); D4 and D5 are sent
	// by a third worker (two earlier sends each).
	again, _ := claimEmails(t, db, c)
	if err := db.UnregisterWorker(ctx, again); err != nil {
		t.Fatal(err)
	}
	if n := releaseDead(t, db, c, live); n != 3 {
		t.Fatalf("released %d claims the second time, want 3", n)
	}
	recordSent(t, db, c, again, id(3))
	final, _ := claimEmails(t, db, c)
	recordSent(t, db, c, final, id(4), id(5))

	s, err := db.CampaignStatus(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.PossibleDuplicates != 5 || s.ByChannel[breach.ChannelEmail][breach.DeliverySent] != 6 {
		t.Errorf("status: %d possible duplicates, %d sent; want 5 (D3 1, D4 2, D5 2) and 6", s.PossibleDuplicates,
			s.ByChannel[breach.ChannelEmail][breach.DeliverySent])
	}
	want := map[string]bool{}
	for i, cl := range claims {
		want[cl.Recipient.CustomerID] = i >= 3
	}
	check := func(door string, d *breach.DeliveryRecord) {
		t.Helper()
		if d.PossibleDuplicate != want[d.CustomerID] {
			t.Errorf("%s: %s possible duplicate = %v, want %v", door, d.CustomerID, d.PossibleDuplicate, want[d.CustomerID])
		}
	}
	page, _ := allDeliveries(t, db, c, breach.DeliveryFilter{}, 4)
	for i := range page {
		check("listing", &page[i])
	}
	if n, err := db.ExportDeliveries(ctx, c.ID, func(d *breach.DeliveryRecord) error { check("export", d); return nil }); err != nil || n != 6 {
		t.Fatalf("export: %d, %v", n, err)
	}
	rec, err = db.RecipientRecord(ctx, c.ID, claims[4].Recipient.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	check("record", &rec.Deliveries[0])
	var steps []string
	for _, e := range rec.Events {
		steps = append(steps, string(e.State)+"/"+e.Source)
	}
	if got, want := strings.Join(steps, " "), "queued/planner sending/worker queued/reconciler sending/worker queued/reconciler sending/worker sent/worker"; got != want {
		t.Errorf("D4's timeline = %s\nwant                %s", got, want)
	}
	if sent := rec.Events[len(rec.Events)-1]; !strings.HasPrefix(sent.Error, "possible duplicate:") || rec.Deliveries[0].SentAt == nil {
		t.Errorf("D4's sent event = %+v, want it to say it is a possible duplicate", sent)
	}
}

// A worker dies holding eight claims, having announced the first three as started
// (AnnounceStarts) and recorded one of them: the other two are released possibly sent, the five
// it never handed to a sender go back as unsent — attempt given back, not counted as possible
// duplicates once sent. A review's SIGKILLs had every claim marked, 1,432 where the relay had 2
// second copies. An announcement after the statement was taken is refused.
func TestReleaseOrphans_OnlyClaimsAnnouncedAsStartedArePossiblySent(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	var list strings.Builder
	list.WriteString("customer_id,email\n")
	for i := range 8 {
		fmt.Fprintf(&list, "A%d,a%d.%s@example.com\n", i, i, uuid.NewString()[:8])
	}
	c := runningCampaign(t, db, list.String(), 100)
	dead, claims := claimEmails(t, db, c)
	if len(claims) != 8 || claims[0].ClaimedAt.IsZero() {
		t.Fatalf("%d claims (claimed at %v), want 8 with their statement's time", len(claims), claims[0].ClaimedAt)
	}
	id := func(i int) int64 { return claims[i].Recipient.ID }
	if err := db.AnnounceStarts(ctx, c.ID, breach.ChannelEmail, dead, claims[0].ClaimedAt, id(1)); err != nil {
		t.Fatal(err)
	}
	if err := db.AnnounceStarts(ctx, c.ID, breach.ChannelEmail, dead, claims[0].ClaimedAt, id(2)); err != nil {
		t.Fatal(err)
	}
	// Only ever raised: a lower announcement (another task's statement of the same instant)
	// lowers nothing.
	if err := db.AnnounceStarts(ctx, c.ID, breach.ChannelEmail, dead, claims[0].ClaimedAt, id(0)); err != nil {
		t.Fatal(err)
	}
	recordSent(t, db, c, dead, id(0))
	if err := db.UnregisterWorker(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if n := releaseDead(t, db, c, uuid.NewString()); n != 7 {
		t.Fatalf("released %d, want the 7 unrecorded", n)
	}
	var possibly, attempts []int
	rows, err := rawPool(t).Query(ctx, `SELECT possibly_sent, attempts FROM deliveries WHERE campaign_id = $1 AND channel = 'email'
		ORDER BY recipient_id`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p, a int
		if err := rows.Scan(&p, &a); err != nil {
			t.Fatal(err)
		}
		possibly, attempts = append(possibly, p), append(attempts, a)
	}
	if want := []int{0, 1, 1, 0, 0, 0, 0, 0}; fmt.Sprint(possibly) != fmt.Sprint(want) {
		t.Errorf("possibly sent %v, want %v (the two announced and unrecorded)", possibly, want)
	}
	if want := []int{1, 1, 1, 0, 0, 0, 0, 0}; fmt.Sprint(attempts) != fmt.Sprint(want) {
		t.Errorf("attempts %v, want %v (the never-started given back)", attempts, want)
	}
	if err := db.AnnounceStarts(ctx, c.ID, breach.ChannelEmail, dead, claims[0].ClaimedAt, id(7)); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("announcing on a statement a reconciler took: %v, want a conflict", err)
	}
	final, _ := claimEmails(t, db, c)
	recordSent(t, db, c, final, id(1), id(2), id(3), id(4), id(5), id(6), id(7))
	if s, err := db.CampaignStatus(ctx, c.ID); err != nil || s.PossibleDuplicates != 2 {
		t.Errorf("possible duplicates %+v (%v), want 2", s, err)
	}
}

// The reconciler looks for orphans only where a claim statement (delivery_claims) of a dead
// worker, or its own old enough to be lost, says they may be, and takes those statements; a
// live worker's claims are left alone and so are their statements. Claims no statement
// covers (written behind the trigger's back) are still found, by the whole search.
func TestReleaseOrphans_LooksOnlyWhereAClaimStatementSaysOrphansMayBe(t *testing.T) {
	db, pool := open(t), rawPool(t)
	ctx := t.Context()
	var list strings.Builder
	list.WriteString("customer_id,email\n")
	for i := range 6 {
		fmt.Fprintf(&list, "O%d,o%d.%s@example.com\n", i, i, uuid.NewString()[:8])
	}
	c := runningCampaign(t, db, list.String(), 100)
	statements := func() (n int, low, high int64) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(min(low), 0), coalesce(max(high), 0) FROM delivery_claims
			WHERE campaign_id = $1`, c.ID).Scan(&n, &low, &high); err != nil {
			t.Fatal(err)
		}
		return n, low, high
	}
	worker, claims := claimEmails(t, db, c)
	if len(claims) != 6 {
		t.Fatalf("%d claims, want 6", len(claims))
	}
	if n, low, high := statements(); n != 1 || low != claims[0].Recipient.ID || high != claims[5].Recipient.ID {
		t.Fatalf("claim statements: %d over [%d, %d], want 1 over [%d, %d]", n, low, high, claims[0].Recipient.ID, claims[5].Recipient.ID)
	}
	recordSent(t, db, c, worker, claims[0].Recipient.ID)

	// Alive, and its claims young: nobody takes them, its own reconciler neither.
	if n := releaseDead(t, db, c, uuid.NewString()); n != 0 {
		t.Fatalf("another worker's reconciler released %d claims of a live worker", n)
	}
	if released, err := db.ReleaseOrphans(ctx, c.ID, worker, 30*time.Second, time.Minute); err != nil || len(released) != 0 {
		t.Fatalf("the worker's own reconciler released %v (%v) of its young claims", released, err)
	}
	if n, _, _ := statements(); n != 1 {
		t.Fatalf("%d claim statements left, want the live worker's 1", n)
	}

	// A day later they are lost: its own reconciler takes the statement and releases the five
	// unrecorded claims.
	for _, q := range []string{
		`UPDATE delivery_claims SET claimed_at = claimed_at - interval '1 day' WHERE campaign_id = $1`,
		`UPDATE deliveries SET updated_at = updated_at - interval '1 day', queued_at = queued_at - interval '1 day'
			WHERE campaign_id = $1 AND state = 'sending'`,
	} {
		if _, err := pool.Exec(ctx, q, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	released, err := db.ReleaseOrphans(ctx, c.ID, worker, 30*time.Second, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(released[breach.ChannelEmail]); got != 5 {
		t.Fatalf("the worker's own reconciler released %d lost claims, want 5", got)
	}
	if n, _, _ := statements(); n != 0 {
		t.Fatalf("%d claim statements left after their claims were released, want 0", n)
	}

	// Claimed again by a worker that dies, and its statement gone: the whole search finds them.
	dead, again := claimEmails(t, db, c)
	if len(again) != 5 {
		t.Fatalf("%d claims the second time, want 5", len(again))
	}
	if err := db.UnregisterWorker(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM delivery_claims WHERE campaign_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if n := releaseDead(t, db, c, uuid.NewString()); n != 5 {
		t.Fatalf("released %d claims no statement covered, want 5", n)
	}
}

// Claims of one range running at once — the same task delivered twice, tasks of overlapping
// ranges — claim each delivery once: they do not lock rows first, and one that finds a row
// another has just claimed checks it again and leaves it.
func TestClaimRange_ConcurrentClaimsOfOneRangeClaimEachDeliveryOnce(t *testing.T) {
	db := open(t)
	var list strings.Builder
	list.WriteString("customer_id,email\n")
	const n = 300
	for i := range n {
		fmt.Fprintf(&list, "CC%d,cc%d@example.com\n", i, i)
	}
	c := runningCampaign(t, db, list.String(), 1000)
	const claimers = 6
	got := make(chan []breach.Claim, claimers)
	errs := make(chan error, claimers)
	var wg sync.WaitGroup
	for range claimers {
		wg.Go(func() {
			worker := uuid.NewString()
			if err := db.RegisterWorker(t.Context(), worker, "test", 1, ""); err != nil {
				errs <- err
				return
			}
			claims, _, _, err := db.ClaimRange(t.Context(), c.ID, breach.ChannelEmail, 0, 1<<40, worker, false, 0)
			if err != nil {
				errs <- err
				return
			}
			got <- claims
		})
	}
	wg.Wait()
	close(got)
	close(errs)
	for err := range errs {
		t.Errorf("a concurrent claim failed: %v", err)
	}
	seen := map[int64]int{}
	for claims := range got {
		for _, cl := range claims {
			seen[cl.Recipient.ID]++
		}
	}
	if len(seen) != n {
		t.Errorf("%d deliveries claimed, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k > 1 {
			t.Errorf("delivery %d claimed %d times", id, k)
		}
	}
}

// A claim waits for a row another transaction holds and then checks it again as it is: a
// delivery held for quiet hours meanwhile is not claimed.
func TestClaimRange_WaitsForARowHeldElsewhereAndRechecksIt(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := runningCampaign(t, db, "customer_id,email\nH1,h1@example.com\nH2,h2@example.com\n", 10)
	pool := rawPool(t)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var held int64
	if err := tx.QueryRow(ctx, `UPDATE deliveries SET not_before = now() + interval '1 hour', next_attempt_at = now() + interval '1 hour'
		WHERE campaign_id = $1 AND recipient_id = (SELECT min(recipient_id) FROM deliveries WHERE campaign_id = $1)
		RETURNING recipient_id`, c.ID).Scan(&held); err != nil {
		t.Fatal(err)
	}
	worker := uuid.NewString()
	if err := db.RegisterWorker(ctx, worker, "test", 1, ""); err != nil {
		t.Fatal(err)
	}
	committed := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // the claim below is waiting by then
		committed <- tx.Commit(context.Background())
	}()
	claims, _, _, err := db.ClaimRange(ctx, c.ID, breach.ChannelEmail, 0, 1<<40, worker, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims[0].Recipient.ID == held {
		t.Errorf("the claim took %+v, want only the delivery not held for quiet hours", claims)
	}
	var state string
	if err := pool.QueryRow(ctx, `SELECT state FROM deliveries WHERE campaign_id = $1 AND recipient_id = $2`, c.ID, held).Scan(&state); err != nil || state != "queued" {
		t.Errorf("the held delivery is %q (%v), want queued", state, err)
	}
}

// The first claims a task will hand on are announced with the claim itself (ClaimRange's
// started): a worker dying at once leaves those, and only those, possibly sent.
func TestClaimRange_AnnouncesTheFirstClaimsStarted(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	var list strings.Builder
	list.WriteString("customer_id,email\n")
	for i := range 5 {
		fmt.Fprintf(&list, "S%d,s%d.%s@example.com\n", i, i, uuid.NewString()[:8])
	}
	c := runningCampaign(t, db, list.String(), 100)
	dead := uuid.NewString()
	if err := db.RegisterWorker(ctx, dead, "test", 1, ""); err != nil {
		t.Fatal(err)
	}
	claims, _, _, err := db.ClaimRange(ctx, c.ID, breach.ChannelEmail, 0, 1<<40, dead, false, 2)
	if err != nil || len(claims) != 5 {
		t.Fatalf("claims %d, %v", len(claims), err)
	}
	if err := db.UnregisterWorker(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if n := releaseDead(t, db, c, uuid.NewString()); n != 5 {
		t.Fatalf("released %d, want 5", n)
	}
	var possibly int
	if err := rawPool(t).QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND possibly_sent > 0`, c.ID).Scan(&possibly); err != nil || possibly != 2 {
		t.Errorf("possibly sent: %d (%v), want the 2 announced with the claim", possibly, err)
	}
}
