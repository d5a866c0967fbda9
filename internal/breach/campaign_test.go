package breach

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// validCampaign is the smallest campaign Validate accepts with GDPR in scope.
func validCampaign(t *testing.T) *Campaign {
	return &Campaign{
		Name: "Test breach",
		Organization: Organization{
			Name:         "Andina Telecom S.A.A.",
			Domain:       "AndinaTel.com.PE",
			SupportPhone: "+51 1 311 5000",
			SupportURL:   "https://www.andinatel.com.pe/seguridad",
			DPO:          &Contact{Name: "Lucía Paredes", Email: "DPO@AndinaTel.com.pe"},
		},
		Sender: Sender{Email: "seguridad@Notificaciones.AndinaTel.com.pe", Name: "Andina Telecom", ReplyTo: "privacidad@andinatel.com.pe", SMSSender: "AndinaTel"},
		Incident: Incident{
			OccurredFrom: mustDate(t, "2026-10-24"),
			OccurredTo:   mustDate(t, "2026-10-30"),
			DiscoveredOn: mustDate(t, "2026-11-12"),
			Summary:      Localized{"es": "Resumen.", "en": "Summary."},
			Actions:      Localized{"es": "Acciones.", "en": "Actions."},
		},
		Jurisdictions:  []string{"gdpr", "us-ca"},
		Locales:        []string{"es", "en"},
		DefaultLocale:  "es",
		DefaultCountry: "pe",
		DefaultExposed: []string{"name", "phone", "national_id"},
		Offer:          &Offer{Provider: "CustodiaID", Months: 24, URL: "https://andinatel.com.pe/proteccion"},
		SMS:            SMSPolicy{MaxSegments: 2},
		RetentionDays:  365,
	}
}

func TestCampaignValidate_MinimalCampaignIsValidAndNormalized(t *testing.T) {
	c := validCampaign(t)
	c.Locales = []string{"es_PE", "EN"}
	c.DefaultLocale = "es-pe"
	c.Incident.Summary = Localized{"es-PE": "Resumen.", "en": "Summary."}
	c.Incident.Actions = Localized{"es-PE": "Acciones.", "en": "Actions."}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	checks := []struct{ field, got, want string }{
		{"organization.domain", c.Organization.Domain, "andinatel.com.pe"},
		{"sender.email", c.Sender.Email, "seguridad@notificaciones.andinatel.com.pe"},
		{"organization.dpo.email", c.Organization.DPO.Email, "DPO@andinatel.com.pe"},
		{"default_country", c.DefaultCountry, "PE"},
		{"default_locale", c.DefaultLocale, "es-PE"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.field, ch.got, ch.want)
		}
	}
	if !slices.Equal(c.Locales, []string{"es-PE", "en"}) {
		t.Errorf("locales = %v", c.Locales)
	}
	if got := c.DefaultCategories(); !slices.Equal(got.List(), []Category{CategoryNationalID, CategoryPhone, CategoryName}) {
		t.Errorf("DefaultCategories = %v", got.Strings())
	}

	// Without GDPR in scope, no DPO is needed, nor an offer, nor a reply-to.
	c = validCampaign(t)
	c.Jurisdictions, c.Organization.DPO, c.Offer, c.Sender.ReplyTo, c.Sender.SMSSender = []string{"kr-pipa"}, nil, nil, "", ""
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate without gdpr: %v", err)
	}
}

