package notice

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var secret = []byte("test-secret-test-secret-test-secret!")

func exampleCampaign(t testing.TB) *breach.Campaign {
	t.Helper()
	c, _, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	c.ID = "6f1f3e56-0000-4000-8000-000000000001"
	return c
}

func renderer(t *testing.T, dir string) *Renderer {
	t.Helper()
	rd, err := New(dir, secret)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func TestNegotiate_LocaleCountryDefault(t *testing.T) {
	c := &breach.Campaign{Locales: []string{"es", "en", "fr", "ko"}, DefaultLocale: "es"}
	tests := []struct {
		locale, country, want string
	}{
		{"es-PE", "PE", "es"},
		{"fr-CA", "CA", "fr"},
		{"en-GB", "PE", "en"},
		{"ko-KR", "", "ko"},
		{"pt-BR", "", "es"},   // not offered, no country: the default
		{"pt-BR", "FR", "fr"}, // not offered: the country's language
		{"", "PE", "es"},
		{"", "FR", "fr"},
		{"", "KR", "ko"},
		{"", "US", "en"},
		{"", "BR", "es"}, // Portuguese not offered: the default
		{"", "", "es"},
		{"qu-PE", "PE", "es"},
	}
	for _, tt := range tests {
		got, why := negotiate(renderer(t, "").matcher(c.Locales), c, &breach.Recipient{Locale: tt.locale, Country: tt.country})
		if got != tt.want || why == "" {
			t.Errorf("negotiate(%q, %q) = %q (%s), want %q", tt.locale, tt.country, got, why, tt.want)
		}
	}
}

func TestReference_StableUnambiguousAndChecked(t *testing.T) {
	a := Reference(secret, "c1", "AT-100001")
	if a != Reference(secret, "c1", "AT-100001") {
		t.Fatal("the reference code is not stable")
	}
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$`).MatchString(a) {
		t.Errorf("reference %q is not in the unambiguous alphabet and form XXXX-XXXX-XX", a)
	}
	for _, other := range []string{Reference(secret, "c1", "AT-100002"), Reference(secret, "c2", "AT-100001"), Reference([]byte("another secret, another secret!!"), "c1", "AT-100001")} {
		if other == a {
			t.Errorf("two different customers, campaigns or secrets share the code %s", a)
		}
	}
	if !CheckReference(secret, "c1", "AT-100001", strings.ToLower(strings.ReplaceAll(a, "-", ""))) {
		t.Error("the code typed in lower case without dashes does not check")
	}
	if CheckReference(secret, "c1", "AT-100002", a) {
		t.Error("another customer's code checks")
	}
}

func TestJurisdiction_FromCustomerCountryOrCampaign(t *testing.T) {
	c := &breach.Campaign{Jurisdictions: []string{"gdpr", "us-ca", "kr-pipa"}}
	tests := []struct{ jurisdiction, country, want string }{
		{"us-ma", "US", "us-ma"},
		{"us-tx", "US", ""},
		{"", "KR", "kr-pipa"},
		{"", "FR", "gdpr"},
		{"", "US", "us-ca"},
		{"", "PE", "gdpr"},
	}
	for _, tt := range tests {
		want := tt.want
		if tt.jurisdiction == "us-tx" {
			want = "us-ca" // any other state: the California format
		}
		if got := jurisdictionOf(c, &breach.Recipient{Jurisdiction: tt.jurisdiction, Country: tt.country}); got.ID != want {
			t.Errorf("jurisdiction %q, country %q: %q, want %q", tt.jurisdiction, tt.country, got.ID, want)
		}
	}
}

func TestRender_CustomerDataIsDataNotMarkup(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	for _, name := range []string{"<script>alert(1)</script>", "{{.Secret}}", "Ana\r\nBcc: victim@example.com", "O'Brien & <b>Sons</b>"} {
		r := &breach.Recipient{CustomerID: "X1", Name: name, Email: "a@example.com", Country: "PE", Exposed: breach.Categories(1 << breach.CategoryName)}
		n, err := rd.Render(c, r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(n.HTML, "<script>") || strings.Contains(n.HTML, "<b>Sons") {
			t.Errorf("name %q reached the HTML as markup", name)
		}
		if strings.Contains(n.Text, "{{") != strings.Contains(name, "{{") || strings.Contains(n.HTML, "test-secret") {
			t.Errorf("name %q was executed as a template", name)
		}
		if strings.ContainsAny(n.Subject, "\r\n") {
			t.Errorf("subject %q has a line break", n.Subject)
		}
	}
}

func TestRender_GuidanceIsForExactlyTheExposedCategories(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	for _, locale := range c.Locales {
		for _, cat := range breach.AllCategories() {
			r := &breach.Recipient{CustomerID: "X1", Email: "a@example.com", Country: "PE", Locale: locale, Exposed: breach.Categories(0).With(cat)}
			n, err := rd.Render(c, r, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, other := range breach.AllCategories() {
				steps := rd.guidance[locale][other.String()]["PE"]
				if steps == nil {
					steps = rd.guidance[locale][other.String()]["default"]
				}
				if got := strings.Contains(n.Text, steps[0]); got != (other == cat) {
					t.Errorf("%s, %s exposed: guidance for %s present = %v", locale, cat, other, got)
				}
			}
		}
	}
}

func TestRender_SpanishAndFrenchSMSFitTwoGSM7Segments(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	for _, locale := range []string{"es", "fr"} {
		for _, v := range Variants(c) {
			if v.Locale != locale {
				continue
			}
			n, err := rd.Render(c, Sample(c, v), Options{Locale: locale})
			if err != nil {
				t.Fatal(err)
			}
			if n.SMS.Encoding != "GSM-7" || n.SMS.Segments > 2 {
				t.Errorf("%s/%s SMS: %s, %d segments (%d units): %q", locale, v.Jurisdiction, n.SMS.Encoding, n.SMS.Segments, n.SMS.Units, n.SMS.Body)
			}
		}
	}
}

func TestRender_MostUrgentGuidanceFirst(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	r := &breach.Recipient{CustomerID: "X1", Email: "a@example.com", Country: "PE", Locale: "en"}
	r.Exposed = r.Exposed.With(breach.CategoryAddress).With(breach.CategoryPassword).With(breach.CategoryPaymentCard)
	n, err := rd.Render(c, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	names := rd.wording["en"].categoryNames
	p, card, addr := strings.Index(n.Text, capitalize(names["password"])+":"), strings.Index(n.Text, capitalize(names["payment_card"])+":"), strings.Index(n.Text, capitalize(names["address"])+":")
	if !(p >= 0 && p < card && card < addr) {
		t.Errorf("guidance order: password at %d, card at %d, address at %d; want password, card, address", p, card, addr)
	}
}

// TestGolden renders every shipped locale × jurisdiction × channel for the sample customer and
// compares with testdata/*.golden; run with -update to accept a wording change as a diff.
func TestGolden(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	c.Jurisdictions = append([]string(nil), breach.KnownJurisdictions...)
	for _, v := range Variants(c) {
		n, err := rd.Preview(c, Sample(c, v), Options{Locale: v.Locale})
		if err != nil {
			t.Fatal(err)
		}
		base := v.Locale + "-" + v.Jurisdiction
		for ext, got := range map[string]string{"html": n.HTML, "txt": "Subject: " + n.Subject + "\n\n" + n.Text,
			"sms": n.SMS.Body + "\n\n" + string(n.SMS.Encoding) + ", " + itoa(n.SMS.Segments) + " segments\n"} {
			golden(t, base+"."+ext+".golden", got)
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/notice -run TestGolden -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the rendering; review the diff with -update and git diff", name)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestLint_ShippedTemplatesAndExampleCampaignAreClean(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	c.Jurisdictions = append([]string(nil), breach.KnownJurisdictions...)
	for _, f := range rd.Lint(c) {
		if f.Severity == "error" {
			t.Errorf("%s [%s/%s/%s]: %s", f.Rule, f.Locale, f.Channel, f.Jurisdiction, f.Message)
		}
	}
}

// override writes a templates directory whose file name holds content, over the defaults.
func override(t *testing.T, name, content string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLint_EachRuleFiresOnACraftedBadTemplate(t *testing.T) {
	html, err := os.ReadFile("../../templates/email.html.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule, from, to string
	}{
		{RuleLinks, `<p style="margin:0 0 12px;">{{.S "reference"}}</p>`, `<p style="margin:0 0 12px;">{{.S "reference"}} <a href="https://evil.example.net/x">x</a></p>`},
		{RuleShortener, `<p style="margin:0 0 12px;">{{.S "reference"}}</p>`, `<p style="margin:0 0 12px;">{{.S "reference"}} <a href="https://bit.ly/abc">x</a></p>`},
		{RuleLogin, `<p style="margin:0 0 12px;">{{.S "reference"}}</p>`, `<p style="margin:0 0 12px;">{{.S "reference"}} <a href="https://www.andinatel.com.pe/login">x</a></p>`},
		{RuleLogin, `<p style="margin:0 0 12px;">{{.S "reference"}}</p>`, `<form><input name="pin"></form>`},
		{RuleFontSize, `font-size:16px`, `font-size:11px`},
		{RuleSections, `<section data-section="what_we_are_doing">`, `<section>`},
		{RuleAsks, `<p style="margin:0 0 12px;">{{.S "reference"}}</p>`, `<p>Please reply with your password and card number.</p>`},
	}
	c := exampleCampaign(t)
	c.Locales, c.DefaultLocale = []string{"en"}, "en" // the layout is the same in every locale
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			bad := strings.Replace(string(html), tt.from, tt.to, 1)
			if bad == string(html) {
				t.Fatalf("the shipped template no longer contains %q", tt.from)
			}
			if tt.rule == RuleAsks {
				c := exampleCampaign(t)
				c.Incident.Summary["en"] = "Please reply with your password and card number to keep your line."
				assertFires(t, renderer(t, ""), c, tt.rule)
				return
			}
			assertFires(t, renderer(t, override(t, "email.html.tmpl", bad)), c, tt.rule)
		})
	}
	t.Run(RuleSMSBudget, func(t *testing.T) {
		c := exampleCampaign(t)
		c.SMS.MaxSegments = 1
		assertFires(t, renderer(t, ""), c, RuleSMSBudget)
	})
	t.Run(RuleEmpty, func(t *testing.T) {
		c := exampleCampaign(t)
		delete(c.Incident.Consequences, "fr")
		assertFires(t, renderer(t, ""), c, RuleEmpty)
	})
	t.Run("us-ma forbids describing the breach", func(t *testing.T) {
		bad := strings.Replace(string(html), `{{- if .Profile.DescribeBreach}}`, `{{- if true}}`, 1)
		c := exampleCampaign(t)
		c.Jurisdictions = []string{"us-ma"}
		assertFires(t, renderer(t, override(t, "email.html.tmpl", bad)), c, RuleSections)
	})
}

func assertFires(t *testing.T, rd *Renderer, c *breach.Campaign, rule string) {
	t.Helper()
	fs := rd.Lint(c)
	if !slices.ContainsFunc(fs, func(f Finding) bool { return f.Rule == rule && f.Severity == "error" }) {
		t.Errorf("rule %s did not fire; findings: %+v", rule, fs)
	}
	if Approvable(fs) == nil {
		t.Error("a campaign with lint errors is approvable")
	}
}

func TestNew_BrokenOverrideFailsNamingFileAndLine(t *testing.T) {
	_, err := New(override(t, "email.html.tmpl", "<p>\n{{ .Broken </p>"), secret)
	if err == nil || !strings.Contains(err.Error(), "email.html.tmpl:2") {
		t.Errorf("err = %v, want the file and line", err)
	}
	_, err = New(override(t, "locales/es.yaml", "subject: \"{{.Org.Name\"\n"), secret)
	if err == nil || !strings.Contains(err.Error(), "locales/es.yaml") {
		t.Errorf("err = %v, want the locale file named", err)
	}
}

func TestAsksForSecret_RequestsFireAdviceDoesNot(t *testing.T) {
	tests := []struct {
		text string
		asks bool
	}{
		{"Please reply with your password to keep your line.", true},
		{"Confirm your card number at our office.", true},
		{"Ingrese su contraseña en el enlace.", true},
		{"Envoyez votre mot de passe par retour.", true},
		{"비밀번호를 입력하십시오.", true},
		{"Never send your password to anyone.", false},
		{"Do not enter your PIN on a page reached from a message.", false},
		{"Nunca ingrese su contraseña en un enlace recibido por SMS.", false},
		{"Ne communiquez jamais votre mot de passe.", false},
		{"비밀번호를 입력하지 마십시오.", false},
		{"인증번호는 누구에게도 알려 주지 마시고, 앱 인증을 사용하십시오.", false},
		{"Act now and confirm your password within 24 hours.", true},
		{"We need you to confirm your PIN.", true},
		{"Necesitamos que confirme su contraseña.", true},
		{"비밀번호를 입력하지 않으면 회선이 정지됩니다.", true},
		{"Do not share your verification code with anyone.", false},
		// From a review: plain requests the first patterns missed.
		{"To protect your account, reply to this email with your current password.", true},
		{"Envíenos su contraseña.", true},
		{"Responda a este correo con su contraseña actual.", true},
		{"Répondez à ce message avec votre mot de passe.", true},
		{"We will never ask you to reply with your password.", false},
		{"If you changed your password, no action is needed.", false},
	}
	for _, tt := range tests {
		if got := asksForSecret(tt.text) != ""; got != tt.asks {
			t.Errorf("asksForSecret(%q) = %v, want %v", tt.text, got, tt.asks)
		}
	}
}

// TestLint_LinksCannotBeSmuggledPast: the ways a review found to hide a link from lint.
func TestLint_LinksCannotBeSmuggledPast(t *testing.T) {
	html, err := os.ReadFile("../../templates/email.html.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	anchor := `<p style="margin:0 0 12px;">{{.S "reference"}}</p>`
	payloads := []string{
		`<p>Visit andinatel-verify.com/check</p>`,
		`<p>https://evil.example.net/x</p>`,
		`<p style="background-image:url(https://evil.example.net/p.png)">x</p>`,
		`<style>p{background:url(https://evil.example.net/p.png)}</style>`,
		`<meta http-equiv="refresh" content="0;url=https://evil.example.net/">`,
		`<svg><a xlink:href="https://evil.example.net/">x</a></svg>`,
		`<a href="https://www.andinatel.com.pe/">https://evil.example.net/login</a>`,
		`<img src="https://www.andinatel.com.pe/pixel.gif" width="1" height="1">`,
		`<a href="https://www.andinatel.com.pe/help?go=login">help</a>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href="HTTPS://www.andinatel.com.pe.evil.com/">x</a>`,
		`<a href="https://www.andinatel.com.pe@evil.com/">x</a>`,
		`<p style="font-size:0.5em">small</p>`,
		`<p style="FONT-SIZE:6px">small</p>`,
	}
	c := exampleCampaign(t)
	c.Locales, c.DefaultLocale = []string{"en"}, "en" // the layout is the same in every locale
	for _, p := range payloads {
		bad := strings.Replace(string(html), anchor, anchor+p, 1)
		fs := renderer(t, override(t, "email.html.tmpl", bad)).Lint(c)
		if Approvable(fs) == nil {
			t.Errorf("lint let %s through", p)
		}
	}
	ok := strings.Replace(string(html), anchor, anchor+`<p><a href="mailto:dpo@andinatel.com.pe">dpo@andinatel.com.pe</a> <a href="tel:+5113115000">+51 1 311 5000</a></p>`, 1)
	if fs := renderer(t, override(t, "email.html.tmpl", ok)).Lint(c); Approvable(fs) != nil {
		t.Errorf("an address and a phone on the official domain were refused: %v", fs)
	}
}

