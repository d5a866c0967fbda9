package notice

import (
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// variedRecipients are customers of every kind a list holds: countries and locales offered or
// not, jurisdictions given or not, names with markup, quotes, "+", line breaks, NUL, emoji and
// letters outside ASCII and GSM-7, or none, offer codes valid, invalid or missing, and exposed
// categories few, many (an SMS with "and N more") or the campaign's default.
func variedRecipients() []*breach.Recipient {
	names := []string{"Ana Pérez", "María  José\tQuispe", "", "   ", "O'Brien & <b>Sons</b>", `Jean "JJ" Dupont`, "김민준",
		"José+Núñez", "Ana\n\nURGENT: call +1 900 555 0100", "{{.Secret}}", "Zoë Ça œuvre", "a\x00b", "Ana 🙂", "Ana"}
	countries := []string{"PE", "FR", "KR", "US", "", "BR"}
	locales := []string{"", "es-PE", "fr-FR", "ko-KR", "en-US", "pt-BR", "fr-CA"}
	jurisdictions := []string{"", "", "us-ma", "us-tx", "gdpr", "kr-pipa"}
	c := breach.Categories(0)
	exposed := []breach.Categories{0, c.With(breach.CategoryName).With(breach.CategoryPhone), breach.Categories(0b1011),
		c.With(breach.CategoryPassword).With(breach.CategoryPaymentCard).With(breach.CategoryAddress).With(breach.CategoryNationalID).With(breach.CategoryPassport),
		c.With(breach.CategoryDriversLicense).With(breach.CategoryEmail)}
	codes := []string{"", "ATP-7K2M-Q9XD", "https://evil.example.net/", "  atp-lower-1  ", "-BAD"}
	var rs []*breach.Recipient
	for i := range 240 {
		r := &breach.Recipient{CustomerID: fmt.Sprintf("AT-%06d", i), Email: "c@example.com", Name: names[i%len(names)],
			Country: countries[i%len(countries)], Locale: locales[(i/2)%len(locales)], Jurisdiction: jurisdictions[(i/3)%len(jurisdictions)],
			Exposed: exposed[(i/5)%len(exposed)]}
		if code := codes[(i/7)%len(codes)]; code != "" {
			r.Attributes = map[string]string{"offer_code": code, "plan": "Prepago"}
		}
		rs = append(rs, r)
	}
	return rs
}

// rendersAsRender fails t unless cr renders r's notice as rd.Render does.
func rendersAsRender(t *testing.T, rd *Renderer, c *breach.Campaign, cr *CampaignRenderer, r *breach.Recipient) {
	t.Helper()
	want, err := rd.Render(c, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := cr.Render(r)
	if err != nil {
		t.Fatalf("customer %s: %v", r.CustomerID, err)
	}
	sameAsRender(t, r, n, want)
}

// sameAsRender fails t unless n is want in every field that is sent or stored.
func sameAsRender(t *testing.T, r *breach.Recipient, n, want *Notice) {
	t.Helper()
	for _, f := range []struct{ name, got, want string }{
		{"Locale", n.Locale, want.Locale}, {"LocaleReason", n.LocaleReason, want.LocaleReason},
		{"Jurisdiction", n.Jurisdiction, want.Jurisdiction}, {"Reference", n.Reference, want.Reference},
		{"Subject", n.Subject, want.Subject}, {"HTML", n.HTML, want.HTML}, {"Text", n.Text, want.Text},
		{"SMS", fmt.Sprint(n.SMS), fmt.Sprint(want.SMS)},
	} {
		if f.got != f.want {
			i := 0
			for i < min(len(f.got), len(f.want)) && f.got[i] == f.want[i] {
				i++
			}
			t.Errorf("customer %s (name %q): %s differs from Render's at byte %d: %.80q, want %.80q",
				r.CustomerID, r.Name, f.name, i, f.got[i:], f.want[i:])
		}
	}
}

func TestCampaignRenderer_SameAsRenderForEveryKindOfCustomer(t *testing.T) {
	rd := renderer(t, "")
	plain := exampleCampaign(t)
	plain.SMS.AllowLink, plain.SMS.Transliterate = false, false
	noOffer := exampleCampaign(t)
	noOffer.Offer = nil
	noDeadline := exampleCampaign(t)
	noDeadline.Offer.EnrollBy = breach.Date{}
	rs := variedRecipients()
	for name, c := range map[string]*breach.Campaign{"example": exampleCampaign(t), "no link, no transliteration": plain,
		"no offer": noOffer, "offer without deadline": noDeadline} {
		t.Run(name, func(t *testing.T) {
			cr := rd.ForCampaign(c)
			for range 2 { // the first learns the variants, the second only reads them
				for _, r := range rs {
					rendersAsRender(t, rd, c, cr, r)
				}
			}
			variants := 0
			cr.variants.Range(func(k, v any) bool {
				if variants++; v.(*variant) == nil {
					t.Errorf("the variant %+v of the shipped templates is rendered directly", k)
				}
				return true
			})
			if variants == 0 || variants >= len(rs) {
				t.Errorf("%d variants for %d customers", variants, len(rs))
			}
		})
	}
}

func TestCampaignRenderer_RenderForOneChannelIsThatChannelsPartOfRender(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	cr := rd.ForCampaign(c)
	for pass := range 2 { // the first learns the variants, the second only reads them
		for _, r := range variedRecipients() {
			want, err := cr.Render(r)
			if err != nil {
				t.Fatal(err)
			}
			email, err := cr.RenderFor(r, Email)
			if err != nil {
				t.Fatal(err)
			}
			text, err := cr.RenderFor(r, Text)
			if err != nil {
				t.Fatal(err)
			}
			if pass == 0 {
				continue // the first of a variant is rendered whole
			}
			wantEmail, wantText := *want, *want
			wantEmail.SMS = SMS{}
			wantText.Subject, wantText.HTML, wantText.Text = "", "", ""
			sameAsRender(t, r, email, &wantEmail)
			sameAsRender(t, r, text, &wantText)
		}
	}
}

// overrideFile is the shipped templates/name with from replaced by to, as a templates directory.
func overrideFile(t *testing.T, name, from, to string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("../../templates", name))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), from, to, 1)
	if changed == string(src) {
		t.Fatalf("templates/%s no longer contains %q", name, from)
	}
	return override(t, name, changed)
}

