package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Limits on one record. They bound the importer's memory whatever the input (a stray quote in a
// 10 GB file must not make it buffer 10 GB, nor a gzip of 800 MB of commas make it hold a
// million fields a line) and turn absurd input into a row error.
const (
	// MaxFieldBytes is the longest field accepted; a longer one rejects its row.
	MaxFieldBytes = 64 << 10
	// MaxRowBytes is the longest row accepted: its bytes as UTF-8, line breaks inside quoted
	// fields included, its line terminator not. A longer row is rejected without ever being
	// held whole: the reader keeps its first MaxRowBytes (to name the customer) and only counts
	// the rest. 1 MiB is sixteen fields at their own limit, thousands of times a real
	// customer's row, and small enough that the rows in flight stay within inFlightCost. A
	// name's bytes past what is kept of it do not count when they are on the row's first line
	// (nameCutter): no one is left out for a long name. (A quoted name that runs on past a line
	// break is not cut on its later lines: such a row over the limit is still rejected.)
	MaxRowBytes = 1 << 20
	// MaxRowFields is the most fields a row may have. A header has at most maxColumns, so a
	// wider row cannot be a customer's; the limit is what keeps 1 MiB of commas from becoming a
	// million empty fields of 16 bytes each.
	MaxRowFields = 1024
	// maxRecordLines bounds a record that spans lines because a quote is open; past it, or past
	// MaxRowBytes, the quote is taken to be unterminated.
	maxRecordLines = 64
)

// longKeep is how much of a physical line the reader keeps: a row of exactly MaxRowBytes and
// its CRLF.
const longKeep = MaxRowBytes + 2

var (
	rowTooLong = "the row is longer than " + strconv.Itoa(MaxRowBytes>>20) + " MiB"
	rowTooWide = "the row has more than " + thousands(MaxRowFields) + " fields"
)

// record is one CSV record: its fields and the physical line it starts on (1 = the header).
type record struct {
	line   int64
	fields []string
	// problem is set when the record is structurally broken (unterminated quote, over-long
	// field, over a row limit); fields are then unreliable and the row is rejected with this
	// reason.
	problem string
	// problemColumn is the 0-based column the problem is in, or -1.
	problemColumn int
	// oversize is set when the record is over MaxRowBytes or MaxRowFields: a file that has
	// nothing else cannot be a customer list (see pipeline.read).
	oversize bool
	// hidden is set for a spreadsheet row hidden in its workbook (filtered out, or hidden by
	// hand): imported like any other, with a warning (see validator.row).
	hidden bool
	// rowLike is the first line after the record's first that reads as a row of its own (see
	// rowsInside), 0 when none does: the record is kept, with a warning.
	rowLike int64
	// rereadAfter is the line of the broken record whose lines were read again as records
	// (resync) when this record starts on one of them, else 0: imported, with a warning.
	rereadAfter int64
}

// physLine is a physical line kept for re-reading after an unterminated quote.
type physLine struct {
	num  int64
	text []byte
	// cut is set when the line was longer than MaxRowBytes and only its first MaxRowBytes were
	// kept.
	cut bool
	// after is the line of the broken record this line was queued again from (resync), else 0.
	after int64
	// asRecord is the line as it is read when it starts a record (its names cut), if that
	// differs: a line read inside a record that turns out broken is read again as one.
	asRecord *physLine
}

// clone is a copy of l that outlives the reader's buffers.
func (l physLine) clone() physLine {
	l.text = bytes.Clone(l.text)
	if l.asRecord != nil {
		rec := l.asRecord.clone()
		l.asRecord = &rec
	}
	return l
}

