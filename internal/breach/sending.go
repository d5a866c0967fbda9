package breach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// DeliveryStore is the record the sending engine works against (PostgreSQL in production:
// internal/postgres). Every method is safe for concurrent use by many workers; the conditional
// updates behind ClaimRange are what make a notice go out once however often a task runs.
type DeliveryStore interface {
	// Campaign returns a campaign, or ENOTFOUND.
	Campaign(ctx context.Context, id string) (*Campaign, error)
	// CodePool returns a campaign's enrolment code pool, or nil when it has none.
	CodePool(ctx context.Context, campaignID string) (*CodePool, error)
	// ActiveCampaigns returns the running and paused campaigns.
	ActiveCampaigns(ctx context.Context) ([]ActiveCampaign, error)
	// PlanCampaign creates the queued deliveries of up to limit more recipients of a running
	// campaign.
	PlanCampaign(ctx context.Context, campaignID string, limit int) (Planned, error)
	// ClaimRange claims the due queued deliveries of one channel with recipient IDs in
	// [low, high) for worker (queued → sending); suppressed addresses become suppressed (how
	// many is returned, for the metrics), and with fallback their other channel is queued
	// (returned as fallbacks). The first started claims are announced as started in the
	// claim's own transaction (AnnounceStarts), which spares a commit.
	ClaimRange(ctx context.Context, campaignID string, ch Channel, low, high int64, worker string, fallback bool, started int) (claims []Claim, fallbacks []int64, suppressed int, err error)
	// Record writes the outcomes of worker's claims; with fallback, failed and suppressed
	// customers get their other channel queued (returned as fallbacks).
	Record(ctx context.Context, campaignID string, ch Channel, worker string, outcomes []Outcome, fallback bool) (fallbacks []int64, err error)
	// CountRelays adds to a campaign's per-relay counts (SMTP_URLS), once per recorded batch.
	CountRelays(ctx context.Context, campaignID string, counts []RelayCount) error
	// AnnounceStarts records that worker may have started sending the claims of its claim
	// statement of claimedAt up to recipient ID through, before it hands them on: a release
	// after its death marks only those possibly sent (ReleaseOrphans). ECONFLICT when the
	// statement is no longer there: another reconciler took the worker's claims for lost, and
	// nothing more of them may be sent.
	AnnounceStarts(ctx context.Context, campaignID string, ch Channel, worker string, claimedAt time.Time, through int64) error
	// Release returns worker's unsent claims to the queue.
	Release(ctx context.Context, campaignID string, ch Channel, worker string, ids []int64) error
	// DueChunks returns the chunks holding deliveries due for at least minAge.
	DueChunks(ctx context.Context, campaignID string, size int64, minAge time.Duration) ([]Chunk, error)
	// ReleaseOrphans requeues deliveries left sending by workers no longer registered, by
	// workers silent for stale (when stale > 0), and by worker self that are older than
	// selfAfter (claims it lost track of; 0: none of its own); it returns their recipient IDs
	// per channel, marking them possibly sent when their worker died. In a
	// cancelled campaign they fail instead, as do its queued deliveries.
	ReleaseOrphans(ctx context.Context, campaignID, self string, stale, selfAfter time.Duration) (map[Channel][]int64, error)
	// PauseFailing pauses a running campaign whose notices keep failing, as the system, with
	// the reason in the audit log; false when it was not running.
	PauseFailing(ctx context.Context, campaignID, reason string) (bool, error)
	// CompleteIfDone completes a running campaign with nothing left to send.
	CompleteIfDone(ctx context.Context, campaignID string) (bool, error)
	// RegisterWorker, Heartbeat, Workers and UnregisterWorker track the live worker processes;
	// a claim whose worker is no longer registered is released at once. templates is the
	// digest of the notice templates the worker renders with (notice.Renderer.Digest): a
	// campaign's status counts the live workers that can send it.
	RegisterWorker(ctx context.Context, id, host string, pid int, templates string) error
	// Heartbeat returns ENOTFOUND when the worker is no longer registered (another took it for
	// dead): it must register again.
	Heartbeat(ctx context.Context, id string) error
	Workers(ctx context.Context) ([]Worker, error)
	UnregisterWorker(ctx context.Context, id string) error
	// ListenCampaigns calls moved with the ID of each campaign an operator moves, and
	// suppressed with the SuppressedKey of each address put on the suppression list, until
	// ctx ends; listening is called once both are listened to (what happened before is for
	// RecentSuppressions).
	ListenCampaigns(ctx context.Context, moved func(campaignID string), suppressed func(key string), listening func()) error
	// RecentSuppressions returns the SuppressedKeys of the addresses suppressed within the
	// last age.
	RecentSuppressions(ctx context.Context, age time.Duration) ([]string, error)
	QuietStore
}

// QuietStore is what SMS quiet hours need of the record: a held delivery stays queued with a
// time before which no claim takes it (ClaimRange) and the reconciler does not queue it again
// (DueChunks).
type QuietStore interface {
	// QueuedRecipients returns the recipients (ID, phone, country) of the deliveries of one
	// channel with recipient IDs in [low, high) that a claim would take now.
	QueuedRecipients(ctx context.Context, campaignID string, ch Channel, low, high int64) ([]Recipient, error)
	// Defer holds queued deliveries until the given times; one no longer queued is left alone.
	Defer(ctx context.Context, campaignID string, ch Channel, until []Deferral) error
}

