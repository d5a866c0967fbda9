package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// The summary lists the warnings of the first rows, whole, and says how many warned rows it
// leaves out: a row with two warnings is never cut in half, nor the rows after it hidden.
func TestPrintImport_ListsWholeWarnedRowsAndCountsTheRest(t *testing.T) {
	for _, rows := range []int{6, shownRows, shownRows + 3} {
		var ws []breach.Warning
		for i := range rows {
			ws = append(ws, breach.Warning{Line: int64(i + 2), Field: "name", Reason: "n"}, breach.Warning{Line: int64(i + 2), Field: "state", Reason: "s"})
		}
		var out bytes.Buffer
		a := &app{stdout: &out}
		s := importSummary{Read: int64(rows), Accepted: int64(rows), Warned: int64(rows), Warnings: ws}
		if err := a.printImport(t.Context(), nil, breach.CLIActor("x"), "l.csv", s); err != nil {
			t.Fatal(err)
		}
		shown := min(rows, shownRows)
		if listed := strings.Count(out.String(), "    line "); listed != 2*shown {
			t.Errorf("%d rows × 2 warnings: %d listed, want %d\n%s", rows, listed, 2*shown, out.String())
		}
		more := fmt.Sprintf("… and %d more rows with warnings", rows-shown)
		if strings.Contains(out.String(), more) != (rows > shown) || strings.Contains(out.String(), "more rows") != (rows > shown) {
			t.Errorf("%d rows × 2 warnings: want %q only when rows are left out\n%s", rows, more, out.String())
		}
	}
}
