package breach

import "testing"

func warnedRows(lines ...int64) []Warning {
	var ws []Warning
	for _, l := range lines {
		ws = append(ws, Warning{Line: l})
	}
	return ws
}

// A row's warnings are listed all or none, and once one row is left out no later row is
// listed: the list is always the import's first warned rows.
func TestAppendWarnedRows_WholeRowsUpToTheLimit(t *testing.T) {
	listed := warnedRows(make([]int64, MaxListedWarnings-1)...)
	for i := range listed {
		listed[i].Line = int64(i + 2)
	}
	got, more := AppendWarnedRows(listed, warnedRows(500, 500, 501))
	if more || len(got) != MaxListedWarnings-1 {
		t.Fatalf("a row of two warnings with room for one: %d listed, listing goes on %v", len(got), more)
	}
	got, more = AppendWarnedRows(warnedRows(2, 2), warnedRows(3, 4, 4))
	if !more || len(got) != 5 || CountWarnedRows(got) != 3 {
		t.Fatalf("rows that fit: %+v %v", got, more)
	}
	if first := FirstWarnedRows(got, 2); len(first) != 3 || first[2].Line != 3 {
		t.Errorf("the first two rows' warnings: %+v", first)
	}
	if all := FirstWarnedRows(got, 10); len(all) != 5 {
		t.Errorf("more rows asked than listed: %+v", all)
	}
}