// nameCutter takes out of a long line, piece by piece as it is read, the bytes of the name
// fields (the cuttable columns) past their first MaxFieldBytes of text — all the scanner keeps
// of them (appendByte). It follows the line's quoting and counts a field's text as the scanner
// does (an escaped quote is one byte of text, the quotes around a field none), so that what it
// leaves splits into the same fields with the same kept text: it never takes out a delimiter
// outside quotes, the quotes that open and close a quoted field, half of an escaped quote, or
// the line's end. (What follows a closing quote up to the delimiter is text of the field,
// quotes included, and goes past the limit like the rest.)
type nameCutter struct {
	cuttable     []bool
	comma        byte
	col          int  // the column of the current field
	inQuote      bool // inside a quoted field
	atStart      bool // at the first byte of a field
	pendingQuote bool // inside quotes, a quote held back: an escaped one or the closing one
	text         int  // bytes of the current field's text seen so far
}

// keep appends to dst the bytes of piece that the scanner would keep, and returns it. last
// says that piece ends the line.
func (c *nameCutter) keep(piece, dst []byte, last bool) []byte {
	for _, b := range piece {
		if c.pendingQuote {
			c.pendingQuote = false
			if b == '"' { // an escaped quote: one byte of text
				if c.text++; !c.dropping() {
					dst = append(dst, '"', '"')
				}
				continue
			}
			c.inQuote = false // the held quote closed the quoting
			dst = append(dst, '"')
		}
		if c.inQuote {
			if b == '"' {
				c.pendingQuote = true
				continue
			}
			if c.text++; !c.dropping() || b == '\n' {
				dst = append(dst, b)
			}
			continue
		}
		switch {
		case b == c.comma:
			c.col, c.atStart, c.text = c.col+1, true, 0
			dst = append(dst, b)
			continue
		case b == '"' && c.atStart:
			c.inQuote, c.atStart = true, false
			dst = append(dst, b)
			continue
		}
		c.atStart = false
		if c.text++; !c.dropping() || b == '\n' {
			dst = append(dst, b)
		}
	}
	if last && c.pendingQuote {
		c.pendingQuote = false
		dst = append(dst, '"')
	}
	return dst
}

// dropping reports whether the current field is a name past what the scanner keeps of it.
func (c *nameCutter) dropping() bool {
	return c.text > MaxFieldBytes && c.col < len(c.cuttable) && c.cuttable[c.col]
}

// recordReader splits a UTF-8 stream into CSV records (RFC 4180 with the leniency real exports
// need: stray quotes inside unquoted fields are kept as text, CRLF or LF line ends).
//
// Why not encoding/csv: it has no bound on a field's size, a record's size or its number of
// fields (it reads a whole record into memory before looking at it), and an unterminated quote
// makes it swallow the rest of the file into one field, losing every valid row after it. This
// reader bounds all of them, and when a record that spans lines turns out to be broken (its
// quote never closes, or closing it leaves the wrong number of fields), it rejects the record's
// first line and reads the following lines again as records of their own, so one bad quote
// costs one row.
type recordReader struct {
	in     *bufio.Reader
	comma  byte
	nextNo int64      // number of the next physical line to read from in
	again  []physLine // lines to read again before in, after a resync
	// width is the number of fields a record should have (the header's), 0 until known.
	width int
	// cuttable marks the columns whose fields are cut at MaxFieldBytes instead of rejecting
	// their row: the name columns, which never cost a customer their notice (plaintext.Name
	// cuts them much shorter anyway).
	cuttable []bool

	long []byte // a line longer than in's buffer, gathered up to longKeep bytes
	// longRecord is the same line gathered as if it started a record (see nextLine).
	longRecord []byte
	// cutScratch holds a piece of a long line once nameCutter has taken out what it drops.
	cutScratch []byte
	buf        []byte // the current record's field bytes
	ends       []int  // end offset in buf of each field
}

func newRecordReader(in *bufio.Reader, comma byte) *recordReader {
	return &recordReader{in: in, comma: comma, nextNo: 1}
}

// useHeader sets the record width and the cuttable columns, once the header is read.
func (r *recordReader) useHeader(cols columns, width int) {
	r.width = width
	r.cuttable = make([]bool, width)
	for _, f := range []field{fieldName, fieldFirstName, fieldLastName} {
		if i := cols.index[f]; i >= 0 {
			r.cuttable[i] = true
		}
	}
}

