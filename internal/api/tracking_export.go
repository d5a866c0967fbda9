package api

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/csvsafe"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// exportFlushRows is how often the export pushes what it has written to the client: a download
// of a million rows shows progress from its first second, and nothing piles up in memory.
const exportFlushRows = 1000

// WriteDeliveriesCSV writes a campaign's proof-of-notice record as CSV to w — one row per
// delivery, the rows of export as they come — and returns the number of rows written. Every
// cell is escaped against spreadsheet formula injection (csvsafe): names and customer IDs come
// from a list anyone may have influenced. Times are RFC 3339 in UTC. reference is the code the
// customer's notice quoted (notice.Reference under secret). If w has a Flush() error method
// (a bufio.Writer, the HTTP answer) it is flushed every exportFlushRows rows.
func WriteDeliveriesCSV(w io.Writer, secret []byte, campaignID string,
	export func(fn func(*breach.DeliveryRecord) error) (int64, error)) (int64, error) {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write("customer_id", "name", "channel", "address", "locale", "state", "attempts",
		"provider_id", "error", "fallback", "sent_at", "updated_at", "reference"); err != nil {
		return 0, err
	}
	flusher, _ := w.(interface{ Flush() error })
	var rows int64
	_, err := export(func(d *breach.DeliveryRecord) error {
		sent := ""
		if d.SentAt != nil {
			sent = exportTime(*d.SentAt)
		}
		if err := cw.Write(d.CustomerID, d.Name, string(d.Channel), d.Address, d.Locale, string(d.State),
			strconv.Itoa(d.Attempts), d.ProviderID, d.Error, strconv.FormatBool(d.Fallback), sent,
			exportTime(d.UpdatedAt), notice.Reference(secret, campaignID, d.CustomerID)); err != nil {
			return err
		}
		rows++
		if rows%exportFlushRows == 0 {
			if err := cw.Flush(); err != nil {
				return err
			}
			if flusher != nil {
				return flusher.Flush()
			}
		}
		return nil
	})
	if err != nil {
		return rows, err
	}
	if err := cw.Flush(); err != nil {
		return rows, err
	}
	if flusher != nil {
		return rows, flusher.Flush()
	}
	return rows, nil
}

func exportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// flushingWriter is an HTTP answer with the Flush() error method WriteDeliveriesCSV looks for.
type flushingWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (f flushingWriter) Flush() error { return f.rc.Flush() }

// exportDeliveries answers GET …/deliveries.csv: the proof-of-notice record, streamed. The
// export is audited (who, which campaign, how many rows; no personal data) even when the client
// goes away midway: what left the server is what counts.
func (s *Server) exportDeliveries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.Store.Campaign(ctx, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="deliveries-`+c.ID+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	rows, err := WriteDeliveriesCSV(flushingWriter{w, http.NewResponseController(w)}, s.Secret, c.ID,
		func(fn func(*breach.DeliveryRecord) error) (int64, error) {
			return s.Store.ExportDeliveries(ctx, c.ID, fn)
		})
	detail := map[string]any{"rows": rows, "complete": err == nil}
	if aerr := s.Store.Audit(context.WithoutCancel(ctx), operator(ctx), "campaign.exported", c.ID, detail); aerr != nil {
		s.Log.Error("audit of an export failed", "campaign", c.ID, "err", aerr)
	}
	if err != nil {
		// The status line is long gone: break the connection, so that the client sees a
		// failed download instead of a proof of notice that silently ends early.
		s.Log.Error("export failed midway", "campaign", c.ID, "rows", rows, "err", err)
		panic(http.ErrAbortHandler)
	}
}
