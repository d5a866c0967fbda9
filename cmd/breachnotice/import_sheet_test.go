package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestCLI_ImportXlsxSheetWithWarnings: `import --sheet NAME` reads that sheet of an Excel
// workbook, and the human summary names the sheet, the rejected row by its row number and the
// warned row by its row number, never by the name it held.
func TestCLI_ImportXlsxSheetWithWarnings(t *testing.T) {
	id := createCampaign(t)
	f := excelize.NewFile()
	f.NewSheet("Clientes")
	f.SetSheetRow("Clientes", "A1", &[]any{"Customer ID", "E-mail", "Language", "Name"})
	rows := [][]any{
		{"X1", "x1@example.com", "es", "Rosa Quispe"},
		{"X2", "x2@example", "es", "Bad Address"},
		{"X3", "x3@example.com", "en", "<script>alert(1)</script>"},
	}
	for i, r := range rows {
		f.SetSheetRow("Clientes", fmt.Sprintf("A%d", i+2), &r)
	}
	path := filepath.Join(t.TempDir(), "list.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := cli(t, "", "import", "--campaign", id, "--sheet", "Clientes", path)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	for _, want := range []string{`sheet "Clientes"`, "accepted  2", "rejected  1", "line 3 (X2)", "warnings  1", "line 4: name: markup removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "script") {
		t.Errorf("the summary shows the name:\n%s", out)
	}
	if _, _, err := cli(t, "", "import", "--campaign", id, "--sheet", "Kunden", path); err == nil {
		t.Errorf("an unknown sheet was accepted")
	}
}