// Close does nothing: the reader's input is its caller's.
func (r *recordReader) Close() error { return nil }

// nextLine returns the next physical line, without its line terminator. A line longer than
// MaxRowBytes comes back cut, holding only its first MaxRowBytes: the rest is read and dropped,
// so that no line, however long, is ever held whole. The slice is valid until the next call.
//
// A line that starts a record (startsRecord) loses, as it is gathered, what the scanner would
// drop anyway: the bytes of a name field past its first MaxFieldBytes of text (see nameCutter).
// So a customer whose name alone makes their row over MaxRowBytes keeps their row, with a name
// cut as any over-long name is, instead of being rejected for it.
func (r *recordReader) nextLine(startsRecord bool) (physLine, error) {
	if len(r.again) > 0 {
		l := r.again[0]
		r.again = r.again[1:]
		// A line read again (resync) is read as it was, or with its names cut when it now
		// starts a record: a continuation line keeps every byte the scanner counts.
		if startsRecord && l.asRecord != nil {
			return *l.asRecord, nil
		}
		return l, nil
	}
	num := r.nextNo
	line, err := r.in.ReadSlice('\n')
	var main, asRecord *gathered
	if errors.Is(err, bufio.ErrBufferFull) {
		// A line longer than the buffer: gather it up to longKeep, and past that only read on
		// to its end. A line read inside a record that spans lines is gathered a second time
		// as if it started one, names cut: if the record turns out broken, the line is read
		// again as a record of its own (resync), and must not lose its customer then.
		names := slices.Contains(r.cuttable, true)
		main = r.gather(&r.long, startsRecord && names)
		if !startsRecord && names {
			asRecord = r.gather(&r.longRecord, true)
		}
		for {
			last := !errors.Is(err, bufio.ErrBufferFull)
			main.add(line, last)
			if asRecord != nil {
				asRecord.add(line, last)
			}
			if last {
				break
			}
			line, err = r.in.ReadSlice('\n')
		}
		line = *main.buf
	}
	if len(line) == 0 && err != nil {
		return physLine{}, err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return physLine{}, err
	}
	r.nextNo++
	l := physLine{num: num}
	l.text, l.cut = endLine(line, main != nil && main.cut)
	if asRecord != nil {
		rec := physLine{num: num}
		if rec.text, rec.cut = endLine(*asRecord.buf, asRecord.cut); !bytes.Equal(rec.text, l.text) {
			l.asRecord = &rec
		}
	}
	return l, nil
}

// endLine is a gathered line without its line feed, cut at MaxRowBytes.
func endLine(line []byte, cut bool) ([]byte, bool) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if cut || len(bytes.TrimSuffix(line, []byte{'\r'})) > MaxRowBytes {
		return line[:MaxRowBytes], true
	}
	return line, false
}

// gathered is a long line being gathered into buf, up to longKeep bytes, through a nameCutter
// if names is set.
type gathered struct {
	buf     *[]byte
	names   *nameCutter
	scratch *[]byte
	cut     bool // the line was longer than longKeep
}

// gather starts gathering a line into buf (emptied), cutting names if asked.
func (r *recordReader) gather(buf *[]byte, cutNames bool) *gathered {
	*buf = (*buf)[:0]
	g := &gathered{buf: buf, scratch: &r.cutScratch}
	if cutNames {
		g.names = &nameCutter{cuttable: r.cuttable, comma: r.comma, atStart: true}
	}
	return g
}

// add gathers the next piece of the line; last says it ends the line.
func (g *gathered) add(piece []byte, last bool) {
	if g.names != nil {
		piece = g.names.keep(piece, (*g.scratch)[:0], last)
		*g.scratch = piece
	}
	keep := max(0, min(longKeep-len(*g.buf), len(piece)))
	if keep < len(piece) {
		g.cut, g.names = true, nil // too long whatever follows: only read on
	}
	*g.buf = append(*g.buf, piece[:keep]...)
}

