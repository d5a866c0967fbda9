package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/regulator"
)

// regulatorList writes the issue's list — 501 Californians, 499 Floridians, 20 people in
// Massachusetts, 1,001 Koreans and 10 Germans — to a file and returns its path. The example
// campaign's notices follow gdpr, us-ca, us-ma and kr-pipa, not Florida's law: the Floridians
// are counted for Florida all the same.
func regulatorList(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("customer_id,email,country,state,postal_code,exposed\n")
	add := func(prefix string, n int, country, state, zip string) {
		for i := range n {
			fmt.Fprintf(&b, "%s-%d,%s%d@example.com,%s,%s,%s,name|email\n", prefix, i, strings.ToLower(prefix), i, country, state, zip)
		}
	}
	add("CA", 401, "US", "CA", "")
	add("CAN", 100, "US", "California", "")
	add("FL", 499, "", "FL", "")
	add("MA", 20, "US", "", "02139")
	add("KR", 1001, "KR", "", "")
	add("DE", 10, "DE", "", "")
	path := filepath.Join(t.TempDir(), "regulators.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDoors_RegulatorReportIsTheSameThroughEveryDoor: `report regulators --json`, GET
// …/regulators and the console's page give the same report on the issue's list — the
// California AG, the Massachusetts AG and Korea's PIPC required with those counts, Florida's AG
// not, every obligation with a source and a deadline — and the same documents, and each door
// leaves the same audit rows.
func TestDoors_RegulatorReportIsTheSameThroughEveryDoor(t *testing.T) {
	env := newDoorEnv(t)
	cli, api, console := cliDoor{env}, apiDoor{env}, consoleDoor{env}
	id := cli.create(t)
	cli.importList(t, id, regulatorList(t))
	audited := func() []string { return env.auditTrail(t, id) }

	// The command line.
	before := len(audited())
	out := cli.run(t, "report", "regulators", "--campaign", id, "--cost-usd", "300000", "--json")
	var fromCLI map[string]any
	if err := json.Unmarshal([]byte(out), &fromCLI); err != nil {
		t.Fatalf("report regulators --json: %v\n%.500s", err, out)
	}
	checkIssueReport(t, []byte(out))
	dir := t.TempDir()
	cli.run(t, "report", "samples", "--campaign", id, "--out", dir)
	entries, _ := os.ReadDir(dir)
	var cliFiles []string
	for _, e := range entries {
		cliFiles = append(cliFiles, e.Name())
	}
	cliRows := audited()[before:]
	if text := cli.run(t, "report", "regulators", "--campaign", id); !strings.Contains(text, "California Attorney General") || !strings.Contains(text, "Substitute notice does not apply") {
		t.Errorf("the table:\n%s", text)
	}

	// The API.
	before = len(audited())
	body := api.call(t, "GET", "/api/v1/campaigns/"+id+"/regulators?cost_usd=300000", "", nil, http.StatusOK)
	var fromAPI map[string]any
	if err := json.Unmarshal([]byte(body), &fromAPI); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromCLI, fromAPI) {
		t.Errorf("the API's report differs from the command line's:\n%.2000s\nwant\n%.2000s", body, out)
	}
	var samples struct {
		Samples []struct{ File string }
		Website []struct{ File string }
	}
	json.Unmarshal([]byte(api.call(t, "GET", "/api/v1/campaigns/"+id+"/regulators/samples", "", nil, http.StatusOK)), &samples)
	var apiFiles []string
	for _, s := range samples.Samples {
		apiFiles = append(apiFiles, s.File)
	}
	for _, s := range samples.Website {
		apiFiles = append(apiFiles, s.File)
	}
	apiRows := audited()[before:]

	// The console.
	before = len(audited())
	page := console.get(t, "/campaigns/"+id+"/regulators?cost_usd=300000", http.StatusOK)
	for rule, want := range map[string]string{"us-ca-ag": "<strong>yes</strong>", "us-ma-ag": "<strong>yes</strong>", "kr-pipc": "<strong>yes</strong>", "us-fl-ag": "<td>no</td>"} {
		row := regexp.MustCompile(`(?s)<tr id="o-` + rule + `">.*?</tr>`).FindString(page)
		if !strings.Contains(row, want) {
			t.Errorf("the console's row of %s lacks %q:\n%s", rule, want, row)
		}
	}
	for _, n := range []string{">501<", ">499<", ">20<", ">1001<", ">10<", `id="affected">2031<`} {
		if !strings.Contains(page, n) {
			t.Errorf("the console's page lacks %s", n)
		}
	}
	docs := console.get(t, "/campaigns/"+id+"/regulators/samples", http.StatusOK)
	var consoleFiles []string
	for _, m := range regexp.MustCompile(`regulators/samples/([a-zA-Z0-9.-]+\.html)"`).FindAllStringSubmatch(docs, -1) {
		consoleFiles = append(consoleFiles, m[1])
	}
	consoleRows := audited()[before:]

	slices.Sort(cliFiles)
	slices.Sort(apiFiles)
	slices.Sort(consoleFiles)
	if !slices.Contains(cliFiles, "notice-US-CA-en.html") || !slices.Contains(cliFiles, "website-ko.html") ||
		!slices.Equal(cliFiles, apiFiles) || !slices.Equal(cliFiles, consoleFiles) {
		t.Errorf("documents: cli %v, api %v, console %v", cliFiles, apiFiles, consoleFiles)
	}
	if len(cliRows) != 2 || !slices.Equal(cliRows, apiRows) || !slices.Equal(cliRows, consoleRows) {
		t.Errorf("audit rows differ:\ncli     %q\napi     %q\nconsole %q", cliRows, apiRows, consoleRows)
	}
}

// checkIssueReport holds a report in JSON to the issue's "done when".
func checkIssueReport(t *testing.T, b []byte) {
	t.Helper()
	var rep struct {
		Affected    int64
		Obligations []struct {
			ID       string
			Required bool
			Affected int64
			Source   string
			Deadline struct{ Date, Rule string }
		}
		SubstituteNotice struct{ Applies bool } `json:"substitute_notice"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		required bool
		affected int64
	}{"us-ca-ag": {true, 501}, "us-ma-ag": {true, 20}, "kr-pipc": {true, 1001}, "us-fl-ag": {false, 499}}
	seen := 0
	for _, o := range rep.Obligations {
		if o.Source == "" || o.Deadline.Date == "" || o.Deadline.Rule == "" {
			t.Errorf("%s: source %q, deadline %+v", o.ID, o.Source, o.Deadline)
		}
		if w, ok := want[o.ID]; ok {
			seen++
			if o.Required != w.required || o.Affected != w.affected {
				t.Errorf("%s: required %v with %d, want %v with %d", o.ID, o.Required, o.Affected, w.required, w.affected)
			}
		}
	}
	if rep.Affected != 2031 || seen != len(want) || !rep.SubstituteNotice.Applies {
		t.Errorf("affected %d, %d of the issue's obligations, substitute notice %v", rep.Affected, seen, rep.SubstituteNotice.Applies)
	}
}

// The table says why an obligation under its threshold is required all the same (Korea's PIPC
// when a unique identifier was exposed), as --json's "why" does: a bare YES under "1,000 or
// more" beside a count of 6 reads as a mistake.
func TestPrintRegulatorReport_ARequiredObligationUnderItsThresholdSaysWhy(t *testing.T) {
	rep := &regulator.Report{CampaignID: "c", Obligations: []regulator.Obligation{
		{ID: "kr-pipc", Jurisdiction: "KR", Regulator: "PIPC", Affected: 6, Required: true,
			Threshold: regulator.Threshold{Compare: ">=", Count: 1000, Text: "1,000 or more"},
			Why:       "not 1,000 or more, but national_id was exposed, which makes it required whatever the count"},
		{ID: "us-ca-ag", Jurisdiction: "US-CA", Regulator: "California Attorney General", Affected: 501, Required: true,
			Threshold: regulator.Threshold{Compare: ">", Count: 500, Text: "more than 500"}, Why: "501 affected: more than 500"},
	}}
	var b strings.Builder
	if err := printRegulatorReport(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "YES [1]") || !strings.Contains(out, "[1] required although the count is under the threshold: not 1,000 or more, but national_id was exposed") {
		t.Errorf("the PIPC row does not say why it is required:\n%s", out)
	}
	if strings.Contains(out, "YES [2]") {
		t.Errorf("an obligation required by its count got a footnote:\n%s", out)
	}
}
