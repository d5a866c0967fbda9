package breach

import (
	"encoding/json"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AuditEntry is one row of the audit log: who (an operator token "token:NAME", a person at the
// terminal "cli:USER", or the system "system:…") did what, when, to which campaign. Detail holds
// counts and IDs, never a customer's personal data.
type AuditEntry struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	CampaignID string          `json:"campaign_id,omitempty"`
	Detail     json.RawMessage `json:"detail"`
}

// AuditFilter selects audit entries, newest first: those of one campaign and/or one action
// (empty: any), with IDs below Before (0: from the newest), at most Limit of them.
type AuditFilter struct {
	CampaignID string
	Action     string
	Before     int64
	Limit      int
}

// PurgeReport is what a purge of a campaign's personal data did, or found already done.
type PurgeReport struct {
	CampaignID string    `json:"campaign_id"`
	PurgedAt   time.Time `json:"purged_at"`
	PurgedBy   string    `json:"purged_by"`
	// AlreadyPurged is set when an earlier purge had done it all: this one changed nothing.
	AlreadyPurged bool `json:"already_purged"`
	// Recipients is how many recipients had their personal data deleted by this purge,
	// Rejects how many rejected import rows were deleted.
	Recipients int64 `json:"recipients"`
	Rejects    int64 `json:"rejects"`
}

// NoticeProof answers whether an address was among a purged campaign's recipients: the purge
// keeps a keyed hash of each address, not the address, so only someone who already knows the
// address (and holds the secret) can ask.
type NoticeProof struct {
	Channel    Channel `json:"channel"`
	Matched    bool    `json:"matched"`
	CustomerID string  `json:"customer_id,omitempty"`
	// Deliveries are that recipient's notices on that channel and their events.
	Deliveries []ProofDelivery `json:"deliveries,omitempty"`
}

// ProofDelivery is one notice of a proof of notice: its final state and its history.
type ProofDelivery struct {
	State      DeliveryState `json:"state"`
	ProviderID string        `json:"provider_id,omitempty"`
	UpdatedAt  time.Time     `json:"updated_at"`
	Events     []ProofEvent  `json:"events"`
}

// ProofEvent is one transition of a delivery.
type ProofEvent struct {
	At     time.Time     `json:"at"`
	State  DeliveryState `json:"state"`
	Source string        `json:"source"`
}

// Purged reports whether the campaign's personal data has been purged.
func (c *Campaign) Purged() bool { return c.PurgedAt != nil }

// NeedsPersonalData returns an ECONFLICT error saying why what needs the customers' names and
// addresses (a preview of a customer's notice, a test send) is no longer possible once the
// campaign has been purged; nil before.
func (c *Campaign) NeedsPersonalData(what string) error {
	if !c.Purged() {
		return nil
	}
	return Errorf(ECONFLICT, "cannot %s: the personal data of campaign %s was purged on %s (its retention period was over); only counts, delivery records and hashed proof of notice remain",
		what, c.ID, c.PurgedAt.UTC().Format(time.DateOnly))
}

// Finished reports whether the campaign has ended (completed or cancelled): only then may its
// personal data be purged.
func (s CampaignState) Finished() bool {
	return s == CampaignCompleted || s == CampaignCancelled
}

// maxFileLabel bounds a file label in bytes.
const maxFileLabel = 255

// FileLabel reduces a file name that came from outside (an upload's filename, a command-line
// argument) to a label for people: its last path element, without control characters, at
// most 255 bytes of valid UTF-8, no control or format character. "../../etc/passwd" becomes "passwd" and "..", "/" or "" become
// "". A label is for display and the audit log; it is never used as a path.
func FileLabel(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		// Control characters, and format ones (Cf): a right-to-left override made
		// "invoice‮fdp.exe" show as "invoiceexe.pdf" in the console and the audit log (a review).
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." || name == "/" {
		return ""
	}
	for len(name) > maxFileLabel {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
