package operation_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/regulator"
)

// regulatorList is the issue's list: 501 Californians, 499 Floridians, 20 people in
// Massachusetts, 1,001 Koreans and 10 Germans — told apart as real lists do: a state code, a
// state's name, a ZIP code, a country.
func regulatorList() string {
	var b strings.Builder
	b.WriteString("customer_id,email,country,state,postal_code,exposed\n")
	row := func(id string, country, state, zip string) {
		fmt.Fprintf(&b, "%s,%s@example.com,%s,%s,%s,name|email\n", id, strings.ToLower(id), country, state, zip)
	}
	for i := range 501 {
		if i%5 == 0 {
			row(fmt.Sprintf("CA-%d", i), "US", "California", "")
		} else {
			row(fmt.Sprintf("CA-%d", i), "US", "CA", "")
		}
	}
	for i := range 499 {
		row(fmt.Sprintf("FL-%d", i), "", "FL", "")
	}
	for i := range 20 {
		row(fmt.Sprintf("MA-%d", i), "US", "", "02139")
	}
	for i := range 1001 {
		row(fmt.Sprintf("KR-%d", i), "KR", "", "")
	}
	for i := range 10 {
		row(fmt.Sprintf("DE-%d", i), "DE", "", "")
	}
	return b.String()
}

