package notice

import (
	"context"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
)

// memoryImports is an ImportStore that keeps an import's rows in memory.
type memoryImports struct{ rows []breach.ImportRow }

func (m *memoryImports) BeginImport(_ context.Context, imp *breach.Import) (breach.ImportSession, error) {
	imp.ID = "6f1f3e56-0000-4000-8000-0000000000aa"
	return m, nil
}
func (m *memoryImports) Write(_ context.Context, b *breach.ImportBatch) error {
	m.rows = append(m.rows, b.Rows...)
	return nil
}
func (m *memoryImports) Progress(context.Context, int64) {}
func (m *memoryImports) Commit(_ context.Context, imp *breach.Import) error {
	imp.Accepted, imp.State = int64(len(m.rows)), breach.ImportCompleted
	return nil
}
func (m *memoryImports) Abort(context.Context, *breach.Import, error) {}

// TestImportedMarkupName_CustomerGetsTheirNotice: from the list to the notice, a customer whose
// name is markup is imported (with a warning) and told: a <script> name leaves the generic
// greeting, "<b>Rosa</b> Pérez" greets Rosa Pérez in plain text, and a name html/template must
// escape ("O'Brien & Sons") is escaped in the HTML and plain in the text.
func TestImportedMarkupName_CustomerGetsTheirNotice(t *testing.T) {
	store := &memoryImports{}
	im, err := importer.New(store)
	if err != nil {
		t.Fatal(err)
	}
	c := exampleCampaign(t)
	list := "customer_id,email,name,exposed\n" +
		"X1,a@example.com,<script>alert(1)</script>,name\n" +
		"X2,b@example.com,<b>Rosa</b> Pérez,name\n" +
		"X3,c@example.com,O'Brien & <i>Sons</i>,name\n"
	imp, err := im.Run(t.Context(), c, &breach.Import{}, strings.NewReader(list), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Read != 3 || imp.Rejected != 0 || imp.Warned != 3 || len(store.rows) != 3 {
		t.Fatalf("import = %+v with %d rows; want all 3 kept, each with a warning", imp, len(store.rows))
	}
	rd := renderer(t, "")
	want := []struct{ html, text string }{
		{"Dear Customer,", "Dear Customer,"},
		{"Dear Rosa Pérez,", "Dear Rosa Pérez,"},
		{"Dear O&#39;Brien &amp; Sons,", "Dear O'Brien & Sons,"},
	}
	for i, row := range store.rows {
		r := row.Recipient
		r.Attributes = row.AttributeMap() // as the store gives them back
		r.Locale = "en"
		n, err := rd.Render(c, &r, Options{})
		if err != nil {
			t.Fatalf("%s: %v", r.CustomerID, err)
		}
		if !strings.Contains(n.HTML, want[i].html) || !strings.Contains(n.Text, want[i].text) {
			t.Errorf("%s (name %q): greeting not %q in the HTML and %q in the text", r.CustomerID, r.Name, want[i].html, want[i].text)
		}
		for _, body := range []string{n.HTML, n.Text, n.SMS.Body} {
			for _, markup := range []string{"<script", "alert(1)", "<b>Rosa", "<i>Sons"} {
				if strings.Contains(body, markup) {
					t.Errorf("%s: the notice carries the list's markup %q", r.CustomerID, markup)
				}
			}
		}
	}
}

// TestImportedLinkName_NoticeCarriesNoLure: a name that is a web or email address or a phone
// number — a lure a mail app would make clickable, in a notice from the company's own signed
// domain — reaches neither the email (HTML and text) nor the SMS: the customer is imported,
// warned about, and greeted generically.
func TestImportedLinkName_NoticeCarriesNoLure(t *testing.T) {
	store := &memoryImports{}
	im, err := importer.New(store)
	if err != nil {
		t.Fatal(err)
	}
	c := exampleCampaign(t)
	list := "customer_id,email,name,exposed\n" +
		"L1,a@example.com,https://login.evil-bank.com/verify,name\n" +
		"L2,b@example.com,Ana (verify at www.evil-bank.com),name\n" +
		"L3,c@example.com,help@evil-bank.com,name\n" +
		"L4,d@example.com,EVIL-BANK.COM,name\n" +
		"L5,e@example.com,Call +1 (888) 555-0199 to verify (evil-bank),name\n"
	imp, err := im.Run(t.Context(), c, &breach.Import{}, strings.NewReader(list), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Read != 5 || imp.Rejected != 0 || imp.Warned != 5 || len(store.rows) != 5 {
		t.Fatalf("import = %+v with %d rows; want all 5 kept, each with a warning", imp, len(store.rows))
	}
	for _, w := range imp.Warnings {
		if strings.Contains(strings.ToLower(w.Reason), "evil-bank") {
			t.Errorf("warning %+v echoes the name", w)
		}
	}
	rd := renderer(t, "")
	for _, row := range store.rows {
		r := row.Recipient
		r.Attributes = row.AttributeMap() // as the store gives them back
		r.Locale = "en"
		n, err := rd.Render(c, &r, Options{})
		if err != nil {
			t.Fatalf("%s: %v", r.CustomerID, err)
		}
		if !strings.Contains(n.HTML, "Dear Customer,") || !strings.Contains(n.Text, "Dear Customer,") {
			t.Errorf("%s (name %q): not greeted generically", r.CustomerID, r.Name)
		}
		for _, body := range []string{n.HTML, n.Text, n.SMS.Body} {
			if strings.Contains(strings.ToLower(body), "evil-bank") {
				t.Errorf("%s: the notice carries the list's link %q", r.CustomerID, r.Name)
			}
		}
	}
}

// TestStoredLinkName_NoticeCarriesNoLure: a name that reached the database as a lure — imported
// by a release before the importer dropped such names, or by any other road — is neutralised
// again where the notice is rendered, on both roads: the renderer's, and the per-campaign cache
// that sends at full speed. A clean name and a name with markup are greeted as the importer
// would have left them.
func TestStoredLinkName_NoticeCarriesNoLure(t *testing.T) {
	c := exampleCampaign(t)
	rd := renderer(t, "")
	cr := rd.ForCampaign(c)
	for _, tc := range []struct{ name, greeting string }{
		{"https://login.evil-bank.com/verify", "Dear Customer,"},
		{"Call +1 (888) 555-0199 to verify (evil-bank)", "Dear Customer,"},
		{"help@evil-bank.com", "Dear Customer,"},
		{"<b>Rosa</b>   Pérez", "Dear Rosa Pérez,"},
		{"Ana  María\nQuispe", "Dear Ana María Quispe,"},
	} {
		// Twice through the cache: the first learns the variant, the second fills it in.
		for i, render := range []func(r *breach.Recipient) (*Notice, error){
			func(r *breach.Recipient) (*Notice, error) { return rd.Render(c, r, Options{}) },
			cr.Render, cr.Render,
		} {
			r := &breach.Recipient{CustomerID: "S1", Email: "s1@example.com", Name: tc.name, Locale: "en",
				Exposed: breach.Categories(0).With(breach.CategoryName)}
			n, err := render(r)
			if err != nil {
				t.Fatalf("%q, road %d: %v", tc.name, i, err)
			}
			if !strings.Contains(n.Text, tc.greeting) {
				t.Errorf("%q, road %d: the text does not greet %q", tc.name, i, tc.greeting)
			}
			for _, body := range []string{n.HTML, n.Text, n.SMS.Body} {
				if strings.Contains(strings.ToLower(body), "evil-bank") || strings.Contains(body, "<b>") {
					t.Errorf("%q, road %d: the notice carries the stored name's link or markup", tc.name, i)
				}
			}
		}
	}
}