// Customers of one variant whose names the shipped templates show alike, however a template
// shows them: the first, whose notice is checked, would not reveal a mistake.
var oneVariant = []string{"Ana", "Ana Pérez", "O'Brien & <b>Sons</b> +1", `Jean "JJ" Dupont`, "김민준", "ana"}

func TestCampaignRenderer_TemplatesThatShowANameOtherThanAsTextAreRenderedDirectly(t *testing.T) {
	tests := []struct{ name, file, from, to string }{
		{"in a link", "email.html.tmpl", `<p style="margin:0 0 16px;">{{.Greeting}}</p>`,
			`<p style="margin:0 0 16px;"><a href="https://www.andinatel.com.pe/?n={{.Customer.Name}}">{{.Greeting}}</a></p>`},
		{"in an unquoted attribute", "email.html.tmpl", `<p style="margin:0 0 16px;">{{.Greeting}}</p>`,
			`<p style="margin:0 0 16px;" title={{.Customer.Name}}>{{.Greeting}}</p>`},
		{"upper case", "email.txt.tmpl", "{{.Greeting}}", "{{.Greeting | upper}}"},
		{"quoted", "locales/es.yaml", `greeting: "Estimado/a {{.Customer.Name}}:"`, `greeting: 'Estimado/a {{printf "%q" .Customer.Name}}:'`},
		{"cut", "locales/es.yaml", `greeting: "Estimado/a {{.Customer.Name}}:"`, `greeting: "Estimado/a {{slice .Customer.Name 0 3}}:"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := renderOneVariant(t, overrideFile(t, tt.file, tt.from, tt.to))
			k, _, _ := cr.key(&breach.Recipient{Name: "Ana", Locale: "es-PE", Country: "PE"})
			if v, ok := cr.variants.Load(k); !ok || v.(*variant) != nil {
				t.Error("the variant is cached")
			}
		})
	}
}

func TestCampaignRenderer_NameShownAsTextAnywhereIsCached(t *testing.T) {
	tests := []struct{ name, file, from, to string }{
		{"subject and title", "locales/es.yaml", `subject: "Aviso importante de {{.Org.Name}}`, `subject: "{{.Customer.Name}}: aviso importante de {{.Org.Name}}`},
		{"twice", "locales/es.yaml", `greeting: "Estimado/a {{.Customer.Name}}:"`, `greeting: "Estimado/a {{.Customer.Name}} ({{.Customer.Name}}):"`},
		{"quoted attribute", "email.html.tmpl", `<p style="margin:0 0 16px;">{{.Greeting}}</p>`,
			`<p style="margin:0 0 16px;" title="{{.Customer.Name}}">{{.Greeting}}</p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := renderOneVariant(t, overrideFile(t, tt.file, tt.from, tt.to))
			k, _, _ := cr.key(&breach.Recipient{Name: "Ana", Locale: "es-PE", Country: "PE"})
			if v, ok := cr.variants.Load(k); !ok || v.(*variant) == nil {
				t.Error("the variant is not cached")
			}
		})
	}
}

