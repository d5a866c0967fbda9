package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// refusingMailer refuses for good the email to one address (as a relay's 550 user unknown),
// and hands every other to next.
type refusingMailer struct {
	next dispatch.Mailer
	to   string
}

func (m refusingMailer) Send(ctx context.Context, msg email.Message) (string, error) {
	if strings.EqualFold(msg.To, m.to) {
		return "", &email.Error{Permanent: true, Code: 550, Err: errors.New("550 5.1.1 mailbox unavailable")}
	}
	return m.next.Send(ctx, msg)
}

// sentCampaign runs the example campaign to completion through the sending engine, with María's
// email refused by the relay (her notice then goes by SMS), and returns it.
func sentCampaign(t *testing.T, st *stack) *breach.Campaign {
	t.Helper()
	st.test.Mail = refusingMailer{next: st.test.Mail, to: "maria.quispe@gmail.com"}
	st.runEngine(t, redisClient(t))
	c := startedCampaign(t, st)
	deadline := time.Now().Add(2 * time.Minute)
	for state(t, st, c.ID) != breach.CampaignCompleted {
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not complete: %s", state(t, st, c.ID))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return c
}

// TestTracking_AFallbackStillEndsInEveryCustomerNotified runs one campaign and checks every
// page of the read side on it: the tracking summary, the table by language, the recent
// failures, the customer's deliveries and timeline, and the campaign's audit log.
func TestTracking_AFallbackStillEndsInEveryCustomerNotified(t *testing.T) {
	st := newStack(t, nil)
	c := sentCampaign(t, st)
	status, err := st.db.CampaignStatus(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := st.signedIn("watcher", breach.RoleViewer)
	page := b.get("/campaigns/" + c.ID + "/tracking")
	if page.status != http.StatusOK {
		t.Fatalf("tracking: %d\n%s", page.status, page.body)
	}
	done := regexp.MustCompile(`(?s)<p id="done"[^>]*>(.*?)</p>`).FindStringSubmatch(page.body)
	if done == nil {
		t.Fatalf("no #done summary after a completed campaign with a fallback:\n%s", page.body)
	}
	for _, want := range []string{
		fmt.Sprintf("All %d customers email or SMS reach were notified", status.Total-4), // 4 reachable only by post
		"4 letters owed by post: 4 still to print",
		"1 email could not be delivered (failed or bounced) and went by SMS instead",
	} {
		if !strings.Contains(done[1], want) {
			t.Errorf("summary %q does not say %q", done[1], want)
		}
	}
	// By language: the Spanish notices are counted in their own row.
	if !regexp.MustCompile(`(?s)id="by-locale".*<th scope="row">es</th><td>email</td>`).MatchString(page.body) {
		t.Errorf("no table by language with a Spanish email row:\n%s", page.body)
	}
	// Recent failures: María's refused email, with the relay's error.
	failures := regexp.MustCompile(`(?s)<table id="failures".*?</table>`).FindString(page.body)
	if !strings.Contains(failures, "AT-100001") || !strings.Contains(failures, "email") || !strings.Contains(failures, "failed") {
		t.Errorf("recent failures do not show AT-100001's failed email:\n%s", failures)
	}

	// Her record: both deliveries, and a timeline with the failure and the SMS that followed.
	rec := b.get("/campaigns/" + c.ID + "/recipients?customer_id=AT-100001")
	if rec.status != http.StatusOK {
		t.Fatalf("lookup: %d\n%s", rec.status, rec.body)
	}
	deliveries := regexp.MustCompile(`(?s)<table id="deliveries".*?</table>`).FindString(rec.body)
	if !strings.Contains(strings.ToLower(deliveries), "maria.quispe@gmail.com") || !strings.Contains(deliveries, "sms (fallback)") {
		t.Errorf("deliveries of AT-100001 do not show the email and the SMS fallback:\n%s", deliveries)
	}
	timeline := regexp.MustCompile(`(?s)<table id="timeline".*?</table>`).FindString(rec.body)
	for _, want := range []string{"<td>failed</td>", "<td>sent</td>", "SMTP 550", "<td>sms</td>"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline has no %q:\n%s", want, timeline)
		}
	}

	// The campaign's audit log shows the start and the lookup just made, newest first.
	audit := b.get("/campaigns/" + c.ID + "/audit")
	if audit.status != http.StatusOK {
		t.Fatalf("audit page: %d\n%s", audit.status, audit.body)
	}
	view, start := strings.Index(audit.body, "recipient.viewed"), strings.Index(audit.body, "campaign.start")
	if view < 0 || start < 0 || view > start {
		t.Errorf("the audit page does not list recipient.viewed above campaign.start:\n%s", audit.body)
	}
}

func TestAuditPage_PagesBackwardsWithTheBeforeCursor(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	ctx := context.Background()
	for i := range 60 {
		if err := st.db.Audit(ctx, "test", "test.step", c.ID, map[string]any{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	b := st.signedIn("pager", breach.RoleViewer)
	first := b.get("/campaigns/" + c.ID + "/audit")
	if first.status != http.StatusOK || !strings.Contains(first.body, `{&#34;n&#34;: 59}`) || strings.Contains(first.body, `&#34;n&#34;: 0}`) {
		t.Fatalf("first page: %d, newest entry missing\n%s", first.status, first.body)
	}
	older := regexp.MustCompile(`id="older" href="([^"]+)"`).FindStringSubmatch(first.body)
	if older == nil {
		t.Fatalf("no link to older entries:\n%s", first.body)
	}
	second := b.get(strings.ReplaceAll(older[1], "&amp;", "&"))
	if second.status != http.StatusOK || strings.Contains(second.body, `&#34;n&#34;: 59}`) || !strings.Contains(second.body, `&#34;n&#34;: 0}`) {
		t.Errorf("second page: %d; want the older entries only, down to the first\n%s", second.status, second.body)
	}
	if got := b.get("/campaigns/" + c.ID + "/audit?before=x"); got.status != http.StatusBadRequest {
		t.Errorf("?before=x: %d, want 400", got.status)
	}
}

func TestPurgedCampaign_ConsoleRefusesTestSendAndCustomerPreview(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	ctx := context.Background()
	if _, err := st.db.MoveCampaign(ctx, c.ID, "test", "", breach.CampaignCancelled); err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.PurgeCampaign(ctx, c.ID, "test", testSecret); err != nil {
		t.Fatal(err)
	}
	b := st.signedIn("purgeop", breach.RoleOperator)
	before := len(outboxFiles(t, st))
	if got := b.post("/campaigns/"+c.ID+"/test-send", map[string][]string{"to": {"reviewer@andinatel.com.pe"}}); got.status != http.StatusConflict {
		t.Errorf("test send of a purged campaign: %d, want 409\n%s", got.status, got.body)
	}
	if after := len(outboxFiles(t, st)); after != before {
		t.Errorf("a purged campaign's test send wrote %d emails", after-before)
	}
	if got := b.get("/campaigns/" + c.ID + "/preview?customer_id=AT-100001"); got.status != http.StatusConflict {
		t.Errorf("customer preview of a purged campaign: %d, want 409", got.status)
	}
	// The sample customer's preview needs no personal data and still works.
	if got := b.get("/campaigns/" + c.ID + "/preview?locale=es&jurisdiction=gdpr"); got.status != http.StatusOK {
		t.Errorf("sample preview of a purged campaign: %d", got.status)
	}
}

func TestTestSend_ConsoleAppliesTheSharedLimit(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	b := st.signedIn("limited", breach.RoleOperator)
	var to []string
	for i := range operation.MaxTestNotices + 1 {
		to = append(to, fmt.Sprintf("r%d@andinatel.com.pe", i))
	}
	got := b.post("/campaigns/"+c.ID+"/test-send", map[string][]string{"to": {strings.Join(to, ",")}})
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, fmt.Sprintf("at most %d test notices", operation.MaxTestNotices)) {
		t.Errorf("%d reviewers: %d, want 400 naming the limit\n%s", len(to), got.status, got.body)
	}
}

func TestUpload_ConsoleStoresTheFileLabelOnly(t *testing.T) {
	st := newStack(t, nil)
	b := st.signedIn("labeller", breach.RoleOperator)
	c := st.campaign("test", "test", nil)
	got := upload(t, b, c.ID, `C:\Users\ana\Desktop\clientes.csv`, "customer_id,email\nF1,f1@example.com\n")
	if got.status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", got.status, got.body)
	}
	imps, err := st.db.Imports(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := imps[len(imps)-1]; last.Filename != "clientes.csv" && imps[0].Filename != "clientes.csv" {
		t.Errorf("stored file names %q / %q, want the label clientes.csv", imps[0].Filename, last.Filename)
	}
}

func TestLookup_AuditKeepsWhetherItMatchedNeverTheTypedText(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	b := st.signedIn("looker2", breach.RoleViewer)
	if got := b.get("/campaigns/" + c.ID + "/recipients?customer_id=maria.quispe%40gmail.com"); got.status != http.StatusNotFound {
		t.Errorf("lookup of an email address: %d, want 404", got.status)
	}
	if got := b.get("/campaigns/" + c.ID + "/recipients?customer_id=AT-100001"); got.status != http.StatusOK {
		t.Errorf("lookup: %d", got.status)
	}
	var details string
	if err := pool(t).QueryRow(context.Background(), `SELECT string_agg(detail::text, ' ' ORDER BY id) FROM audit_log WHERE actor = 'user:looker2' AND action = 'recipient.viewed'`).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(details, "maria") || strings.Contains(details, "AT-100001") ||
		!regexp.MustCompile(`"found": false.*"found": true, "recipient": [0-9]+`).MatchString(details) {
		t.Errorf("lookup audit details %s; want found false, then found true with the internal ID, and no typed text", details)
	}
}

// A workbook with two sheets of rows is refused without a sheet named, saying so; the form's
// Sheet box names the one to import.
func TestUpload_ConsoleNamesTheSheetOfAWorkbook(t *testing.T) {
	st := newStack(t, nil)
	b := st.signedIn("sheeter", breach.RoleOperator)
	c := st.campaign("test", "test", nil)
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"customer_id", "email"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"P1", "p1@example.com"})
	f.NewSheet("Chile")
	f.SetSheetRow("Chile", "A1", &[]any{"customer_id", "email"})
	f.SetSheetRow("Chile", "A2", &[]any{"CL1", "cl1@example.com"})
	var wb bytes.Buffer
	if err := f.Write(&wb); err != nil {
		t.Fatal(err)
	}
	if got := uploadSheet(t, b, c.ID, "list.xlsx", wb.String(), ""); got.status != http.StatusBadRequest || !strings.Contains(got.body, "2 sheets with rows") {
		t.Errorf("no sheet named: %d, want 400 naming the sheets\n%s", got.status, got.body)
	}
	if got := uploadSheet(t, b, c.ID, "list.xlsx", wb.String(), "Chile"); got.status != http.StatusSeeOther {
		t.Fatalf("sheet Chile: %d\n%s", got.status, got.body)
	}
	if r, err := st.db.Recipient(context.Background(), c.ID, "CL1"); err != nil || r == nil {
		t.Errorf("CL1, of the sheet named: %v", err)
	}
	if _, err := st.db.Recipient(context.Background(), c.ID, "P1"); breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Errorf("P1, of the other sheet: %v, want not found", err)
	}
}

