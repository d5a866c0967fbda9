// Package csvsafe writes CSV that operators open in spreadsheets. Cells that a spreadsheet
// would run as a formula (starting with = + - @, a tab or a carriage return: OWASP's "CSV
// injection") are prefixed with a single quote, so data from a customer list, which anyone can
// influence, cannot run a formula on an operator's machine.
package csvsafe

import (
	"encoding/csv"
	"io"
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

// Cell returns s escaped against formula injection.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
