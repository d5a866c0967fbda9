package operation_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// postalOnly are the example list's customers reachable only by post.
var postalOnly = []string{"AT-100034", "AT-200007", "AT-300006", "AT-400007"}

// letterService is the operations as the letters run uses them: the real PDF writer and the
// renderer's letter text.
func letterService(t *testing.T) *operation.Service {
	t.Helper()
	ops, _ := service(t)
	return ops
}

// pdfText is a PDF's text as pdftotext (poppler-utils, which `make test` installs) extracts it;
// the test is skipped where it is missing.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return string(out)
}

// approvedExample creates the example campaign (its file's letter_policy replaced by policy
// when given), imports the example list and approves it.
func approvedExample(t *testing.T, ops *operation.Service, policy string) *breach.Campaign {
	t.Helper()
	file := examples.Campaign
	if policy != "" {
		file = bytes.Replace(file, []byte("letter_policy: unreachable"), []byte("letter_policy: "+policy), 1)
	}
	actor := breach.CLIActor("setup")
	c, err := ops.CreateCampaign(t.Context(), actor, "campaign.yaml", bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ops.Import(t.Context(), actor, c.ID, operation.ImportRequest{Filename: "customers.csv", List: bytes.NewReader(examples.Customers)}); err != nil {
		t.Fatal(err)
	}
	if c, err = ops.Approve(t.Context(), actor, c.ID, operation.ApproveRequest{}); err != nil || c.State != breach.CampaignApproved {
		t.Fatalf("approve: %v", err)
	}
	return c
}

// approvedWith creates the example campaign under letter_policy policy, imports list and
// approves it; with start, it also starts it, plans it and registers worker, for a test to
// claim and record its notices as that worker.
func approvedWith(t *testing.T, ops *operation.Service, db *postgres.DB, policy, list string, start bool, worker string) *breach.Campaign {
	t.Helper()
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	file := bytes.Replace(examples.Campaign, []byte("letter_policy: unreachable"), []byte("letter_policy: "+policy), 1)
	c, err := ops.CreateCampaign(ctx, actor, "campaign.yaml", bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ops.Import(ctx, actor, c.ID, operation.ImportRequest{Filename: "list.csv", List: strings.NewReader(list)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.Approve(ctx, actor, c.ID, operation.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}
	if !start {
		return c
	}
	if _, err := ops.MoveCampaign(ctx, actor, c.ID, operation.Start); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PlanCampaign(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterWorker(ctx, worker, "test", 1, ""); err != nil {
		t.Fatal(err)
	}
	return c
}

// readManifest reads a run's manifest.csv.
func readManifest(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The letters of the example campaign go to the customers reachable only by post, one PDF
// each and one manifest row each — none to a customer with an address whom email reaches — and
// are recorded printed, with an event; a second run writes the same letters and records
// nothing new.
func TestLetters_WritesOneLetterPerPostalOnlyCustomerAndRecordsThemPrinted(t *testing.T) {
	ops := letterService(t)
	c := approvedExample(t, ops, "")
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	if st, err := ops.Status(ctx, actor, c.ID); err != nil || st.ByChannel[breach.ChannelLetter][breach.DeliveryPending] != 4 ||
		st.ByLocale["ko"][breach.ChannelLetter][breach.DeliveryPending] != 1 {
		t.Errorf("before printing: letters %v (%v), want 4 pending, 1 in Korean", st.ByChannel[breach.ChannelLetter], err)
	}
	dir := filepath.Join(t.TempDir(), "run1")
	rep, err := ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Letters != 4 || rep.Printed != 4 || rep.Pages < 4 {
		t.Errorf("report %+v, want 4 letters, 4 printed, a page or more each", rep)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
	if len(files) != 4 {
		t.Fatalf("%d PDFs: %v", len(files), files)
	}
	rows := readManifest(t, filepath.Join(dir, "manifest.csv"))
	if len(rows) != 5 || !slices.Equal(rows[0][:3], []string{"customer_id", "reference", "name"}) || rows[0][len(rows[0])-1] != "file" {
		t.Fatalf("manifest: %q", rows)
	}
	var ids []string
	var pages int64
	for _, row := range rows[1:] {
		ids = append(ids, row[0])
		if row[1] != notice.Reference(testSecret, c.ID, row[0]) {
			t.Errorf("%s: reference %q", row[0], row[1])
		}
		path := filepath.Join(dir, row[len(row)-1])
		pdf, err := os.ReadFile(path)
		n, _ := strconv.Atoi(row[len(row)-2])
		if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) || n < 1 {
			t.Errorf("%s: file %s pages %s: %v", row[0], row[len(row)-1], row[len(row)-2], err)
			continue
		}
		pages += int64(n)
		// The letter says, in the customer's language, what their notice says, to them, at
		// their address, with their reference.
		r, err := ops.Store.Recipient(ctx, c.ID, row[0])
		if err != nil {
			t.Fatal(err)
		}
		want, err := ops.Renderer.Letter(c, r)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(pdfText(t, path)), " ")
		for _, s := range append([]string{row[1], want.Title, want.Sections[0].Heading}, row[2:8]...) {
			if s = strings.Join(strings.Fields(s), " "); s != "" && !strings.Contains(text, s) {
				t.Errorf("%s (%s): the letter's text lacks %q", row[0], want.Locale, s)
			}
		}
	}
	if pages != rep.Pages {
		t.Errorf("manifest pages add up to %d, the report says %d", pages, rep.Pages)
	}
	if !slices.Equal(ids, postalOnly) {
		t.Errorf("letters to %v, want %v (none to AT-200001, whom email reaches)", ids, postalOnly)
	}
	// The address block as printed, in the customer's country's order.
	us := rows[4]
	if !slices.Equal(us[2:8], []string{"Robert Miller", "1208 Maple Avenue", "Apt 4B", "SPRINGFIELD IL 62704", "UNITED STATES", ""}) {
		t.Errorf("US address block %q", us[2:8])
	}
	if kr := rows[3]; kr[2] != "윤도윤" || kr[3] != "서울특별시 강남구" || kr[5] != "06236" || kr[6] != "REPUBLIC OF KOREA" {
		t.Errorf("Korean address block %q", kr[2:8])
	}

	rec, err := ops.Recipient(ctx, actor, c.ID, "AT-300006")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Deliveries) != 1 || rec.Deliveries[0].Channel != breach.ChannelLetter || rec.Deliveries[0].State != breach.DeliveryPrinted ||
		!strings.Contains(rec.Deliveries[0].Address, "06236") || rec.Deliveries[0].Locale != "ko" {
		t.Errorf("deliveries %+v", rec.Deliveries)
	}
	if len(rec.Events) != 1 || rec.Events[0].State != breach.DeliveryPrinted || rec.Events[0].Source != "operator" {
		t.Errorf("events %+v", rec.Events)
	}
	st, err := ops.Status(ctx, actor, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.ByChannel[breach.ChannelLetter][breach.DeliveryPrinted] != 4 || st.ByChannel[breach.ChannelLetter][breach.DeliveryPending] != 0 || st.Remaining() != 45 {
		t.Errorf("status letters %v, remaining %d (want 4 printed; letters not among the 45 notices to send)", st.ByChannel[breach.ChannelLetter], st.Remaining())
	}

	// Again: the same letters, nothing new recorded.
	dir2 := filepath.Join(t.TempDir(), "run2")
	rep, err = ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir2}, nil })
	if err != nil || rep.Letters != 4 || rep.Printed != 0 {
		t.Fatalf("second run: %+v, %v; want the 4 letters again, none newly printed", rep, err)
	}
	if again := readManifest(t, filepath.Join(dir2, "manifest.csv")); !slices.EqualFunc(again, rows, slices.Equal) {
		t.Errorf("second manifest differs:\n%q\n%q", again, rows)
	}
	if rec, _ := ops.Recipient(ctx, actor, c.ID, "AT-300006"); len(rec.Events) != 1 {
		t.Errorf("after a second run: %d events", len(rec.Events))
	}
	// Into a directory that has them already: refused, nothing overwritten.
	if _, err := ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil }); err == nil {
		t.Error("a run into the last run's directory overwrote it")
	}
}

