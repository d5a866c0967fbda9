package breach

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"
)

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
	// Sheet is the sheet a spreadsheet list was read from (Encoding and Delimiter are then
	// empty).
	Sheet    string `json:"sheet,omitempty"`
	Read     int64  `json:"read"`
	Accepted int64  `json:"accepted"`
	Merged   int64  `json:"merged"`
	Rejected int64  `json:"rejected"`
	// Updated counts the merged rows that changed an existing recipient.
	Updated int64 `json:"updated"`
	// Warned counts the rows kept (accepted or merged) with a value neutralised on the way,
	// such as a name that held markup: the customer is still told, and the operator sees why
	// their greeting may be generic. Warnings lists the first MaxListedWarnings of them.
	Warned   int64     `json:"warned"`
	Warnings []Warning `json:"warnings,omitempty"`
	// WarnedBy counts the warned rows by the field a warning is about (a row warned of its
	// phone and its name counts in both): only the first rows' warnings are listed, and a flood
	// of one kind (a hundred thousand landlines) must not hide the few of another.
	WarnedBy map[string]int64 `json:"warned_by,omitempty"`
	// DefaultExposed is the campaign's default categories. A row whose exposed cell is empty
	// comes to the store with none (ImportRow.Exposed 0; without an exposed column the
	// importer gives every row the default itself), and the store gives the default to the
	// customers none of whose rows of the list named a category: a row copied as the first of
	// its customer, and a new customer merged from repeated rows.
	DefaultExposed Categories `json:"-"`
	Error          string     `json:"error,omitempty"`
	CreatedBy      string     `json:"created_by,omitempty"`
	StartedAt      time.Time  `json:"started_at"`
	FinishedAt     *time.Time `json:"finished_at,omitempty"`
}

