package campaignfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

func exampleCampaign(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// findLine returns the 1-based number of the only line of src that equals line.
func findLine(t *testing.T, src, line string) int {
	t.Helper()
	found := 0
	for i, l := range strings.Split(src, "\n") {
		if l == line {
			if found != 0 {
				t.Fatalf("line %q occurs twice in the example", line)
			}
			found = i + 1
		}
	}
	if found == 0 {
		t.Fatalf("line %q not in the example", line)
	}
	return found
}

// replaceLine returns src with its only line equal to old replaced by repl (several lines, or
// none to delete it).
func replaceLine(t *testing.T, src, old string, repl ...string) string {
	t.Helper()
	n := findLine(t, src, old)
	lines := strings.Split(src, "\n")
	return strings.Join(slices.Concat(lines[:n-1], repl, lines[n:]), "\n")
}

func parseString(src string) (*breach.Campaign, error) {
	c, _, err := Parse("campaign.yaml", strings.NewReader(src))
	return c, err
}

func TestParse_ExampleCampaignIsValid(t *testing.T) {
	src := exampleCampaign(t)
	c, raw, err := Parse("campaign.yaml", strings.NewReader(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if string(raw) != src {
		t.Error("Parse did not return the file's bytes")
	}
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"organization.name", c.Organization.Name, "Andina Telecom S.A.A."},
		{"organization.domain", c.Organization.Domain, "andinatel.com.pe"},
		{"organization.dpo.email", c.Organization.DPO.Email, "dpo@andinatel.com.pe"},
		{"sender.email", c.Sender.Email, "seguridad@notificaciones.andinatel.com.pe"},
		{"sender.sms_sender", c.Sender.SMSSender, "AndinaTel"},
		{"incident.occurred_from", c.Incident.OccurredFrom.String(), "2026-10-24"},
		{"incident.occurred_to", c.Incident.OccurredTo.String(), "2026-10-30"},
		{"incident.discovered_on", c.Incident.DiscoveredOn.String(), "2026-11-12"},
		{"jurisdictions", fmt.Sprint(c.Jurisdictions), "[gdpr us-ca us-ma kr-pipa]"},
		{"locales", fmt.Sprint(c.Locales), "[es en fr ko]"},
		{"default_locale", c.DefaultLocale, "es"},
		{"default_country", c.DefaultCountry, "PE"},
		{"default_exposed", fmt.Sprint(c.DefaultCategories().Strings()), "[national_id phone name]"},
		{"offer.months", c.Offer.Months, 24},
		{"offer.enroll_by", c.Offer.EnrollBy.String(), "2027-02-28"},
		{"offer.code_attribute", c.Offer.CodeAttribute, "offer_code"},
		{"sms.max_segments", c.SMS.MaxSegments, 3},
		{"sms.allow_link", c.SMS.AllowLink, true},
		{"retention_days", c.RetentionDays, 365},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.field, ch.got, ch.want)
		}
	}
	for _, l := range c.Locales {
		for name, texts := range map[string]breach.Localized{"summary": c.Incident.Summary, "actions": c.Incident.Actions,
			"consequences": c.Incident.Consequences, "offer": c.Offer.Description} {
			if strings.TrimSpace(texts[l]) == "" {
				t.Errorf("%s has no %s text", name, l)
			}
			if strings.Contains(texts[l], "\n") {
				t.Errorf("%s.%s keeps line breaks: folded scalars must fold", name, l)
			}
		}
	}
	if !strings.HasPrefix(c.Incident.Summary["es"], "Entre el 24 y el 30 de octubre de 2026") {
		t.Errorf("summary.es = %.40q…", c.Incident.Summary["es"])
	}
}

