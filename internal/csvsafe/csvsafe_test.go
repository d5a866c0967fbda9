package csvsafe

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

// A spreadsheet that splits lines on semicolons (Excel in a French or Spanish locale), where a
// CSV cell's quotes protect nothing, or on tabs must find no cell that starts a formula: one
// after a separator or a line break inside a name or an SMTP server's error text is escaped too.
// Read with commas, the cells are the values, escaped.
func TestWriter_NoSeparatorASpreadsheetMayUseStartsAFormula(t *testing.T) {
	rows := [][]string{
		{"customer_id", "name", "error"},
		{"AT-1", "María;=HYPERLINK(1)", "550 <x@example.org>;+cmd|' /C calc'!A0"},
		{"-2", "x\t@SUM(1)", "=1+1"},
		{"AT-3", "plain; fine", ""},
		{"AT-5", "x; \"=1", "a\r+b"},
		{"AT-4", `say "hi";-1`, "a\nb;=c"},
		{`\.`, " lead", "\rCR"},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range rows {
		if err := w.Write(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, sep := range []rune{';', '\t'} {
		r := csv.NewReader(strings.NewReader(buf.String()))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = sep, -1, true
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("read with %q: %v\n%s", sep, err, buf.String())
		}
		for _, rec := range recs {
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("split on %q, a cell starts a formula: %q\n%s", sep, cell, buf.String())
				}
			}
		}
	}
	got, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		want := make([]string, len(r))
		for j, c := range r {
			want[j] = Cell(c)
		}
		if !slices.Equal(got[i], want) {
			t.Errorf("row %d read back %q, want %q", i, got[i], want)
		}
	}
}