// Read returns the next record, or io.EOF after the last. Blank lines are skipped.
func (r *recordReader) Read() (record, error) {
	for {
		first, err := r.nextLine(true)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				err = &readError{err}
			}
			return record{}, err
		}
		if len(bytes.TrimRight(first.text, "\r")) == 0 {
			continue
		}
		return r.parse(first)
	}
}

// parse reads the record that starts with line first.
func (r *recordReader) parse(first physLine) (record, error) {
	if first.cut {
		return r.overLong(first), nil
	}
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	rec := record{line: first.num, problemColumn: -1, rereadAfter: first.after}
	var kept []physLine // copies of the lines of a multi-line record, for a resync
	st := scanState{atStart: true}
	line := first
	size := len(first.text)
	for {
		if r.scan(line.text, &st, &rec) {
			break // the record ended on this line
		}
		// A quoted field is open at the end of the line: the record goes on.
		if kept == nil {
			kept = []physLine{line.clone()}
			st.spanning = true
		}
		next, err := r.nextLine(false)
		if errors.Is(err, io.EOF) {
			return r.resync(rec, kept, st.quoteColumn, "unterminated quoted field: its opening quote on this line is never closed"), nil
		}
		if err != nil {
			return record{}, err
		}
		kept = append(kept, next.clone())
		size += 1 + len(next.text) // the line break is part of the quoted field
		if next.cut || len(kept) > maxRecordLines || size > MaxRowBytes {
			return r.resync(rec, kept, st.quoteColumn, fmt.Sprintf(
				"unterminated quoted field: its opening quote on this line is not closed within %d lines or %d MiB (the longest a row may be)",
				maxRecordLines, MaxRowBytes>>20)), nil
		}
		r.buf = append(r.buf, '\n')
		line = next
	}
	r.ends = append(r.ends, len(r.buf))
	if st.broken || kept != nil && r.width > 0 && len(r.ends) != r.width {
		// The quote that spanned lines was closed by what looks like the opening quote of a
		// later row's field, or closing it left a record of the wrong shape: it was most likely
		// never meant to span lines.
		return r.resync(rec, kept, st.quoteColumn,
			"unterminated quoted field: the quote opened on this line only closes in a later row, at a place where no field ends"), nil
	}
	rec.rowLike = r.rowsInside(kept)
	rec.fields = r.fieldStrings()
	if rec.problem != "" {
		rec.shrink()
	}
	return rec, nil
}

// rowsInside returns the number of the first line inside a record that spans lines (kept: its
// lines) that reads as a row of its own — split at every delimiter, as if it held no quote, it
// has the header's number of fields, or more of which only empty ones past it — or 0.
//
// Such a record is most likely a stray quote (an inch mark, "VIP customer) that a later quote
// happened to close, swallowing the rows between into one field: those customers were lost
// silently. It may also be a real field on several lines whose commas happen to match (an
// address, a note with a phone in it): reading its lines as rows would send a notice to
// whoever that phone is. So the record is kept as read, and validator.row warns, naming the
// lines: the operator sees it in the import report and decides.
func (r *recordReader) rowsInside(kept []physLine) int64 {
	if r.width < 2 {
		return 0
	}
	for _, l := range kept[min(1, len(kept)):] {
		line := bytes.TrimRight(l.text, "\r")
		all := bytes.Count(line, []byte{r.comma}) + 1
		filled := bytes.Count(bytes.TrimRight(line, string(r.comma)), []byte{r.comma}) + 1
		if filled <= r.width && r.width <= all {
			return l.num
		}
	}
	return 0
}

