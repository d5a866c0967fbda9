package operation_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// codesFile is a vendor's file: a header with a code column among others, then the codes.
func codesFile(codes ...string) io.Reader {
	var b strings.Builder
	b.WriteString("\ufeffBatch;Code;Expires\n")
	for _, c := range codes {
		fmt.Fprintf(&b, "7;%s;2027-12-31\n", c)
	}
	return strings.NewReader(b.String())
}

func poolCodes(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	return out
}

// exportCodes runs the vendor's export and returns its rows, code → reference.
func exportCodes(t *testing.T, ops *operation.Service, actor breach.Actor, campaignID string) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	n, err := ops.ExportCodes(t.Context(), actor, campaignID, func(*breach.Campaign) (io.Writer, error) { return &buf, nil })
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || rows[0][0] != "code" || rows[0][1] != "reference" {
		t.Fatalf("export header = %v, want code,reference", rows)
	}
	out := map[string]string{}
	refs := map[string]bool{}
	for _, r := range rows[1:] {
		if _, dup := out[r[0]]; dup {
			t.Fatalf("code %s exported twice", r[0])
		}
		if refs[r[1]] {
			t.Fatalf("reference %s got two codes", r[1])
		}
		out[r[0]], refs[r[1]] = r[1], true
	}
	if int64(len(out)) != n {
		t.Fatalf("export says %d rows, wrote %d", n, len(out))
	}
	return out
}

func TestImportCodes_RejectsBadLinesWithTheirReasonAndKeepsTheRest(t *testing.T) {
	ops, _ := service(t)
	actor := breach.CLIActor("lucia")
	c := draft(t, ops, actor)
	src := "\ufeffCODE,batch\r\n" +
		"ABC-0001,1\r\n" + // 2 kept
		",1\r\n" + // 3 empty
		"not a code!,1\r\n" + // 4 not a code
		"abc-0001,1\r\n" + // 5 the same code as line 2
		"ATP-7K2M-Q9XD,1\r\n" + // 6 a customer's list code (examples/customers.csv)
		"ABC-0002,1\r\n" + // 7 kept
		"=\"ABC-0003\",1\r\n" // 8 kept: Excel's text idiom
	ci, err := ops.ImportCodes(t.Context(), actor, c.ID, operation.CodesRequest{Filename: "vendor.csv", Codes: strings.NewReader(src)})
	if err != nil {
		t.Fatal(err)
	}
	if ci.Read != 7 || ci.Added != 3 || ci.Rejected != 4 {
		t.Fatalf("read %d, added %d, rejected %d; want 7 = 3 + 4", ci.Read, ci.Added, ci.Rejected)
	}
	want := map[int64]string{3: "empty", 4: "not an enrolment code", 5: "same code as line 2", 6: "list row already has this code"}
	if len(ci.Rejects) != len(want) {
		t.Fatalf("rejects = %+v", ci.Rejects)
	}
	for _, r := range ci.Rejects {
		if !strings.Contains(r.Reason, want[r.Line]) {
			t.Errorf("line %d rejected with %q, want it to say %q", r.Line, r.Reason, want[r.Line])
		}
	}
	again, err := ops.ImportCodes(t.Context(), actor, c.ID, operation.CodesRequest{Codes: codesFile("abc-0002", "ABC-0004")})
	if err != nil {
		t.Fatal(err)
	}
	if again.Added != 1 || len(again.Rejects) != 1 || again.Rejects[0].Line != 2 || !strings.Contains(again.Rejects[0].Reason, "already in the campaign's pool") {
		t.Fatalf("second import = %+v, want line 2 rejected as already in the pool", again)
	}
	if _, err := ops.ImportCodes(t.Context(), actor, c.ID, operation.CodesRequest{Codes: strings.NewReader("customer_id,voucher\nA,B\n")}); breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(breach.ErrorMessage(err), "no code column") {
		t.Fatalf("a file without a code column: %v", err)
	}
}