func TestCampaignRenderer_ValuesHoldingAStandInAreShownAsTheyAre(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	cr := rd.ForCampaign(c)
	for i, name := range []string{"Ana", cr.stand[valName] + " " + cr.stand[valReference], cr.prefix + "X", cr.prefix} {
		r := &breach.Recipient{CustomerID: fmt.Sprint("C-", i), Name: name, Locale: "es-PE", Country: "PE",
			Attributes: map[string]string{"offer_code": cr.stand[valName]}}
		rendersAsRender(t, rd, c, cr, r)
	}
}

func TestCampaignRenderer_BeyondTheBoundRendersDirectly(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	cr := rd.ForCampaign(c)
	cr.size.Store(maxVariants)
	r := &breach.Recipient{CustomerID: "C-1", Name: "Ana", Locale: "es-PE", Country: "PE"}
	rendersAsRender(t, rd, c, cr, r)
	k, _, _ := cr.key(r)
	if _, ok := cr.variants.Load(k); ok {
		t.Error("a variant was cached beyond the bound")
	}
}

func TestCampaignRenderer_ConcurrentCustomers(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	rs := variedRecipients()[:120]
	want := make([]*Notice, len(rs))
	for i, r := range rs {
		var err error
		if want[i], err = rd.Render(c, r, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	cr := rd.ForCampaign(c)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for j := range rs {
				i := (j + g*7) % len(rs) // each goroutine from its own customer, so that they learn together
				n, err := cr.Render(rs[i])
				if err != nil {
					t.Error(err)
					return
				}
				sameAsRender(t, rs[i], n, want[i])
			}
		})
	}
	wg.Wait()
}

// TestHTMLText_EscapesAsHTMLTemplate: htmlText must be html/template's escaping of text, which
// it does not export.
func TestHTMLText_EscapesAsHTMLTemplate(t *testing.T) {
	tmpl := htmltemplate.Must(htmltemplate.New("").Parse(`<p>{{.}}</p>`))
	var all strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		all.WriteRune(r)
	}
	for _, s := range []string{all.String(), "\xc3(\xff+\x00", probe[valName], "a\ufdd0\ufffe"} {
		var b strings.Builder
		if err := tmpl.Execute(&b, s); err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSuffix(strings.TrimPrefix(b.String(), "<p>"), "</p>"); htmlText.Replace(s) != want {
			t.Errorf("htmlText.Replace(%.40q) = %.80q, want %.80q", s, htmlText.Replace(s), want)
		}
	}
}

func TestCampaignRenderer_LocaleTagsOfOneLanguageShareAVariant(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	cr := rd.ForCampaign(c)
	var keys []variantKey
	for _, tag := range []string{"es-PE", "es", "ES-pe", "es-419", ""} {
		r := &breach.Recipient{CustomerID: "C-" + tag, Name: "Ana", Locale: tag, Country: "PE"}
		want, _ := rd.Render(c, r, Options{})
		n, err := cr.Render(r)
		if err != nil {
			t.Fatal(err)
		}
		sameAsRender(t, r, n, want) // the reason still quotes the customer's own tag
		k, _, _ := cr.key(r)
		keys = append(keys, k)
	}
	for _, k := range keys[1:] {
		if k != keys[0] {
			t.Errorf("variant %+v differs from %+v: one Spanish notice per tag would overflow the cache", k, keys[0])
		}
	}
}