// overLong is the record of a line longer than MaxRowBytes, rejected. It ends with its line
// whatever its quotes: whether a quote closes in the bytes past the limit is unknown, as they
// were never kept, and the next line is read as a record of its own, as after a resync. The
// kept beginning is read only to name the customer in the reject.
func (r *recordReader) overLong(first physLine) record {
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	rec := record{line: first.num, problemColumn: -1}
	st := scanState{atStart: true, naming: true}
	r.scan(first.text, &st, &rec)
	r.ends = append(r.ends, len(r.buf))
	rec.fields = r.fieldStrings()
	if rec.problemColumn >= 0 {
		// A field over its own limit is what made the row too long: name it too.
		rec.problem = rowTooLong + "; its " + rec.problem
	} else {
		rec.problem, rec.problemColumn = rowTooLong, -1
	}
	rec.oversize = true
	rec.shrink()
	return rec
}

// fieldStrings returns the fields of the record in buf and ends, as substrings of one string. A
// row with more fields than the header whose extra fields are all empty (a trailing delimiter,
// "C1,a@example.com,Ann,,") has them dropped. A row whose extra fields hold data keeps them, and
// so does a row with fewer fields than the header: both are rejected, their columns most likely
// slipped (a field left out in the middle cannot be told from one left out at the end).
func (r *recordReader) fieldStrings() []string {
	all := string(r.buf)
	fields := make([]string, len(r.ends))
	start := 0
	for i, end := range r.ends {
		fields[i] = all[start:end]
		start = end
	}
	if r.width > 0 && len(fields) > r.width && allEmpty(fields[r.width:]) {
		fields = fields[:r.width]
	}
	return fields
}

