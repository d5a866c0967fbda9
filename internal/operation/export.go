package operation

import (
	"cmp"
	"context"
	"io"
	"strconv"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/csvsafe"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// exportFlushRows is how often the export pushes what it has written to its reader: a
// download of a million rows shows progress from its first second, and nothing piles up in
// memory.
const exportFlushRows = 1000

// Export writes a campaign's proof-of-notice record as CSV to the writer open returns — one
// row per delivery, and one per customer told by another's notice at the address they share
// (see WriteDeliveriesCSV) — and returns the rows written. It is a read of
// every customer's personal data: audited before the first row leaves (action
// breach.ActionCampaignExport, "started"), and again when it ends with the rows written and
// whether it completed, even when the reader went away midway: what left is what counts.
// open is called once the first audit row is written (a door sets its headers there).
func (s *Service) Export(ctx context.Context, actor breach.Actor, campaignID string, open func(c *breach.Campaign) (io.Writer, error)) (int64, error) {
	if err := s.require(ctx, actor, breach.RoleViewer, "Export", campaignID); err != nil {
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
	// Like every read of personal data: written within readAuditWait or refused (503), not
	// waited on for as long as the audit log is blocked (the review's export hung 19 s).
	if err := s.auditRead(ctx, actor, breach.ActionCampaignExport, c.ID, map[string]any{"stage": "started"}); err != nil {
		return 0, err
	}
	w, err := open(c)
	if err != nil {
		return 0, err
	}
	rows, err := WriteDeliveriesCSV(w, secret, c.ID, func(fn func(*breach.DeliveryRecord) error) (int64, error) {
		return s.Store.ExportDeliveries(ctx, c.ID, fn)
	})
	if aerr := s.audit(ctx, actor, breach.ActionCampaignExport, c.ID, map[string]any{"stage": "finished", "rows": rows, "complete": err == nil}); aerr != nil && err == nil {
		err = aerr
	}
	return rows, err
}

// WriteDeliveriesCSV writes a campaign's proof-of-notice record as CSV to w — a row per row of
// export, as they come — and returns the number of rows written.
// possible_duplicate marks a notice sent again after a worker died holding it unrecorded;
// told_with, a customer told by another's notice at the address they share (its row is that
// notice's, and reference the code it quoted). Every
// cell is escaped against spreadsheet formula injection (csvsafe): names and customer IDs come
// from a list anyone may have influenced. Times are RFC 3339 in UTC. reference is the code the
// customer's notice quoted (notice.Reference under secret). If w has a Flush() error method
// (a bufio.Writer, an HTTP answer) it is flushed every exportFlushRows rows.
func WriteDeliveriesCSV(w io.Writer, secret []byte, campaignID string,
	export func(fn func(*breach.DeliveryRecord) error) (int64, error)) (int64, error) {
	out, err := newCSVStream(w, "customer_id", "name", "channel", "address", "locale", "state", "attempts",
		"provider_id", "error", "fallback", "possible_duplicate", "sent_at", "updated_at", "reference", "told_with")
	if err != nil {
		return 0, err
	}
	_, err = export(func(d *breach.DeliveryRecord) error {
		sent := ""
		if d.SentAt != nil {
			sent = exportTime(*d.SentAt)
		}
		return out.Row(d.CustomerID, d.Name, string(d.Channel), d.Address, d.Locale, string(d.State),
			strconv.Itoa(d.Attempts), d.ProviderID, d.Error, strconv.FormatBool(d.Fallback), strconv.FormatBool(d.PossibleDuplicate), sent,
			exportTime(d.UpdatedAt), notice.Reference(secret, campaignID, cmp.Or(d.ToldWith, d.CustomerID)), d.ToldWith)
	})
	return out.Close(err)
}

// csvStream writes a download's CSV rows, every cell escaped against spreadsheet formula
// injection (csvsafe), and counts them. When the writer has a Flush() error method (a
// bufio.Writer, an HTTP answer) it is flushed every exportFlushRows rows, so that a download
// of a million rows shows progress from its first second and nothing piles up in memory.
type csvStream struct {
	cw      *csvsafe.Writer
	flusher interface{ Flush() error }
	rows    int64
}

// newCSVStream starts a CSV on w with its header row.
func newCSVStream(w io.Writer, header ...string) (*csvStream, error) {
	s := &csvStream{cw: csvsafe.NewWriter(w)}
	s.flusher, _ = w.(interface{ Flush() error })
	return s, s.cw.Write(header...)
}

// Row writes one row.
func (s *csvStream) Row(cells ...string) error {
	if err := s.cw.Write(cells...); err != nil {
		return err
	}
	if s.rows++; s.rows%exportFlushRows == 0 {
		return s.flush()
	}
	return nil
}

// Close flushes what is left unless the rows ended in err, and returns the rows written and
// the first error.
func (s *csvStream) Close(err error) (int64, error) {
	if err != nil {
		return s.rows, err
	}
	return s.rows, s.flush()
}

func (s *csvStream) flush() error {
	if err := s.cw.Flush(); err != nil {
		return err
	}
	if s.flusher != nil {
		return s.flusher.Flush()
	}
	return nil
}

func exportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