// TestCampaignValidate_EachBreakageIsReportedAtItsPath breaks one field at a time.
func TestCampaignValidate_EachBreakageIsReportedAtItsPath(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Campaign)
		path   string
		want   string // substring of the message
		alone  bool   // the only problem reported
	}{
		{"missing DPO with gdpr", func(c *Campaign) { c.Organization.DPO = nil }, "organization.dpo", "gdpr", true},
		{"DPO without a name", func(c *Campaign) { c.Organization.DPO.Name = " " }, "organization.dpo.name", "required", true},
		{"DPO with a bad email", func(c *Campaign) { c.Organization.DPO.Email = "dpo@" }, "organization.dpo.email", "not an email address", true},
		{"default_locale not offered", func(c *Campaign) { c.DefaultLocale = "fr" }, "default_locale", "not one of the offered locales", true},
		{"default_locale missing", func(c *Campaign) { c.DefaultLocale = "" }, "default_locale", "required", true},
		{"default_locale not a tag", func(c *Campaign) { c.DefaultLocale = "??" }, "default_locale", "BCP 47", true},
		{"support_url on another domain", func(c *Campaign) { c.Organization.SupportURL = "https://andinatel-seguridad.com/incidente" },
			"organization.support_url", "not on the official domain", true},
		{"support_url on a look-alike suffix", func(c *Campaign) { c.Organization.SupportURL = "https://www.andinatel.com.pe.evil.com/x" },
			"organization.support_url", "not on the official domain", true},
		{"support_url over http", func(c *Campaign) { c.Organization.SupportURL = "http://www.andinatel.com.pe/seguridad" },
			"organization.support_url", "https", true},
		{"support_url missing", func(c *Campaign) { c.Organization.SupportURL = "" }, "organization.support_url", "required", true},
		{"offer url on another domain", func(c *Campaign) { c.Offer.URL = "https://custodiaid.com/andina" }, "offer.url", "official domain", true},
		{"offer without months", func(c *Campaign) { c.Offer.Months = 0 }, "offer.months", "at least 1", true},
		{"offer without provider", func(c *Campaign) { c.Offer.Provider = "" }, "offer.provider", "required", true},
		{"offer description in a locale not offered", func(c *Campaign) { c.Offer.Description = Localized{"de": "x"} }, "offer.description.de", "not one of the offered", true},
		{"bad sender email", func(c *Campaign) { c.Sender.Email = "security@" }, "sender.email", "not an email address", true},
		{"sender email missing", func(c *Campaign) { c.Sender.Email = "" }, "sender.email", "required", true},
		{"sender name missing", func(c *Campaign) { c.Sender.Name = "" }, "sender.name", "required", true},
		{"bad reply_to", func(c *Campaign) { c.Sender.ReplyTo = "a@b" }, "sender.reply_to", "not an email address", true},
		{"sms sender too long", func(c *Campaign) { c.Sender.SMSSender = "AndinaTelecom" }, "sender.sms_sender", "11", true},
		{"sms sender with punctuation", func(c *Campaign) { c.Sender.SMSSender = "Andina-Tel" }, "sender.sms_sender", "alphanumeric", true},
		{"unknown jurisdiction", func(c *Campaign) { c.Jurisdictions = []string{"gdpr", "us-tx"} }, "jurisdictions[1]", `"us-tx"`, true},
		{"summary missing for an offered locale", func(c *Campaign) { delete(c.Incident.Summary, "en") }, "incident.summary.en", "every offered locale", true},
		{"summary blank for an offered locale", func(c *Campaign) { c.Incident.Summary["es"] = "  \n" }, "incident.summary.es", "every offered locale", true},
		{"summary in a locale not offered", func(c *Campaign) { c.Incident.Summary["fr"] = "Résumé." }, "incident.summary.fr", "not one of the offered", true},
		{"actions missing for an offered locale", func(c *Campaign) { delete(c.Incident.Actions, "es") }, "incident.actions.es", "every offered locale", true},
		{"consequences in a locale not offered", func(c *Campaign) { c.Incident.Consequences = Localized{"ko": "x"} }, "incident.consequences.ko", "not one of the offered", true},
		{"name missing", func(c *Campaign) { c.Name = "" }, "name", "required", true},
		{"organization name missing", func(c *Campaign) { c.Organization.Name = "" }, "organization.name", "required", true},
		{"support phone missing", func(c *Campaign) { c.Organization.SupportPhone = "" }, "organization.support_phone", "required", true},
		{"bad domain", func(c *Campaign) { c.Organization.Domain = "andinatel" }, "organization.domain", "no dot", false},
		{"no locales", func(c *Campaign) { c.Locales = nil }, "locales", "at least one", false},
		{"bad locale", func(c *Campaign) { c.Locales = []string{"es", "xx-??"} }, "locales[1]", "BCP 47", false},
		{"occurred_from missing", func(c *Campaign) { c.Incident.OccurredFrom = Date{} }, "incident.occurred_from", "required", true},
		{"discovered_on missing", func(c *Campaign) { c.Incident.DiscoveredOn = Date{} }, "incident.discovered_on", "required", true},
		{"occurred_to before occurred_from", func(c *Campaign) { c.Incident.OccurredTo = mustDate(t, "2026-10-01") }, "incident.occurred_to", "before", true},
		{"bad default country", func(c *Campaign) { c.DefaultCountry = "Narnia" }, "default_country", "ISO 3166-1", true},
		{"unknown default category", func(c *Campaign) { c.DefaultExposed = []string{"name", "favourite_color"} }, "default_exposed[1]", "favourite_color", true},
		{"too many SMS segments", func(c *Campaign) { c.SMS.MaxSegments = 11 }, "sms.max_segments", "between 1 and 10", true},
		{"no retention", func(c *Campaign) { c.RetentionDays = 0 }, "retention_days", "between 1 and 3650", true},
		{"retention over ten years", func(c *Campaign) { c.RetentionDays = 3651 }, "retention_days", "between 1 and 3650", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCampaign(t)
			tt.mutate(c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted the broken campaign")
			}
			if code := ErrorCode(err); code != EINVALID {
				t.Errorf("ErrorCode = %q, want %q", code, EINVALID)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *ValidationError", err)
			}
			var found *FieldError
			for i := range ve.Fields {
				if ve.Fields[i].Path == tt.path {
					found = &ve.Fields[i]
					break
				}
			}
			if found == nil {
				t.Fatalf("no FieldError at %q; got %v", tt.path, ve.Fields)
			}
			if !strings.Contains(found.Message, tt.want) {
				t.Errorf("%s: message %q does not mention %q", tt.path, found.Message, tt.want)
			}
			if tt.alone && len(ve.Fields) != 1 {
				t.Errorf("one breakage reported as %d problems: %v", len(ve.Fields), ve.Fields)
			}
			if !strings.HasPrefix(err.Error(), ve.Fields[0].Path+": ") {
				t.Errorf("Error() = %q does not start with the first path", err)
			}
		})
	}
}

