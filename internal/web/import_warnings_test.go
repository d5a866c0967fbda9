package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
)

// TestConsole_ImportPageListsNameWarnings: the example list's customer whose first name is a
// <script> element is imported, and the import page counts and lists the warning by line —
// without the name, and without the page carrying the markup.
func TestConsole_ImportPageListsNameWarnings(t *testing.T) {
	st := newStack(t, nil)
	b := st.signedIn("importer", breach.RoleOperator)
	got := b.post("/campaigns", url.Values{"source": {string(examples.Campaign)}})
	if got.status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", got.status, got.body)
	}
	id := regexp.MustCompile(`/campaigns/([0-9a-f-]{36})`).FindStringSubmatch(got.header.Get("Location"))[1]
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "customers.csv")
	fw.Write(examples.Customers)
	mw.Close()
	req, _ := http.NewRequest("POST", st.srv.URL+"/campaigns/"+id+"/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if got := b.do(req); got.status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", got.status, got.body)
	}
	imports, err := st.db.Imports(context.Background(), id)
	if err != nil || len(imports) != 1 || imports[0].Warned != 2 {
		t.Fatalf("imports: %+v %v", imports, err)
	}
	page := b.get("/campaigns/" + id + "/imports/" + imports[0].ID)
	if page.status != http.StatusOK {
		t.Fatalf("import page: %d", page.status)
	}
	if w := imports[0].WarnedBy; w["name"] != 1 || w["phone"] != 1 || len(w) != 2 {
		t.Errorf("warned by field %v, want name 1, phone 1 (stored and read back)", w)
	}
	for _, want := range []string{`id="import-warned">2 `, `id="import-warnings"`, "<td>35</td><td>name</td>", "markup removed",
		"<td>36</td><td>phone</td>", "landline", `id="import-warned-by">name 1, phone 1<`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the import page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "alert(1)") {
		t.Errorf("the import page carries the name's markup")
	}
}

// Past the listed warnings, the page says how many warned rows it lists of how many: 60 rows
// with two warnings each list 50 rows.
func TestConsole_ImportPageSaysWhichWarnedRowsItLists(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	var b strings.Builder
	b.WriteString("customer_id,name,email,country,state\n")
	for i := range 60 {
		fmt.Fprintf(&b, "W%d,<b>x</b>,w%d@example.com,US,ZZ\n", i, i)
	}
	im, err := importer.New(st.db)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := im.Run(context.Background(), c, &breach.Import{Filename: "w.csv", CreatedBy: "test"}, strings.NewReader(b.String()), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	page := st.signedIn("warnings-reviewer", breach.RoleViewer).get("/campaigns/" + c.ID + "/imports/" + imp.ID)
	if page.status != http.StatusOK || !strings.Contains(page.body, "The warnings of the first 50 of 60 rows are listed") ||
		strings.Count(page.body, "<tr><td>") != 100 {
		t.Errorf("import page: %d, %d warnings listed\n%s", page.status, strings.Count(page.body, "<tr><td>"), page.body)
	}
}
