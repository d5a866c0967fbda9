package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &dbURL)) }

func open(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// newCampaign stores the example campaign as a fresh draft.
func newCampaign(t *testing.T, db *postgres.DB) *breach.Campaign {
	t.Helper()
	c, src, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCampaign(t.Context(), c, string(src)); err != nil {
		t.Fatal(err)
	}
	return c
}

func runImport(t *testing.T, db *postgres.DB, c *breach.Campaign, csv string) (*breach.Import, error) {
	t.Helper()
	return runImportNamed(t, db, c, "list.csv", csv)
}

// runImportNamed is runImport of a file of that name.
func runImportNamed(t *testing.T, db *postgres.DB, c *breach.Campaign, filename, csv string) (*breach.Import, error) {
	t.Helper()
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	imp := &breach.Import{Filename: filename, CreatedBy: "test"}
	_, err = im.Run(t.Context(), c, imp, strings.NewReader(csv), importer.Options{})
	return imp, err
}

func mustImport(t *testing.T, db *postgres.DB, c *breach.Campaign, csv string) *breach.Import {
	t.Helper()
	imp, err := runImport(t, db, c, csv)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Read != imp.Accepted+imp.Merged+imp.Rejected {
		t.Fatalf("counts do not add up: %+v", imp)
	}
	return imp
}

func recipient(t *testing.T, db *postgres.DB, c *breach.Campaign, customerID string) *breach.Recipient {
	t.Helper()
	r, err := db.Recipient(t.Context(), c.ID, customerID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A customer's rows fold into one whichever way the merge runs: into the new partition after
// it is indexed (few repeats: filler customers make the repeats under one in twenty copied
// rows), or before (many repeats: the list alone).
func TestImport_DuplicateRowsMergeLaterNonEmptyFieldsWinAndCategoriesUnite(t *testing.T) {
	for _, road := range []struct {
		name    string
		fillers int
	}{{"merged after indexing", 100}, {"merged before indexing", 0}} {
		t.Run(road.name, func(t *testing.T) {
			db := open(t)
			c := newCampaign(t, db)
			var fill strings.Builder
			for i := range road.fillers {
				fmt.Fprintf(&fill, "F%d,f%d@example.com,,,,,\n", i, i)
			}
			imp := mustImport(t, db, c, `customer_id,email,phone,name,exposed,plan,segment
C1,ana@example.com,987654321,Ana,name|phone,Prepago,
C2,bo@example.com,,Bo,email,,
`+fill.String()+`C1,,912345678,,sim,,gold
C1,ANA.NEW@Example.com,,Ana Q.,,Postpago,
C3,c3@example.com,,,,,
C3,,987000111,Cy,,,
C4,c4@example.com,,Di,,,
C4,,987000222,,email,,
`)
			if imp.Read != int64(8+road.fillers) || imp.Accepted != int64(4+road.fillers) || imp.Merged != 4 || imp.Rejected != 0 {
				t.Fatalf("counts = %+v, want read %d accepted %d merged 4", imp, 8+road.fillers, 4+road.fillers)
			}
			r := recipient(t, db, c, "C1")
			if r.Email != "ANA.NEW@example.com" || r.Phone != "+51912345678" || r.Name != "Ana Q." {
				t.Errorf("C1 = %q %q %q; want the latest non-empty values", r.Email, r.Phone, r.Name)
			}
			// The last row names no category: the customer's categories are those their other
			// rows name. The campaign's default (name, phone, national_id) is for customers
			// none of whose rows names one (the review's customer was told of a national ID the
			// list did not say was exposed).
			want, _ := breach.CategoriesOf("name", "phone", "sim")
			if r.Exposed != want {
				t.Errorf("C1 exposed = %v, want %v", r.Exposed.Strings(), want.Strings())
			}
			def, _ := breach.CategoriesOf("name", "phone", "national_id")
			if got := recipient(t, db, c, "C3").Exposed; got != def {
				t.Errorf("C3 (no category on any row) exposed = %v, want the campaign's default %v", got.Strings(), def.Strings())
			}
			// C4's first row, copied before its second was read, took the default; the second
			// names what the list says was exposed, which replaces the stand-in (the review's
			// customer was told of a national ID beside the email the list named).
			if got, email := recipient(t, db, c, "C4").Exposed, mustCategories(t, "email"); got != email {
				t.Errorf("C4 (no category, then email) exposed = %v, want only email", got.Strings())
			}
			if road.fillers > 0 {
				if got := recipient(t, db, c, "F7").Exposed; got != def {
					t.Errorf("F7 (one row, no category) exposed = %v, want the campaign's default %v", got.Strings(), def.Strings())
				}
			}
			if r.Attributes["plan"] != "Postpago" || r.Attributes["segment"] != "gold" {
				t.Errorf("C1 attributes = %v, want plan from the last row and segment from the one that had it", r.Attributes)
			}
			// Either way the partition ends attached with its three indexes.
			conn, err := pgx.Connect(t.Context(), dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(t.Context())
			var indexes int
			err = conn.QueryRow(t.Context(), `
				SELECT count(*) FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indrelid
				WHERE h.inhparent = 'recipients'::regclass
					AND h.inhrelid = ('recipients_' || replace($1, '-', ''))::regclass`, c.ID).Scan(&indexes)
			if err != nil || indexes != 3 {
				t.Errorf("the attached partition has %d indexes (%v), want 3", indexes, err)
			}
		})
	}
}

// The campaign's default categories stand in for a list that names none; a later list adds
// to them as to any categories ("their passwords too" must not tell them less, and a customer
// on a list in between without an exposed column must end the same: the review's X1 and X2),
// one that names none leaves what is there, and a customer whose categories came from the list
// never gets the default added.
func TestImport_LaterListsCategoriesAddToTheDefault(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	def, sim, email := mustCategories(t, "name", "phone", "national_id"), mustCategories(t, "sim"), mustCategories(t, "email")
	mustImport(t, db, c, "customer_id,email,exposed\nD1,d1@example.com,\nD2,d2@example.com,sim\nD3,d3@example.com,\n")
	if got := recipient(t, db, c, "D1").Exposed; got != def {
		t.Fatalf("D1 after the first list = %v, want the default %v", got.Strings(), def.Strings())
	}
	second := mustImport(t, db, c, "customer_id,email,exposed\nD1,d1@example.com,email\nD2,d2@example.com,\nD3,d3@example.com,\n")
	if second.Updated != 1 {
		t.Errorf("second list updated %d customers, want 1 (D1; D2 and D3 say nothing new)", second.Updated)
	}
	for id, want := range map[string]breach.Categories{"D1": def | email, "D2": sim, "D3": def} {
		if got := recipient(t, db, c, id).Exposed; got != want {
			t.Errorf("%s after the second list = %v, want %v", id, got.Strings(), want.Strings())
		}
	}
	// A list in between without an exposed column changes nothing of it (the review's X1).
	mustImport(t, db, c, "customer_id,email\nD1,d1@example.com\n")
	mustImport(t, db, c, "customer_id,email,exposed\nD1,d1@example.com,sim\n")
	if got := recipient(t, db, c, "D1").Exposed; got != def|email|sim {
		t.Errorf("D1 after the fourth list = %v, want the default, email and sim", got.Strings())
	}
}

func mustCategories(t *testing.T, names ...string) breach.Categories {
	t.Helper()
	c, err := breach.CategoriesOf(names...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestImport_SameFileTwiceChangesNothing(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	first := mustImport(t, db, c, string(examples.Customers))
	if first.Accepted != 49 || first.Merged != 1 || first.Rejected != 7 || first.Warned != 2 {
		t.Fatalf("first import = %+v, want 49 accepted, 1 merged, 7 rejected, 2 warned", first)
	}
	if stored, err := db.Import(t.Context(), c.ID, first.ID); err != nil || stored.Warned != 2 ||
		len(stored.Warnings) != 2 || stored.Warnings[0] != first.Warnings[0] || stored.Warnings[1] != first.Warnings[1] {
		t.Errorf("stored import = %+v (%v), want its warning %+v", stored, err, first.Warnings)
	}
	before := recipient(t, db, c, "AT-100002")
	second := mustImport(t, db, c, string(examples.Customers))
	if second.Accepted != 0 || second.Updated != 0 || second.Merged != 50 || second.Rejected != 7 {
		t.Errorf("second import = %+v, want nothing new and nothing changed", second)
	}
	after := recipient(t, db, c, "AT-100002")
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("re-import rewrote an unchanged recipient (updated_at %v → %v)", before.UpdatedAt, after.UpdatedAt)
	}
	if n, _ := db.RecipientCount(t.Context(), c.ID); n != 49 {
		t.Errorf("recipients = %d, want 49", n)
	}
}

// A new campaign's list is copied frozen into its new partition: every page all-visible, so
// the approval's and the first claims' reads do not rewrite a million rows' pages to set their
// hint bits, and autovacuum has nothing to freeze in it later.
func TestImport_NewPartitionIsWrittenFrozen(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	var csv strings.Builder
	csv.WriteString("customer_id,email\n")
	for i := range 5000 {
		fmt.Fprintf(&csv, "F%d,f%d@example.com\n", i, i)
	}
	fmt.Fprintf(&csv, "F1,f1@example.com\n") // a repeat, merged after the copy
	if imp := mustImport(t, db, c, csv.String()); imp.Accepted != 5000 || imp.Merged != 1 {
		t.Fatalf("import = %+v, want 5000 accepted and 1 merged", imp)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `CREATE EXTENSION IF NOT EXISTS pg_visibility`); err != nil {
		t.Skipf("pg_visibility (PostgreSQL's contrib) is not available: %v", err)
	}
	var pages, frozen int64
	err = conn.QueryRow(t.Context(), `
		SELECT (SELECT relpages FROM pg_class WHERE oid = t.rel), s.all_frozen
		FROM (SELECT tableoid AS rel FROM recipients WHERE campaign_id = $1 LIMIT 1) t,
			pg_visibility_map_summary(t.rel) s`, c.ID).Scan(&pages, &frozen)
	if err != nil {
		t.Fatal(err)
	}
	// The merged repeat's update leaves one page not frozen.
	if pages < 10 || frozen < pages-1 {
		t.Errorf("%d of the partition's %d pages are frozen, want all but the merged row's", frozen, pages)
	}
}

func TestImport_LaterImportUpdatesExistingCustomer(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	mustImport(t, db, c, "customer_id,email,exposed\nC1,a@example.com,name\nC2,b@example.com,name\n")
	imp := mustImport(t, db, c, "customer_id,phone,exposed\nC1,987654321,bank_account\nC3,912345678,\n")
	if imp.Accepted != 1 || imp.Merged != 1 || imp.Updated != 1 {
		t.Fatalf("counts = %+v, want 1 new (C3) and 1 merged and changed (C1)", imp)
	}
	r := recipient(t, db, c, "C1")
	if r.Email != "a@example.com" || r.Phone != "+51987654321" || !r.Exposed.Has(breach.CategoryBankAccount) || !r.Exposed.Has(breach.CategoryName) {
		t.Errorf("C1 = %+v: the second list must add to the first, not replace it", r)
	}
}

func TestImport_RejectsAreStoredInLineOrder(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	imp := mustImport(t, db, c, string(examples.Customers))
	var lines []int64
	err := db.Rejects(t.Context(), imp.ID, func(r breach.Reject) error {
		lines = append(lines, r.Line)
		if r.Reason == "" {
			t.Errorf("line %d: reject without a reason", r.Line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{10, 16, 23, 26, 29, 32, 58}
	if !slices.Equal(lines, want) {
		t.Fatalf("reject lines = %v, want %v", lines, want)
	}
}

func TestImport_FailedImportStoresNothingAndIsRecordedAsFailed(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	imp, err := runImport(t, db, c, "email,phone\na@example.com,\n")
	if breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), "customer_id") {
		t.Fatalf("err = %v, want an EINVALID error naming customer_id", err)
	}
	got, err := db.Import(t.Context(), c.ID, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != breach.ImportFailed || !strings.Contains(got.Error, "customer_id") {
		t.Errorf("import = %+v, want failed with the reason", got)
	}
	if n, _ := db.RecipientCount(t.Context(), c.ID); n != 0 {
		t.Errorf("recipients = %d after a failed import, want 0", n)
	}
}

func TestImport_ConcurrentImportsIntoOneCampaignDoNotDuplicate(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	var b strings.Builder
	b.WriteString("customer_id,email\n")
	for i := range 2000 {
		b.WriteString("C" + itoa(i) + ",c" + itoa(i) + "@example.com\n")
	}
	list := b.String()
	var wg sync.WaitGroup
	imps := make([]*breach.Import, 4)
	for i := range imps {
		wg.Go(func() { imps[i] = mustImport(t, db, c, list) })
	}
	wg.Wait()
	var accepted int64
	for _, imp := range imps {
		accepted += imp.Accepted
	}
	if accepted != 2000 {
		t.Errorf("accepted across the concurrent imports = %d, want 2000 (each customer once)", accepted)
	}
	if n, _ := db.RecipientCount(t.Context(), c.ID); n != 2000 {
		t.Errorf("recipients = %d, want 2000", n)
	}
}

func TestCampaign_UnknownAndMalformedIDsAreNotFound(t *testing.T) {
	db := open(t)
	for _, id := range []string{"6f1f3e56-0000-4000-8000-000000000000", "not-a-uuid", "'; DROP TABLE campaigns; --"} {
		if _, err := db.Campaign(t.Context(), id); breach.ErrorCode(err) != breach.ENOTFOUND {
			t.Errorf("Campaign(%q) err = %v, want ENOTFOUND", id, err)
		}
	}
}

func TestTokens_CreateLookUpRotate(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	if err := db.CreateToken(ctx, "alice", "", []byte("hash-1"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, "alice", "", []byte("hash-2"), time.Time{}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("duplicate name err = %v, want ECONFLICT", err)
	}
	if tok, err := db.TokenByHash(ctx, []byte("hash-1")); err != nil || tok.Name != "alice" || tok.User != nil {
		t.Errorf("TokenByHash = %+v, %v", tok, err)
	}
	if err := db.RotateToken(ctx, "alice", []byte("hash-3")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TokenByHash(ctx, []byte("hash-1")); breach.ErrorCode(err) != breach.EUNAUTHORIZED {
		t.Errorf("rotated-away token err = %v, want EUNAUTHORIZED", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestImport_ManyRepeatedCustomersPauseTheDirectCopyAndAllMerge makes the rows held back for
// the merge overflow their buffer several times during a first import.
func TestImport_ManyRepeatedCustomersPauseTheDirectCopyAndAllMerge(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	const customers = 20000
	var b strings.Builder
	b.WriteString("customer_id,email,exposed,round\n")
	for round := range 3 {
		for i := range customers {
			cat := []string{"name", "phone", "sim"}[round]
			b.WriteString("C" + strconv.Itoa(i) + ",c" + strconv.Itoa(i) + "@example.com," + cat + "," + strconv.Itoa(round) + "\n")
		}
		b.WriteString("bad,not-an-email,name,x\n")
	}
	imp := mustImport(t, db, c, b.String())
	if imp.Accepted != customers || imp.Merged != 2*customers || imp.Rejected != 3 {
		t.Fatalf("counts = %+v, want %d accepted, %d merged, 3 rejected", imp, customers, 2*customers)
	}
	r := recipient(t, db, c, "C19999")
	want, _ := breach.CategoriesOf("name", "phone", "sim")
	if r.Exposed != want || r.Attributes["round"] != "2" {
		t.Errorf("C19999 = exposed %v, round %q; want every round's category and the last round", r.Exposed.Strings(), r.Attributes["round"])
	}
	if n, _ := db.RecipientCount(t.Context(), c.ID); n != customers {
		t.Errorf("recipients = %d, want %d", n, customers)
	}
}

// TestImport_ConcurrentSlowImportsNeitherDeadlockNorStarveOtherQueries: every import holds a
// connection while it runs; with more uploads than connections, they must queue for their turn
// without holding one, and other requests must still be served.
func TestImport_ConcurrentSlowImportsNeitherDeadlockNorStarveOtherQueries(t *testing.T) {
	db, err := postgres.Open(t.Context(), dbURL+"&pool_max_conns=4")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	const uploads = 6
	var wg sync.WaitGroup
	errs := make(chan error, uploads)
	for u := range uploads {
		c := newCampaign(t, db)
		pr, pw := io.Pipe()
		wg.Go(func() { // a client sending its list slowly
			defer pw.Close()
			pw.Write([]byte("customer_id,email\n"))
			for i := range 5 {
				fmt.Fprintf(pw, "U%d-%d,u%d.%d@example.com\n", u, i, u, i)
				time.Sleep(20 * time.Millisecond)
			}
		})
		wg.Go(func() {
			imp := &breach.Import{Filename: "slow.csv"}
			_, err := im.Run(t.Context(), c, imp, pr, importer.Options{ProgressEvery: time.Millisecond})
			if err == nil && imp.Accepted != 5 {
				err = fmt.Errorf("accepted %d, want 5", imp.Accepted)
			}
			errs <- err
		})
	}
	for range 20 { // meanwhile, the API's own queries are answered
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, err := db.Campaigns(ctx)
		cancel()
		if err != nil {
			t.Fatalf("a query during the imports: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("concurrent imports did not finish: deadlock")
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestApproveCampaign_NeedsRecipientsAndAPassingCheckAndHappensOnce(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	pass := func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }
	if _, err := db.ApproveCampaign(t.Context(), c.ID, "alice", "", "", pass); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("approving a campaign without recipients: %v, want a conflict", err)
	}
	mustImport(t, db, c, string(examples.Customers))
	lintErr := breach.Errorf(breach.ECONFLICT, "lint found 1 error")
	if _, err := db.ApproveCampaign(t.Context(), c.ID, "alice", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 0, lintErr }); err != lintErr {
		t.Errorf("approving despite a failing check: %v", err)
	}
	got, err := db.ApproveCampaign(t.Context(), c.ID, "alice", "", "", pass)
	if err != nil || got.State != breach.CampaignApproved || got.ApprovedBy != "alice" || got.ApprovedAt == nil {
		t.Fatalf("approve = %+v, %v", got, err)
	}
	if _, err := db.ApproveCampaign(t.Context(), c.ID, "bob", "", "", pass); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("approving twice: %v, want a conflict", err)
	}
	if _, err := runImport(t, db, c, "customer_id,email\nLATE,late@example.com\n"); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("importing into an approved campaign: %v, want a conflict", err)
	}
	again, _ := db.Campaign(t.Context(), c.ID)
	if again.ApprovedBy != "alice" {
		t.Errorf("stored approval by %q", again.ApprovedBy)
	}
}

// An import waits for an import slot for a while, not for as long as the lists holding them
// trickle in: four slow uploads held every slot, and every other import waited behind them
// without a word (a review: 95 s for 57 rows). It is refused as unavailable, recorded failed.
func TestImport_WaitingTooLongForASlotIsRefusedAsUnavailable(t *testing.T) {
	db := open(t)
	release := db.HoldImportSlots(200 * time.Millisecond)
	defer release()
	c := newCampaign(t, db)
	waiting := &breach.Import{CampaignID: c.ID, Filename: "b.csv", CreatedBy: "test"}
	if _, err := db.BeginImport(t.Context(), waiting); breach.ErrorCode(err) != breach.EUNAVAILABLE || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("an import with every slot held: %v, want EUNAVAILABLE saying the slots are busy", err)
	}
	got, err := db.Import(t.Context(), c.ID, waiting.ID)
	if err != nil || got.State != breach.ImportFailed {
		t.Errorf("the import refused: %+v, %v; want it recorded failed", got, err)
	}
}

// An import given up while it waits for a free import slot is recorded as failed, not left
// running for ever: a running import dates the campaign's list version, and the console would
// show it under way.
func TestImport_CancelledWhileWaitingForASlotIsRecordedAsFailed(t *testing.T) {
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	db, err := postgres.Open(t.Context(), dbURL+sep+"pool_max_conns=4") // one import slot
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, c := newCampaign(t, db), newCampaign(t, db)
	first, err := db.BeginImport(t.Context(), &breach.Import{CampaignID: other.ID, Filename: "a.csv", CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Abort(context.Background(), &breach.Import{CampaignID: other.ID}, errors.New("test over"))
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	waiting := &breach.Import{CampaignID: c.ID, Filename: "b.csv", CreatedBy: "test"}
	if _, err := db.BeginImport(ctx, waiting); err == nil {
		t.Fatal("a second import got a slot that the first holds")
	}
	got, err := db.Import(t.Context(), c.ID, waiting.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != breach.ImportFailed || got.FinishedAt == nil || !strings.Contains(got.Error, "cancelled") {
		t.Errorf("the import given up waiting: %s, finished %v, error %q; want failed, cancelled", got.State, got.FinishedAt, got.Error)
	}
}

// TestImport_OneWhoseProcessEndedReadsAsFailed: an import's process killed mid-list left its
// row running for ever (the console showed it under way); one not refreshed for two minutes
// reads as failed and says why, while a running one still refreshed reads as running.
func TestImport_OneWhoseProcessEndedReadsAsFailed(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var dead, alive string
	for _, row := range []struct {
		id  *string
		age string
	}{{&dead, "3 minutes"}, {&alive, "10 seconds"}} {
		if err := conn.QueryRow(t.Context(), `INSERT INTO imports (campaign_id, filename, created_by, alive_at)
			VALUES ($1, 'list.csv', 'test', now() - $2::interval) RETURNING id`, c.ID, row.age).Scan(row.id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Import(t.Context(), c.ID, dead)
	if err != nil || got.State != breach.ImportFailed || !strings.Contains(got.Error, "process running it ended") || got.FinishedAt == nil {
		t.Errorf("the import whose process ended: %+v, %v; want failed, saying why", got, err)
	}
	if got, err := db.Import(t.Context(), c.ID, alive); err != nil || got.State != breach.ImportRunning {
		t.Errorf("the import still refreshed: %+v, %v; want running", got, err)
	}
	// A real import ends completed, its heartbeat stopped.
	if imp := mustImport(t, db, c, "customer_id,email\nH1,h1@example.com\n"); imp.State != breach.ImportCompleted {
		t.Errorf("import %+v", imp)
	}
}
