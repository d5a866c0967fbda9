package operation_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// verifyList's V1 and V4 are sent their notice, V2's fails before it is sent, V3's is still
// queued; V4 comes from a second import (merged through the staging table, not copied).
const verifyList = "customer_id,name,email,phone,country\n" +
	"V1,Wilhelmina Quist,wilhelmina.quist@example.org,,PE\n" +
	"V2,Bartholomew Oyelaran,bartholomew@example.net,,PE\n" +
	"V3,Xiomara Ulloa,xiomara@example.com,,PE\n"

// sentCampaign creates the example campaign over verifyList and sends what verifyList says.
// With finish, V3's notice is sent too and the campaign completes.
func sentCampaign(t *testing.T, ops *operation.Service, db *postgres.DB, finish bool) *breach.Campaign {
	t.Helper()
	ctx := t.Context()
	actor := breach.CLIActor("setup")
	c, err := ops.CreateCampaign(ctx, actor, "campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	for _, list := range []string{verifyList, "customer_id,email,country\nV4,v4@example.org,PE\n"} {
		if _, err := ops.Import(ctx, actor, c.ID, operation.ImportRequest{Filename: "list.csv", List: strings.NewReader(list)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ApproveCampaign(ctx, c.ID, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(ctx, c.ID, "starter", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	pgtest.PlanAll(t, db, c.ID, 1000)
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, false, func(cl breach.Claim) *breach.Outcome {
		switch id := cl.Recipient.CustomerID; {
		case id == "V2":
			return &breach.Outcome{State: breach.DeliveryFailed, Error: "550 unknown user"}
		case id == "V3" && !finish:
			return nil
		default:
			return &breach.Outcome{State: breach.DeliverySent, ProviderID: "pid-" + id}
		}
	})
	if finish {
		if done, err := db.CompleteIfDone(ctx, c.ID); err != nil || !done {
			t.Fatalf("CompleteIfDone = %v, %v", done, err)
		}
	}
	return c
}

func TestVerify_OnlyAReferenceOfASentNoticeIsGenuine(t *testing.T) {
	ops, db := service(t)
	ops.VerifyFloor = 40 * time.Millisecond
	before := time.Now()
	c := sentCampaign(t, ops, db, false)
	ref := func(customerID string) string { return notice.Reference(testSecret, c.ID, customerID) }
	v1 := ref("V1")
	plain := strings.ReplaceAll(v1, "-", "")
	tests := []struct {
		name, code string
		genuine    bool
		reference  string
	}{
		{"sent", v1, true, v1},
		{"sent, typed in lower case with an en dash", strings.ToLower(plain[:5]) + "\u2013" + plain[5:], true, v1},
		{"sent, from the second import", ref("V4"), true, ref("V4")},
		{"failed before it was sent", ref("V2"), false, ref("V2")},
		{"still queued", ref("V3"), false, ref("V3")},
		{"not a customer of the list", ref("V9"), false, ref("V9")},
		{"another campaign's code", notice.Reference(testSecret, uuid.NewString(), "V1"), false, ""},
		{"keyed under another secret", notice.Reference([]byte("a phisher's own secret, 32 bytes+"), c.ID, "V1"), false, ""},
		{"made up", "0000-0000-00", false, "0000-0000-00"},
		{"malformed", "7KQ2-M9XD", false, ""},
		{"huge", strings.Repeat(v1, 1000), false, ""},
		{"odd unicode", "\u202e" + v1 + "\ufeff\u0000", false, ""},
		{"markup", "<script>alert(1)</script>", false, ""},
	}
	for _, tt := range tests {
		start := time.Now()
		got, err := ops.Verify(t.Context(), tt.code)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got.Genuine != tt.genuine {
			t.Errorf("%s: genuine = %v, want %v", tt.name, got.Genuine, tt.genuine)
		}
		if tt.reference != "" && got.Reference != tt.reference {
			t.Errorf("%s: reference = %q, want %q", tt.name, got.Reference, tt.reference)
		}
		if took < ops.VerifyFloor {
			t.Errorf("%s: answered in %v, before the floor of %v", tt.name, took, ops.VerifyFloor)
		}
		if !tt.genuine {
			if !reflect.DeepEqual(got.Organization, breach.Organization{}) || !got.SentAt.IsZero() {
				t.Errorf("%s: a code that is not genuine shows %+v", tt.name, got)
			}
			continue
		}
		if got.Organization.Name != "Andina Telecom S.A.A." || got.Organization.Domain != "andinatel.com.pe" ||
			got.Organization.SupportPhone == "" || got.Organization.DPO == nil {
			t.Errorf("%s: organization = %+v, want Andina Telecom's with its contacts", tt.name, got.Organization)
		}
		if got.SentAt.Before(before.Add(-time.Minute)) || got.SentAt.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: sent at %v, want about now", tt.name, got.SentAt)
		}
	}
}

// A purge keeps the counts and the proofs of notice, and the codes' keys with them: a customer
// who checks a letter months later still learns that it was genuine.
func TestVerify_APurgedCampaignsCodesStillVerify(t *testing.T) {
	ops, db := service(t)
	ops.VerifyFloor = time.Millisecond
	c := sentCampaign(t, ops, db, true)
	if _, err := ops.Purge(t.Context(), breach.CLIActor("dpo"), c.ID); err != nil {
		t.Fatal(err)
	}
	for customer, want := range map[string]bool{"V1": true, "V3": true, "V2": false} {
		got, err := ops.Verify(t.Context(), notice.Reference(testSecret, c.ID, customer))
		if err != nil {
			t.Fatal(err)
		}
		if got.Genuine != want {
			t.Errorf("%s after the purge: genuine = %v, want %v", customer, got.Genuine, want)
		}
	}
}