func TestRender_MassachusettsNoticeNeverDescribesTheBreach(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	for _, locale := range c.Locales {
		r := &breach.Recipient{CustomerID: "MA1", Name: "Pat", Email: "p@example.com", Country: "US", Jurisdiction: "us-ma", Locale: locale,
			Exposed: breach.Categories(0).With(breach.CategoryEmail)}
		n, err := rd.Render(c, r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, told := range []string{c.Incident.Summary[locale], c.Incident.Actions[locale], c.Incident.Consequences[locale]} {
			if strings.Contains(n.Text, told) || strings.Contains(n.HTML, told) {
				t.Errorf("%s: the us-ma notice repeats the campaign's account of the incident: %.60q…", locale, told)
			}
		}
		// Even with only an email exposed, it says how to ask each bureau for a freeze.
		if !strings.Contains(n.Text, "Equifax") || !strings.Contains(n.Text, "TransUnion") {
			t.Errorf("%s: the us-ma notice gives the right to a credit freeze without the bureaus' contacts", locale)
		}
	}
}

func TestLint_OfferShorterThanTwelveMonthsFailsInTheUS(t *testing.T) {
	c := exampleCampaign(t)
	c.Offer.Months = 3
	assertFires(t, renderer(t, ""), c, RuleOffer)
}

func TestLint_CaliforniaHeadingsAreCheckedByTheirText(t *testing.T) {
	html, err := os.ReadFile("../../templates/email.html.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(html), `{{.S "heading_what_happened"}}`, `Overview`, 1)
	assertFires(t, renderer(t, override(t, "email.html.tmpl", bad)), exampleCampaign(t), RuleSections)
}

func TestRender_LineBreaksInANameCannotAddLines(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	r := &breach.Recipient{CustomerID: "X1", Name: "Ana\n\nURGENT: call +1 900 555 0100 now", Email: "a@example.com", Country: "PE",
		Attributes: map[string]string{"offer_code": "https://evil.example.net/"}}
	n, err := rd.Render(c, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(n.Text, "\nURGENT") {
		t.Error("a line break in the name started a line of its own in the text email")
	}
	if strings.Contains(n.Text, "evil.example.net") {
		t.Error("an offer code that is a link reached the notice")
	}
}

// The campaign's own description of its offer may promise "the personal code included in this
// notice". A customer the list gives no code (or a value that is no code) is told how to get
// theirs instead of being sent to look for one that is not there; a customer with a code, and
// every customer of a campaign whose offer has no codes, is not.
func TestRender_ACustomerWithoutACodeIsToldHowToGetIt(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	const missing = "could not be included in this notice"
	for _, tc := range []struct {
		name  string
		code  string
		codes bool // the offer has a code column
		want  bool
	}{
		{"no code", "", true, true},
		{"a link for a code", "https://evil.example.net/", true, true},
		{"a code", "ATP-7K2M-Q9XD", true, false},
		{"an offer without codes", "", false, false},
	} {
		c := *c
		offer := *c.Offer
		if !tc.codes {
			offer.CodeAttribute = ""
		}
		c.Offer = &offer
		r := &breach.Recipient{CustomerID: "X1", Email: "a@example.com", Country: "US", Locale: "en",
			Attributes: map[string]string{"offer_code": tc.code}}
		n, err := rd.Render(&c, r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(n.Text, missing) && strings.Contains(n.HTML, missing); got != tc.want {
			t.Errorf("%s: told how to get the code %v, want %v\n%s", tc.name, got, tc.want, n.Text)
		}
		if tc.want && !strings.Contains(n.Text, c.Organization.SupportPhone) {
			t.Errorf("%s: the sentence does not give the number to call", tc.name)
		}
		// A letter says it too.
		l, err := rd.Letter(&c, r)
		if err != nil {
			t.Fatal(err)
		}
		inLetter := false
		for _, sec := range l.Sections {
			if sec.Key == SectionOffer && strings.Contains(strings.Join(sec.Paragraphs, " "), missing) {
				inLetter = true
			}
		}
		if inLetter != tc.want {
			t.Errorf("%s: the letter tells how to get the code %v, want %v", tc.name, inLetter, tc.want)
		}
	}
}

// The digest an approval records names what the notices are rendered from: the same for two
// renderers of the same files, whatever their PUBLIC_URL (a command-line approval has none),
// another when one file differs (a TEMPLATES_DIR editing the Spanish wording).
func TestDigest_NamesTheTemplatesAndTheLinks(t *testing.T) {
	a, err := New("", secret)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New("", secret)
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest() != b.Digest() || len(a.Digest()) != 32 {
		t.Errorf("two renderers of the embedded templates: %q and %q, want one 32-digit digest", a.Digest(), b.Digest())
	}
	es, err := os.ReadFile("../../templates/locales/es.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edited, err := New(override(t, "locales/es.yaml", strings.Replace(string(es), "greeting:", "# edited\ngreeting:", 1)), secret)
	if err != nil {
		t.Fatal(err)
	}
	if edited.Digest() == a.Digest() {
		t.Error("a TEMPLATES_DIR that edits the Spanish wording has the embedded templates' digest")
	}
	b.PublicURL = "https://notice.example.net"
	if b.Digest() != a.Digest() {
		t.Error("a PUBLIC_URL changes the digest")
	}
}