// upload posts a customer list under a file name, as the console's upload form does.
func upload(t *testing.T, b *browser, campaignID, name, list string) answer {
	t.Helper()
	return uploadSheet(t, b, campaignID, name, list, "")
}

// uploadSheet is upload with the form's Sheet box filled in (sheet; none when empty).
func uploadSheet(t *testing.T, b *browser, campaignID, name, list, sheet string) answer {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if sheet != "" {
		mw.WriteField("sheet", sheet)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(list))
	mw.Close()
	req, _ := http.NewRequest("POST", b.st.srv.URL+"/campaigns/"+campaignID+"/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// outboxFiles lists the captured emails.
func outboxFiles(t *testing.T, st *stack) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(st.console.Outbox.EmailDir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// The preview form offers the sample customer without an enrolment code, and the email frame
// shows that customer's notice: the sentence telling how to get the code.
func TestPreview_ConsoleShowsTheSampleWithoutACode(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	b := st.signedIn("nocode-reviewer", breach.RoleViewer)
	page := b.get("/campaigns/" + c.ID + "/preview?locale=en&jurisdiction=gdpr&without_code=1")
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="p-without-code" name="without_code" value="1" checked`) ||
		!strings.Contains(page.body, "without an enrolment code") {
		t.Fatalf("preview page: %d\n%s", page.status, page.body)
	}
	frame := b.get("/campaigns/" + c.ID + "/preview/email?customer_id=&jurisdiction=gdpr&locale=en&without_code=1")
	if frame.status != http.StatusOK || !strings.Contains(frame.body, "could not be included in this notice") {
		t.Errorf("the email frame without a code: %d\n%.2000s", frame.status, frame.body)
	}
	if !strings.Contains(page.body, "without_code=1") {
		t.Errorf("the page's email frame does not ask for the sample without a code")
	}
	// The console reads the parameter as the API does.
	for _, v := range []string{"0", "false"} {
		if frame := b.get("/campaigns/" + c.ID + "/preview/email?jurisdiction=gdpr&locale=en&without_code=" + v); frame.status != http.StatusOK || strings.Contains(frame.body, "could not be included in this notice") {
			t.Errorf("without_code=%s: %d, the sample shown without its code", v, frame.status)
		}
	}
	if got := b.get("/campaigns/" + c.ID + "/preview?locale=en&without_code=maybe"); got.status != http.StatusBadRequest {
		t.Errorf("without_code=maybe: %d, want 400", got.status)
	}
	// The box left ticked while a customer is asked for applies to no one: the customer's own
	// notice is shown.
	if got := b.get("/campaigns/" + c.ID + "/preview?locale=en&without_code=1&customer_id=AT-100001"); got.status != http.StatusOK {
		t.Errorf("a customer's preview with the box ticked: %d, want their notice", got.status)
	}
}

// TestTracking_SaysWhenNoWorkerSendsARunningCampaign: a started campaign that no worker sends
// shows why on its tracking page, not only a rate of zero.
func TestTracking_SaysWhenNoWorkerSendsARunningCampaign(t *testing.T) {
	st := newStack(t, nil)
	c := startedCampaign(t, st)
	if _, err := pool(t).Exec(context.Background(), `DELETE FROM workers`); err != nil {
		t.Fatal(err)
	}
	page := st.signedIn("stall-watcher", breach.RoleViewer).get("/campaigns/" + c.ID + "/tracking")
	stalled := regexp.MustCompile(`(?s)<p id="stalled"[^>]*>(.*?)</p>`).FindStringSubmatch(page.body)
	if stalled == nil || !strings.Contains(stalled[1], "no worker is running") {
		t.Errorf("the tracking page of a running campaign no worker sends does not say so:\n%s", page.body)
	}
}

// TestPreview_ConsoleAuditsNoPreviewItRefuses: the review's ?channel=bogus preview of a
// customer answered 400 after the customer's notice had been rendered and its read audited;
// so did a sample document that does not exist. Refused, they read nothing and leave no row.
func TestPreview_ConsoleAuditsNoPreviewItRefuses(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	b := st.signedIn("bogusviewer", breach.RoleViewer)
	for _, path := range []string{
		"/campaigns/" + c.ID + "/preview?customer_id=AT-100001&channel=bogus",
		"/campaigns/" + c.ID + "/preview?customer_id=AT-100001&without_code=maybe",
	} {
		if got := b.get(path); got.status != http.StatusBadRequest || strings.Contains(got.body, "AT-100001@") {
			t.Errorf("%s: %d, want 400", path, got.status)
		}
	}
	if got := b.get("/campaigns/" + c.ID + "/regulators/samples/notice-XX-zz.html"); got.status != http.StatusNotFound {
		t.Errorf("an unknown sample file: %d, want 404", got.status)
	}
	for _, a := range auditActions(t, "user:bogusviewer") {
		if a == breach.ActionPreviewCustomer || a == breach.ActionRegulatorSamples {
			t.Errorf("a refused preview or sample left the audit row %s", a)
		}
	}
	// The same preview with a channel it knows is shown, and audited.
	if got := b.get("/campaigns/" + c.ID + "/preview?customer_id=AT-100001&channel=sms"); got.status != http.StatusOK {
		t.Fatalf("the customer's SMS preview: %d\n%s", got.status, got.body)
	}
	if !slices.Contains(auditActions(t, "user:bogusviewer"), breach.ActionPreviewCustomer) {
		t.Error("the preview shown was not audited")
	}
}