// TestParse_ErrorsCarryFileAndLine: each mistake is reported as file:line: field: message, the
// line being the one to fix.
func TestParse_ErrorsCarryFileAndLine(t *testing.T) {
	src := exampleCampaign(t)
	tests := []struct {
		name string
		edit func(t *testing.T) string
		line string // the line of the example the error must point at (before the edit)
		want string // after "campaign.yaml:<line>: "
	}{
		{"bad sender email",
			func(t *testing.T) string {
				return replaceLine(t, src, "  email: seguridad@notificaciones.andinatel.com.pe", `  email: "security@"`)
			},
			"  email: seguridad@notificaciones.andinatel.com.pe", `sender.email: "security@" is not an email address`},
		{"unknown top-level field",
			func(t *testing.T) string { return replaceLine(t, src, "sender:", "sendr:") },
			"sender:", `unknown field "sendr"`},
		{"unknown nested field",
			func(t *testing.T) string {
				return replaceLine(t, src, "  reply_to: privacidad@andinatel.com.pe", "  replyto: privacidad@andinatel.com.pe")
			},
			"  reply_to: privacidad@andinatel.com.pe", `unknown field "replyto"`},
		{"unclosed quote",
			func(t *testing.T) string {
				return replaceLine(t, src, "  sms_sender: AndinaTel", `  sms_sender: "AndinaTel`)
			},
			"  sms_sender: AndinaTel", ""},
		{"duplicate key",
			func(t *testing.T) string {
				return replaceLine(t, src, "  reply_to: privacidad@andinatel.com.pe", "  email: privacidad@andinatel.com.pe")
			},
			"  reply_to: privacidad@andinatel.com.pe", `mapping key "email" already defined`},
		{"string for a number",
			func(t *testing.T) string { return replaceLine(t, src, "retention_days: 365", "retention_days: a year") },
			"retention_days: 365", "cannot unmarshal"},
		{"unknown jurisdiction",
			func(t *testing.T) string {
				return replaceLine(t, src, "jurisdictions: [gdpr, us-ca, us-ma, kr-pipa]", "jurisdictions: [gdpr, us-tx, us-ma, kr-pipa]")
			},
			"jurisdictions: [gdpr, us-ca, us-ma, kr-pipa]", `jurisdictions[1]: unknown jurisdiction "us-tx"`},
		{"support_url off the official domain",
			func(t *testing.T) string {
				return replaceLine(t, src, "  support_url: https://www.andinatel.com.pe/seguridad/incidente-2026",
					"  support_url: https://andinatel-seguridad.com/incidente")
			},
			"  support_url: https://www.andinatel.com.pe/seguridad/incidente-2026", "organization.support_url:"},
		{"default_locale not offered",
			func(t *testing.T) string { return replaceLine(t, src, "default_locale: es", "default_locale: de") },
			"default_locale: es", `default_locale: "de" is not one of the offered locales`},
		{"bad locale in a list",
			func(t *testing.T) string {
				return replaceLine(t, src, "locales: [es, en, fr, ko]", "locales: [es, en, fr, ko, klingon]")
			},
			"locales: [es, en, fr, ko]", "locales[4]:"},
		{"offer months",
			func(t *testing.T) string { return replaceLine(t, src, "  months: 24", "  months: 0") },
			"  months: 24", "offer.months: must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := findLine(t, src, tt.line)
			c, err := parseString(tt.edit(t))
			if err == nil {
				t.Fatalf("no error; campaign %q", c.Name)
			}
			prefix := fmt.Sprintf("campaign.yaml:%d: ", line)
			if !strings.HasPrefix(err.Error(), prefix+tt.want) {
				t.Errorf("error %q\nwant it to start with %q", err, prefix+tt.want)
			}
			var fe *Error
			if !errors.As(err, &fe) || fe.File != "campaign.yaml" || len(fe.Problems) == 0 || fe.Problems[0].Line != line {
				t.Errorf("error %#v is not a *campaignfile.Error with line %d", err, line)
			}
			if code := breach.ErrorCode(err); code != breach.EINVALID {
				t.Errorf("ErrorCode = %q, want %q", code, breach.EINVALID)
			}
			if !strings.Contains(breach.ErrorMessage(err), prefix) {
				t.Errorf("ErrorMessage %q lost the file and line", breach.ErrorMessage(err))
			}
		})
	}
}