// Deferral holds one delivery until a time.
type Deferral struct {
	RecipientID int64
	Until       time.Time
}

// Worker is a registered worker process.
type Worker struct {
	ID   string
	Host string
	PID  int
	// Silence is how long ago its last heartbeat was, by the database's clock.
	Silence time.Duration
}

// ActiveCampaign is a campaign the workers have work for.
type ActiveCampaign struct {
	ID      string
	State   CampaignState
	Planned bool
}

// Planned is what one step of the planner created: per channel, the lowest and highest
// recipient ID of the deliveries it queued (absent when none).
type Planned struct {
	Low, High map[Channel]int64
	// Done is set when the campaign has no recipient left to plan.
	Done bool
}

// Chunk names the deliveries of one channel whose recipient IDs fall in one cell of a grid of
// a given size: [K*size, (K+1)*size). Tasks cover chunks, so a chunk's task has a stable ID
// and the reconciler can tell whether the queue still holds it.
type Chunk struct {
	Channel Channel
	K       int64
}

// Claim is a delivery a worker holds (state sending) and must send.
type Claim struct {
	Recipient Recipient
	Attempt   int // 1 for the first try
	// PossiblySent counts the earlier attempts that may have reached the customer (a relay
	// that took the data and never answered, a worker that died holding it).
	PossiblySent int
	// ClaimedAt is when it was claimed: with the campaign, channel and worker, it names the
	// claim statement that AnnounceStarts raises.
	ClaimedAt time.Time
}

// Outcome is the result of one attempt at a claimed delivery.
type Outcome struct {
	RecipientID int64
	// State is sent, failed, suppressed, or queued for another attempt at NextAttempt.
	State       DeliveryState
	ProviderID  string
	Error       string
	NextAttempt time.Time
	// Suppress adds the address to the suppression list (the provider says the customer
	// opted out).
	Suppress bool
	// PossiblySent marks a failure after which the provider may have taken the notice all
	// the same (its answer lost after the message went out): the delivery counts one more
	// possible send, so that a later send of it is recorded as a possible duplicate.
	PossiblySent bool
	// Refused marks a failure that, repeated with nothing sent, says the relay, the provider
	// or the templates fail every customer: a permanent refusal the provider did not put down
	// to the customer's own address (no such mailbox, not a mobile number), or a notice that
	// would not render. Not recorded: it counts toward pausing the campaign
	// (dispatch.DefaultFailureStreak). Retries run out for customers' own reasons too (a full
	// mailbox, greylisting), at the end of a campaign, all together: those do not count.
	Refused bool `json:"-"`
	// Relays are the SMTP relays an email went through, in order (SMTP_URLS; empty with a
	// single SMTP_URL and for SMS): counted per relay in the campaign's status.
	Relays []RelayTry
}

// RelayTry is one SMTP relay's part in sending one email.
type RelayTry struct {
	// Relay is the relay's host:port.
	Relay string
	// Result is "sent" (accepted), "failed" (a temporary failure: refused connection, timeout,
	// 4xx) or "rejected" (5xx: the customer's address refused).
	Result string
	// SetAsideUntil is set when this failure set the relay aside.
	SetAsideUntil time.Time
}

// RelayCount is what one SMTP relay did for a campaign: the messages it accepted, the tries it
// failed (the notice then went to another relay, or back to the queue), the 5xx answers it
// gave, and until when it is set aside after repeated failures (nil: in service).
type RelayCount struct {
	Relay         string     `json:"name"`
	Sent          int64      `json:"sent"`
	Failed        int64      `json:"failed"`
	Rejected      int64      `json:"rejected"`
	SetAsideUntil *time.Time `json:"set_aside_until,omitempty"`
}

// WorkerCount is what the workers alive now (heard from within the last half minute) can do
// for a campaign: Live of them are running, OtherTemplates of those render other notice
// templates than the campaign was approved with and send none of its notices
// (Campaign.CheckTemplates).
type WorkerCount struct {
	Live           int `json:"live"`
	OtherTemplates int `json:"other_templates"`
}

// TestSend is one test notice sent (or not) to a reviewer: a customer's real notice, rendered
// as it will be sent, addressed to someone who checks it (campaign test-send).
type TestSend struct {
	CustomerID string  `json:"customer_id"`
	Locale     string  `json:"locale"`
	Channel    Channel `json:"channel"`
	To         string  `json:"to"`
	ProviderID string  `json:"provider_id,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// SuppressedKey names an address on a channel's suppression list without saying it: the
// hex SHA-256 of "channel:address", the address's ASCII letters lower-cased (migration 00029
// computes the same in the database, for the workers' notifications: its lower() would follow
// the database's locale, and the two must agree whatever it is). Addresses that differ in the
// case of other letters do not match here; the claim's own check of the suppression list
// still catches them.
func SuppressedKey(ch Channel, address string) string {
	sum := SuppressedSum(ch, address)
	return hex.EncodeToString(sum[:])
}

// SuppressedSum is SuppressedKey's hash, not yet written in hex.
func SuppressedSum(ch Channel, address string) [sha256.Size]byte {
	b := make([]byte, 0, len(ch)+1+len(address))
	b = append(append(append(b, ch...), ':'), address...)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return sha256.Sum256(b)
}