// shrink keeps of a rejected record only what its reject uses, so that a rejected row costs
// little in flight however big it was: the reject names the customer only by a customer_id of
// at most maxCustomerID bytes (trimmed), so any longer field is dropped, and the others are
// copied out of the record's bytes.
func (rec *record) shrink() {
	n := 0
	for _, f := range rec.fields {
		if f = strings.TrimSpace(f); len(f) <= maxCustomerID {
			n += len(f)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range rec.fields {
		if f = strings.TrimSpace(f); len(f) <= maxCustomerID {
			b.WriteString(f)
		}
	}
	all, start := b.String(), 0
	for i, f := range rec.fields {
		if f = strings.TrimSpace(f); len(f) <= maxCustomerID {
			rec.fields[i] = all[start : start+len(f)]
			start += len(f)
		} else {
			rec.fields[i] = ""
		}
	}
}

// scanState is the scanner's position within a record.
type scanState struct {
	inQuote bool
	// spanning is set once the record has gone on past its first line; its closing quote must
	// then end its field, or the record is broken (see parse).
	spanning    bool
	broken      bool
	atStart     bool // at the first byte of a field
	fieldStart  int  // offset in buf where the current field starts
	quoteColumn int  // the column whose quote is open
	// wide is set once the record has more than MaxRowFields fields: its further fields are
	// scanned for quotes, to find where the record ends, but not kept.
	wide bool
	// naming is set when the record is scanned only for the fields that name its customer
	// (see overLong): the scan stops once it is wide.
	naming bool
}

// scan appends line's fields to the record and reports whether the record ended on it.
func (r *recordReader) scan(text []byte, st *scanState, rec *record) bool {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if st.inQuote {
			if c == '"' {
				if i+1 < len(text) && text[i+1] == '"' {
					r.appendByte('"', st, rec)
					i++
					continue
				}
				st.inQuote = false
				if st.spanning && !endsField(text, i+1, r.comma) {
					st.broken = true
					return true
				}
				continue
			}
			if c == '\r' && i == len(text)-1 {
				continue // CRLF inside a quoted field reads as LF
			}
			// The field's text up to the next quote (or the line's end, less a final CR) is
			// taken whole: byte by byte, reading was a tenth of the importer's time.
			end := len(text)
			if q := bytes.IndexByte(text[i+1:], '"'); q >= 0 {
				end = i + 1 + q
			} else if text[end-1] == '\r' {
				end--
			}
			r.appendRun(text[i:end], st, rec)
			i = end - 1
			continue
		}
		if st.atStart && isBlank(c, r.comma) {
			// Spaces after a delimiter, then a quote (`C1, "Ann", "a@example.com"`, as people
			// and some exporters write): the quote opens the field, as Python's
			// skipinitialspace reads it. Kept as text, the quotes made a valid email invalid.
			j := i + 1
			for j < len(text) && isBlank(text[j], r.comma) {
				j++
			}
			if j < len(text) && text[j] == '"' {
				i = j - 1
				continue
			}
		}
		switch {
		case c == r.comma:
			st.atStart = true
			if st.wide {
				continue
			}
			if len(r.ends)+2 > MaxRowFields { // this delimiter would start one field too many
				st.wide = true
				rec.problem, rec.problemColumn, rec.oversize = rowTooWide, -1, true
				if st.naming {
					return true
				}
				continue
			}
			r.ends = append(r.ends, len(r.buf))
			st.fieldStart = len(r.buf)
		case c == '"' && st.atStart:
			st.inQuote, st.atStart = true, false
			st.quoteColumn = min(len(r.ends), MaxRowFields-1)
		case c == '\r' && i == len(text)-1:
		default:
			// An unquoted field's text runs to the next delimiter (a quote inside it is text),
			// or to the line's end, less a final CR.
			st.atStart = false
			end := len(text)
			if d := bytes.IndexByte(text[i+1:], r.comma); d >= 0 {
				end = i + 1 + d
			} else if text[end-1] == '\r' {
				end--
			}
			r.appendRun(text[i:end], st, rec)
			i = end - 1
		}
	}
	return !st.inQuote
}

// isBlank reports whether c is a space or a tab that is not the delimiter.
func isBlank(c, comma byte) bool { return c == ' ' || c == '\t' && comma != '\t' }

// appendRun appends the bytes of run to the current field, as appendByte would one by one.
func (r *recordReader) appendRun(run []byte, st *scanState, rec *record) {
	if st.wide {
		return
	}
	room := MaxFieldBytes - (len(r.buf) - st.fieldStart)
	if len(run) <= room {
		r.buf = append(r.buf, run...)
		return
	}
	r.buf = append(r.buf, run[:max(room, 0)]...)
	r.appendByte(run[max(room, 0)], st, rec) // over the limit: cut, or the row's problem
}

func (r *recordReader) appendByte(c byte, st *scanState, rec *record) {
	if st.wide {
		return
	}
	if len(r.buf)-st.fieldStart >= MaxFieldBytes {
		if col := len(r.ends); col < len(r.cuttable) && r.cuttable[col] {
			return
		}
		if rec.problem == "" {
			rec.problem = fmt.Sprintf("field is longer than %d KiB", MaxFieldBytes>>10)
			rec.problemColumn = len(r.ends)
		}
		return
	}
	r.buf = append(r.buf, c)
}

// endsField reports whether position i of text is where a field may end: at a delimiter, a
// final CR, or the end of the line.
func endsField(text []byte, i int, comma byte) bool {
	return i == len(text) || text[i] == comma || text[i] == '\r' && i == len(text)-1
}

// resync rejects the first line of a broken multi-line record and queues the lines after it to
// be read again as records of their own. The rejected record keeps the fields of its first
// line, split naively (and no more of them than a row may have), so that the reject can name
// the customer.
func (r *recordReader) resync(rec record, kept []physLine, column int, reason string) record {
	if len(kept) > 1 {
		again := make([]physLine, 0, len(kept)-1+len(r.again))
		again = append(again, kept[1:]...)
		for i := range again {
			again[i].after = kept[0].num
			if again[i].asRecord != nil {
				rec := *again[i].asRecord
				rec.after = kept[0].num
				again[i].asRecord = &rec
			}
		}
		r.again = append(again, r.again...)
	}
	rec.fields = strings.SplitN(string(kept[0].text), string(r.comma), MaxRowFields)
	rec.problem = reason
	rec.problemColumn = column
	rec.shrink()
	return rec
}

// thousands formats n with comma thousands separators, as the limits are written in messages.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