// regulatorCampaign creates the example campaign — whose notices follow gdpr, us-ca, us-ma and
// kr-pipa, not Florida's — and imports the issue's list into it.
func regulatorCampaign(t *testing.T, ops *operation.Service) *breach.Campaign {
	t.Helper()
	actor := breach.CLIActor("setup")
	c, err := ops.CreateCampaign(t.Context(), actor, "campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	imp, err := ops.Import(t.Context(), actor, c.ID, operation.ImportRequest{Filename: "regulators.csv", List: strings.NewReader(regulatorList())})
	if err != nil || imp.Accepted != 2031 {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	return c
}

// TestRegulatorReport_TheIssuesListThroughTheOperation: the California AG, the Massachusetts AG
// and Korea's PIPC are required with those counts, Florida's AG is not, and every obligation
// has a source and a deadline counted from the discovery date.
func TestRegulatorReport_TheIssuesListThroughTheOperation(t *testing.T) {
	ops, db := service(t)
	c := regulatorCampaign(t, ops)
	viewer := user("lena", breach.RoleViewer)
	rep, err := ops.RegulatorReport(t.Context(), viewer, c.ID, operation.RegulatorRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Affected != 2031 || rep.Unlocated != 0 || rep.DiscoveredOn != c.Incident.DiscoveredOn || rep.CampaignID != c.ID {
		t.Errorf("affected %d, unlocated %d, discovered %s", rep.Affected, rep.Unlocated, rep.DiscoveredOn)
	}
	byID := map[string]regulator.Obligation{}
	for _, o := range rep.Obligations {
		byID[o.ID] = o
		if o.Source == "" || o.Deadline.Date.IsZero() || o.Reviewed.IsZero() {
			t.Errorf("%s: source %q, deadline %s, reviewed %s", o.ID, o.Source, o.Deadline.Date, o.Reviewed)
		}
		if o.Deadline.Date.Before(c.Incident.DiscoveredOn) {
			t.Errorf("%s: due %s, before the discovery", o.ID, o.Deadline.Date)
		}
	}
	for id, want := range map[string]struct {
		required bool
		affected int64
	}{
		"us-ca-ag": {true, 501}, "us-ma-ag": {true, 20}, "kr-pipc": {true, 1001}, "us-fl-ag": {false, 499}, "eea-gdpr-art33": {true, 10},
	} {
		if o, ok := byID[id]; !ok || o.Required != want.required || o.Affected != want.affected {
			t.Errorf("%s: %+v, want required %v with %d affected", id, o, want.required, want.affected)
		}
	}
	if fl := byID["us-fl-ag"]; fl.Deadline.Date.String() != "2026-12-12" {
		t.Errorf("Florida's 30 days from the discovery on %s: %s", c.Incident.DiscoveredOn, fl.Deadline.Date)
	}
	sub := rep.SubstituteNotice
	if sub.Applies || sub.CostKnown || sub.SendingStarted || sub.Unreachable != 0 || len(sub.Notes) != 2 {
		t.Errorf("substitute notice: %+v", sub)
	}

	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: c.ID, Action: breach.ActionRegulatorReport})
	if err != nil || len(entries) != 1 || entries[0].Actor != "user:lena" {
		t.Fatalf("audit: %+v, %v", entries, err)
	}
	if d := string(entries[0].Detail); !strings.Contains(d, `"affected": 2031`) || !strings.Contains(d, `"substitute_notice": false`) {
		t.Errorf("audit detail %s", d)
	}
}

// TestRegulatorReport_CostEstimateAndRefusals: a cost over $250,000 makes substitute notice
// apply (every user may read the report: it takes the viewer role); a bad estimate and a
// non-canonical ID are refused before anything is read or written.
func TestRegulatorReport_CostEstimateAndRefusals(t *testing.T) {
	ops, db := service(t)
	c := regulatorCampaign(t, ops)
	ctx := t.Context()
	cost, err := operation.ParseCostUSD("$310,000")
	if err != nil || *cost != 310000 {
		t.Fatalf("parse: %v, %v", cost, err)
	}
	rep, err := ops.RegulatorReport(ctx, breach.CLIActor("counsel"), c.ID, operation.RegulatorRequest{CostUSD: cost})
	if err != nil || !rep.SubstituteNotice.Applies || !rep.SubstituteNotice.CostKnown || !strings.Contains(strings.Join(rep.SubstituteNotice.Reasons, " "), "310,000") {
		t.Errorf("with a cost of $310,000: %+v, %v", rep.SubstituteNotice, err)
	}
	// Written as Europe and Latin America write amounts, or with stray commas: refused, not
	// read as 300 or 15 (a review: 300.000,00 was $300, under substitute notice's threshold).
	for _, bad := range []string{"lots", "300.000,00", "1,5", "1,2,3", "1e6", "NaN", "Inf", "0x10", "310,00", "10.123"} {
		if _, err := operation.ParseCostUSD(bad); breach.ErrorCode(err) != breach.EINVALID {
			t.Errorf("a cost of %q: %v, want refused", bad, err)
		}
	}
	for text, want := range map[string]float64{"310000": 310000, "310,000.50": 310000.5, "1,250,000": 1250000, "$ 99.9": 99.9} {
		if got, err := operation.ParseCostUSD(text); err != nil || *got != want {
			t.Errorf("a cost of %q: %v, %v; want %v", text, got, err, want)
		}
	}
	// A door's query parameter of a megabyte comes back clipped, as every value a client sent.
	if _, err := operation.ParseCostUSD(strings.Repeat("9x", 1<<19)); breach.ErrorCode(err) != breach.EINVALID || len(err.Error()) > 200 {
		t.Errorf("a megabyte cost: %d bytes of error", len(err.Error()))
	}
	before := auditCount(t, db)
	negative, absurd := -1.0, 1e20
	for what, err := range map[string]error{
		// Beyond int64, the reason said "would cost $-9,223,372,036,854,775,808".
		"absurd cost": func() error {
			_, err := ops.RegulatorReport(ctx, breach.CLIActor("x"), c.ID, operation.RegulatorRequest{CostUSD: &absurd})
			return err
		}(),
		"negative cost": func() error {
			_, err := ops.RegulatorReport(ctx, breach.CLIActor("x"), c.ID, operation.RegulatorRequest{CostUSD: &negative})
			return err
		}(),
		"upper-case ID": func() error {
			_, err := ops.RegulatorReport(ctx, breach.CLIActor("x"), strings.ToUpper(c.ID), operation.RegulatorRequest{})
			return err
		}(),
		"samples, upper-case ID": func() error {
			_, err := ops.RegulatorSamples(ctx, breach.CLIActor("x"), strings.ToUpper(c.ID))
			return err
		}(),
	} {
		if breach.ErrorCode(err) != breach.EINVALID {
			t.Errorf("%s: %v, want EINVALID", what, err)
		}
	}
	if after := auditCount(t, db); after != before {
		t.Errorf("refused requests wrote %d audit rows", after-before)
	}
}

// TestRegulatorSamples_NoticesForTheRegulatorsThatAskAndTheWebsiteNoticeWithoutPersonalData:
// California's Attorney General asks for a sample copy: one per offered locale, in the
// California format, with placeholders; the website notice exists in every offered locale.
func TestRegulatorSamples_NoticesForTheRegulatorsThatAskAndTheWebsiteNoticeWithoutPersonalData(t *testing.T) {
	ops, db := service(t)
	c := regulatorCampaign(t, ops)
	s, err := ops.RegulatorSamples(t.Context(), user("lena", breach.RoleViewer), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ca []operation.SampleNotice
	for _, n := range s.Samples {
		if n.Jurisdiction == "US-CA" {
			ca = append(ca, n)
		}
		if n.Jurisdiction == "US-FL" {
			t.Errorf("a sample for Florida, whose threshold is not met: %s", n.File)
		}
		if !strings.Contains(n.HTML, "[NAME]") || !strings.Contains(n.HTML, "[REFERENCE]") || strings.Contains(n.HTML, "@example.com") {
			t.Errorf("%s: placeholders missing or personal data present", n.File)
		}
	}
	if len(ca) != len(c.Locales) || ca[0].Profile != "us-ca" || ca[0].File != "notice-US-CA-"+ca[0].Locale+".html" ||
		!strings.Contains(ca[0].Regulators[0], "California Attorney General") {
		t.Errorf("California's samples: %+v", ca)
	}
	// Every place where a regulator must be told has its residents' notice, per locale, for
	// counsel's filing, whether or not that regulator asks for a copy.
	rep, err := ops.RegulatorReport(t.Context(), user("lena", breach.RoleViewer), c.ID, operation.RegulatorRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.Obligations {
		if !o.Required {
			continue
		}
		for _, l := range c.Locales {
			i := slices.IndexFunc(s.Samples, func(n operation.SampleNotice) bool { return n.Jurisdiction == o.Jurisdiction && n.Locale == l })
			if i < 0 {
				t.Errorf("no %s sample for %s, where %s must be told", l, o.Jurisdiction, o.Regulator)
			} else if !slices.Contains(s.Samples[i].Required, o.Regulator) || s.Samples[i].Regulators == nil {
				t.Errorf("%s: required %q, copy for %q; want %s among the required", s.Samples[i].File, s.Samples[i].Required, s.Samples[i].Regulators, o.Regulator)
			}
		}
	}
	if len(s.Website) != len(c.Locales) {
		t.Errorf("website notices: %d for %d locales", len(s.Website), len(c.Locales))
	}
	for _, w := range s.Website {
		if html, err := s.File(w.File); err != nil || html != w.HTML || strings.Contains(w.HTML, "[REFERENCE]") {
			t.Errorf("%s: %v", w.File, err)
		}
		// Substitute notice is US law: the page follows the notice of the state with the most
		// affected residents (California's 501), not the campaign's default country (Peru).
		if w.Profile != "us-ca" {
			t.Errorf("%s follows %s, want us-ca", w.File, w.Profile)
		}
	}
	if _, err := s.File("../etc/passwd"); breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Errorf("an unknown file: %v", err)
	}
	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: c.ID, Action: breach.ActionRegulatorSamples})
	if err != nil || len(entries) != 1 {
		t.Errorf("audit: %+v, %v", entries, err)
	}
}

