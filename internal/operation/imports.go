package operation

import (
	"context"
	"io"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// ImportRequest is a customer list to load into a campaign.
type ImportRequest struct {
	// Filename is the list's name as its sender gave it: a label only (breach.FileLabel).
	Filename string
	// List is the file's bytes, read as they come; never held whole.
	List    io.Reader
	Options importer.Options
}

// Import loads a customer list into a draft campaign and returns the finished import with its
// counts (read = accepted + merged + rejected). The import is audited whether it completed or
// failed, with its counts and never a row of the list.
func (s *Service) Import(ctx context.Context, actor breach.Actor, campaignID string, req ImportRequest) (*breach.Import, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "Import", campaignID); err != nil {
		return nil, err
	}
	secret, err := s.secret(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.campaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	imp := &breach.Import{Filename: req.Filename, CreatedBy: actor.Name}
	// Each recipient's reference code is made verifiable as it is stored (see Verify).
	opts := req.Options
	if len(secret) > 0 {
		opts.RefKey = notice.NewReferenceKeys(secret).OfRecipient
	}
	done, err := s.Importer.Run(ctx, c, imp, req.List, opts)
	if imp.ID != "" {
		if aerr := s.audit(ctx, actor, breach.ActionImport, c.ID, imp.AuditDetail()); aerr != nil && err == nil {
			err = aerr
		}
	}
	if err != nil {
		return imp, err
	}
	return done, nil
}

// ImportReport returns an import's counts and state.
func (s *Service) ImportReport(ctx context.Context, actor breach.Actor, campaignID, importID string) (*breach.Import, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "ImportReport", campaignID); err != nil {
		return nil, err
	}
	cid, iid, err := importIDs(campaignID, importID)
	if err != nil {
		return nil, err
	}
	return s.Store.Import(ctx, cid, iid)
}

// Rejects writes an import's reject report as CSV (line, customer_id, field, reason; escaped
// against spreadsheet formulas) to the writer open returns, once the read is audited: the
// rejected rows are the list's own text, personal data. open is called after the audit row is
// written (a door sets its headers there).
func (s *Service) Rejects(ctx context.Context, actor breach.Actor, campaignID, importID string, open func(imp *breach.Import) (io.Writer, error)) error {
	var w io.Writer
	imp, err := s.RejectRows(ctx, actor, campaignID, importID, func(imp *breach.Import) (func(breach.Reject) error, error) {
		var err error
		w, err = open(imp)
		return nil, err
	})
	if err != nil {
		return err
	}
	return importer.WriteRejectsCSV(w, func(fn func(breach.Reject) error) error {
		return s.Store.Rejects(ctx, imp.ID, fn)
	})
}

// RejectRows audits a read of an import's rejected rows, then calls the function start
// returns with each of them, in line order (none when it returns nil).
func (s *Service) RejectRows(ctx context.Context, actor breach.Actor, campaignID, importID string, start func(imp *breach.Import) (func(breach.Reject) error, error)) (*breach.Import, error) {
	imp, err := s.ImportReport(ctx, actor, campaignID, importID)
	if err != nil {
		return nil, err
	}
	if err := s.auditRead(ctx, actor, breach.ActionRejectsRead, imp.CampaignID, map[string]any{"import": imp.ID, "rejected": imp.Rejected}); err != nil {
		return nil, err
	}
	fn, err := start(imp)
	if err != nil || fn == nil {
		return imp, err
	}
	return imp, s.Store.Rejects(ctx, imp.ID, fn)
}

// importIDs parses a campaign's and an import's IDs.
func importIDs(campaignID, importID string) (string, string, error) {
	cid, err := breach.ParseID("campaign", campaignID)
	if err != nil {
		return "", "", err
	}
	iid, err := breach.ParseID("import", importID)
	return cid, iid, err
}
