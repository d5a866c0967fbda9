package operation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// With StatusMaxAge, requests share a campaign's status; a change made through this service
// (approve, start, cancel) is seen at once all the same, and a draft's, whose list is still
// changing, is never kept.
func TestStatus_SharedWithinMaxAgeButFreshAfterThisServicesMoves(t *testing.T) {
	ops, db := service(t)
	ctx := t.Context()
	ops.StatusMaxAge = time.Hour
	fresh := &operation.Service{Store: db} // reads at every request
	actor := breach.CLIActor("setup")
	state := func(ops *operation.Service, c *breach.Campaign) breach.CampaignState {
		t.Helper()
		s, err := ops.Status(ctx, actor, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s.State
	}
	c := draft(t, ops, actor)
	if got := state(ops, c); got != breach.CampaignDraft {
		t.Fatalf("state %s, want draft", got)
	}
	if _, err := ops.Approve(ctx, actor, c.ID, operation.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := state(ops, c); got != breach.CampaignApproved {
		t.Fatalf("after approving through the service: %s, want approved (a draft's status is not kept)", got)
	}
	// Started behind this service's back (another process): its status is the shared one.
	if _, err := db.MoveCampaign(ctx, c.ID, "elsewhere", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	if got, now := state(ops, c), state(fresh, c); got != breach.CampaignApproved || now != breach.CampaignRunning {
		t.Errorf("started elsewhere: shared %s, read %s; want approved (read within the hour), running", got, now)
	}
	if _, err := ops.MoveCampaign(ctx, actor, c.ID, operation.Pause); err != nil {
		t.Fatal(err)
	}
	if got := state(ops, c); got != breach.CampaignPaused {
		t.Errorf("paused through the service: %s, want paused", got)
	}
}

// blockCampaigns holds an ACCESS EXCLUSIVE lock on the campaigns table from another connection
// until the returned release is called, so that a status read blocks in PostgreSQL; it
// returns once the lock is held.
func blockCampaigns(t *testing.T) (release func()) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `LOCK TABLE campaigns IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback(context.Background())
			_ = conn.Close(context.Background())
		})
	}
	t.Cleanup(release)
	return release
}

// waitForLockWaiter returns once a backend waits for a lock on the campaigns table.
func waitForLockWaiter(t *testing.T) {
	t.Helper()
	waitFor(t, "no status read waits for the campaigns table's lock",
		`SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'campaigns'::regclass`)
}

// A request waiting for another's read of the same campaign's status returns when its own
// deadline passes, though the read it waits for is blocked in PostgreSQL; the blocked read's
// answer is then shared once it comes.
func TestStatus_AWaiterReturnsAtItsOwnDeadlineWhileTheSharedReadIsBlocked(t *testing.T) {
	ops, _ := service(t)
	ops.StatusMaxAge = time.Hour
	actor := breach.CLIActor("setup")
	c := draft(t, ops, actor)
	if _, err := ops.Approve(t.Context(), actor, c.ID, operation.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}

	release := blockCampaigns(t)
	type answer struct {
		s   *breach.CampaignStatus
		err error
	}
	leader := make(chan answer, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		s, err := ops.Status(ctx, actor, c.ID)
		leader <- answer{s, err}
	}()
	waitForLockWaiter(t)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ops.Status(ctx, actor, c.ID)
	waited := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v, want its deadline's error", err)
	}
	if waited > 2*time.Second {
		t.Errorf("waiter returned after %v, its deadline was 200ms", waited)
	}
	select {
	case a := <-leader:
		t.Fatalf("the blocked read ended while the table was locked: %v", a.err)
	default:
	}

	release()
	a := <-leader
	if a.err != nil {
		t.Fatalf("leader: %v", a.err)
	}
	if a.s.State != breach.CampaignApproved {
		t.Errorf("leader read %s, want approved", a.s.State)
	}
	if s, err := ops.Status(t.Context(), actor, c.ID); err != nil || s != a.s {
		t.Errorf("next request: %p, %v; want the leader's answer %p shared", s, err, a.s)
	}
}

// A leader whose own deadline ends its read hands no failure to those waiting on it: they read
// for themselves, and nothing of the failure is kept.
func TestStatus_ALeadersFailureIsNotTheWaitersOwn(t *testing.T) {
	ops, _ := service(t)
	ops.StatusMaxAge = time.Hour
	actor := breach.CLIActor("setup")
	c := draft(t, ops, actor)
	if _, err := ops.Approve(t.Context(), actor, c.ID, operation.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}

	release := blockCampaigns(t)
	leader := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		_, err := ops.Status(ctx, actor, c.ID)
		leader <- err
	}()
	waitForLockWaiter(t)
	waiter := make(chan error, 1)
	var got *breach.CampaignStatus
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		s, err := ops.Status(ctx, actor, c.ID)
		got = s
		waiter <- err
	}()
	if err := <-leader; err == nil {
		t.Fatal("the leader's read succeeded through the lock")
	}
	// The waiter now reads for itself, blocked by the same lock, until it is released.
	waitForLockWaiter(t)
	select {
	case err := <-waiter:
		t.Fatalf("the waiter answered before the lock was released: %v (the leader's failure handed on)", err)
	default:
	}
	release()
	if err := <-waiter; err != nil {
		t.Fatalf("waiter: %v, want its own successful read", err)
	}
	if got.State != breach.CampaignApproved {
		t.Errorf("waiter read %s, want approved", got.State)
	}
	if n := ops.CachedStatuses(); n != 1 {
		t.Errorf("%d entries cached, want the one campaign's", n)
	}
}

// The cache is keyed on the campaign's UUID, not its spelling; and IDs that are not a
// campaign's — not IDs at all, huge, or of no campaign — leave no entry behind.
func TestStatus_CacheKeysOnTheUUIDAndKeepsNothingForIDsOfNoCampaign(t *testing.T) {
	ops, _ := service(t)
	ops.StatusMaxAge = time.Hour
	actor := breach.CLIActor("setup")
	c := draft(t, ops, actor)
	if _, err := ops.Approve(t.Context(), actor, c.ID, operation.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}

	for _, id := range []string{"not-an-id", strings.Repeat("a", 1<<20), strings.ToUpper(c.ID),
		"{" + c.ID + "}", "urn:uuid:" + c.ID, uuid.NewString(), uuid.NewString()} {
		if _, err := ops.Status(t.Context(), actor, id); err == nil {
			t.Errorf("status of %.40q: no error", id)
		}
	}
	if n := ops.CachedStatuses(); n != 0 {
		t.Fatalf("%d entries after IDs of no campaign, want 0", n)
	}

	lower, err := ops.Status(t.Context(), actor, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Status refuses other spellings; the cache itself shares one entry among them all.
	for _, id := range []string{strings.ToUpper(c.ID), "{" + c.ID + "}", "urn:uuid:" + c.ID} {
		s, err := ops.CachedStatus(t.Context(), id)
		if err != nil || s != lower {
			t.Errorf("cache asked for %q: %p, %v; want the entry of %q (%p)", id, s, err, c.ID, lower)
		}
	}
	if n := ops.CachedStatuses(); n != 1 {
		t.Errorf("%d entries, want 1", n)
	}
	if _, err := ops.CachedStatus(t.Context(), "0F8FAD5B-not-a-uuid"); err == nil {
		t.Error("cache asked for an invalid ID: no error")
	}
	if n := ops.CachedStatuses(); n != 1 {
		t.Errorf("%d entries after an invalid ID, want 1", n)
	}
}

// A status past StatusMaxAge is refreshed behind the requests, not in front of them: while the
// refresh waits (here for a table lock; in production behind the workers' commits), requests get
// the status kept, at once — until it is maxStale times StatusMaxAge old, when they wait again.
func TestStatus_AStaleStatusIsAnsweredWhileItsRefreshWaits(t *testing.T) {
	ops, db := service(t)
	const maxAge = 600 * time.Millisecond
	ops.StatusMaxAge = maxAge
	actor := breach.CLIActor("setup")
	c := draft(t, ops, actor)
	if _, err := ops.Approve(t.Context(), actor, c.ID, operation.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}
	kept, err := ops.Status(t.Context(), actor, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Started by another process: only a read shows it.
	if _, err := db.MoveCampaign(t.Context(), c.ID, "elsewhere", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	time.Sleep(maxAge + 50*time.Millisecond)

	release := blockCampaigns(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := ops.Status(ctx, actor, c.ID)
	if err != nil || s != kept {
		t.Fatalf("stale status asked while its refresh is blocked: %p, %v; want the kept %p at once", s, err, kept)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("the kept status took %v: it waited for the refresh", d)
	}
	waitForLockWaiter(t) // the refresh was started, and waits
	release()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := ops.Status(t.Context(), actor, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.State == breach.CampaignRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s 5 s after the refresh could read: the refresh's answer was not kept", s.State)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Older than maxStale × maxAge: requests wait for the read, up to their own deadline.
	time.Sleep(5*maxAge + 50*time.Millisecond)
	release = blockCampaigns(t)
	ctx, cancel = context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if s, err := ops.Status(ctx, actor, c.ID); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("status %v old, refresh blocked: %v, %v; want to wait for it until the deadline", 5*maxAge, s, err)
	}
	release()
}