func TestApprove_RefusedWhileThePoolIsShortSayingHowManyThenAllowed(t *testing.T) {
	ops, _ := service(t)
	author := breach.CLIActor("lucia")
	c := draft(t, ops, author)
	ci, err := ops.ImportCodes(t.Context(), author, c.ID, operation.CodesRequest{Codes: codesFile(poolCodes("FIRST", 5)...)})
	if err != nil {
		t.Fatal(err)
	}
	need := ci.Pool.Assigned + ci.Pool.Missing
	if ci.Assigned != 5 || ci.Pool.Size != 5 || ci.Pool.Free != 0 || need <= 5 {
		t.Fatalf("after 5 codes: %+v, pool %+v; the example list has more than 5 customers without a list code", ci, ci.Pool)
	}
	_, err = ops.Approve(t.Context(), author, c.ID, operation.ApproveRequest{})
	if breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(breach.ErrorMessage(err), fmt.Sprintf("%d customers", need-5)) {
		t.Fatalf("approve with a short pool: %v; want a conflict saying %d customers are missing a code", err, need-5)
	}
	shown, err := ops.Campaign(t.Context(), author, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if shown.State != breach.CampaignDraft || shown.CodePool == nil || shown.CodePool.Missing != need-5 {
		t.Fatalf("after the refusal: state %s, pool %+v", shown.State, shown.CodePool)
	}
	ci, err = ops.ImportCodes(t.Context(), author, c.ID, operation.CodesRequest{Codes: codesFile(poolCodes("SECOND", int(need))...)})
	if err != nil {
		t.Fatal(err)
	}
	if ci.Assigned != need-5 || ci.Pool.Missing != 0 || ci.Pool.Free != 5 {
		t.Fatalf("after the second import: %+v, pool %+v", ci, ci.Pool)
	}
	if c, err = ops.Approve(t.Context(), author, c.ID, operation.ApproveRequest{}); err != nil || c.State != breach.CampaignApproved {
		t.Fatalf("approve with a full pool: %v", err)
	}
	if _, err := ops.ImportCodes(t.Context(), author, c.ID, operation.CodesRequest{Codes: codesFile("LATE-1")}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Fatalf("codes into an approved campaign: %v", err)
	}
}

func TestPreview_TwoCustomersWithoutAListCodeShowTwoDifferentPoolCodes(t *testing.T) {
	ops, _ := service(t)
	actor := breach.CLIActor("lucia")
	c := draft(t, ops, actor)
	if _, err := ops.ImportCodes(t.Context(), actor, c.ID, operation.CodesRequest{Codes: codesFile(poolCodes("POOL", 60)...)}); err != nil {
		t.Fatal(err)
	}
	codes := exportCodes(t, ops, actor, c.ID)
	code := func(customer string) string {
		t.Helper()
		_, n, _, err := ops.Preview(t.Context(), actor, c.ID, operation.PreviewRequest{CustomerID: customer, Channel: "email"})
		if err != nil {
			t.Fatal(err)
		}
		for pc, ref := range codes {
			if strings.Contains(n.Text, pc) {
				if ref != notice.Reference(testSecret, c.ID, customer) {
					t.Errorf("%s's notice shows %s, which the export gives to reference %s", customer, pc, ref)
				}
				if ref != n.Reference {
					t.Errorf("%s's reference is %s, the export's %s", customer, n.Reference, ref)
				}
				return pc
			}
		}
		return ""
	}
	// AT-100003 and AT-100005 have no offer_code in examples/customers.csv; AT-100001 has one.
	a, b := code("AT-100003"), code("AT-100005")
	if a == "" || b == "" || a == b {
		t.Fatalf("pool codes in the previews: %q and %q, want two different codes", a, b)
	}
	if again := code("AT-100003"); again != a {
		t.Fatalf("AT-100003's code changed from %s to %s", a, again)
	}
	if own := code("AT-100001"); own != "" {
		t.Fatalf("AT-100001 has a list code but was shown pool code %s", own)
	}
}

// Codes imports racing each other and a list import on one campaign never give a code to two
// customers, and leave every customer without a list code exactly one.
func TestImportCodes_ConcurrentImportsGiveEveryoneExactlyOneCodeAndNoCodeTwice(t *testing.T) {
	ops, _ := service(t)
	actor := breach.CLIActor("lucia")
	c, err := ops.CreateCampaign(t.Context(), actor, "campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	list := func(prefix string, n int) io.Reader {
		var b strings.Builder
		b.WriteString("customer_id,email,country,offer_code\n")
		for i := range n {
			fmt.Fprintf(&b, "%s-%d,%s%d@example.com,PE,\n", prefix, i, strings.ToLower(prefix), i)
		}
		return strings.NewReader(b.String())
	}
	if _, err := ops.Import(t.Context(), actor, c.ID, operation.ImportRequest{List: list("A", 1500)}); err != nil {
		t.Fatal(err)
	}
	const workers, perFile = 4, 500
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for w := range workers {
		wg.Go(func() {
			// Each file shares half its codes with the next: the overlap must be rejected
			// by whichever import comes second, never given twice.
			codes := append(poolCodes(fmt.Sprintf("W%d", w), perFile/2), poolCodes(fmt.Sprintf("W%d", (w+1)%workers), perFile/2)...)
			_, err := ops.ImportCodes(t.Context(), actor, c.ID, operation.CodesRequest{Codes: codesFile(codes...)})
			errs <- err
		})
	}
	wg.Go(func() {
		_, err := ops.Import(t.Context(), actor, c.ID, operation.ImportRequest{List: list("B", 300)})
		errs <- err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	pool, err := ops.CodePool(t.Context(), actor, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// 4 files × 250 distinct codes of their own = 1,000 codes for 1,800 customers.
	if pool.Size != workers*perFile/2 || pool.Assigned != pool.Size || pool.Missing != 1800-pool.Size {
		t.Fatalf("pool = %+v, want 1000 codes all assigned and 800 customers missing one", pool)
	}
	if got := exportCodes(t, ops, actor, c.ID); int64(len(got)) != pool.Assigned {
		t.Fatalf("export has %d codes, the pool assigned %d", len(got), pool.Assigned)
	}
	// Topping up covers the rest, concurrently again.
	wg = sync.WaitGroup{}
	for w := range 2 {
		wg.Go(func() {
			if _, err := ops.ImportCodes(t.Context(), actor, c.ID, operation.CodesRequest{Codes: codesFile(poolCodes(fmt.Sprintf("TOP%d", w), 400)...)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := exportCodes(t, ops, actor, c.ID)
	if pool, err = ops.CodePool(t.Context(), actor, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1800 || pool.Missing != 0 || pool.Free != 0 {
		t.Fatalf("after topping up: %d codes exported, pool %+v; want 1800 customers with one code each", len(got), pool)
	}
	refs := map[string]bool{}
	for _, ref := range got {
		refs[ref] = true
	}
	for _, prefix := range []string{"A-0", "A-1499", "B-0", "B-299"} {
		if !refs[notice.Reference(testSecret, c.ID, prefix)] {
			t.Errorf("customer %s has no code in the export", prefix)
		}
	}
}

// A list imported after the codes can give a customer, as their own list code, a code the pool
// had assigned to someone else: the pool takes it back and gives that customer another, so no
// code is held by two customers; a customer whose row now has a code of their own gives theirs
// back.
func TestImportList_AfterTheCodesNeverLeavesACodeWithTwoCustomers(t *testing.T) {
	ops, _ := service(t)
	actor := breach.CLIActor("lucia")
	c := draftWith(t, ops, actor, "customer_id,email,country,offer_code\nX-1,x1@example.com,PE,\nX-2,x2@example.com,PE,\nX-3,x3@example.com,PE,\n")
	if _, err := ops.ImportCodes(t.Context(), actor, c.ID, operation.CodesRequest{Codes: codesFile("P-1", "P-2", "P-3", "P-4", "P-5")}); err != nil {
		t.Fatal(err)
	}
	before := exportCodes(t, ops, actor, c.ID)
	ref := func(customer string) string { return notice.Reference(testSecret, c.ID, customer) }
	if before["P-1"] != ref("X-1") || before["P-2"] != ref("X-2") || len(before) != 3 {
		t.Fatalf("first assignment: %v", before)
	}
	// X-4 arrives with P-1 (X-1's) as their own code; X-3 now has a code of their own.
	later := "customer_id,email,country,offer_code\nX-4,x4@example.com,PE,p-1\nX-3,x3@example.com,PE,OWN-3\n"
	if _, err := ops.Import(t.Context(), actor, c.ID, operation.ImportRequest{List: strings.NewReader(later)}); err != nil {
		t.Fatal(err)
	}
	after := exportCodes(t, ops, actor, c.ID)
	if _, ok := after["P-1"]; ok {
		t.Errorf("P-1 is X-4's list code and still a pool code of %s", after["P-1"])
	}
	if after["P-2"] != ref("X-2") {
		t.Errorf("X-2's code changed: %v", after)
	}
	holders := map[string]string{}
	for code, r := range after {
		holders[r] = code
	}
	if holders[ref("X-1")] == "" || holders[ref("X-3")] != "" || holders[ref("X-4")] != "" || len(after) != 2 {
		t.Fatalf("after the second list: %v; want X-1 with a new code, X-2 with P-2, X-3 and X-4 with their own", after)
	}
	pool, err := ops.CodePool(t.Context(), actor, c.ID)
	if err != nil || pool.Missing != 0 || pool.Assigned != 2 {
		t.Fatalf("pool %+v, %v", pool, err)
	}
}

// Reviewers see every text a customer can get: the sample customer without an enrolment code
// reads how to get theirs, the one with a code does not; asking for a real customer without
// their code is refused rather than showing a notice the customer will never get.
func TestPreview_TheSampleWithoutACodeSaysHowToGetIt(t *testing.T) {
	ops, _ := service(t)
	actor := breach.CLIActor("lucia")
	c := draft(t, ops, actor)
	const missing = "could not be included in this notice"
	for _, without := range []bool{false, true} {
		_, n, _, err := ops.Preview(t.Context(), actor, c.ID, operation.PreviewRequest{Locale: "en", WithoutCode: without})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(n.Text, missing) != without || strings.Contains(n.Text, "SAMPLE-0000-CODE") == without {
			t.Errorf("sample without a code %v:\n%s", without, n.Text)
		}
	}
	_, _, _, err := ops.Preview(t.Context(), actor, c.ID, operation.PreviewRequest{CustomerID: "AT-100001", WithoutCode: true})
	if breach.ErrorCode(err) != breach.EINVALID {
		t.Fatalf("a customer's notice without their code: %v, want EINVALID", err)
	}
	_, n, _, err := ops.Preview(t.Context(), actor, c.ID, operation.PreviewRequest{Locale: "en", WithoutCode: true})
	if err != nil || n.Sample != notice.SampleNoCode {
		t.Fatalf("the sample without a code is labelled %q (%v)", n.Sample, err)
	}
	// An offer without codes (no code column, no pool): every customer reads the same.
	noCodes, err := ops.CreateCampaign(t.Context(), actor, "campaign.yaml", bytes.NewReader(bytes.Replace(examples.Campaign, []byte("  code_attribute: offer_code\n"), nil, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err = ops.Preview(t.Context(), actor, noCodes.ID, operation.PreviewRequest{WithoutCode: true}); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("without_code on a campaign whose offer gives no codes: %v, want EINVALID", err)
	}
	samples, err := ops.Samples(t.Context(), actor, c.ID, "en")
	if err != nil {
		t.Fatal(err)
	}
	var without int
	for _, n := range samples {
		if n.Sample == notice.SampleNoCode {
			without++
			if !strings.Contains(n.Text, missing) {
				t.Errorf("%s sample without a code lacks the sentence:\n%s", n.Jurisdiction, n.Text)
			}
		}
	}
	if without == 0 || without*2 != len(samples) {
		t.Fatalf("%d samples, %d without a code; want half", len(samples), without)
	}
}
