package breach

import "time"

// Import is one customer list loaded into a campaign, with the counts that prove nothing was
// lost: every row read is accepted (a new recipient), merged (into a recipient that an earlier
// row or import created) or rejected with a reason, so Read = Accepted + Merged + Rejected.
type Import struct {
	ID         string      `json:"id"`
	CampaignID string      `json:"campaign_id"`
	State      ImportState `json:"state"`
	// Filename is the name the list was uploaded under, for the operators' reference.
	Filename  string `json:"filename,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Delimiter string `json:"delimiter,omitempty"`
	Read      int64  `json:"read"`
	Accepted  int64  `json:"accepted"`
	Merged    int64  `json:"merged"`
	Rejected  int64  `json:"rejected"`
	// Updated counts the merged rows that changed an existing recipient.
	Updated    int64      `json:"updated"`
	Error      string     `json:"error,omitempty"`
	CreatedBy  string     `json:"created_by,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// ImportState is where an import is: running until its rows are merged, then completed, or
// failed (nothing of it was stored).
type ImportState string

const (
	ImportRunning   ImportState = "running"
	ImportCompleted ImportState = "completed"
	ImportFailed    ImportState = "failed"
)

// Reject is a row of a customer list that was not imported, and why. Line is the row's first
// line in the original file (header = line 1), so an operator can find it in their editor.
type Reject struct {
	Line       int64  `json:"line"`
	CustomerID string `json:"customer_id,omitempty"`
	Field      string `json:"field,omitempty"`
	Reason     string `json:"reason"`
}

// ImportRow is a valid row of a customer list: a recipient, and the line it came from (a later
// row of the same customer wins over an earlier one).
type ImportRow struct {
	Line int64
	Recipient
}

// ImportBatch is a slice of an import, as the importer hands it to storage.
type ImportBatch struct {
	Rows    []ImportRow
	Rejects []Reject
}
