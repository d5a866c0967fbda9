package importer

import (
	"bufio"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestImport_XlsxMergedCellsAreCopiedDownTheirColumn: a grouped report merges the country down
// each block of customers; every customer of the block is read with the block's country, not
// the campaign's default — also when the workbook's texts are inlined first (a large one).
func TestImport_XlsxMergedCellsAreCopiedDownTheirColumn(t *testing.T) {
	f := excelize.NewFile()
	s := "Sheet1"
	f.SetSheetRow(s, "A1", &[]any{"Country", "Customer ID", "E-mail"})
	f.SetSheetRow(s, "A2", &[]any{"US", "U1", "u1@example.com"})
	f.SetSheetRow(s, "B3", &[]any{"U2", "u2@example.com"})
	f.SetSheetRow(s, "B4", &[]any{"U3", "u3@example.com"})
	f.SetSheetRow(s, "A5", &[]any{"FR", "F1", "f1@example.com"})
	// Row 6 is empty but for the merged country: no customer, skipped as an empty row.
	f.SetSheetRow(s, "B7", &[]any{"F2", "f2@example.com"})
	f.SetSheetRow(s, "A8", &[]any{"", "P1", "p1@example.com"})
	for _, r := range [][2]string{{"A2", "A4"}, {"A5", "A7"}} {
		if err := f.MergeCell(s, r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	data := workbookBytes(t, f)
	want := map[string]string{"U1": "US", "U2": "US", "U3": "US", "F1": "FR", "F2": "FR", "P1": ""} // "": the campaign's default
	for _, inline := range []bool{false, true} {
		if inline {
			defer func(old uint64) { inlineAbove = old }(inlineAbove)
			inlineAbove = 0
		}
		rows, rejects, _ := mustParseBytes(t, data, Options{})
		if len(rejects) != 0 || len(rows) != len(want) {
			t.Fatalf("inline %v: %d rows, rejects %s", inline, len(rows), describeRejects(rejects))
		}
		for _, r := range rows {
			if r.Country != want[r.CustomerID] {
				t.Errorf("inline %v: %s (line %d): country %q, want %q", inline, r.CustomerID, r.Line, r.Country, want[r.CustomerID])
			}
		}
	}
}

// TestImport_XlsxMergedCellsAreNeverCopiedAcrossOrFromTheHeader: a note merged over the
// columns to its right stays in its own column (the email beside it stays empty), a block
// merged over rows and columns fills its first column only, and a header cell merged down
// gives its name to no customer.
func TestImport_XlsxMergedCellsAreNeverCopiedAcrossOrFromTheHeader(t *testing.T) {
	f := excelize.NewFile()
	s := "Sheet1"
	f.SetSheetRow(s, "A1", &[]any{"Country", "Customer ID", "Note", "E-mail", "Mobile"})
	f.SetSheetRow(s, "B2", &[]any{"C1", "call first", "", "+51987654321"})
	f.SetSheetRow(s, "B3", &[]any{"C2", "VIP", "", "+51987654322"})
	f.SetSheetRow(s, "B4", &[]any{"C3", "", "", "+51987654323"})
	for _, r := range [][2]string{{"A1", "A3"}, {"C2", "D2"}, {"C3", "D4"}} {
		if err := f.MergeCell(s, r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	rows, rejects, _ := mustParseBytes(t, workbookBytes(t, f), Options{})
	if len(rejects) != 0 || len(rows) != 3 {
		t.Fatalf("%d rows, rejects %s", len(rows), describeRejects(rejects))
	}
	want := []struct{ note, email string }{{"call first", ""}, {"VIP", ""}, {"VIP", ""}}
	for i, r := range rows {
		if r.Country != "" || r.Attribute("note") != want[i].note || r.Email != want[i].email {
			t.Errorf("%s (line %d): country %q, note %q, email %q; want empty (the default), %q, %q",
				r.CustomerID, r.Line, r.Country, r.Attribute("note"), r.Email, want[i].note, want[i].email)
		}
	}
}

// TestImport_XlsxMergedContactCellsAreNotCopied: an email (or phone, or name) merged down over
// two customers is the first one's: copied, the second customer's notice — their name, what was
// exposed of them — went to the first one's address (review). The country merged beside it is
// still copied down.
func TestImport_XlsxMergedContactCellsAreNotCopied(t *testing.T) {
	f := excelize.NewFile()
	s := "Sheet1"
	f.SetSheetRow(s, "A1", &[]any{"Country", "Customer ID", "E-mail", "Mobile", "Name"})
	f.SetSheetRow(s, "A2", &[]any{"PE", "H1", "ana@example.com", "987654321", "Ana"})
	f.SetSheetRow(s, "B3", &[]any{"H2", "", "", ""})
	for _, r := range [][2]string{{"A2", "A3"}, {"C2", "C3"}, {"D2", "D3"}, {"E2", "E3"}} {
		if err := f.MergeCell(s, r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	rows, rejects, _ := mustParseBytes(t, workbookBytes(t, f), Options{})
	if len(rows) != 1 || rows[0].CustomerID != "H1" || rows[0].Email != "ana@example.com" || len(rejects) != 1 || rejects[0].CustomerID != "H2" {
		t.Fatalf("rows %+v, rejects %s; want H1 imported and H2 rejected for having no contact of its own", rows, describeRejects(rejects))
	}
	if rows[0].Country != "PE" {
		t.Errorf("H1 country %q", rows[0].Country)
	}
}

// TestScanMergeRefs_ReadsOnlyMergeCellElements: what a comment, a CDATA section or a text
// holds is not taken for a merged range, whatever the prefix of the elements.
func TestScanMergeRefs_ReadsOnlyMergeCellElements(t *testing.T) {
	xml := `<?xml version="1.0"?><x:worksheet xmlns:x="s"><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>` +
		`&lt;mergeCell ref="A1:A9"/&gt;<![CDATA[<mergeCell ref="B1:B9"/>]]></x:t></x:is></x:c></x:row></x:sheetData>` +
		`<!-- <mergeCell ref="C1:C9"/> --><x:mergeCells count="2"><x:mergeCell ref="D2:D4"/><x:mergeCell  ref = 'E5:F5' /></x:mergeCells>` +
		`<x:mergeCellsX ref="G1:G2"/></x:worksheet>`
	var refs []string
	s := worksheetScan{mergeRef: func(ref string) error {
		refs = append(refs, ref)
		return nil
	}}
	err := s.scan(bufio.NewReaderSize(strings.NewReader(xml), 16))
	if err != nil || strings.Join(refs, " ") != "D2:D4 E5:F5" {
		t.Fatalf("refs %q, err %v; want D2:D4 E5:F5", refs, err)
	}
}

// TestImport_XlsxTooManyMergedRangesIsRefusedSayingWhy: past maxMergedRanges ranges merged down
// a column, the list is refused with advice rather than read with their cells empty; ranges
// merged across a row only are not counted (nothing of them is copied).
func TestImport_XlsxTooManyMergedRangesIsRefusedSayingWhy(t *testing.T) {
	defer func(old int) { maxMergedRanges = old }(maxMergedRanges)
	maxMergedRanges = 3
	build := func(vertical int) []byte {
		f := excelize.NewFile()
		f.SetSheetRow("Sheet1", "A1", &[]any{"Customer ID", "E-mail", "Plan", "Note", "Other"})
		for i := range 10 {
			f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", 2*i+2), &[]any{fmt.Sprintf("C%d", i), fmt.Sprintf("c%d@example.com", i), "P"})
			f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", 2*i+3), &[]any{fmt.Sprintf("D%d", i), fmt.Sprintf("d%d@example.com", i)})
			f.MergeCell("Sheet1", fmt.Sprintf("D%d", 2*i+2), fmt.Sprintf("E%d", 2*i+2))
			if i < vertical {
				f.MergeCell("Sheet1", fmt.Sprintf("C%d", 2*i+2), fmt.Sprintf("C%d", 2*i+3))
			}
		}
		return workbookBytes(t, f)
	}
	if rows, rejects, _ := mustParseBytes(t, build(3), Options{}); len(rows) != 20 || len(rejects) != 0 || rows[1].Attribute("plan") != "P" {
		t.Fatalf("3 ranges: %d rows, rejects %s, D0's plan %q", len(rows), describeRejects(rejects), rows[1].Attribute("plan"))
	}
	_, _, _, err := parseBytes(t, build(4), Options{})
	if !isInvalid(err) || !strings.Contains(err.Error(), "more than 3 ranges of cells merged down a column: unmerge them") {
		t.Fatalf("4 ranges: err %v", err)
	}
}