// TestRegulatorReport_NoticeDayIsTheEarliestDateTheNoticesWentOut: a campaign that started
// sending at 21:00 in California on 1 December (05:00 UTC on the 2nd) notified its residents
// on 1 December, and the California Attorney General's 15 days run from that day: 16 December,
// not the 17th that the UTC date gave.
func TestRegulatorReport_NoticeDayIsTheEarliestDateTheNoticesWentOut(t *testing.T) {
	ops, _ := service(t)
	c := regulatorCampaign(t, ops)
	conn := dbConn(t)
	if _, err := conn.Exec(t.Context(), `UPDATE campaigns SET started_at = '2026-12-02 05:00:00Z' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	rep, err := ops.RegulatorReport(t.Context(), user("lena", breach.RoleViewer), c.ID, operation.RegulatorRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.NotifiedOn.String() != "2026-12-01" {
		t.Errorf("notified on %s, want 2026-12-01", rep.NotifiedOn)
	}
	for _, o := range rep.Obligations {
		if o.ID == "us-ca-ag" && o.Deadline.Date.String() != "2026-12-16" {
			t.Errorf("us-ca-ag due %s (%s), want 2026-12-16", o.Deadline.Date, o.Deadline.Basis)
		}
	}
}

// TestRegulatorReport_PeopleOfNoCountryAreInTheDefaultCountry: a US campaign's list of ZIP
// codes without a country column counts its people toward the state of their ZIP code, and
// a Peruvian campaign's list without one toward Peru's ANPD, as the campaign's default_country
// says; neither is left "unlocated".
func TestRegulatorReport_PeopleOfNoCountryAreInTheDefaultCountry(t *testing.T) {
	ops, _ := service(t)
	actor := breach.CLIActor("setup")
	for _, tc := range []struct {
		country, list, rule string
	}{
		{"US", "customer_id,email,zip\nZ1,z1@example.com,02139\nZ2,z2@example.com,2139\n", "us-ma-ag"},
		{"PE", "customer_id,email\nP1,p1@example.com\nP2,p2@example.com\n", "pe-anpd"},
	} {
		yaml := strings.Replace(string(examples.Campaign), "\ndefault_country: PE\n", "\ndefault_country: "+tc.country+"\n", 1)
		c, err := ops.CreateCampaign(t.Context(), actor, "campaign.yaml", strings.NewReader(yaml))
		if err != nil || c.DefaultCountry != tc.country {
			t.Fatalf("%s: campaign %v, %v", tc.country, c, err)
		}
		if _, err := ops.Import(t.Context(), actor, c.ID, operation.ImportRequest{Filename: "list.csv", List: strings.NewReader(tc.list)}); err != nil {
			t.Fatal(err)
		}
		rep, err := ops.RegulatorReport(t.Context(), user("lena", breach.RoleViewer), c.ID, operation.RegulatorRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, o := range rep.Obligations {
			if o.ID == tc.rule {
				found = o.Required && o.Affected == 2
			}
		}
		if !found || rep.Unlocated != 0 {
			t.Errorf("%s: %s not required for 2 people (unlocated %d): %+v", tc.country, tc.rule, rep.Unlocated, rep.Jurisdictions)
		}
	}
}

// TestRegulatorReport_NoDiscoveryDateIsAnErrorNotDeadlinesOfYearOne: a campaign whose stored
// incident has no discovery date (written by hand, or by a release that did not require it)
// gets a clear error, not deadlines counted from 0001-01-01.
func TestRegulatorReport_NoDiscoveryDateIsAnErrorNotDeadlinesOfYearOne(t *testing.T) {
	ops, _ := service(t)
	c := regulatorCampaign(t, ops)
	conn := dbConn(t)
	if _, err := conn.Exec(t.Context(), `UPDATE campaigns SET spec = spec #- '{incident,discovered_on}' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	rep, err := ops.RegulatorReport(t.Context(), user("lena", breach.RoleViewer), c.ID, operation.RegulatorRequest{})
	if breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), "discovered_on") {
		t.Errorf("report %v, error %v; want EINVALID naming incident.discovered_on", rep != nil, err)
	}
}