// Mailed and returned: the print vendor's "posted" moves every printed letter to mailed; a
// returned-mail file moves the letters it names (by customer_id or by the reference printed on
// them) to returned with their reason, and lists each line it could not use with why. Every
// move is an event, and the proof-of-notice export lists the letters.
func TestLetters_MailedThenReturnedWithLinesAndReasons(t *testing.T) {
	ops := letterService(t)
	c := approvedExample(t, ops, "")
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	if _, err := ops.LettersReturned(ctx, actor, c.ID, strings.NewReader("customer_id\nAT-400007\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) {
		return &operation.DirSink{Dir: t.TempDir()}, nil
	}); err != nil {
		t.Fatal(err)
	}
	mailed, err := ops.LettersMailed(ctx, actor, c.ID, true, nil)
	if err != nil || mailed.Moved != 4 {
		t.Fatalf("mailed: %+v, %v", mailed, err)
	}
	ref := notice.Reference(testSecret, c.ID, "AT-200007")
	file := "customer_id;reference;reason\n" +
		"AT-400007;;addressee unknown\n" +
		";" + strings.ToLower(strings.ReplaceAll(ref, "-", "")) + ";moved away\n" +
		"NOPE-1;;x\n" +
		"AT-100001;;x\n" +
		";ZZZZ-ZZZZ-ZZ;x\n" +
		"AT-100034;" + ref + ";x\n" +
		";;\n"
	got, err := ops.LettersReturned(ctx, actor, c.ID, strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if got.Moved != 2 {
		t.Errorf("returned %d, want 2", got.Moved)
	}
	want := map[int64]string{4: "no customer", 5: "has no letter", 6: "none of this campaign's letters", 7: "is not the reference of customer"}
	if len(got.Rejects) != len(want) {
		t.Errorf("rejects %+v, want lines 4-7", got.Rejects)
	}
	for _, r := range got.Rejects {
		if !strings.Contains(r.Reason, want[r.Line]) {
			t.Errorf("line %d: %q, want it to say %q", r.Line, r.Reason, want[r.Line])
		}
	}
	rec, err := ops.Recipient(ctx, actor, c.ID, "AT-400007")
	if err != nil {
		t.Fatal(err)
	}
	var states []breach.DeliveryState
	for _, e := range rec.Events {
		states = append(states, e.State)
	}
	if d := rec.Deliveries[0]; d.State != breach.DeliveryReturned || d.Error != "addressee unknown" || d.SentAt == nil ||
		!slices.Equal(states, []breach.DeliveryState{breach.DeliveryPrinted, breach.DeliveryMailed, breach.DeliveryReturned}) {
		t.Errorf("AT-400007: %+v, events %v", d, states)
	}
	// A mailed letter cannot be mailed twice, nor a returned one; printing again changes nothing.
	if again, err := ops.LettersMailed(ctx, actor, c.ID, true, nil); err != nil || again.Moved != 0 {
		t.Errorf("mailed again: %+v, %v", again, err)
	}
	st, _ := ops.Status(ctx, actor, c.ID)
	if l := st.ByChannel[breach.ChannelLetter]; l[breach.DeliveryMailed] != 2 || l[breach.DeliveryReturned] != 2 {
		t.Errorf("status letters %v", l)
	}
	var export bytes.Buffer
	if _, err := ops.Export(ctx, actor, c.ID, func(*breach.Campaign) (io.Writer, error) { return &export, nil }); err != nil {
		t.Fatal(err)
	}
	letters := 0
	for _, line := range strings.Split(export.String(), "\n") {
		if strings.Contains(line, ",letter,") {
			letters++
			if strings.HasPrefix(line, "AT-400007,") && (!strings.Contains(line, "Springfield") || !strings.Contains(line, ",returned,")) {
				t.Errorf("export line %s", line)
			}
		}
	}
	if letters != 4 {
		t.Errorf("export has %d letters, want 4:\n%s", letters, export.String())
	}
	audit, err := ops.Store.AuditLog(context.Background(), breach.AuditFilter{CampaignID: c.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range audit {
		counts[e.Action]++
	}
	if counts[breach.ActionLettersPrinted] != 2 || counts[breach.ActionLettersMailed] != 2 || counts[breach.ActionLettersReturned] != 2 {
		t.Errorf("audit %v", counts)
	}
}

// Under letter_policy all, a customer email reaches gets a letter too; under none there are no
// letters; a draft has none either.
func TestLetters_PolicyDecidesWhoGetsALetter(t *testing.T) {
	ops := letterService(t)
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	c := approvedExample(t, ops, "all")
	dir := t.TempDir()
	rep, err := ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil })
	if err != nil || rep.Letters != 5 {
		t.Fatalf("policy all: %+v, %v", rep, err)
	}
	if rows := readManifest(t, filepath.Join(dir, "manifest.csv")); rows[1][0] != "AT-200001" {
		t.Errorf("policy all: manifest %q", rows)
	}
	none := approvedExample(t, ops, "none")
	if _, err := ops.Letters(ctx, actor, none.ID, func(*breach.Campaign) (operation.LetterSink, error) {
		return &operation.DirSink{Dir: t.TempDir()}, nil
	}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("policy none: %v", err)
	}
	d := draft(t, ops, actor)
	if _, err := ops.Letters(ctx, actor, d.ID, func(*breach.Campaign) (operation.LetterSink, error) {
		return &operation.DirSink{Dir: t.TempDir()}, nil
	}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("a draft's letters: %v", err)
	}
	if _, err := ops.Letters(ctx, user("vera", breach.RoleViewer), c.ID, nil); breach.ErrorCode(err) != breach.EFORBIDDEN {
		t.Errorf("a viewer's letters: %v", err)
	}
}

// Under letter_policy fallback, a customer with an address gets a letter once their email and
// their SMS have both failed for good — not while the SMS that replaces the failed email is
// still to be sent.
func TestLetters_FallbackFollowsEmailAndSMSThatBothFailed(t *testing.T) {
	ops, db := service(t)
	c := approvedExample(t, ops, "fallback")
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	if _, err := ops.MoveCampaign(ctx, actor, c.ID, operation.Start); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PlanCampaign(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	worker := "00000000-0000-4000-8000-00000000f00d"
	if err := db.RegisterWorker(ctx, worker, "test", 1, ""); err != nil {
		t.Fatal(err)
	}
	rec, err := ops.Recipient(ctx, actor, c.ID, "AT-200001") // email, phone and an address
	if err != nil {
		t.Fatal(err)
	}
	id := rec.Recipient.ID
	letters := func() []string {
		t.Helper()
		dir := t.TempDir()
		if _, err := ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil }); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, row := range readManifest(t, filepath.Join(dir, "manifest.csv"))[1:] {
			ids = append(ids, row[0])
		}
		return ids
	}
	fail := func(ch breach.Channel) {
		t.Helper()
		if _, _, _, err := db.ClaimRange(ctx, c.ID, ch, id, id+1, worker, true, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Record(ctx, c.ID, ch, worker, []breach.Outcome{{RecipientID: id, State: breach.DeliveryFailed, Error: "550 no such user"}}, true); err != nil {
			t.Fatal(err)
		}
	}
	if got := letters(); !slices.Equal(got, postalOnly) {
		t.Errorf("before any failure: letters to %v, want %v", got, postalOnly)
	}
	fail(breach.ChannelEmail)
	if got := letters(); slices.Contains(got, "AT-200001") {
		t.Errorf("with the SMS fallback still queued: letters to %v", got)
	}
	fail(breach.ChannelSMS)
	if got := letters(); !slices.Contains(got, "AT-200001") || len(got) != 5 {
		t.Errorf("after email and SMS both failed: letters to %v, want AT-200001's too", got)
	}
}

// A purge deletes the postal addresses with the rest of the personal data.
func TestLetters_PurgeDeletesAddresses(t *testing.T) {
	ops := letterService(t)
	c := approvedExample(t, ops, "")
	ctx := t.Context()
	actor := breach.CLIActor("dpo")
	if rec, err := ops.Recipient(ctx, actor, c.ID, "AT-400007"); err != nil || rec.Recipient.Postal.City != "Springfield" {
		t.Fatalf("before the purge: %+v, %v", rec, err)
	}
	if _, err := ops.MoveCampaign(ctx, actor, c.ID, operation.Cancel); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.Purge(ctx, actor, c.ID); err != nil {
		t.Fatal(err)
	}
	rec, err := ops.Recipient(ctx, actor, c.ID, "AT-400007")
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Recipient.Postal.IsZero() || rec.Recipient.Name != "" {
		t.Errorf("after the purge: %+v", rec.Recipient)
	}
}

// A letter is a notice like an email: a letters run from a process whose templates differ
// from those the campaign was approved with prints nothing, and says why; with the approved
// ones it prints.
func TestLetters_AreOnlyPrintedFromTheApprovedTemplates(t *testing.T) {
	ops, _ := service(t)
	ctx := t.Context()
	c := approvedExample(t, ops, "all")
	if c.ApprovedTemplates != ops.Renderer.Digest() {
		t.Fatalf("approved templates %q, want the approving renderer's %q", c.ApprovedTemplates, ops.Renderer.Digest())
	}
	if _, err := dbConn(t).Exec(ctx, `UPDATE campaigns SET templates_digest = 'edited-templates' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err := ops.Letters(ctx, breach.CLIActor("printer"), c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil })
	if breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "other notice templates") {
		t.Fatalf("letters from other templates: %v, want ECONFLICT saying why", err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("letters from other templates wrote %d files", len(files))
	}
}

// TestLetters_HoldsALetterThatWouldNotPrintAndPrintsTheRest: the review's Japanese address
// printed as U+FFFD and its Peruvian street was cut short, each letter counted printed. A
// letter that cannot print as written is held — no PDF, not recorded printed (pending: not
// reached), listed with why in the report and held.csv — and the others are printed.
func TestLetters_HoldsALetterThatWouldNotPrintAndPrintsTheRest(t *testing.T) {
	ops := letterService(t)
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	c, err := ops.CreateCampaign(ctx, actor, "campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	list := string(examples.Customers) + "JP-1,太郎,山田,,,en-US,PE,name|address,,,Hogar,千代田区千代田1-1,,Lima,15074\n"
	if _, err := ops.Import(ctx, actor, c.ID, operation.ImportRequest{Filename: "customers.csv", List: strings.NewReader(list)}); err != nil {
		t.Fatal(err)
	}
	if c, err = ops.Approve(ctx, actor, c.ID, operation.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run1")
	rep, err := ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Letters != 4 || rep.Printed != 4 || len(rep.Held) != 1 || rep.Held[0].CustomerID != "JP-1" || !strings.Contains(rep.Held[0].Reason, "Han") {
		t.Fatalf("report %+v, want the 4 example letters printed and JP-1 held for its characters", rep)
	}
	if strings.Contains(rep.Held[0].Reason, "千代田") || strings.Contains(rep.Held[0].Reason, "山田") {
		t.Errorf("the reason quotes the address: %s", rep.Held[0].Reason)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*JP-1*")); len(files) != 0 {
		t.Errorf("a PDF was written for the held letter: %v", files)
	}
	for _, row := range readManifest(t, filepath.Join(dir, "manifest.csv")) {
		if row[0] == "JP-1" {
			t.Errorf("the held letter is in the manifest: %q", row)
		}
	}
	held := readManifest(t, filepath.Join(dir, "held.csv"))
	if len(held) != 2 || !slices.Equal(held[0], []string{"customer_id", "reference", "reason"}) || held[1][0] != "JP-1" ||
		held[1][1] != notice.Reference(testSecret, c.ID, "JP-1") || held[1][2] != rep.Held[0].Reason {
		t.Errorf("held.csv: %q", held)
	}
	if st, err := ops.Status(ctx, actor, c.ID); err != nil || st.ByChannel[breach.ChannelLetter][breach.DeliveryPending] != 1 ||
		st.ByChannel[breach.ChannelLetter][breach.DeliveryPrinted] != 4 {
		t.Errorf("letters after the run: %v (%v), want 4 printed and the held one pending", st.ByChannel[breach.ChannelLetter], err)
	}
}

// Under letter_policy fallback, a customer told by another's email at the address they share
// (one notice per address) gets a letter when that email fails for good, as its customer does:
// the notice that was to tell them is theirs to have failed.
func TestLetters_FallbackFollowsTheSharedNoticeThatFailed(t *testing.T) {
	ops, db := service(t)
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	worker := "00000000-0000-4000-8000-00000000f00e"
	c := approvedWith(t, ops, db, "fallback", "customer_id,name,email,country,address_line1,city,state,postal_code\n"+
		"SH-1,Robert Miller,family@example.com,US,1208 Maple Avenue,Springfield,IL,62704\n"+
		"SH-2,Robert Miller,Family@Example.com,US,1208 Maple Avenue,Springfield,IL,62704\n", true, worker)
	first, err := ops.Recipient(ctx, actor, c.ID, "SH-1")
	if err != nil {
		t.Fatal(err)
	}
	second, err := ops.Recipient(ctx, actor, c.ID, "SH-2")
	if err != nil || second.Recipient.EmailToldWith != "SH-1" || len(second.Deliveries) != 0 {
		t.Fatalf("SH-2: %+v, %v; want told by SH-1's email, no delivery of their own", second, err)
	}
	id := first.Recipient.ID
	if _, _, _, err := db.ClaimRange(ctx, c.ID, breach.ChannelEmail, id, id+1, worker, true, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Record(ctx, c.ID, breach.ChannelEmail, worker, []breach.Outcome{{RecipientID: id, State: breach.DeliveryFailed, Error: "550 no such user"}}, true); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil }); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range readManifest(t, filepath.Join(dir, "manifest.csv"))[1:] {
		got = append(got, row[0])
	}
	// One person at one postal address, as at one email address: one letter, SH-1's, which
	// tells SH-2 too.
	if !slices.Equal(got, []string{"SH-1"}) {
		t.Errorf("letters to %v, want one, to SH-1, for both customer_ids the failed email was to tell", got)
	}
	if second, err = ops.Recipient(ctx, actor, c.ID, "SH-2"); err != nil || second.Recipient.LetterToldWith != "SH-1" {
		t.Errorf("SH-2: %+v, %v; want told by SH-1's letter", second, err)
	}
}

// Under letter_policy fallback, the letter of a person's customer_ids at one postal address is
// owed when any of them is owed one: here the second's own email fails while the first's was
// sent, and the one letter, the first's, goes for both.
func TestLetters_OneLetterIsOwedWhenAnyOfItsCustomerIDsIsOwedOne(t *testing.T) {
	ops, db := service(t)
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	worker := "00000000-0000-4000-8000-00000000f0fb"
	c := approvedWith(t, ops, db, "fallback", "customer_id,name,email,country,address_line1,city,state,postal_code\n"+
		"FB-1,Robert Miller,rob@example.com,US,1208 Maple Avenue,Springfield,IL,62704\n"+
		"FB-2,Robert Miller,robert.old@example.com,US,1208 Maple Avenue,Springfield,IL,62704\n", true, worker)
	due := func() []string {
		t.Helper()
		ls, err := db.LettersDue(ctx, c.ID, breach.LettersFallback, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range ls {
			ids = append(ids, l.Recipient.CustomerID)
		}
		return ids
	}
	record := func(customer string, state breach.DeliveryState) {
		t.Helper()
		rec, err := ops.Recipient(ctx, actor, c.ID, customer)
		if err != nil {
			t.Fatal(err)
		}
		id := rec.Recipient.ID
		if _, _, _, err := db.ClaimRange(ctx, c.ID, breach.ChannelEmail, id, id+1, worker, true, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Record(ctx, c.ID, breach.ChannelEmail, worker, []breach.Outcome{{RecipientID: id, State: state, Error: "550 no such user"}}, true); err != nil {
			t.Fatal(err)
		}
	}
	record("FB-1", breach.DeliverySent)
	if got := due(); len(got) != 0 {
		t.Errorf("with both emails sent or on their way: letters due to %v, want none", got)
	}
	record("FB-2", breach.DeliveryFailed)
	if got := due(); !slices.Equal(got, []string{"FB-1"}) {
		t.Errorf("after FB-2's email failed: letters due to %v, want FB-1's, which tells FB-2 too", got)
	}
}

// One person the CRM holds under two customer_ids at one postal address (written in other
// letter cases and spacing) is printed one letter, naming what was exposed under each; a
// different person at that address gets their own letter, in their name, and is reported as
// sharing it (DESIGN: duplicates by address are merged or reported, never sent twice: two
// letters to one person is postage, and a notice, twice).
func TestLetters_OnePersonsCustomerIDsAtOnePostalAddressGetOneLetter(t *testing.T) {
	ops, db := service(t)
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	c := approvedWith(t, ops, db, "all", "customer_id,name,email,country,exposed,address_line1,city,state,postal_code\n"+
		"L-1,Robert Miller,rob@example.com,US,password,1208 Maple Avenue,Springfield,IL,62704\n"+
		"L-2,ROBERT MILLER,robert.m@example.com,US,payment_card,1208  maple AVENUE,SPRINGFIELD,IL,62704\n"+
		"L-3,Carol Miller,carol@example.com,US,email,1208 Maple Avenue,Springfield,IL,62704\n"+
		"L-4,Dan Solo,dan@example.com,US,email,9 Oak Street,Springfield,IL,62704\n", false, "")
	st, err := ops.Status(ctx, actor, c.ID)
	if err != nil || st.Merged[breach.ChannelLetter] != 1 || st.Shared[breach.ChannelLetter] != 3 {
		t.Errorf("status merged %v, shared %v (%v); want 1 letter merged, 3 customers at a shared postal address", st.Merged, st.Shared, err)
	}
	if st.ByChannel[breach.ChannelLetter][breach.DeliveryPending] != 3 {
		t.Errorf("letters pending %v, want 3", st.ByChannel[breach.ChannelLetter])
	}
	for id, want := range map[string]string{"L-1": "", "L-2": "L-1", "L-3": "", "L-4": ""} {
		rec, err := ops.Recipient(ctx, actor, c.ID, id)
		if err != nil || rec.Recipient.LetterToldWith != want || rec.Recipient.EmailToldWith != "" {
			t.Errorf("%s: letter told with %q, email with %q (%v); want %q and none", id, rec.Recipient.LetterToldWith, rec.Recipient.EmailToldWith, err, want)
		}
	}
	due, err := db.LettersDue(ctx, c.ID, breach.LettersAll, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range due {
		got = append(got, l.Recipient.CustomerID)
		if l.Recipient.CustomerID == "L-1" {
			if want := breach.Categories(0).With(breach.CategoryPassword).With(breach.CategoryPaymentCard); l.Recipient.Exposed != want {
				t.Errorf("L-1's letter names %v, want %v (what was exposed under L-1 and L-2)", l.Recipient.Exposed, want)
			}
		}
	}
	if !slices.Equal(got, []string{"L-1", "L-3", "L-4"}) {
		t.Errorf("letters due to %v, want L-1 (for L-2 too), L-3 and L-4", got)
	}
	dir := t.TempDir()
	rep, err := ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil })
	if err != nil || rep.Printed != 3 {
		t.Fatalf("letters run: %+v, %v; want 3 printed", rep, err)
	}
	if st, err = ops.Status(ctx, actor, c.ID); err != nil || st.ByChannel[breach.ChannelLetter][breach.DeliveryPending] != 0 {
		t.Errorf("after the run, letters %v (%v): want none pending (L-2 owes none)", st.ByChannel[breach.ChannelLetter], err)
	}
	// The export gives L-2 the letter that told them, naming whose it is.
	var export bytes.Buffer
	if _, err := ops.Export(ctx, actor, c.ID, func(*breach.Campaign) (io.Writer, error) { return &export, nil }); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&export).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	told := 0
	for _, row := range rows[1:] {
		if row[0] == "L-2" && slices.Contains(row, "letter") {
			if row[len(row)-1] != "L-1" || row[len(row)-2] != notice.Reference(testSecret, c.ID, "L-1") {
				t.Errorf("L-2's letter row %q, want told_with L-1 and L-1's reference", row)
			}
			told++
		}
	}
	if told != 1 {
		t.Errorf("L-2 has %d letter rows in the export, want 1 (L-1's letter):\n%s", told, export.String())
	}
}

// A run into a directory that is not empty is refused before its first letter: checked file by
// file, a run into one holding a manifest.csv wrote and recorded every letter printed, then
// failed with no manifest for the print vendor (a review).
func TestLetters_ARunIntoADirectoryNotEmptyPrintsNothing(t *testing.T) {
	ops := letterService(t)
	c := approvedExample(t, ops, "")
	ctx := t.Context()
	actor := breach.CLIActor("printer")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("an earlier run's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.Letters(ctx, actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil }); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("letters into a directory not empty: %v, want it refused", err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.pdf")); len(files) != 0 {
		t.Errorf("%d letters written into it", len(files))
	}
	if st, err := ops.Status(ctx, actor, c.ID); err != nil || st.ByChannel[breach.ChannelLetter][breach.DeliveryPending] != 4 {
		t.Errorf("letters after the refused run: %v (%v), want all 4 still pending", st.ByChannel[breach.ChannelLetter], err)
	}
}
