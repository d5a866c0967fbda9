package postgres

import (
	"slices"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// itemStream walks the importer's batches: each batch's rows, then its rejects.
type itemStream struct {
	batches <-chan *breach.ImportBatch
	// arrived, when set, sees each batch as it is taken, before its items are.
	arrived func(*breach.ImportBatch)
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
		if s.arrived != nil {
			s.arrived(b)
		}
		s.cur, s.i = b, 0
	}
}

// stagedItem is a row or reject held back for the staging table. It is a copy that shares no
// memory with its batch (detach): a pointer into the batch would keep the whole batch alive,
// and a value pointing into its record, the record's whole text.
type stagedItem struct {
	row    *breach.ImportRow
	reject *breach.Reject
}

// appendStaged appends a staging-table row (stagingColumns) for a row or a reject.
func appendStaged(b, scratch []byte, row *breach.ImportRow, rej *breach.Reject) ([]byte, []byte) {
	if row != nil {
		b = appendInt(b, row.Line)
		b = append(b, '\t')
		b, scratch = appendRecipientFields(b, scratch, row)
		return append(b, "\t\\N\t\\N\n"...), scratch
	}
	b = appendInt(b, rej.Line)
	b = append(b, '\t')
	b = appendText(b, rej.CustomerID)
	b = append(b, "\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t"...) // email … postal
	b = appendText(b, rej.Field)
	b = append(b, '\t')
	b = appendText(b, rej.Reason)
	return append(b, '\n'), scratch
}

// appendRecipientFields appends the columns from customer_id to postal, tab-separated.
func appendRecipientFields(b, scratch []byte, r *breach.ImportRow) ([]byte, []byte) {
	b = appendText(b, r.CustomerID)
	b = append(b, '\t')
	b = appendNullable(b, r.Email)
	b = append(b, '\t')
	b = appendNullable(b, r.Phone)
	b = append(b, '\t')
	b = appendText(b, r.Name)
	b = append(b, '\t')
	b = appendText(b, r.Locale)
	b = append(b, '\t')
	b = appendText(b, r.Country)
	b = append(b, '\t')
	b = appendText(b, r.Jurisdiction)
	b = append(b, '\t')
	b = appendInt(b, int64(r.Exposed))
	b = append(b, '\t')
	scratch = appendAttributesJSON(scratch[:0], r.Extra)
	b = appendText(b, scratch)
	b = append(b, '\t')
	if r.RefKey == 0 {
		b = append(b, "\\N"...)
	} else {
		b = appendInt(b, r.RefKey)
	}
	b = append(b, '\t')
	if r.Postal.IsZero() {
		return append(b, '\\', 'N'), scratch
	}
	scratch = appendPostalJSON(scratch[:0], &r.Postal)
	b = appendText(b, scratch)
	return b, scratch
}

// stagedRows encodes rows and rejects from next for the staging table.
func stagedRows(next func() (*breach.ImportRow, *breach.Reject, bool)) func([]byte) ([]byte, bool) {
	var scratch []byte
	return func(b []byte) ([]byte, bool) {
		row, rej, ok := next()
		if !ok {
			return b, false
		}
		b, scratch = appendStaged(b, scratch, row, rej)
		return b, true
	}
}

// directRows encodes, for COPY into recipients, the rows whose customer has certainly not been
// copied before; the others, and the rejects, go to side. It ends the COPY (a pause) when side
// is full (sideLimit items, or sideByteLimit bytes), so that side can be staged and memory
// stays bounded.
//
// A row copied without categories gets defaultExposed, marked as the default's
// (exposed_default): it is its customer's first row, and when a later row of the customer
// names categories the merge puts them in the default's place. Rows held back keep none until
// the merge, so that a customer whose first row names categories is not given the default by
// a later empty cell.
func directRows(in *itemStream, seen *seenFilter, side *[]stagedItem, defaultExposed breach.Categories) func([]byte) ([]byte, bool) {
	var scratch []byte
	sideBytes := 0
	return func(b []byte) ([]byte, bool) {
		for {
			row, rej, ok := in.next()
			if !ok {
				return b, false
			}
			if rej == nil && !seen.testAndAdd(row.CustomerID) {
				defaulted := row.Exposed == 0
				if defaulted && defaultExposed != 0 {
					r := *row
					r.Exposed = defaultExposed
					row = &r
				}
				b, scratch = appendRecipientFields(b, scratch, row)
				if defaulted {
					return append(b, "\tt\n"...), true
				}
				return append(b, "\tf\n"...), true
			}
			item := stagedItem{}
			if rej != nil {
				r := *rej
				r.CustomerID, r.Field, r.Reason = strings.Clone(r.CustomerID), strings.Clone(r.Field), strings.Clone(r.Reason)
				sideBytes += len(r.CustomerID) + len(r.Reason)
				item.reject = &r
			} else {
				r, size := detach(row)
				sideBytes += size
				item.row = &r
			}
			*side = append(*side, item)
			if len(*side) >= sideLimit || sideBytes >= sideByteLimit {
				sideBytes = 0
				return b, false
			}
		}
	}
}

// sideByteLimit bounds the memory the side holds (see detach), however long its rows: 4096
// rows of a megabyte would be 4 GiB.
const sideByteLimit = 16 << 20

// detach is a copy of row that shares no memory with its batch, and about the memory it holds
// (its struct and its values): its strings are cloned, so that it keeps alive only its own
// values, not its record's whole text (dropped columns included) nor its batch's attribute
// chunk.
func detach(row *breach.ImportRow) (breach.ImportRow, int) {
	r, size := *row, 512
	c := func(s string) string {
		size += len(s)
		return strings.Clone(s)
	}
	r.CustomerID, r.Email, r.Phone, r.Name, r.Locale, r.Country, r.Jurisdiction =
		c(r.CustomerID), c(r.Email), c(r.Phone), c(r.Name), c(r.Locale), c(r.Country), c(r.Jurisdiction)
	// Never set by an import, but cloned all the same: TestDetach_SharesNoStringWithItsRecord
	// holds detach to every string field of ImportRow.
	r.CampaignID, r.EnrolmentCode, r.EmailProof, r.PhoneProof = c(r.CampaignID), c(r.EnrolmentCode), c(r.EmailProof), c(r.PhoneProof)
	r.EmailToldWith, r.PhoneToldWith, r.LetterToldWith = c(r.EmailToldWith), c(r.PhoneToldWith), c(r.LetterToldWith)
	p := &r.Postal
	p.Line1, p.Line2, p.Line3, p.City, p.Region, p.PostalCode, p.Country =
		c(p.Line1), c(p.Line2), c(p.Line3), c(p.City), c(p.Region), c(p.PostalCode), c(p.Country)
	r.Extra = slices.Clone(r.Extra)
	for i := range r.Extra {
		r.Extra[i].Value = c(r.Extra[i].Value) // names belong to the header
		size += 32
	}
	return r, size
}