// TestParse_EveryProblemHasItsLine: several mistakes are all reported, each at its own line.
func TestParse_EveryProblemHasItsLine(t *testing.T) {
	src := exampleCampaign(t)
	emailLine := findLine(t, src, "  email: seguridad@notificaciones.andinatel.com.pe")
	retentionLine := findLine(t, src, "retention_days: 365")
	src = replaceLine(t, src, "  email: seguridad@notificaciones.andinatel.com.pe", `  email: "security@"`)
	src = replaceLine(t, src, "retention_days: 365", "retention_days: 0")
	_, err := parseString(src)
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 ||
		!strings.HasPrefix(lines[0], fmt.Sprintf("campaign.yaml:%d: sender.email: ", emailLine)) ||
		!strings.HasPrefix(lines[1], fmt.Sprintf("campaign.yaml:%d: retention_days: ", retentionLine)) {
		t.Errorf("error:\n%s", err)
	}
	if len(fe.Problems) != 2 || fe.Problems[0].Field != "sender.email" || fe.Problems[1].Field != "retention_days" {
		t.Errorf("problems %+v", fe.Problems)
	}
}

// TestParse_MissingFieldReportsParentLine: a field that is not there has no line of its own,
// so the error points at its parent, the block it belongs in.
func TestParse_MissingFieldReportsParentLine(t *testing.T) {
	src := exampleCampaign(t)
	tests := []struct {
		name    string
		remove  []string // lines to delete
		parent  string   // the line the error must point at
		problem string
	}{
		{"sender.name", []string{"  name: Andina Telecom – Seguridad de la Información"}, "sender:", "sender.name: is required"},
		{"organization.support_phone", []string{`  support_phone: "+51 1 311 5000"`}, "organization:", "organization.support_phone: is required"},
		{"offer.provider", []string{"  provider: CustodiaID"}, "offer:", "offer.provider: is required"},
		{"organization.dpo with gdpr", []string{"  dpo:", "    name: Lucía Paredes Villanueva", "    email: dpo@andinatel.com.pe",
			`    phone: "+51 1 311 5090"`, "    address: Av. Paseo de la República 3211, San Isidro, Lima 15047, Perú"},
			"organization:", "organization.dpo: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := src
			for _, l := range tt.remove {
				edited = replaceLine(t, edited, l)
			}
			// The parent is above the removed lines, so its number does not change.
			line := findLine(t, edited, tt.parent)
			_, err := parseString(edited)
			if err == nil {
				t.Fatal("no error")
			}
			want := fmt.Sprintf("campaign.yaml:%d: %s", line, tt.problem)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q\nwant %q (line %d is %q)", err, want, line, tt.parent)
			}
		})
	}

	// A missing per-locale text points at the map it is missing from. The summary's French
	// text is relabelled German, a locale the campaign does not offer.
	summary := findLine(t, src, "  summary:")
	lines := strings.Split(src, "\n")
	de := 0
	for i := summary; i < len(lines); i++ {
		if lines[i] == "    fr: >-" {
			lines[i], de = "    de: >-", i+1
			break
		}
	}
	_, err := parseString(strings.Join(lines, "\n"))
	for _, want := range []string{
		fmt.Sprintf("campaign.yaml:%d: incident.summary.de: locale \"de\" is not one of the offered locales", de),
		fmt.Sprintf("campaign.yaml:%d: incident.summary.fr: is required for every offered locale", summary),
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant a line %q", err, want)
		}
	}
}

// TestParse_MissingTopLevelFieldIsReported: a top-level field has no parent line to point at,
// but is still named.
func TestParse_MissingTopLevelFieldIsReported(t *testing.T) {
	src := exampleCampaign(t)
	_, err := parseString(replaceLine(t, src, "retention_days: 365"))
	if err == nil || !strings.HasPrefix(err.Error(), "campaign.yaml:") || !strings.Contains(err.Error(), "retention_days: must be between 1 and 3650") {
		t.Errorf("error %v", err)
	}
}

// TestParse_BadDateReportsItsLine: a date in the wrong format is a mistake at a line like any
// other.
func TestParse_BadDateReportsItsLine(t *testing.T) {
	src := exampleCampaign(t)
	line := findLine(t, src, "  occurred_from: 2026-10-24")
	_, err := parseString(replaceLine(t, src, "  occurred_from: 2026-10-24", "  occurred_from: 24/10/2026"))
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("error %q does not explain the format", err)
	}
	if want := fmt.Sprintf("campaign.yaml:%d: ", line); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q\nwant it to start with %q", err, want)
	}
}

