package notice

import (
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// BenchmarkRender measures one customer's notice (email HTML and text, and SMS): the sending
// engine renders one per delivery, so this bounds its rate per core.
func BenchmarkRender(b *testing.B) {
	rd, err := New("", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	c := exampleCampaign(b)
	r := &breach.Recipient{CustomerID: "C-1", Email: "ana@example.com", Phone: "+51987654321",
		Name: "Ana Pérez", Locale: "es-PE", Country: "PE", Exposed: breach.Categories(0b1011)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rd.Render(c, r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderCached is BenchmarkRender through a CampaignRenderer, as the sending engine
// renders: the campaign's variant is rendered once, then only the customer's values change.
// "email" is the email channel alone, as the engine renders an email notice: no SMS is filled
// in or measured.
func BenchmarkRenderCached(b *testing.B) {
	rd, err := New("", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	cr := rd.ForCampaign(exampleCampaign(b))
	r := &breach.Recipient{CustomerID: "C-1", Email: "ana@example.com", Phone: "+51987654321",
		Name: "Ana Pérez", Locale: "es-PE", Country: "PE", Exposed: breach.Categories(0b1011)}
	for _, bc := range []struct {
		name   string
		render func() (*Notice, error)
	}{
		{"all", func() (*Notice, error) { return cr.Render(r) }},
		{"email", func() (*Notice, error) { return cr.RenderFor(r, Email) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.render(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLint measures the lint of the example campaign (every locale and profile): the
// console runs it on every draft page view and every approval.
func BenchmarkLint(b *testing.B) {
	rd, err := New("", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	c := exampleCampaign(b)
	for b.Loop() {
		rd.Lint(c)
	}
}
