package dispatch

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Customers sharing an email address — a family's accounts, one in capitals — are sent one
// notice there, and it names what was exposed about each of them (DESIGN: duplicates by address
// are merged, never sent twice). Before, the mailbox got one notice per account, each telling
// part of the story.
func TestSend_CustomersSharingAnEmailAddressGetOneNoticeNamingAllTheirData(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	family, solo := "fam."+w.tag+"@example.com", "solo."+w.tag+"@example.com"
	list := "customer_id,email,phone,name,country,exposed\n" +
		"A1," + family + ",,Ana,PE,password\n" +
		"S1," + solo + ",,Sola,PE,email\n" +
		"A2," + strings.ToUpper(family) + ",,Beto,PE,payment_card\n" +
		"A3," + family + ",+51987650003,Carla,PE,sim\n"
	c := w.campaignOf(list, nil)

	for id, want := range map[string]string{"A1": "", "S1": "", "A2": "A1", "A3": "A1"} {
		r, err := w.db.Recipient(ctx, c.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.EmailToldWith != want || r.PhoneToldWith != "" {
			t.Errorf("%s: told with %q by email and %q by SMS, want %q and none", id, r.EmailToldWith, r.PhoneToldWith, want)
		}
	}
	// The notice claimed for the family's address names the three customers' categories.
	w.start(c)
	if _, err := w.db.PlanCampaign(ctx, c.ID, 100); err != nil {
		t.Fatal(err)
	}
	claims, _, _, err := w.db.ClaimRange(ctx, c.ID, breach.ChannelEmail, 0, 1<<40, "00000000-0000-0000-0000-00000000c1a1", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 2 {
		t.Fatalf("%d email notices claimed, want 2 (the family's and the single customer's)", len(claims))
	}
	for _, cl := range claims {
		want := breach.Categories(0)
		switch cl.Recipient.CustomerID {
		case "A1":
			want = breach.Categories(0).With(breach.CategoryPassword).With(breach.CategoryPaymentCard).With(breach.CategorySIM)
		case "S1":
			want = breach.Categories(0).With(breach.CategoryEmail)
		default:
			t.Errorf("customer %s's own email notice was claimed", cl.Recipient.CustomerID)
		}
		if cl.Recipient.Exposed != want {
			t.Errorf("%s's notice names %v, want %v", cl.Recipient.CustomerID, cl.Recipient.Exposed, want)
		}
	}
	if err := w.db.Release(ctx, c.ID, breach.ChannelEmail, "00000000-0000-0000-0000-00000000c1a1", []int64{claims[0].Recipient.ID, claims[1].Recipient.ID}); err != nil {
		t.Fatal(err)
	}

	stop := w.run(w.engine(nil))
	defer stop()
	s := w.wait(c, time.Minute, "completed", completed)
	got := w.received()
	if got[family] != 1 || got[solo] != 1 || len(got) != 2 {
		t.Errorf("the sink received %v, want one notice for each of the two addresses", got)
	}
	if n := len(w.twilio.counts()); n != 0 {
		t.Errorf("%d SMS sent, want none (every customer is told by email)", n)
	}
	if s.Merged[breach.ChannelEmail] != 2 || s.Merged[breach.ChannelSMS] != 0 {
		t.Errorf("status merged %v, want 2 by email", s.Merged)
	}
	if sent := s.ByChannel[breach.ChannelEmail][breach.DeliverySent]; sent != 2 {
		t.Errorf("%d email deliveries sent, want 2", sent)
	}
	// The proof of notice has every customer: the merged ones with the notice that told them.
	var rows []string
	if _, err := w.db.ExportDeliveries(ctx, c.ID, func(d *breach.DeliveryRecord) error {
		rows = append(rows, fmt.Sprintf("%s %s %s %s %v", d.CustomerID, d.Channel, d.State, d.ToldWith, d.SentAt != nil))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := "A1 email sent  true|S1 email sent  true|A2 email sent A1 true|A3 email sent A1 true"; strings.Join(rows, "|") != want {
		t.Errorf("export rows\n%s\nwant\n%s", strings.Join(rows, "|"), want)
	}
}

// A shared address's notice that is not sent — suppressed here, failed alike — leaves every
// customer it was to tell untold: each gets their own fallback on their other channel.
func TestSend_ASharedAddressNotNotifiedFallsBackForEveryCustomerOnIt(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	shared := "shared." + w.tag + "@example.com"
	list := "customer_id,email,phone,name,country,exposed\n" +
		"B1," + shared + ",+51987650011,Ana,PE,password\n" +
		"B2," + shared + ",+51987650012,Beto,PE,payment_card\n" +
		"B3," + shared + ",,Carla,PE,sim\n"
	c := w.campaignOf(list, nil)
	if err := w.db.Suppress(ctx, "email", shared, "optout", "the address opted out", c.ID); err != nil {
		t.Fatal(err)
	}
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, 20*time.Second, "completed", completed)
	if got := w.received(); len(got) != 0 {
		t.Errorf("the sink received %v, want nothing (the address opted out)", got)
	}
	sms := w.twilio.counts()
	if sms["+51987650011"] != 1 || sms["+51987650012"] != 1 || len(sms) != 2 {
		t.Errorf("SMS sent %v, want one to each of the two customers with a phone", sms)
	}
	if sent := s.ByChannel[breach.ChannelSMS][breach.DeliverySent]; sent != 2 {
		t.Errorf("%d SMS deliveries sent, want 2", sent)
	}
	// The customer with no other channel is not reached, and the counts for substitute notice
	// say so.
	counts, err := w.db.ResidenceCounts(ctx, c.ID, true, false)
	if err != nil {
		t.Fatal(err)
	}
	var failed, suppressed int64
	for _, rc := range counts {
		failed, suppressed = failed+rc.Failed, suppressed+rc.Suppressed
	}
	if failed+suppressed != 1 {
		t.Errorf("%d customers counted unreached (%d of them suppressed), want 1: the customer told only by the suppressed address", failed+suppressed, suppressed)
	}
}

// With SMS first, customers sharing a phone number get one SMS; approving again after a later
// list decides again over the whole list.
func TestSend_CustomersSharingAPhoneGetOneSMS(t *testing.T) {
	w := newWorld(t)
	list := "customer_id,email,phone,name,country,exposed\n"
	for i := range 4 {
		list += fmt.Sprintf("P%d,p%d.%s@example.com,+51987650021,Cliente %d,PE,name\n", i, i, w.tag, i)
	}
	c := w.campaignOf(list, func(c *breach.Campaign) { c.Channels = breach.SMSFirst })
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, time.Minute, "completed", completed)
	if sms := w.twilio.counts(); sms["+51987650021"] != 1 || len(sms) != 1 {
		t.Errorf("SMS sent %v, want one to the shared number", sms)
	}
	if got := w.received(); len(got) != 0 {
		t.Errorf("emails sent %v, want none (SMS first)", got)
	}
	if s.Merged[breach.ChannelSMS] != 3 {
		t.Errorf("status merged %v, want 3 by SMS", s.Merged)
	}
}

// An address given to more customers than a family has is a CRM's placeholder, not theirs: no
// notice goes there, each customer is sent their own on their other channel, and one with no
// other channel is counted without contact (substitute notice) rather than told.
func TestSend_APlaceholderAddressIsNoAddress(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	dead := "sinemail." + w.tag + "@example.com"
	list := "customer_id,email,phone,name,country,exposed\n"
	n := breach.MaxCustomersPerAddress + 1
	for i := range n {
		phone := fmt.Sprintf("+5198765%04d", i)
		if i == 0 {
			phone = "" // the placeholder is all the list has
		}
		list += fmt.Sprintf("Q%d,%s,%s,Cliente %d,PE,name\n", i, dead, phone, i)
	}
	c := w.campaignOf(list, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, time.Minute, "completed", completed)
	if got := w.received(); len(got) != 0 {
		t.Errorf("emails sent %v, want none to the placeholder", got)
	}
	if sms := w.twilio.counts(); len(sms) != n-1 {
		t.Errorf("%d customers sent an SMS, want %d (all but the one without a phone)", len(sms), n-1)
	}
	if s.Merged != nil || s.Placeholders[breach.ChannelEmail] != int64(n) {
		t.Errorf("status merged %v and placeholders %v, want none merged and %d placeholders", s.Merged, s.Placeholders, n)
	}
	if r, err := w.db.Recipient(ctx, c.ID, "Q3"); err != nil || !r.EmailPlaceholder || r.PhonePlaceholder || r.EmailToldWith != "" {
		t.Errorf("Q3's record: %+v (%v), want its email a placeholder", r, err)
	}
	counts, err := w.db.ResidenceCounts(ctx, c.ID, true, false)
	if err != nil {
		t.Fatal(err)
	}
	var noContact int64
	for _, rc := range counts {
		noContact += rc.NoContact
	}
	if noContact != 1 {
		t.Errorf("%d customers counted without contact, want 1", noContact)
	}
}
