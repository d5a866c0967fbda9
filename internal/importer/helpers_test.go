package importer

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

var (
	testImporterOnce sync.Once
	testImporter     *Importer
	testImporterErr  error
)

// newTestImporter returns an Importer without a Store: parse never touches it. Building the
// phone parser compiles every region's patterns, so the tests share one.
func newTestImporter(t testing.TB) *Importer {
	t.Helper()
	testImporterOnce.Do(func() { testImporter, testImporterErr = New(nil) })
	if testImporterErr != nil {
		t.Fatalf("New: %v", testImporterErr)
	}
	return testImporter
}

// parseString runs the whole parse pipeline (no database) over csv and returns the accepted
// rows and the rejects, each sorted by line.
func parseString(t testing.TB, csv string, opts Options) (rows []breach.ImportRow, rejects []breach.Reject, imp *breach.Import, err error) {
	t.Helper()
	return parseBytes(t, []byte(csv), opts)
}

// parseBytes is parseString for binary input (other encodings, gzip, invalid UTF-8).
func parseBytes(t testing.TB, data []byte, opts Options) (rows []breach.ImportRow, rejects []breach.Reject, imp *breach.Import, err error) {
	t.Helper()
	rows, rejects, imp, err = runParse(newTestImporter(t), data, opts)
	if err == nil {
		checkCounts(t, imp, rows, rejects)
	}
	return rows, rejects, imp, err
}

// runParse is parseBytes without a testing.TB, for use off the test's goroutine.
func runParse(im *Importer, data []byte, opts Options) (rows []breach.ImportRow, rejects []breach.Reject, imp *breach.Import, err error) {
	return runParseFor(im, &breach.Campaign{DefaultCountry: "PE"}, data, opts)
}

// runParseFor is runParse into campaign instead of a Peruvian one.
func runParseFor(im *Importer, campaign *breach.Campaign, data []byte, opts Options) (rows []breach.ImportRow, rejects []breach.Reject, imp *breach.Import, err error) {
	imp = &breach.Import{}
	// Batches are produced by several workers, but parse calls write from its own goroutine
	// only; no lock here, so that the race detector notices if that ever changes.
	write := func(_ context.Context, b *breach.ImportBatch) error {
		rows = append(rows, b.Rows...)
		rejects = append(rejects, b.Rejects...)
		return nil
	}
	progress := func(context.Context, int64) {}
	err = im.parse(context.Background(), campaign, imp, bytes.NewReader(data), opts, write, progress)
	slices.SortFunc(rows, func(a, b breach.ImportRow) int { return cmp.Compare(a.Line, b.Line) })
	slices.SortFunc(rejects, func(a, b breach.Reject) int { return cmp.Compare(a.Line, b.Line) })
	return rows, rejects, imp, err
}

// checkCounts is the invariant of every parse: each row read is accepted or rejected.
func checkCounts(t testing.TB, imp *breach.Import, rows []breach.ImportRow, rejects []breach.Reject) {
	t.Helper()
	if imp.Read != int64(len(rows)+len(rejects)) {
		t.Errorf("imp.Read = %d, want rows+rejects = %d+%d", imp.Read, len(rows), len(rejects))
	}
	if imp.Rejected != int64(len(rejects)) {
		t.Errorf("imp.Rejected = %d, want %d", imp.Rejected, len(rejects))
	}
}

// mustParse is parseString for input that must parse without a whole-file error.
func mustParse(t testing.TB, csv string, opts Options) ([]breach.ImportRow, []breach.Reject, *breach.Import) {
	t.Helper()
	rows, rejects, imp, err := parseString(t, csv, opts)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return rows, rejects, imp
}

// mustParseUS is mustParse into a campaign whose default country is the US.
func mustParseUS(t testing.TB, csv string) ([]breach.ImportRow, []breach.Reject, *breach.Import) {
	t.Helper()
	rows, rejects, imp, err := runParseFor(newTestImporter(t), &breach.Campaign{DefaultCountry: "US"}, []byte(csv), Options{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	checkCounts(t, imp, rows, rejects)
	return rows, rejects, imp
}

func mustParseBytes(t testing.TB, data []byte, opts Options) ([]breach.ImportRow, []breach.Reject, *breach.Import) {
	t.Helper()
	rows, rejects, imp, err := parseBytes(t, data, opts)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return rows, rejects, imp
}

func rowLines(rows []breach.ImportRow) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.Line
	}
	return out
}

func rejectLines(rejects []breach.Reject) []int64 {
	out := make([]int64, len(rejects))
	for i, r := range rejects {
		out[i] = r.Line
	}
	return out
}

func customerIDs(rows []breach.ImportRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.CustomerID
	}
	return out
}

// describeRejects formats rejects for failure messages.
func describeRejects(rejects []breach.Reject) string {
	var b strings.Builder
	for _, r := range rejects {
		fmt.Fprintf(&b, "\n  line %d [%s] %s", r.Line, r.Field, r.Reason)
	}
	return b.String()
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
