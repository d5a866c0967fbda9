package breach

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// enrolmentCode is what an enrolment code may look like: 1 to 40 letters, digits and hyphens,
// starting with a letter or digit. A customer list or a vendor's file could hold anything; a
// value that is not a code (a link, a sentence) never reaches a notice.
var enrolmentCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,39}$`)

// IsEnrolmentCode reports whether s (already trimmed) looks like an enrolment code.
func IsEnrolmentCode(s string) bool { return enrolmentCode.MatchString(s) }

// EnrolmentCodeRule says in words what IsEnrolmentCode accepts, for reject reasons.
const EnrolmentCodeRule = "an enrolment code is 1 to 40 letters, digits and hyphens, starting with a letter or digit"

// CodePool is a campaign's pool of enrolment codes, as an identity-protection vendor delivered
// them (breachnotice codes import): each customer whose list row gives no code of their own
// gets exactly one code of the pool, assigned once and kept, and no code goes to two customers.
// A campaign uses a pool once codes have been imported into it; until then its offer (if any)
// is sent with the codes of the list, or none.
type CodePool struct {
	// Size is how many codes the pool holds, Assigned how many of them went to a customer,
	// Free how many are left (Size = Assigned + Free).
	Size     int64 `json:"size"`
	Assigned int64 `json:"assigned"`
	Free     int64 `json:"free"`
	// Missing is how many customers without a code of their own have none from the pool yet,
	// because it ran out: approval waits until another import of codes covers them.
	Missing   int64     `json:"missing"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CheckApproval refuses the approval of a campaign whose pool is short: some customers would
// be offered a code they do not get. A nil pool (no codes imported) asks nothing.
func (p *CodePool) CheckApproval() error {
	if p == nil || p.Missing == 0 {
		return nil
	}
	return Errorf(ECONFLICT, "the enrolment code pool is short: %d %s without a code of their own %s none from the pool (%d codes, all assigned): import at least %d more codes (breachnotice codes import) before approving",
		p.Missing, plural(p.Missing, "customer", "customers"), plural(p.Missing, "has", "have"), p.Size, p.Missing)
}

// SharedListCodes are the enrolment codes of a campaign's list that more than one customer's
// row gives (compared as the pool compares codes: trimmed, case aside). Each code enrols one
// person with the identity-protection vendor: sent to several, the first to enrol takes it and
// the others are refused — or enrolled into someone else's monitoring. A CRM export that
// repeated a code is refused at approval, as a short pool is.
type SharedListCodes struct {
	Codes     int64    // codes given by more than one customer's row
	Customers int64    // customers whose code another customer's row gives too
	Examples  []string // a few of those customers' customer_ids
}

// CheckApproval refuses the approval of a list that gives one code to several customers (nil
// or none: nothing to refuse).
func (s *SharedListCodes) CheckApproval() error {
	if s == nil || s.Codes == 0 {
		return nil
	}
	return Errorf(ECONFLICT, "the list gives %d enrolment %s to more than one customer (%d customers, e.g. customer_id %s): each code enrols one person, so correct the list's code column and import it again before approving",
		s.Codes, plural(s.Codes, "code", "codes"), s.Customers, strings.Join(s.Examples, ", "))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// PoolCode is one row of a vendor's code file as read: its line (the header is line 1) and its
// code, trimmed, or why it cannot be a code (Reason; Code may then be empty).
type PoolCode struct {
	Line   int64
	Code   string
	Reason string
}

// CodeReject is a line of a vendor's code file that added no code to the pool, and why. The
// code itself is not repeated: the line number finds it in the vendor's file.
type CodeReject struct {
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
}

// MaxListedCodeRejects is how many rejected lines a codes import lists (in line order);
// CodeImport.Rejected counts them all.
const MaxListedCodeRejects = 1000

// CodeImport is one vendor file of codes added to a campaign's pool, with the counts that prove
// nothing was lost: Read = Added + Rejected.
type CodeImport struct {
	CampaignID string `json:"campaign_id"`
	// Filename is the file's label, for the operators' reference.
	Filename string `json:"filename,omitempty"`
	Read     int64  `json:"read"`
	Added    int64  `json:"added"`
	Rejected int64  `json:"rejected"`
	// Rejects lists the first MaxListedCodeRejects rejected lines.
	Rejects []CodeReject `json:"rejects,omitempty"`
	// Assigned is how many customers got a code from this import's codes.
	Assigned int64 `json:"assigned"`
	// Pool is the pool after the import.
	Pool      *CodePool `json:"pool"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// AuditDetail is what the audit log keeps of a codes import: counts, never a code.
func (ci *CodeImport) AuditDetail() map[string]any {
	d := map[string]any{"file": ci.Filename, "read": ci.Read, "added": ci.Added, "rejected": ci.Rejected,
		"assigned": ci.Assigned}
	if ci.Pool != nil {
		d["pool_size"], d["missing"] = ci.Pool.Size, ci.Pool.Missing
	}
	return d
}

// Summary is one line saying what a codes import did.
func (ci *CodeImport) Summary() string {
	s := fmt.Sprintf("%d lines read: %d codes added, %d rejected; %d customers got a code", ci.Read, ci.Added, ci.Rejected, ci.Assigned)
	if p := ci.Pool; p != nil {
		s += fmt.Sprintf("; pool: %d codes, %d assigned, %d free", p.Size, p.Assigned, p.Free)
		if p.Missing > 0 {
			s += fmt.Sprintf(", %d customers still without a code", p.Missing)
		}
	}
	return s
}

// CodeKey is the form in which two codes are the same code: vendors read codes without regard
// to case, so "ab-12" and "AB-12" must never go to two customers.
func CodeKey(code string) string { return strings.ToUpper(code) }

// CampaignReader reads campaigns and their code pools (the store; PostgreSQL in production).
type CampaignReader interface {
	Campaign(ctx context.Context, id string) (*Campaign, error)
	CodePool(ctx context.Context, campaignID string) (*CodePool, error)
}

// RenderingCampaign reads campaign id as its notices are rendered — by the worker and by every
// preview, sample, lint and test send, which must show what customers get: with its code pool
// when its offer has one (a customer without a code of their own gets one from the pool; one
// the pool could not cover is told how to get theirs).
func RenderingCampaign(ctx context.Context, r CampaignReader, id string) (*Campaign, error) {
	c, err := r.Campaign(ctx, id)
	if err != nil || c.Offer == nil {
		return c, err
	}
	if c.CodePool, err = r.CodePool(ctx, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}