func TestParse_WholeFileErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty", "", "campaign.yaml: file is empty"},
		{"only whitespace", " \n\n\t\n", "campaign.yaml"},
		{"only comments", "# TODO: write the campaign\n", "campaign.yaml: file is empty"},
		{"a list, not a mapping", "- name: x\n", "campaign.yaml:1: "},
		{"a scalar, not a mapping", "just some text\n", "campaign.yaml:1: "},
		{"too large", "# " + strings.Repeat("x", MaxSize) + "\n", "larger than 1024 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, raw, err := Parse("campaign.yaml", bytes.NewReader([]byte(tt.src)))
			if err == nil {
				t.Fatalf("no error; campaign %+v", c)
			}
			if c != nil || raw != nil {
				t.Error("a campaign or its bytes returned with an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if code := breach.ErrorCode(err); code != breach.EINVALID {
				t.Errorf("ErrorCode = %q, want invalid", code)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestParse_ReadErrorIsNotTheFilesFault: an I/O error is not reported as a mistake in the file.
func TestParse_ReadErrorIsNotTheFilesFault(t *testing.T) {
	_, _, err := Parse("campaign.yaml", failingReader{})
	var fe *Error
	if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{File: "c.yaml", Problems: []Problem{
		{Line: 3, Field: "sender.email", Message: "bad"},
		{Field: "name", Message: "is required"},
		{Line: 7, Message: "syntax"},
	}}
	want := "c.yaml:3: sender.email: bad\nc.yaml: name: is required\nc.yaml:7: syntax"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

// quietHours returns the example campaign with its quiet hours block set to lines.
func quietHours(t *testing.T, lines ...string) string {
	t.Helper()
	return replaceLine(t, exampleCampaign(t), "  max_segments: 3", append([]string{"  max_segments: 3", "  quiet_hours:"}, lines...)...)
}

func TestParse_QuietHoursAcrossMidnightAreKept(t *testing.T) {
	c, err := parseString(quietHours(t, `    start: "21:00"`, `    end: "08:00"`, `    time_zone: America/Lima`))
	if err != nil {
		t.Fatal(err)
	}
	q := c.SMS.QuietHours
	if q == nil || q.Start != "21:00" || q.End != "08:00" || q.TimeZone != "America/Lima" {
		t.Fatalf("quiet hours = %+v", q)
	}
	if _, err := q.Window(); err != nil {
		t.Errorf("Window: %v", err)
	}
}

func TestParse_ExampleSendsSMSAtAnyHour(t *testing.T) {
	c, err := parseString(exampleCampaign(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMS.QuietHours != nil {
		t.Errorf("the example's quiet hours are on (%+v): its quick start would hold SMS at night", c.SMS.QuietHours)
	}
}

func TestParse_BadQuietHoursNameTheFieldAndLine(t *testing.T) {
	src := exampleCampaign(t)
	at := findLine(t, src, "  max_segments: 3") + 1 // the quiet_hours: line
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{`    start: "9pm"`, `    end: "08:00"`}, fmt.Sprintf(`campaign.yaml:%d: sms.quiet_hours.start: "9pm" is not a time of day in HH:MM form`, at+1)},
		{[]string{`    start: "21:00"`, `    end: "24:00"`}, fmt.Sprintf(`campaign.yaml:%d: sms.quiet_hours.end: "24:00" is not a time of day`, at+2)},
		{[]string{`    start: "21:00"`, `    end: "21:00"`}, fmt.Sprintf(`campaign.yaml:%d: sms.quiet_hours: start and end are both 21:00`, at)},
		{[]string{`    start: "21:00"`}, fmt.Sprintf(`campaign.yaml:%d: sms.quiet_hours.end: is required`, at)},
		{[]string{`    start: "21:00"`, `    end: "08:00"`, `    time_zone: Lima`}, fmt.Sprintf(`campaign.yaml:%d: sms.quiet_hours.time_zone: "Lima" is not a time zone`, at+3)},
		{[]string{`    start: "21:00"`, `    end: "08:00"`, `    timezone: UTC`}, `unknown field "timezone"`},
	} {
		_, err := parseString(quietHours(t, tc.lines...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.lines, err, tc.want)
		}
	}
}

// YAML's escapes put control characters into a double-quoted value; a NUL cannot be stored
// (the upload failed as an internal error) and none has a place in a notice: each is refused
// with its line.
func TestParse_ControlCharactersInAValueAreRefusedWithTheirLine(t *testing.T) {
	src := exampleCampaign(t)
	for _, esc := range []string{`\0`, `\x1b[31m`, `\u0007`, `\x85`} {
		bad := strings.Replace(src, "\n  name: Andina Telecom S.A.A.\n", "\n  name: \"Andina"+esc+" Telecom\"\n", 1)
		c, _, err := Parse("campaign.yaml", strings.NewReader(bad))
		if err == nil || breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), "campaign.yaml:15: ") || !strings.Contains(err.Error(), "control character") {
			t.Errorf("organization name with %s: campaign %v, error %v; want EINVALID at line 15", esc, c != nil, err)
		}
	}
	if _, _, err := Parse("campaign.yaml", strings.NewReader(strings.Replace(src, "\n  name: Andina Telecom S.A.A.\n", "\n  name: \"Andina\\tTelecom\"\n", 1))); err != nil {
		t.Errorf("a tab: %v", err)
	}
}

// TestParse_IncidentDatesInTheFutureOrOutOfOrderAreRefused: the regulator report counts every
// deadline from the incident's dates, so a discovery typed a year ahead (deadlines a year late)
// or before the breach began (two dates swapped) is refused at its line. The latest date
// anywhere (UTC+14; tomorrow in UTC for most of the day) is kept.
func TestParse_IncidentDatesInTheFutureOrOutOfOrderAreRefused(t *testing.T) {
	src := exampleCampaign(t)
	const discovered = "  discovered_on: 2026-11-12"
	line := findLine(t, src, discovered)
	// 09:30 UTC on 20 November: 23:30 at UTC+14, the latest date anywhere is still the 20th.
	now := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	parse := func(value string) error {
		_, _, err := ParseAt("campaign.yaml", strings.NewReader(replaceLine(t, src, discovered, "  discovered_on: "+value)), now)
		return err
	}
	for _, tt := range []struct {
		name, value, want string
	}{
		{"a year ahead", "2027-11-20", "is in the future"},
		{"the day after the latest date anywhere", "2026-11-21", "is in the future"},
		{"before the breach began", "2026-10-23", "before occurred_from 2026-10-24"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := parse(tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if want := fmt.Sprintf("campaign.yaml:%d: incident.discovered_on: ", line); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q\nwant it to start with %q", err, want)
			}
		})
	}
	if err := parse("2026-11-20"); err != nil {
		t.Errorf("discovered today: %v", err)
	}
	now = now.Add(30 * time.Minute) // 10:00 UTC: the 21st has begun at UTC+14
	if err := parse("2026-11-21"); err != nil {
		t.Errorf("discovered on the 21st, at 10:00 UTC on the 20th: %v", err)
	}
}

// A year typed 0026 or 1926 would put every deadline decades early: dates before 1970 are
// refused. And a file's every problem comes in one answer, the dates' with the others', so
// that it is not mended in two rounds.
func TestParse_AnIncidentDateCenturiesAgoIsRefusedWithTheFilesOtherProblems(t *testing.T) {
	src := exampleCampaign(t)
	now := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	const occurred = "  occurred_from: 2026-10-24"
	findLine(t, src, occurred)
	for _, year := range []string{"0026-10-24", "1926-10-24", "1969-12-31"} {
		_, _, err := ParseAt("campaign.yaml", strings.NewReader(replaceLine(t, src, occurred, "  occurred_from: "+year)), now)
		if err == nil || !strings.Contains(err.Error(), "incident.occurred_from") || !strings.Contains(err.Error(), "is before 1970-01-01") {
			t.Errorf("occurred_from %s: %v, want it refused as before 1970", year, err)
		}
	}
	const phone = `  support_phone: "+51 1 311 5000"`
	findLine(t, src, phone)
	bad := replaceLine(t, replaceLine(t, src, phone, `  support_phone: ""`), "  discovered_on: 2026-11-12", "  discovered_on: 2027-11-12")
	_, _, err := ParseAt("campaign.yaml", strings.NewReader(bad), now)
	var fileErr *Error
	if !errors.As(err, &fileErr) || len(fileErr.Problems) != 2 {
		t.Fatalf("a file with an empty support phone and a discovery a year ahead: %v, want both problems at once", err)
	}
}
