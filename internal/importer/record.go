package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on one record. They bound the importer's memory whatever the input (a stray quote in a
// 10 GB file must not make it buffer 10 GB) and turn absurd input into a row error.
const (
	// MaxFieldBytes is the longest field accepted; a longer one rejects its row.
	MaxFieldBytes = 64 << 10
	// maxRecordBytes and maxRecordLines bound a record that spans lines because a quote is
	// open; past them the quote is taken to be unterminated.
	maxRecordBytes = 4 << 20
	maxRecordLines = 64
)

// record is one CSV record: its fields and the physical line it starts on (1 = the header).
type record struct {
	line   int64
	fields []string
	// problem is set when the record is structurally broken (unterminated quote, over-long
	// field); fields are then unreliable and the row is rejected with this reason.
	problem string
	// problemColumn is the 0-based column the problem is in, or -1.
	problemColumn int
}

// physLine is a physical line kept for re-reading after an unterminated quote.
type physLine struct {
	num  int64
	text []byte
	// cut is set when the line was longer than maxRecordBytes and its end was dropped.
	cut bool
}

// recordReader splits a UTF-8 stream into CSV records (RFC 4180 with the leniency real exports
// need: stray quotes inside unquoted fields are kept as text, CRLF or LF line ends).
//
// Why not encoding/csv: it has no bound on a field's size, and an unterminated quote makes it
// swallow the rest of the file into one field, losing every valid row after it. This reader
// bounds both, and when a record that spans lines turns out to be broken (its quote never
// closes, or closing it leaves the wrong number of fields), it rejects the record's first line
// and reads the following lines again as records of their own, so one bad quote costs one row.
type recordReader struct {
	in     *bufio.Reader
	comma  byte
	nextNo int64      // number of the next physical line to read from in
	again  []physLine // lines to read again before in, after a resync
	// width is the number of fields a record should have (the header's), 0 until known.
	width int

	buf  []byte // the current record's field bytes
	ends []int  // end offset in buf of each field
}

func newRecordReader(in *bufio.Reader, comma byte) *recordReader {
	return &recordReader{in: in, comma: comma, nextNo: 1}
}

// nextLine returns the next physical line (without its line terminator), and whether it ended
// in a newline. The slice is valid until the next call.
func (r *recordReader) nextLine() (physLine, bool, error) {
	if len(r.again) > 0 {
		l := r.again[0]
		r.again = r.again[1:]
		return l, true, nil
	}
	num := r.nextNo
	line, err := r.in.ReadSlice('\n')
	cut := false
	if errors.Is(err, bufio.ErrBufferFull) {
		// A line longer than the buffer: gather it, up to the record limit.
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.in.ReadSlice('\n')
			if len(long) < maxRecordBytes {
				long = append(long, line...)
			} else {
				cut = true
			}
		}
		line = long
	}
	if len(line) == 0 && err != nil {
		return physLine{}, false, err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return physLine{}, false, err
	}
	r.nextNo++
	newline := len(line) > 0 && line[len(line)-1] == '\n'
	if newline {
		line = line[:len(line)-1]
	}
	return physLine{num: num, text: line, cut: cut}, newline, nil
}

// Read returns the next record, or io.EOF after the last. Blank lines are skipped.
func (r *recordReader) Read() (record, error) {
	for {
		first, _, err := r.nextLine()
		if err != nil {
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
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	rec := record{line: first.num, problemColumn: -1}
	if first.cut {
		rec.problem = fmt.Sprintf("line is longer than %d MiB", maxRecordBytes>>20)
	}
	var kept []physLine // copies of the lines of a multi-line record, for a resync
	st := scanState{atStart: true}
	line := first
	keptBytes := 0
	for {
		if r.scan(line.text, &st, &rec) {
			break // the record ended on this line
		}
		// A quoted field is open at the end of the line: the record goes on.
		if kept == nil {
			kept = []physLine{{num: line.num, text: bytes.Clone(line.text)}}
			keptBytes = len(line.text)
			st.spanning = true
		}
		next, _, err := r.nextLine()
		if errors.Is(err, io.EOF) {
			return r.resync(rec, kept, st.quoteColumn, "unterminated quoted field: its opening quote on this line is never closed"), nil
		}
		if err != nil {
			return record{}, err
		}
		kept = append(kept, physLine{num: next.num, text: bytes.Clone(next.text)})
		keptBytes += len(next.text)
		if len(kept) > maxRecordLines || keptBytes > maxRecordBytes {
			return r.resync(rec, kept, st.quoteColumn, fmt.Sprintf(
				"unterminated quoted field: its opening quote on this line is not closed within %d lines or %d MiB", maxRecordLines, maxRecordBytes>>20)), nil
		}
		r.buf = append(r.buf, '\n') // the newline is part of the quoted field
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
	all := string(r.buf)
	rec.fields = make([]string, len(r.ends))
	start := 0
	for i, end := range r.ends {
		rec.fields[i] = all[start:end]
		start = end
	}
	return rec, nil
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
}

// scan appends line's fields to the record and reports whether the record ended on it.
func (r *recordReader) scan(text []byte, st *scanState, rec *record) bool {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if st.inQuote {
			if c == '"' {
				if i+1 < len(text) && text[i+1] == '"' {
					r.buf = append(r.buf, '"')
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
			r.appendByte(c, st, rec)
			continue
		}
		switch {
		case c == r.comma:
			r.ends = append(r.ends, len(r.buf))
			st.atStart, st.fieldStart = true, len(r.buf)
		case c == '"' && st.atStart:
			st.inQuote, st.atStart = true, false
			st.quoteColumn = len(r.ends)
		case c == '\r' && i == len(text)-1:
		default:
			st.atStart = false
			r.appendByte(c, st, rec)
		}
	}
	return !st.inQuote
}

func (r *recordReader) appendByte(c byte, st *scanState, rec *record) {
	if len(r.buf)-st.fieldStart >= MaxFieldBytes {
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
// line, split naively, so that the reject can name the customer.
func (r *recordReader) resync(rec record, kept []physLine, column int, reason string) record {
	if len(kept) > 1 {
		r.again = append(kept[1:len(kept):len(kept)], r.again...)
	}
	rec.fields = strings.Split(string(kept[0].text), string(r.comma))
	rec.problem = reason
	rec.problemColumn = column
	return rec
}
