package operation

import (
	"context"
	"io"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// CodeStore keeps campaigns' pools of enrolment codes (breach.CodePool).
type CodeStore interface {
	// ImportCodes adds the codes next reads to a draft campaign's pool under its lock, rejects
	// (with line and reason) those seen earlier in the file, already in the pool or used by a
	// customer's list code, assigns free codes to the customers who need one, and fills ci
	// (CampaignID, Filename, CreatedBy set) with the counts, the first rejects and the pool.
	// Its audit row (breach.ActionCodesImport, ci.AuditDetail) commits with the codes: the
	// approval rules read it (the importer is an author; approvals given before no longer
	// count). ECONFLICT for a campaign that is no draft.
	ImportCodes(ctx context.Context, ci *breach.CodeImport, next func() (breach.PoolCode, bool, error)) error
	// CodePool returns a campaign's pool as last counted; nil when it has none.
	CodePool(ctx context.Context, campaignID string) (*breach.CodePool, error)
	// ExportCodes calls fn with each assigned code and its customer's customer_id, as read;
	// ENOTFOUND for an unknown campaign.
	ExportCodes(ctx context.Context, campaignID string, fn func(code, customerID string) error) (int64, error)
}

// CodesRequest is a vendor's file of enrolment codes to add to a campaign's pool.
type CodesRequest struct {
	// Filename is the file's name as its sender gave it: a label only (breach.FileLabel).
	Filename string
	// Codes is the file's bytes, read as they come; never held whole.
	Codes io.Reader
}

// ImportCodes adds a vendor's codes to a draft campaign's pool (a CSV with a code column, see
// importer.OpenCodes) and gives one to every customer without a code of their own, in the same
// transaction; the answer counts the lines read, added and rejected (Read = Added + Rejected)
// and lists the first rejected lines with their reasons. The campaign must have an offer: the
// codes are its enrolment codes. Audited with its counts, never a code, in the same transaction.
func (s *Service) ImportCodes(ctx context.Context, actor breach.Actor, campaignID string, req CodesRequest) (*breach.CodeImport, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "ImportCodes", campaignID); err != nil {
		return nil, err
	}
	c, err := s.campaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if c.Offer == nil {
		return nil, breach.Errorf(breach.ECONFLICT, "the campaign makes no offer: enrolment codes go with an offer (offer: in the campaign file)")
	}
	if c.State != breach.CampaignDraft {
		return nil, breach.Errorf(breach.ECONFLICT, "the campaign is %s; enrolment codes can only be imported into a draft campaign (its list and notices are frozen once approved)", c.State)
	}
	rd, err := importer.OpenCodes(req.Codes)
	if err != nil {
		return nil, err
	}
	ci := &breach.CodeImport{CampaignID: c.ID, Filename: breach.FileLabel(req.Filename), CreatedBy: actor.Name}
	if err := s.Store.ImportCodes(ctx, ci, rd.Next); err != nil {
		return nil, err
	}
	return ci, nil
}

// CodePool returns a campaign's pool of enrolment codes: size, assigned, free, and how many
// customers still lack a code; nil when no codes were imported. Counts only.
func (s *Service) CodePool(ctx context.Context, actor breach.Actor, campaignID string) (*breach.CodePool, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "CodePool", campaignID); err != nil {
		return nil, err
	}
	c, err := s.campaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	return s.Store.CodePool(ctx, c.ID)
}

// ExportCodes writes the vendor's export — each assigned pool code and the reference of the
// customer it went to (notice.Reference), so the vendor can match an enrolment to a notice
// without learning who the customer is — as CSV to the writer open returns, and returns the
// rows written. It links codes to customers: a read audited (breach.ActionCodesExport) before
// open is called. Cells are escaped against formula injection (csvsafe).
func (s *Service) ExportCodes(ctx context.Context, actor breach.Actor, campaignID string, open func(c *breach.Campaign) (io.Writer, error)) (int64, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "ExportCodes", campaignID); err != nil {
		return 0, err
	}
	secret, err := s.secret(ctx)
	if err != nil {
		return 0, err
	}
	c, err := s.campaign(ctx, campaignID)
	if err != nil {
		return 0, err
	}
	pool, err := s.Store.CodePool(ctx, c.ID)
	if err != nil {
		return 0, err
	}
	var assigned int64
	if pool != nil {
		assigned = pool.Assigned
	}
	if err := s.auditRead(ctx, actor, breach.ActionCodesExport, c.ID, map[string]any{"assigned": assigned}); err != nil {
		return 0, err
	}
	w, err := open(c)
	if err != nil {
		return 0, err
	}
	out, err := newCSVStream(w, "code", "reference")
	if err != nil {
		return 0, err
	}
	_, err = s.Store.ExportCodes(ctx, c.ID, func(code, customerID string) error {
		return out.Row(code, notice.Reference(secret, c.ID, customerID))
	})
	return out.Close(err)
}
