package postgres_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/regulator"
)

// TestResidenceCounts_GroupsByWhereTheListSaysPeopleLive: the jurisdiction the importer made of
// a US state code, a state's name, a region, a ZIP code's first three digits, a country, and
// nothing — one group each, with no one's address.
func TestResidenceCounts_GroupsByWhereTheListSaysPeopleLive(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	mustImport(t, db, c, "customer_id,email,country,state,region,postal_code\n"+
		"C1,c1@example.com,US,CA,,\n"+
		"C2,c2@example.com,US,ca,,90210\n"+
		"C3,c3@example.com,US,California,,\n"+
		"C4,c4@example.com,US,,,02139-4307\n"+
		"C5,c5@example.com,US,,TX,\n"+
		"C6,c6@example.com,KR,,,\n"+
		"C7,c7@example.com,PE,Arequipa,Arequipa,04001\n"+
		"C8,c8@example.com,,,,\n")
	counts, err := db.ResidenceCounts(t.Context(), c.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ country, jurisdiction, region, postal string }
	got := map[key]int64{}
	for _, rc := range counts {
		got[key{rc.Country, rc.Jurisdiction, rc.Region, rc.PostalCode}] += rc.Recipients
		if rc.Exposed == 0 || rc.NoContact != 0 {
			t.Errorf("%+v: no exposed categories, or people without contact", rc)
		}
	}
	want := map[key]int64{
		// The state column makes the jurisdiction and stays the state, as the list wrote it.
		{"US", "us-ca", "CA", ""}:         1,
		{"US", "us-ca", "ca", "902"}:      1, // a ZIP code beside the state: read, the state wins (regulator.locate)
		{"US", "us-ca", "California", ""}: 1, // a state's name gives its profile too
		{"US", "", "", "021"}:             1,
		{"US", "", "TX", ""}:              1,
		{"KR", "", "", ""}:                1,
		{"PE", "", "", ""}:                1,
		{"", "", "", ""}:                  1,
	}
	if len(got) != len(want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%+v: %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if none, err := db.ResidenceCounts(t.Context(), newCampaign(t, db).ID, false, true); err != nil || len(none) != 0 {
		t.Errorf("a campaign without a list: %v, %v", none, err)
	}
}

// unreached sums the residence counts' recipients, failed and suppressed.
func unreached(t *testing.T, db *postgres.DB, campaignID string, outcomes bool) (recipients, failed, suppressed int64) {
	t.Helper()
	counts, err := db.ResidenceCounts(t.Context(), campaignID, outcomes, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range counts {
		recipients, failed, suppressed = recipients+rc.Recipients, failed+rc.Failed, suppressed+rc.Suppressed
	}
	return recipients, failed, suppressed
}

// TestResidenceCounts_OutcomesCountThoseEveryNoticeFailedForOrWasSuppressed: failed and bounced
// count as unreached, a suppressed address apart, a notice sent or still queued as not; without
// outcomes, none are counted.
func TestResidenceCounts_OutcomesCountThoseEveryNoticeFailedForOrWasSuppressed(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := runningCampaign(t, db, "customer_id,email,phone\n"+
		"R1,r1@example.com,\n"+
		"R2,r2@example.com,\n"+
		"R3,r3@example.com,\n"+
		"R4,r4@example.com,\n"+
		"R5,r5@example.com,\n"+
		"R6,r6@example.com,+51987654321\n", 100)
	if err := db.Suppress(ctx, breach.ChannelEmail, "r4@example.com", "test", "opted out", c.ID); err != nil {
		t.Fatal(err)
	}
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, true, func(cl breach.Claim) *breach.Outcome {
		switch cl.Recipient.CustomerID {
		case "R1", "R6":
			return &breach.Outcome{State: breach.DeliveryFailed, Error: "550 no such user"}
		case "R2":
			return &breach.Outcome{State: breach.DeliveryBounced, Error: "bounced"}
		case "R3":
			return sent(cl)
		}
		return nil // R5 stays queued
	})
	// R6's SMS fallback is queued: not unreached.
	if n, failed, suppressed := unreached(t, db, c.ID, true); n != 6 || failed != 2 || suppressed != 1 {
		t.Errorf("recipients %d, failed %d, suppressed %d; want 6, 2, 1", n, failed, suppressed)
	}
	if n, failed, suppressed := unreached(t, db, c.ID, false); n != 6 || failed != 0 || suppressed != 0 {
		t.Errorf("without outcomes: recipients %d, failed %d, suppressed %d; want 6, 0, 0", n, failed, suppressed)
	}
	st, err := db.CampaignStatus(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.ByChannel[breach.ChannelEmail][breach.DeliverySuppressed]; n != 1 {
		t.Errorf("suppressed emails: %d (the address was suppressed before its claim)", n)
	}
}

// TestResidenceCounts_ZIPCodeThatLostItsLeadingZerosKeepsItsState: a ZIP code column that a
// spreadsheet read as a number lost its leading zeros — 02139 (Cambridge, MA) became 2139,
// 00501 (Holtsville, NY) 501 — and its first three digits are another state's (213 is
// Maryland's): the prefix is read from the ZIP code as five digits again. What is no ZIP code
// gives no prefix.
func TestResidenceCounts_ZIPCodeThatLostItsLeadingZerosKeepsItsState(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	mustImport(t, db, c, "customer_id,email,country,zip\n"+
		"Z1,z1@example.com,US,2139\n"+
		"Z2,z2@example.com,US,02139\n"+
		"Z3,z3@example.com,US,2139-4307\n"+
		"Z4,z4@example.com,US,501\n"+
		"Z5,z5@example.com,US,90210\n"+
		"Z6,z6@example.com,US,n/a\n")
	counts, err := db.ResidenceCounts(t.Context(), c.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, rc := range counts {
		got[rc.PostalCode] += rc.Recipients
	}
	want := map[string]int64{"021": 3, "005": 1, "902": 1, "": 1}
	if len(got) != len(want) {
		t.Errorf("ZIP prefixes %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("prefix %q: %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

// TestResidenceCounts_AnAddressOfNoCountryRowIsInTheAddresssCountry: a domestic Italian list
// has no country column; its addresses are Italian (the campaign's default country) and their
// region is the province, two letters: Milano's MI, Varese's VA. Read as a row of no country,
// MI was Michigan and VA Virginia; the row is in its address's country, Italy, and no US state
// is read from a region that is not a US address's.
func TestResidenceCounts_AnAddressOfNoCountryRowIsInTheAddresssCountry(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	c.DefaultCountry = "IT"
	mustImport(t, db, c, "customer_id,email,address_line1,city,region,postal_code\n"+
		"I1,i1@example.com,Via Roma 1,Milano,MI,20121\n"+
		"I2,i2@example.com,Via Dandolo 2,Varese,VA,21100\n"+
		"I3,i3@example.com,,,,\n")
	counts, err := db.ResidenceCounts(t.Context(), c.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[[3]string]int64{}
	for _, rc := range counts {
		got[[3]string{rc.Country, rc.Region, rc.PostalCode}] += rc.Recipients
	}
	if want := map[[3]string]int64{{"IT", "", ""}: 2, {"", "", ""}: 1}; len(got) != len(want) || got[[3]string{"IT", "", ""}] != 2 {
		t.Errorf("groups %v, want %v", got, want)
	}
}

// TestResidenceCounts_OnlyAnAddressIsByPost: a customer the list gives only a postal address
// for is reached by a letter; when the campaign sends none (letter_policy none) nothing tells
// them, but the company holds their address, so they are counted by post — owed a letter —
// and not among those it lacks contact information for (no reason for substitute notice).
func TestResidenceCounts_OnlyAnAddressIsByPost(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	mustImport(t, db, c, "customer_id,email,country,state,address_line1,city,postal_code\n"+
		"P1,,US,CA,1 Main St,Sacramento,95814\n"+
		"P2,p2@example.com,US,CA,2 Main St,Sacramento,95814\n"+
		"P3,,US,FL,3 Ocean Dr,Miami,33139\n")
	for _, tc := range []struct {
		letters bool
		byPost  int64
	}{{true, 0}, {false, 2}} {
		counts, err := db.ResidenceCounts(t.Context(), c.ID, false, tc.letters)
		if err != nil {
			t.Fatal(err)
		}
		var noContact, byPost int64
		for _, rc := range counts {
			noContact, byPost = noContact+rc.NoContact, byPost+rc.ByPost
		}
		if noContact != 0 || byPost != tc.byPost {
			t.Errorf("letters %v: %d without contact and %d by post, want 0 and %d (%+v)", tc.letters, noContact, byPost, tc.byPost, counts)
		}
	}
}

// TestRejectedRows_CountsWhoIsOnNoList: rows an import rejected are counted once per
// customer_id, not when a later import brought the customer in, and those rejected for
// giving no contact at all or a contact field that did not read are told apart.
func TestRejectedRows_CountsWhoIsOnNoList(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	named := func(name, csv string) {
		t.Helper()
		if _, err := runImportNamed(t, db, c, name, csv); err != nil {
			t.Fatal(err)
		}
	}
	named("a.csv", "customer_id,email,phone,country\n"+
		"R1,,,US\n"+ // no contact at all
		"R2,john@@example,,US\n"+ // an email that does not read
		"R3,r3@example.com,,Atlantis\n"+ // a country that does not read
		"R4,r4@@example,,US\n"+ // fixed below
		",nobody@example.com,,US\n"+ // no customer_id
		"OK1,ok1@example.com,,US\n")
	named("b.csv", "customer_id,email\nR4,r4@example.com\nR1,\n")
	got, err := db.RejectedRows(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (breach.RejectedRows{Rows: 4, NoContact: 1, Contact: 1}); got != want {
		t.Errorf("rejected rows = %+v, want %+v (R1 once though rejected twice, R2, R3 and the row of no ID; not R4, imported since)", got, want)
	}
	// IDs Excel mangled are each someone: 30 rows of #N/A are 30 rows, not one customer; and
	// the same file imported again replaces its rows of no usable ID instead of adding to them.
	var b strings.Builder
	b.WriteString("customer_id,email\n")
	for i := range 30 {
		fmt.Fprintf(&b, "#N/A,na%d@example.com\n", i)
	}
	named("c.csv", b.String())
	named("c.csv", b.String())
	got, err = db.RejectedRows(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (breach.RejectedRows{Rows: 34, NoContact: 1, Contact: 1}); got != want {
		t.Errorf("after 30 rows of #N/A imported twice: rejected rows = %+v, want %+v", got, want)
	}
}

// stateCounts runs the regulator report on the campaign's residence counts and returns the
// affected people per US state, and its warnings.
func stateCounts(t *testing.T, db *postgres.DB, c *breach.Campaign) (map[string]int64, []string) {
	t.Helper()
	counts, err := db.ResidenceCounts(t.Context(), c.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	rep := regulator.Default().Report(regulator.Input{Counts: counts, Discovered: c.Incident.DiscoveredOn,
		DefaultCountry: c.DefaultCountry, Jurisdictions: c.Jurisdictions})
	got := map[string]int64{}
	for _, j := range rep.Jurisdictions {
		got[j.Jurisdiction] = j.Affected
	}
	return got, rep.Warnings
}

// TestResidenceCounts_AJurisdictionColumnDoesNotMoveAnyoneOutOfTheirState: counsel gives
// everyone in the US California's notice (the strictest) in a jurisdiction column; the
// Floridians still count for Florida, a Floridian with the GDPR profile too, and someone the
// list says nothing else of counts where their profile is.
func TestResidenceCounts_AJurisdictionColumnDoesNotMoveAnyoneOutOfTheirState(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	mustImport(t, db, c, "customer_id,email,country,state,zip,jurisdiction\n"+
		"F1,f1@example.com,US,FL,,us-ca\n"+
		"F2,f2@example.com,US,FL,,gdpr\n"+
		"F3,f3@example.com,US,Florida,,us-ca\n"+
		"F4,f4@example.com,US,,33101,us-ca\n"+
		"C1,c1@example.com,US,,,us-ca\n")
	got, _ := stateCounts(t, db, c)
	if got["US-FL"] != 4 || got["US-CA"] != 1 {
		t.Errorf("Florida %d (want 4), California %d (want 1): %v", got["US-FL"], got["US-CA"], got)
	}
}

// TestResidenceCounts_ARegionThatIsNoStateLeavesTheZIPCodeToSay: a CRM's `region` is a sales
// territory, an address's `county` its county; the ZIP code beside them names the state, and
// no one who has one is reported as having none.
func TestResidenceCounts_ARegionThatIsNoStateLeavesTheZIPCodeToSay(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	mustImport(t, db, c, "customer_id,email,country,region,zip\n"+
		"S1,s1@example.com,US,West,90210\n"+
		"S2,s2@example.com,US,Southeast,33101\n"+
		"S3,s3@example.com,US,,33101\n")
	mustImport(t, db, c, "customer_id,email,country,address_line1,city,county,zip\n"+
		"A1,a1@example.com,US,1 Main St,Miami,Miami-Dade,33101\n")
	got, warnings := stateCounts(t, db, c)
	if got["US-FL"] != 3 || got["US-CA"] != 1 {
		t.Errorf("Florida %d (want 3), California %d (want 1): %v", got["US-FL"], got["US-CA"], got)
	}
	for _, w := range warnings {
		if strings.Contains(w, "no state, region or ZIP code") {
			t.Errorf("warning for people who have a ZIP code: %q", w)
		}
	}
}

// TestResidenceCounts_ZIPCodesOfTerritoriesAndFreelyAssociatedStates: 969 is Guam's and the
// Northern Mariana Islands' prefix, and Palau's and the Marshall Islands', which are no part of
// the US: their five digits are read; and a state column holding a sales region is passed over
// for the value after it.
func TestResidenceCounts_ZIPCodesOfTerritoriesAndFreelyAssociatedStates(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	mustImport(t, db, c, "customer_id,email,country,state,address_line1,city,region,postal_code\n"+
		"G1,g1@example.com,US,,2 Marine Dr,Hagatna,GU,96910\n"+
		"P1,p1@example.com,US,,3 Main St,Koror,,96940\n"+
		"O1,o1@example.com,US,Pacific Northwest,1 Main St,Portland,OR,97201\n")
	got, _ := stateCounts(t, db, c)
	if got["US-GU"] != 1 || got["US-OR"] != 1 || got["US-HI"] != 0 || len(got) != 3 {
		t.Errorf("counts %v, want Guam 1, Oregon 1 and the Palauan ZIP code naming no state (US 1)", got)
	}
	counts, err := db.ResidenceCounts(t.Context(), c.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range counts {
		if rc.PostalCode == "972" && !slices.Equal(rc.Regions(), []string{"Pacific Northwest", "OR"}) {
			t.Errorf("Oregon's regions %q, want the state column's value, then the address's", rc.Regions())
		}
	}
}
