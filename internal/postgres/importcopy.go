package postgres

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// itemStream walks the importer's batches: each batch's rows, then its rejects.
type itemStream struct {
	batches <-chan *breach.ImportBatch
	cur     *breach.ImportBatch
	i       int
	done    bool // the importer closed the batches and every item was read
}

// next returns the next row or reject (exactly one is set), valid until the batch after it is
// reached.
func (s *itemStream) next() (*breach.ImportRow, *breach.Reject, bool) {
	for {
		if s.cur != nil {
			if s.i < len(s.cur.Rows) {
				s.i++
				return &s.cur.Rows[s.i-1], nil, true
			}
			if k := s.i - len(s.cur.Rows); k < len(s.cur.Rejects) {
				s.i++
				return nil, &s.cur.Rejects[k], true
			}
		}
		b, ok := <-s.batches
		if !ok {
			s.done = true
			return nil, nil, false
		}
		s.cur, s.i = b, 0
	}
}

// stagedItem is a row or reject held back for the staging table. It is a copy: holding a
// pointer into its batch would keep the whole batch alive.
type stagedItem struct {
	row    *breach.ImportRow
	reject *breach.Reject
}

// stagingSource feeds the staging table's COPY.
type stagingSource struct {
	next   func() (*breach.ImportRow, *breach.Reject, bool)
	row    *breach.ImportRow
	reject *breach.Reject
	values [12]any
}

func (s *stagingSource) Next() bool {
	var ok bool
	s.row, s.reject, ok = s.next()
	return ok
}

func (s *stagingSource) Values() ([]any, error) {
	v := s.values[:]
	if r := s.row; r != nil {
		v[0], v[1], v[2], v[3] = r.Line, r.CustomerID, nullable(r.Email), nullable(r.Phone)
		v[4], v[5], v[6], v[7] = r.Name, r.Locale, r.Country, r.Jurisdiction
		v[8], v[9], v[10], v[11] = int32(r.Exposed), attributesJSON(r.Attributes), nil, nil
		return v, nil
	}
	clear(v)
	rej := s.reject
	v[0], v[1], v[10], v[11] = rej.Line, rej.CustomerID, rej.Field, rej.Reason
	return v, nil
}

func (s *stagingSource) Err() error { return nil }

// directSource feeds COPY into recipients with the rows whose customer it has certainly not
// copied before; the others, and the rejects, go to side. It pauses (ends this COPY) when side
// is full, so that side can be staged and memory stays bounded.
type directSource struct {
	in                   *itemStream
	seen                 *seenFilter
	side                 *[]stagedItem
	campaignID, importID pgtype.UUID
	row                  *breach.ImportRow
	values               [11]any
}

func (d *directSource) Next() bool {
	for {
		row, rej, ok := d.in.next()
		if !ok {
			return false
		}
		if rej == nil && !d.seen.testAndAdd(row.CustomerID) {
			d.row = row
			return true
		}
		item := stagedItem{}
		if rej != nil {
			r := *rej
			item.reject = &r
		} else {
			r := *row
			item.row = &r
		}
		*d.side = append(*d.side, item)
		if len(*d.side) >= sideLimit {
			return false
		}
	}
}

func (d *directSource) Values() ([]any, error) {
	r, v := d.row, d.values[:]
	v[0], v[1], v[2], v[3] = d.campaignID, r.CustomerID, nullable(r.Email), nullable(r.Phone)
	v[4], v[5], v[6], v[7] = r.Name, r.Locale, r.Country, r.Jurisdiction
	v[8], v[9], v[10] = int32(r.Exposed), attributesJSON(r.Attributes), d.importID
	return v, nil
}

func (d *directSource) Err() error { return nil }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