// AuditDetail is what the audit log keeps of an import, for the console and the API alike: its
// ID, file label, state and counts — never a row of the list.
func (imp *Import) AuditDetail() map[string]any {
	return map[string]any{"import": imp.ID, "file": imp.Filename, "state": imp.State,
		"read": imp.Read, "accepted": imp.Accepted, "merged": imp.Merged, "rejected": imp.Rejected,
		"warned": imp.Warned}
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

// Warning is a row of a customer list that was imported with one of its values neutralised,
// and what was done. It names the row by its line, but its Reason may quote the value it is
// about (a phone as written and its readings, an unreadable email, a state, a customer_id):
// a purge keeps Line and Field and replaces Reason (internal/postgres/privacy.go).
type Warning struct {
	Line   int64  `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// MaxListedWarnings is how many warnings an import lists at most: those of its first warned
// rows, in line order, a row's warnings all or none (AppendWarnedRows). Import.Warned counts
// every row that has one; WarnedRowsListed how many of them the list shows.
const MaxListedWarnings = 100

// WarnedRows yields ws (in line order) a row at a time: the warnings of one line together.
// Every walk over listed warnings goes through it, so that a row is never cut in half.
func WarnedRows(ws []Warning) iter.Seq[[]Warning] {
	return func(yield func([]Warning) bool) {
		for len(ws) > 0 {
			n := 1
			for n < len(ws) && ws[n].Line == ws[0].Line {
				n++
			}
			if !yield(ws[:n]) {
				return
			}
			ws = ws[n:]
		}
	}
}

// AppendWarnedRows appends to listed the warnings of ws (whole rows, in line order) that fit
// within MaxListedWarnings. It reports false once a row did not fit: the rows after it must not
// be listed either, so that the list is always its import's first warned rows.
func AppendWarnedRows(listed, ws []Warning) ([]Warning, bool) {
	for row := range WarnedRows(ws) {
		if len(listed)+len(row) > MaxListedWarnings {
			return listed, false
		}
		listed = append(listed, row...)
	}
	return listed, true
}

// AppendLateWarnings adds to listed the warnings the import finds only once the whole list is
// read (customers whose rows disagree), up to MaxListedWarnings more, keeping line order; a
// line already listed gets them beside its own.
func AppendLateWarnings(listed, late []Warning) []Warning {
	if len(late) > MaxListedWarnings+1 {
		late = late[:MaxListedWarnings+1]
	}
	out := append(slices.Clone(listed), late...)
	slices.SortStableFunc(out, func(a, b Warning) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

// WarnedRowsListed is how many warned rows imp.Warnings lists.
func (imp *Import) WarnedRowsListed() int64 { return CountWarnedRows(imp.Warnings) }

// FirstWarnedRows returns the warnings of the first n warned rows of ws (whole rows, in line
// order).
func FirstWarnedRows(ws []Warning, n int) []Warning {
	end := 0
	for row := range WarnedRows(ws) {
		if n == 0 {
			break
		}
		end, n = end+len(row), n-1
	}
	return ws[:end]
}

// CountWarnedFields adds to imp.WarnedBy, per field, the rows of ws (in line order) warned of
// it, each row once per field.
func (imp *Import) CountWarnedFields(ws []Warning) {
	for row := range WarnedRows(ws) {
		for i, w := range row {
			if slices.ContainsFunc(row[:i], func(o Warning) bool { return o.Field == w.Field }) {
				continue
			}
			imp.AddWarned(w.Field, 1)
		}
	}
}

// AddWarned counts n more rows warned of field in imp.WarnedBy.
func (imp *Import) AddWarned(field string, n int64) {
	if imp.WarnedBy == nil {
		imp.WarnedBy = map[string]int64{}
	}
	imp.WarnedBy[field] += n
}

// WarnedByFields is imp.WarnedBy for people to read (FieldCounts).
func (imp *Import) WarnedByFields() string { return FieldCounts(imp.WarnedBy) }

// FieldCounts is counts by field, most first, for people to read: "phone 50000, name 120".
func FieldCounts(by map[string]int64) string {
	fields := slices.Collect(maps.Keys(by))
	slices.SortFunc(fields, func(a, b string) int { return cmp.Or(cmp.Compare(by[b], by[a]), cmp.Compare(a, b)) })
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = fmt.Sprintf("%s %d", f, by[f])
	}
	return strings.Join(parts, ", ")
}

// CountWarnedRows is how many rows ws has warnings of (ws in line order).
func CountWarnedRows(ws []Warning) int64 {
	var n int64
	for range WarnedRows(ws) {
		n++
	}
	return n
}

// ImportRow is a valid row of a customer list: a recipient, and the line it came from (a later
// row of the same customer wins over an earlier one).
type ImportRow struct {
	Line int64
	// Recipient is the customer, except their attributes: Recipient.Attributes is nil, and
	// Extra holds them.
	Recipient
	// Extra are the row's attributes (the list's other columns with a value), in the order
	// the import read them; a name given twice (a column mapped onto another's name) counts
	// with its last value, as it did in the map. A row carries them as a slice rather than as
	// Recipient's map because an import handles hundreds of thousands of rows a second: a map
	// per row was half of the importer's allocations (322 of about 660 bytes a row) and, with
	// its hashing and its walk into JSON, a sixth of the import process's CPU.
	Extra []Attribute
	// RefKey is the lookup key of the recipient's reference code (see notice.ReferenceKeys),
	// stored with the row for the public verification; 0 when the import computed none.
	RefKey int64
}

// Attribute is one of a row's attributes: its column's name (normalized, see the import's
// header rules) and its value.
type Attribute struct{ Name, Value string }

// Attribute returns the value of the row's attribute name, or "".
func (r *ImportRow) Attribute(name string) string {
	for i := len(r.Extra) - 1; i >= 0; i-- { // the last of a name, as in the map
		if r.Extra[i].Name == name {
			return r.Extra[i].Value
		}
	}
	return ""
}

// AttributeMap returns the row's attributes as Recipient.Attributes holds them once stored;
// nil when it has none.
func (r *ImportRow) AttributeMap() map[string]string {
	if len(r.Extra) == 0 {
		return nil
	}
	m := make(map[string]string, len(r.Extra))
	for _, a := range r.Extra {
		m[a.Name] = a.Value
	}
	return m
}

// ImportBatch is a slice of an import, as the importer hands it to storage.
type ImportBatch struct {
	Rows    []ImportRow
	Rejects []Reject
	// Warnings are about rows of Rows, which are stored all the same; a row may have several,
	// and WarnedRows counts the rows that have any.
	Warnings   []Warning
	WarnedRows int64
}

// ImportStore keeps imports. Implemented by package postgres.
type ImportStore interface {
	// BeginImport records imp (CampaignID, Filename and CreatedBy set) as running, sets its
	// ID, and returns the session its rows go to. It fails with ENOTFOUND for an unknown
	// campaign and ECONFLICT for a campaign that no longer takes imports.
	BeginImport(ctx context.Context, imp *Import) (ImportSession, error)
}

// ImportSession receives one import's batches and then merges them into the campaign's
// recipients in one step, or nothing of them.
type ImportSession interface {
	// Write stores a batch. Batches arrive in line order: the merge relies on it to let a
	// customer's later row win over an earlier one.
	Write(ctx context.Context, b *ImportBatch) error
	// Progress records how far the import has read, for those watching it. It is advisory:
	// it never fails the import, and gives up quickly when the database is busy.
	Progress(ctx context.Context, read int64)
	// Commit merges the rows into the campaign's recipients (a customer already present is
	// updated: non-empty fields win, categories are united), stores the rejects and imp's
	// Warned and Warnings, and fills in imp's Accepted, Merged and Updated counts and final
	// state.
	Commit(ctx context.Context, imp *Import) error
	// Abort discards the rows and records the import as failed with cause.
	Abort(ctx context.Context, imp *Import, cause error)
}