// TestCampaignValidate_LocalizedKeysAreReadLikeLocales: Validate accepts "es_PE" in locales
// (ParseLocale reads it as es-PE), so the texts keyed by the same spelling must match it.
func TestCampaignValidate_LocalizedKeysAreReadLikeLocales(t *testing.T) {
	c := validCampaign(t)
	c.Locales = []string{"es_PE", "en"}
	c.DefaultLocale = "es_PE"
	c.Incident.Summary = Localized{"es_PE": "Resumen.", "en": "Summary."}
	c.Incident.Actions = Localized{"es_PE": "Acciones.", "en": "Actions."}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// TestCampaignValidate_ReportsEveryProblemAtOnce: the person fixing a file sees all of it.
func TestCampaignValidate_ReportsEveryProblemAtOnce(t *testing.T) {
	c := validCampaign(t)
	c.Name = ""
	c.Sender.Email = "security@"
	c.RetentionDays = 0
	var ve *ValidationError
	if err := c.Validate(); !errors.As(err, &ve) {
		t.Fatalf("Validate = %v", err)
	}
	var paths []string
	for _, f := range ve.Fields {
		paths = append(paths, f.Path)
	}
	if !slices.Equal(paths, []string{"name", "sender.email", "retention_days"}) {
		t.Errorf("paths %v", paths)
	}
	if !strings.Contains(ve.Error(), "and 2 more problems") {
		t.Errorf("Error() = %q", ve.Error())
	}
}

func TestParseLocaleAndCountry(t *testing.T) {
	locales := []struct{ in, want string }{{"es-PE", "es-PE"}, {"en_US", "en-US"}, {"KO", "ko"}, {" fr-fr ", "fr-FR"}, {"zh-Hant-TW", "zh-Hant-TW"}}
	for _, tt := range locales {
		if got, err := ParseLocale(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseLocale(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "xx-??", "xx", "englishh", "e"} { // "english" is English now (TestParseLocale_LanguageNames)
		if got, err := ParseLocale(in); err == nil {
			t.Errorf("ParseLocale(%q) = %q, want an error", in, got)
		}
	}
	countries := []struct{ in, want string }{{"PE", "PE"}, {"pe", "PE"}, {"FRA", "FR"}, {" kr ", "KR"}, {"us", "US"},
		{"UK", "GB"}, {"uk", "GB"}, {"GBR", "GB"}, {"FX", "FR"}, {"EL", "GR"}, {" el ", "GR"}, // the codes lists write for a country that has another
		// A CRM's country column holds names: in English and the shipped locales' languages.
		{"United States", "US"}, {"united  states of america", "US"}, {"South Korea", "KR"}, {"Korea, Republic of", "KR"}, {"Hong Kong", "HK"}, {"Macau", "MO"}, {"S. Korea", "KR"},
		{"Corea del Sur", "KR"}, {"대한민국", "KR"}, {"Perú", "PE"}, {" peru ", "PE"}, {"Estados Unidos", "US"},
		{"United Kingdom", "GB"}, {"Royaume-Uni", "GB"}, {"Germany", "DE"}, {"Puerto Rico", "PR"},
		// ISO's own short names, former and informal names, and the languages lists come in
		// besides (an acceptance walk had these rows rejected).
		{"Korea", "KR"}, {"North Korea", "KP"}, {"Viet Nam", "VN"}, {"Czech Republic", "CZ"}, {"Türkiye", "TR"},
		{"Holland", "NL"}, {"Deutschland", "DE"}, {"Österreich", "AT"}, {"Brasil", "BR"}, {"Italia", "IT"},
		{"Nederland", "NL"}, {"日本", "JP"}, {"Russian Federation", "RU"}}
	for _, tt := range countries {
		if got, err := ParseCountry(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseCountry(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "Narnia", "ZZ", "EU", "419", "P", "Europe", "Georgia", "Geórgia", "ジョージア"} {
		if got, err := ParseCountry(in); err == nil {
			t.Errorf("ParseCountry(%q) = %q, want an error", in, got)
		}
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("2026-11-12")
	if err != nil || d.String() != "2026-11-12" {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	for _, in := range []string{"12/11/2026", "2026-13-01", "2026-02-30", ""} {
		if _, err := ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) accepted", in)
		}
	}
	var u Date
	if err := u.UnmarshalText([]byte("2026-10-24")); err != nil || u.String() != "2026-10-24" {
		t.Errorf("UnmarshalText = %v, %v", u, err)
	}
	if err := u.UnmarshalText(nil); err != nil || !u.IsZero() || u.String() != "" {
		t.Errorf("empty UnmarshalText = %v, %v", u, err)
	}
	if b, _ := d.MarshalText(); string(b) != "2026-11-12" {
		t.Errorf("MarshalText = %q", b)
	}
	if !mustDate(t, "2026-10-24").Before(d) || d.Before(d) {
		t.Error("Before")
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	ve := &ValidationError{}
	ve.Add("sender.email", "%q is bad", "x")
	tests := []struct {
		err       error
		code, msg string
	}{
		{nil, "", ""},
		{Errorf(ENOTFOUND, "campaign %s not found", "c1"), ENOTFOUND, "campaign c1 not found"},
		{errors.Join(errors.New("ctx"), Errorf(ECONFLICT, "busy")), ECONFLICT, "busy"},
		{ve, EINVALID, `sender.email: "x" is bad`},
		{errors.New("pq: password authentication failed for user app"), EINTERNAL, "internal error"},
	}
	for _, tt := range tests {
		if got := ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := ErrorMessage(tt.err); got != tt.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.msg)
		}
	}
	if (&ValidationError{}).Err() != nil {
		t.Error("empty ValidationError.Err() != nil")
	}
}

// A language column as CRMs export it — the language's name, in English, in the shipped
// locales' languages or its own — reads as its tag: "Spanish" rejected every row of such a list.
func TestParseLocale_LanguageNames(t *testing.T) {
	for in, want := range map[string]string{"Spanish": "es", "español": "es", "ESPAÑOL": "es", "English": "en", "Inglés": "en",
		"français": "fr", "French": "fr", "Korean": "ko", "한국어": "ko", "es-PE": "es-PE", " ko ": "ko",
		"Ingles": "en", "Frances": "fr", "Castellano": "es", "English (US)": "en", "Español (Perú)": "es"} {
		if got, err := ParseLocale(in); err != nil || got != want {
			t.Errorf("ParseLocale(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseLocale("Klingon-ish"); err == nil || !strings.Contains(err.Error(), "language's name") {
		t.Errorf("an unknown language: %v", err)
	}
}