// A campaign stored before its file's dates were checked may carry a discovery typed a year
// ahead, or before the breach began: the report still answers, and says that its deadlines
// count from a date that cannot be right.
func TestRegulatorReport_AnImpossibleStoredDiscoveryDateIsWarnedOf(t *testing.T) {
	ops, _ := service(t)
	c := regulatorCampaign(t, ops)
	conn := dbConn(t)
	for _, tt := range []struct{ date, want string }{
		{"2099-11-12", "after the day the campaign was created"},
		{"2026-01-02", "before the breach began"},
	} {
		if _, err := conn.Exec(t.Context(), `UPDATE campaigns SET spec = jsonb_set(spec, '{incident,discovered_on}', to_jsonb($2::text)) WHERE id = $1`, c.ID, tt.date); err != nil {
			t.Fatal(err)
		}
		rep, err := ops.RegulatorReport(t.Context(), user("lena", breach.RoleViewer), c.ID, operation.RegulatorRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, tt.want) && strings.Contains(w, tt.date) }) {
			t.Errorf("discovered %s: warnings %q, want one saying it is %s", tt.date, rep.Warnings, tt.want)
		}
	}
}

// The website notice follows the notice of the US state with the most affected residents —
// Massachusetts', for a list mostly of people there — not the US group's count of them all.
func TestRegulatorSamples_TheWebsiteNoticeFollowsTheStateWithTheMostResidents(t *testing.T) {
	ops, _ := service(t)
	c := draftWith(t, ops, breach.CLIActor("setup"),
		"customer_id,email,country,state\nM1,m1@example.com,US,MA\nM2,m2@example.com,US,MA\nM3,m3@example.com,US,MA\nK1,k1@example.com,US,CA\n")
	s, err := ops.RegulatorSamples(t.Context(), user("lena", breach.RoleViewer), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range s.Website {
		if w.Profile != "us-ma" {
			t.Errorf("%s follows %s, want us-ma (3 of the 4 live in Massachusetts)", w.File, w.Profile)
		}
	}
}

// TestRegulatorReport_WarnsOfAnotherCampaignOfTheSameBreach: two campaigns of one organization
// and discovery date may be one breach split in two, whose thresholds count everyone: each
// report names the other, until it is cancelled.
func TestRegulatorReport_WarnsOfAnotherCampaignOfTheSameBreach(t *testing.T) {
	ops, _ := service(t)
	c := regulatorCampaign(t, ops)
	other, err := ops.CreateCampaign(t.Context(), breach.CLIActor("setup"), "campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	names := func() bool {
		rep, err := ops.RegulatorReport(t.Context(), user("lena", breach.RoleViewer), c.ID, operation.RegulatorRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(rep.Warnings, func(w string) bool {
			return strings.Contains(w, other.ID) && strings.Contains(w, "same discovery date")
		})
	}
	if !names() {
		t.Errorf("the report does not name the other campaign of the same organization and discovery date")
	}
	if _, err := ops.MoveCampaign(t.Context(), breach.CLIActor("setup"), other.ID, operation.Cancel); err != nil {
		t.Fatal(err)
	}
	if names() {
		t.Errorf("the report still names the other campaign once cancelled")
	}
}

// TestRegulatorSample_ANameNoSampleHasIsRefusedBeforeTheReport: a name of no sample's form is
// not found without counting the list and rendering every sample, and a real one is served.
func TestRegulatorSample_ANameNoSampleHasIsRefusedBeforeTheReport(t *testing.T) {
	ops, _ := service(t)
	c := regulatorCampaign(t, ops)
	viewer := user("lena", breach.RoleViewer)
	for _, name := range []string{"x", "notice-US-CA-xx.html", "website-es.htm", "../../etc/passwd", strings.Repeat("notice-", 100) + "es.html"} {
		if _, err := ops.RegulatorSample(t.Context(), viewer, c.ID, name); breach.ErrorCode(err) != breach.ENOTFOUND {
			t.Errorf("%q: %v, want not found", name, err)
		}
	}
	if html, err := ops.RegulatorSample(t.Context(), viewer, c.ID, "website-"+c.Locales[0]+".html"); err != nil || !strings.Contains(html, "<html") {
		t.Errorf("the website notice: %v", err)
	}
}