// renderOneVariant renders the customers of oneVariant with the templates of dir, directly and
// through a CampaignRenderer, checks that both give the same notices, and returns the
// CampaignRenderer for the caller to ask whether it cached the variant.
func renderOneVariant(t *testing.T, dir string) *CampaignRenderer {
	t.Helper()
	rd := renderer(t, dir)
	c := exampleCampaign(t)
	cr := rd.ForCampaign(c)
	for i, name := range oneVariant {
		r := &breach.Recipient{CustomerID: fmt.Sprint("C-", i), Name: name, Locale: "es-PE", Country: "PE"}
		rendersAsRender(t, rd, c, cr, r)
	}
	return cr
}

// Many variants of one locale keep little of their own: the first's texts are the locale's
// base, and the others refer to its runs (a thousand variants held 24 MB of a worker's heap when
// each kept its texts whole).
func TestCampaignRenderer_VariantsShareTheirLocalesText(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	cr := rd.ForCampaign(c)
	all := []breach.Category{breach.CategoryName, breach.CategoryPhone, breach.CategoryEmail, breach.CategoryPassword,
		breach.CategoryPaymentCard, breach.CategoryAddress, breach.CategoryNationalID, breach.CategoryPassport, breach.CategoryDriversLicense}
	var rs []*breach.Recipient
	for mask := 1; mask < 1<<len(all) && len(rs) < 300; mask++ {
		var exposed breach.Categories
		for i, cat := range all {
			if mask&(1<<i) != 0 {
				exposed = exposed.With(cat)
			}
		}
		rs = append(rs, &breach.Recipient{CustomerID: fmt.Sprintf("SH-%04d", mask), Email: "c@example.com", Name: "Ana",
			Country: "PE", Locale: "es-PE", Exposed: exposed})
	}
	var whole, kept int
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for _, r := range rs {
		if _, err := cr.Render(r); err != nil {
			t.Fatal(err)
		}
	}
	// What the cache holds on the heap, and nothing else: a string the corpus indexes by
	// must not keep a variant's whole rendered text alive.
	// (505 KB for 300; 876 KB when the index's keys kept the texts they were cut from.)
	grown, want := heap()-before, uint64(cr.size.Load())*2<<10+64<<10
	t.Logf("the cache of %d variants holds %d KB of the heap", cr.size.Load(), grown>>10)
	if grown > want {
		t.Errorf("the cache of %d variants holds %d KB of the heap, want ≤ %d KB", cr.size.Load(), grown>>10, want>>10)
	}
	seen := map[string]bool{} // a string's bytes, by where they start: each counted once
	cr.variants.Range(func(_, v any) bool {
		v0 := v.(*variant)
		if v0 == nil {
			t.Fatal("a variant is rendered directly")
		}
		for _, l := range []layout{v0.subject, v0.html, v0.text, v0.sms} {
			for _, p := range l.parts {
				whole += len(p)
				if p == "" {
					continue
				}
				if k := fmt.Sprintf("%p", unsafe.StringData(p)); !seen[k] {
					seen[k] = true
					kept += len(p)
				}
			}
		}
		return true
	})
	n := cr.size.Load()
	if n < 200 {
		t.Fatalf("%d variants, want ≥ 200", n)
	}
	parts := 0
	cr.variants.Range(func(_, v any) bool {
		v0 := v.(*variant)
		parts += len(v0.subject.parts) + len(v0.html.parts) + len(v0.text.parts) + len(v0.sms.parts)
		return true
	})
	t.Logf("%d variants: %d KB of text, %d KB of it held apart (%.1f KB a variant), %.0f parts a variant", n, whole/1024, kept/1024, float64(kept)/1024/float64(n), float64(parts)/float64(n))
	if kept > whole/10 {
		t.Errorf("the variants hold %d of their %d bytes apart, want ≤ a tenth", kept, whole)
	}
	// And each still renders as Render does.
	for _, r := range rs {
		rendersAsRender(t, rd, c, cr, r)
	}
}
