package dispatch

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// One person the CRM holds under two customer_ids at one email address (one in capitals) is
// sent one notice there, naming what was exposed under each (DESIGN: duplicates by address are
// merged, never sent twice); a different person at the same address gets their own, in their
// name — a notice naming one person's data to another is wrong twice (the review of the first
// version, which merged everyone at an address into the earliest one's notice).
func TestSend_OnePersonsCustomerIDsAtOneAddressGetOneNotice(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	family, solo := "fam."+w.tag+"@example.com", "solo."+w.tag+"@example.com"
	list := "customer_id,email,phone,name,country,exposed\n" +
		"A1," + family + ",,Ana Lopez,PE,password\n" +
		"S1," + solo + ",,Sola,PE,email\n" +
		"A2," + strings.ToUpper(family) + ",,ANA LOPEZ ,PE,payment_card\n" +
		"C1," + family + ",,Carla Lopez,PE,sim\n"
	c := w.campaignOf(list, nil)

	for id, want := range map[string]string{"A1": "", "S1": "", "A2": "A1", "C1": ""} {
		r, err := w.db.Recipient(ctx, c.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.EmailToldWith != want || r.PhoneToldWith != "" {
			t.Errorf("%s: told with %q by email and %q by SMS, want %q and none", id, r.EmailToldWith, r.PhoneToldWith, want)
		}
	}
	// The regulator report's counts know A2 is A1's person.
	counts, err := w.db.ResidenceCounts(ctx, c.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	var same int64
	for _, rc := range counts {
		same += rc.SamePerson
	}
	if same != 1 {
		t.Errorf("residence counts say %d customer_ids are another's person, want 1 (A2)", same)
	}
	// The notices claimed: Ana's names both of her customer_ids' categories, Carla's her own.
	w.start(c)
	if _, err := w.db.PlanCampaign(ctx, c.ID, 100); err != nil {
		t.Fatal(err)
	}
	worker := "00000000-0000-0000-0000-00000000c1a1"
	claims, _, _, err := w.db.ClaimRange(ctx, c.ID, breach.ChannelEmail, 0, 1<<40, worker, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 3 {
		t.Fatalf("%d email notices claimed, want 3 (Ana's, Sola's, Carla's)", len(claims))
	}
	var ids []int64
	for _, cl := range claims {
		want := breach.Categories(0)
		switch cl.Recipient.CustomerID {
		case "A1":
			want = want.With(breach.CategoryPassword).With(breach.CategoryPaymentCard)
		case "S1":
			want = want.With(breach.CategoryEmail)
		case "C1":
			want = want.With(breach.CategorySIM)
		default:
			t.Errorf("customer %s's own email notice was claimed", cl.Recipient.CustomerID)
		}
		if cl.Recipient.Exposed != want {
			t.Errorf("%s's notice names %v, want %v", cl.Recipient.CustomerID, cl.Recipient.Exposed, want)
		}
		ids = append(ids, cl.Recipient.ID)
	}
	if err := w.db.Release(ctx, c.ID, breach.ChannelEmail, worker, ids); err != nil {
		t.Fatal(err)
	}

	stop := w.run(w.engine(nil))
	defer stop()
	s := w.wait(c, time.Minute, "completed", completed)
	got := w.received()
	if got[family] != 2 || got[solo] != 1 || len(got) != 2 {
		t.Errorf("the sink received %v, want two notices at the family's address (Ana's, Carla's) and one at Sola's", got)
	}
	if s.Merged[breach.ChannelEmail] != 1 || s.Merged[breach.ChannelSMS] != 0 {
		t.Errorf("status merged %v, want 1 by email", s.Merged)
	}
	if s.Shared[breach.ChannelEmail] != 3 {
		t.Errorf("status shared %v, want 3 by email (Ana's two customer_ids and Carla at one address)", s.Shared)
	}
	// The proof of notice has every customer: the merged one with the notice that told them.
	var rows []string
	if _, err := w.db.ExportDeliveries(ctx, c.ID, func(d *breach.DeliveryRecord) error {
		rows = append(rows, fmt.Sprintf("%s %s %s %s %v", d.CustomerID, d.Channel, d.State, d.ToldWith, d.SentAt != nil))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := "A1 email sent  true|S1 email sent  true|A2 email sent A1 true|C1 email sent  true"; strings.Join(rows, "|") != want {
		t.Errorf("export rows\n%s\nwant\n%s", strings.Join(rows, "|"), want)
	}
	// After the purge, the proof of notice for the address as A2's row gave it finds the notice
	// that told A2 (the second review: "matched, no deliveries"): A1's, the first customer at
	// that mailbox in any letter case.
	if _, err := w.db.PurgeCampaign(ctx, c.ID, "dpo", testSecret); err != nil {
		t.Fatal(err)
	}
	p, err := w.db.NoticeProof(ctx, c.ID, breach.ChannelEmail, strings.ToUpper(family[:strings.IndexByte(family, '@')])+family[strings.IndexByte(family, '@'):], testSecret)
	if err != nil || !p.Matched || p.CustomerID != "A1" || len(p.Deliveries) != 1 || p.Deliveries[0].State != breach.DeliverySent {
		t.Errorf("proof of A2's address: %+v, %v; want matched, A1 (whose notice told A2), the notice sent", p, err)
	}
}

// A shared notice that is not sent — suppressed here, failed alike — leaves every customer_id
// it was to tell untold: each gets their own fallback on their other channel, and one with none
// is counted unreached for substitute notice.
func TestSend_ASharedNoticeNotSentFallsBackForEveryCustomerIDItWasToTell(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	shared := "shared." + w.tag + "@example.com"
	list := "customer_id,email,phone,name,country,exposed\n" +
		"B1," + shared + ",+51987650011,Ana Lopez,PE,password\n" +
		"B2," + shared + ",+51987650012,Ana Lopez,PE,payment_card\n" +
		"B3," + shared + ",,Ana Lopez,PE,sim\n"
	c, s := w.sendWithEmailSuppressed(list, shared)
	if got := w.received(); len(got) != 0 {
		t.Errorf("the sink received %v, want nothing (the address opted out)", got)
	}
	sms := w.twilio.counts()
	if sms["+51987650011"] != 1 || sms["+51987650012"] != 1 || len(sms) != 2 {
		t.Errorf("SMS sent %v, want one to each of the two phones", sms)
	}
	if sent := s.ByChannel[breach.ChannelSMS][breach.DeliverySent]; sent != 2 {
		t.Errorf("%d SMS deliveries sent, want 2", sent)
	}
	counts, err := w.db.ResidenceCounts(ctx, c.ID, true, false)
	if err != nil {
		t.Fatal(err)
	}
	var failed, suppressed int64
	for _, rc := range counts {
		failed, suppressed = failed+rc.Failed, suppressed+rc.Suppressed
	}
	if failed+suppressed != 1 {
		t.Errorf("%d customers counted unreached (%d of them suppressed), want 1: B3, told only by the suppressed address", failed+suppressed, suppressed)
	}
}

// One person under two customer_ids with the same email and the same phone: when the email
// they share is suppressed, the fallback is one SMS to the phone they share, naming both
// customer_ids' data — not one per customer_id (the review: two SMS to one number).
func TestSend_TheFallbackOfASharedNoticeIsOneNoticeToo(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	shared := "both." + w.tag + "@example.com"
	list := "customer_id,email,phone,name,country,exposed\n" +
		"D1," + shared + ",+51987650031,Dario Paz,PE,password\n" +
		"D2," + shared + ",+51987650031,Dario Paz,PE,payment_card\n"
	c, _ := w.sendWithEmailSuppressed(list, shared)
	if sms := w.twilio.counts(); sms["+51987650031"] != 1 || len(sms) != 1 {
		t.Errorf("SMS sent %v, want one to the shared phone", sms)
	}
	r, err := w.db.Recipient(ctx, c.ID, "D2")
	if err != nil || r.EmailToldWith != "D1" || r.PhoneToldWith != "D1" {
		t.Errorf("D2: %+v, %v; want told by D1's email and SMS", r, err)
	}
}

// With SMS first, one person's customer_ids sharing a phone get one SMS; a different person on
// the same number gets their own.
func TestSend_OnePersonsCustomerIDsSharingAPhoneGetOneSMS(t *testing.T) {
	w := newWorld(t)
	list := "customer_id,email,phone,name,country,exposed\n"
	for i := range 3 {
		list += fmt.Sprintf("P%d,p%d.%s@example.com,+51987650021,Pedro Diaz,PE,name\n", i, i, w.tag)
	}
	list += fmt.Sprintf("Q1,q1.%s@example.com,+51987650021,Quispe Diaz,PE,name\n", w.tag)
	c := w.campaignOf(list, func(c *breach.Campaign) { c.Channels = breach.SMSFirst })
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, time.Minute, "completed", completed)
	if sms := w.twilio.counts(); sms["+51987650021"] != 2 || len(sms) != 1 {
		t.Errorf("SMS sent %v, want two to the shared number: Pedro's and Quispe's", sms)
	}
	if got := w.received(); len(got) != 0 {
		t.Errorf("emails sent %v, want none (SMS first)", got)
	}
	if s.Merged[breach.ChannelSMS] != 2 || s.Shared[breach.ChannelSMS] != 4 {
		t.Errorf("status merged %v, shared %v; want 2 merged and 4 shared by SMS", s.Merged, s.Shared)
	}
}

// Rows at one address that cannot be told to be one person's are each sent their own notice,
// and the status reports the shared address — so a placeholder a CRM wrote where it had no email
// (sinemail@…) is seen at approval, not merged into one notice that would count them all told:
// rows without a name, and more rows of one name than one person has (the second review: 20,000
// rows of "CLIENTE" at sinemail@… were merged into one email to a dead mailbox).
func TestSend_RowsNotOnePersonsAtOneAddressAreEachToldAndReported(t *testing.T) {
	for _, tt := range []struct {
		test, name string
		rows       int
	}{
		{"nameless", "", 5},
		{"one name too many times", "CLIENTE", maxIDsOfOnePersonForTests + 1},
	} {
		t.Run(tt.test, func(t *testing.T) {
			w := newWorld(t)
			dead := "sinemail." + w.tag + "@example.com"
			list := "customer_id,email,phone,name,country,exposed\n"
			for i := range tt.rows {
				list += fmt.Sprintf("N%d,%s,,%s,PE,name\n", i, dead, tt.name)
			}
			c := w.campaignOf(list, nil)
			stop := w.run(w.engine(nil))
			defer stop()
			w.start(c)
			s := w.wait(c, time.Minute, "completed", completed)
			if got := w.received(); got[dead] != tt.rows {
				t.Errorf("emails sent %v, want %d to the shared address", got, tt.rows)
			}
			if s.Merged != nil || s.Shared[breach.ChannelEmail] != int64(tt.rows) {
				t.Errorf("status merged %v, shared %v; want none merged, %d shared by email", s.Merged, s.Shared, tt.rows)
			}
		})
	}
}

// maxIDsOfOnePersonForTests is postgres's limit of customer_ids one person may have at one
// address (maxIDsOfOnePerson), as a list shows it.
const maxIDsOfOnePersonForTests = 10

// One person's two customer_ids with their own emails and one phone: when their emails fail one
// at a time, the fallback is one SMS — the phone's keeper's, naming both — whichever fails first
// (the second review: the later failure queued a second SMS to the same number).
func TestFallbacks_OnePersonsEmailsFailingOneAtATimeGetOneSMS(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	list := "customer_id,email,phone,name,country,exposed\n" +
		"E1,e1." + w.tag + "@example.com,+51987650041,Eva Rios,PE,password\n" +
		"E2,e2." + w.tag + "@example.com,+51987650041,Eva Rios,PE,payment_card\n"
	c := w.campaignOf(list, nil)
	w.start(c)
	if _, err := w.db.PlanCampaign(ctx, c.ID, 100); err != nil {
		t.Fatal(err)
	}
	worker := "00000000-0000-0000-0000-00000000fa11"
	if err := w.db.RegisterWorker(ctx, worker, "test", 1, ""); err != nil {
		t.Fatal(err)
	}
	e1, err := w.db.Recipient(ctx, c.ID, "E1")
	if err != nil {
		t.Fatal(err)
	}
	e2, err := w.db.Recipient(ctx, c.ID, "E2")
	if err != nil || e2.PhoneToldWith != "E1" {
		t.Fatalf("E2: %+v, %v; want its phone merged into E1's", e2, err)
	}
	fail := func(id int64) []int64 {
		t.Helper()
		claims, _, _, err := w.db.ClaimRange(ctx, c.ID, breach.ChannelEmail, id, id+1, worker, true, 0)
		if err != nil || len(claims) != 1 {
			t.Fatalf("claim: %d claims, %v", len(claims), err)
		}
		fallbacks, err := w.db.Record(ctx, c.ID, breach.ChannelEmail, worker, []breach.Outcome{{RecipientID: id, State: breach.DeliveryFailed, Error: "550 5.1.1 no such user"}}, true)
		if err != nil {
			t.Fatal(err)
		}
		return fallbacks
	}
	if got := fail(e2.ID); len(got) != 1 || got[0] != e1.ID {
		t.Errorf("E2's email failed: fallbacks %v, want E1's SMS (the phone's, naming both)", got)
	}
	if got := fail(e1.ID); len(got) != 0 {
		t.Errorf("E1's email failed after: fallbacks %v, want none (the phone's SMS is queued already)", got)
	}
	var sms int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND channel = 'sms'`, c.ID).Scan(&sms); err != nil || sms != 1 {
		t.Errorf("%d SMS deliveries (%v), want 1", sms, err)
	}
	claims, _, _, err := w.db.ClaimRange(ctx, c.ID, breach.ChannelSMS, 0, 1<<40, worker, false, 0)
	if err != nil || len(claims) != 1 {
		t.Fatalf("SMS claims: %d, %v", len(claims), err)
	}
	if want := breach.Categories(0).With(breach.CategoryPassword).With(breach.CategoryPaymentCard); claims[0].Recipient.Exposed != want {
		t.Errorf("the SMS names %v, want %v", claims[0].Recipient.Exposed, want)
	}
}

// sendWithEmailSuppressed sends a campaign of list, the email address shared having opted out
// before the start, until it completes.
func (w *world) sendWithEmailSuppressed(list, shared string) (*breach.Campaign, *breach.CampaignStatus) {
	w.t.Helper()
	c := w.campaignOf(list, nil)
	if err := w.db.Suppress(context.Background(), "email", shared, "optout", "the address opted out", c.ID); err != nil {
		w.t.Fatal(err)
	}
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	return c, w.wait(c, 30*time.Second, "completed", completed)
}
