package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestAPI_XlsxUploadWithSheetAndNameWarnings: an Excel workbook uploaded as the raw body is
// read from the sheet that sheet= names; the import's JSON says which sheet, counts the rows
// kept with a neutralised name and lists them by line; an unknown sheet is a 400 naming the
// workbook's sheets.
func TestAPI_XlsxUploadWithSheetAndNameWarnings(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	f := excelize.NewFile()
	f.NewSheet("Clientes")
	f.SetSheetRow("Clientes", "A1", &[]any{"Customer ID", "E-mail", "Mobile", "Name"})
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("Cliente %d", i)
		if i == 3 {
			name = "<script>alert(1)</script>"
		}
		f.SetSheetRow("Clientes", fmt.Sprintf("A%d", i+1), &[]any{fmt.Sprintf("X%d", i), fmt.Sprintf("x%d@example.com", i), 51987654320 + i, name})
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports?sheet=Clientes&filename=list.xlsx", xlsx, bytes.NewReader(buf.Bytes()), c.token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	var imp struct {
		Sheet                    string
		Read, Accepted, Rejected int64
		Warned                   int64
		Warnings                 []struct {
			Line          int64
			Field, Reason string
		}
	}
	if err := json.Unmarshal(body, &imp); err != nil {
		t.Fatal(err)
	}
	if imp.Sheet != "Clientes" || imp.Read != 5 || imp.Accepted != 5 || imp.Rejected != 0 || imp.Warned != 1 ||
		len(imp.Warnings) != 1 || imp.Warnings[0].Line != 4 || imp.Warnings[0].Field != "name" {
		t.Errorf("import = %s", body)
	}
	if bytes.Contains(body, []byte("script")) {
		t.Errorf("the import report carries the name: %s", body)
	}
	resp, body = c.do("POST", "/api/v1/campaigns/"+id+"/imports?sheet=Kunden", xlsx, bytes.NewReader(buf.Bytes()), c.token)
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("Clientes")) {
		t.Errorf("unknown sheet: %d %s, want 400 naming the workbook's sheets", resp.StatusCode, body)
	}
}
