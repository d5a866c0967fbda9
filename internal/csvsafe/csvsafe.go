// Package csvsafe writes CSV that operators open in spreadsheets. Cells that a spreadsheet
// would run as a formula (starting with = + - @, a tab or a carriage return: OWASP's "CSV
// injection") are prefixed with a single quote, so data from a customer list, which anyone can
// influence, cannot run a formula on an operator's machine.
//
// A spreadsheet does not always split a line where the CSV does: Excel in a French, Spanish or
// German locale splits a .csv on semicolons — quotes then protect nothing, since a cell's
// opening quote is no longer at the start of a field — and a pasted line splits on tabs. So a
// formula character that follows a semicolon, a tab or a line break inside a cell (after any
// spaces and quotes) gets the same single quote: "María;=HYPERLINK(…)" or an SMTP server's
// "550 …;=WEBSERVICE(…)" never starts a cell of its own in any of those readings.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
)

// Writer is an encoding/csv Writer that escapes every cell.
type Writer struct {
	w    *csv.Writer
	cell []string
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record.
func (w *Writer) Write(record ...string) error {
	w.cell = w.cell[:0]
	for _, c := range record {
		w.cell = append(w.cell, Cell(c))
	}
	return w.w.Write(w.cell)
}

// Flush writes buffered data and returns any write error.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// Cell returns s escaped against formula injection: a quote before a formula character that
// starts it or that follows a separator a spreadsheet may split on (see the package comment).
func Cell(s string) string {
	if s == "" {
		return s
	}
	if strings.IndexByte(leadingStarts, s[0]) >= 0 {
		s = "'" + s
	}
	if !strings.ContainsAny(s, separators) {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(separators, s[i]) < 0 {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '"') {
			j++
		}
		if j < len(s) && strings.IndexByte(formulaStarts, s[j]) >= 0 {
			b.WriteString(s[last:j])
			b.WriteByte('\'')
			last = j
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// separators are where a spreadsheet may start a cell inside one of ours; formulaStarts the
// characters that make a cell a formula; leadingStarts those that do at a cell's start (a
// spreadsheet skips a leading tab or CR).
const (
	separators    = ";\t\r\n"
	formulaStarts = "=+-@"
	leadingStarts = formulaStarts + "\t\r"
)
