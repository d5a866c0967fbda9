package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// runningCampaign imports list into a fresh example campaign, approves and starts it, and
// plans it in steps of step recipients.
func runningCampaign(t *testing.T, db *postgres.DB, list string, step int) *breach.Campaign {
	t.Helper()
	ctx := t.Context()
	c := newCampaign(t, db)
	mustImport(t, db, c, list)
	if _, err := db.ApproveCampaign(ctx, c.ID, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(ctx, c.ID, "starter", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	pgtest.PlanAll(t, db, c.ID, step)
	return c
}

func sent(cl breach.Claim) *breach.Outcome {
	return &breach.Outcome{State: breach.DeliverySent, ProviderID: "pid-" + cl.Recipient.CustomerID}
}

// allDeliveries lists every delivery of a campaign, a page at a time.
func allDeliveries(t *testing.T, db *postgres.DB, c *breach.Campaign, f breach.DeliveryFilter, limit int) (all []breach.DeliveryRecord, pages int) {
	t.Helper()
	var after *breach.DeliveryKey
	for {
		page, next, err := db.Deliveries(t.Context(), c.ID, f, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > limit {
			t.Fatalf("a page of %d deliveries, limit %d", len(page), limit)
		}
		all, pages = append(all, page...), pages+1
		if next == nil {
			return all, pages
		}
		if after != nil && (next.RecipientID < after.RecipientID || next.RecipientID == after.RecipientID && next.Channel <= after.Channel) {
			t.Fatalf("the listing went back: next %+v after %+v", next, after)
		}
		after = next
	}
}

func TestTracking_EachDeliveryIsInTheLocaleItsNoticeIsWrittenIn(t *testing.T) {
	db := open(t)
	c := runningCampaign(t, db, string(examples.Customers), 10)
	rd, err := notice.New("", []byte("tracking-test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := allDeliveries(t, db, c, breach.DeliveryFilter{}, 1000)
	if len(ds) < 45 {
		t.Fatalf("%d deliveries for 45 recipients", len(ds))
	}
	seen := map[string]bool{}
	for _, d := range ds {
		r := recipient(t, db, c, d.CustomerID)
		n, err := rd.Render(c, r, notice.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Locale != n.Locale {
			t.Errorf("%s (%s, %s): delivery in %q, notice written in %q", d.CustomerID, r.Locale, r.Country, d.Locale, n.Locale)
		}
		seen[d.Locale] = true
	}
	for _, l := range c.Locales {
		if !seen[l] {
			t.Errorf("no delivery in %s: the example list has customers in every offered locale", l)
		}
	}
}

// checkAddsUp fails unless every channel × state count is the sum of its locales'.
func checkAddsUp(t *testing.T, s *breach.CampaignStatus) {
	t.Helper()
	for _, ch := range breach.Channels {
		for _, st := range breach.DeliveryStates {
			var sum int64
			for _, byCh := range s.ByLocale {
				sum += byCh[ch][st]
			}
			if sum != s.ByChannel[ch][st] {
				t.Errorf("%s %s: %d by channel, %d summed over the locales %v", ch, st, s.ByChannel[ch][st], sum, s.ByLocale)
			}
		}
	}
}

func TestCampaignStatus_LocalesAddUpToTheChannelsWhilePlanningAndSending(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := newCampaign(t, db)
	mustImport(t, db, c, string(examples.Customers))
	if _, err := db.ApproveCampaign(ctx, c.ID, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(ctx, c.ID, "starter", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	// Not planned at all, asked twice (the second answer comes from the pending cache).
	for range 2 {
		s, err := db.CampaignStatus(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p := s.ByChannel[breach.ChannelEmail][breach.DeliveryPending] + s.ByChannel[breach.ChannelSMS][breach.DeliveryPending]; p != 45 {
			t.Errorf("before planning: %d pending, want the 45 recipients email or SMS reach", p)
		}
	}
	// Half planned: the unplanned customers count as pending in the locale they will get (and
	// the cached count of the unplanned list is not reused once the planner has moved).
	if _, err := db.PlanCampaign(ctx, c.ID, 22); err != nil {
		t.Fatal(err)
	}
	s, err := db.CampaignStatus(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkAddsUp(t, s)
	pending := s.ByChannel[breach.ChannelEmail][breach.DeliveryPending] + s.ByChannel[breach.ChannelSMS][breach.DeliveryPending]
	queued := s.ByChannel[breach.ChannelEmail][breach.DeliveryQueued] + s.ByChannel[breach.ChannelSMS][breach.DeliveryQueued]
	if pending != 23 || queued != 22 {
		t.Errorf("half planned: %d pending and %d queued, want 23 and 22", pending, queued)
	}
	if s.ByLocale["ko"][breach.ChannelEmail][breach.DeliveryPending] == 0 {
		t.Errorf("the Korean customers, last in the list, are not pending in ko: %v", s.ByLocale["ko"])
	}
	pgtest.PlanAll(t, db, c.ID, 22)
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, false, func(cl breach.Claim) *breach.Outcome {
		if strings.HasPrefix(cl.Recipient.CustomerID, "AT-2") { // the French
			return &breach.Outcome{State: breach.DeliveryFailed, Error: "550 no such user"}
		}
		return sent(cl)
	})
	if s, err = db.CampaignStatus(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	checkAddsUp(t, s)
	if got := s.ByLocale["fr"][breach.ChannelEmail][breach.DeliveryFailed]; got != 5 {
		t.Errorf("fr email failed = %d, want the 5 French customers with an email", got)
	}
	if got := s.ByLocale["es"][breach.ChannelEmail][breach.DeliveryFailed]; got != 0 {
		t.Errorf("es email failed = %d, want 0", got)
	}
	if s.ByChannel[breach.ChannelEmail][breach.DeliverySent] == 0 || s.RatePerSec <= 0 || s.ETASeconds == nil {
		t.Errorf("after sending: %+v, want emails sent, a rate and an ETA for the SMS left", s)
	}
	for _, l := range c.Locales {
		if s.ByLocale[l] == nil || len(s.ByLocale[l][breach.ChannelSMS]) != len(breach.DeliveryStates) {
			t.Errorf("locale %s lacks its full shape: %v", l, s.ByLocale[l])
		}
	}
}

func TestRecipientRecord_TimelineInOrderThroughFailureAndFallback(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := runningCampaign(t, db, string(examples.Customers), 1000)
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, true, func(cl breach.Claim) *breach.Outcome {
		if cl.Recipient.CustomerID == "AT-300001" {
			return &breach.Outcome{State: breach.DeliveryFailed, Error: "550 5.1.1 mailbox unavailable"}
		}
		return nil
	})
	pgtest.Send(t, db, c.ID, breach.ChannelSMS, true, func(cl breach.Claim) *breach.Outcome {
		if cl.Recipient.CustomerID == "AT-300001" {
			return &breach.Outcome{State: breach.DeliverySent, ProviderID: "SM123"}
		}
		return nil
	})
	rec, err := db.RecipientRecord(ctx, c.ID, "AT-300001")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Recipient.CustomerID != "AT-300001" || rec.Recipient.Email != "minjun.kim@naver.com" {
		t.Errorf("recipient = %+v", rec.Recipient)
	}
	if len(rec.Deliveries) != 2 {
		t.Fatalf("deliveries = %+v, want email and its SMS fallback", rec.Deliveries)
	}
	email, sms := rec.Deliveries[0], rec.Deliveries[1]
	if email.Channel != breach.ChannelEmail || email.State != breach.DeliveryFailed || email.Error != "550 5.1.1 mailbox unavailable" ||
		email.Attempts != 1 || email.Locale != "ko" || email.SentAt != nil || email.Address != "minjun.kim@naver.com" {
		t.Errorf("email = %+v", email)
	}
	if sms.Channel != breach.ChannelSMS || sms.State != breach.DeliverySent || sms.ProviderID != "SM123" || !sms.Fallback ||
		sms.Locale != "ko" || sms.SentAt == nil || sms.Address != "+821028417736" {
		t.Errorf("sms = %+v: the fallback is sent, in the customer's locale", sms)
	}
	type step struct {
		ch     breach.Channel
		state  breach.DeliveryState
		source string
	}
	want := []step{
		{"email", "queued", "planner"}, {"email", "sending", "worker"}, {"email", "failed", "worker"},
		{"sms", "queued", "worker"}, {"sms", "sending", "worker"}, {"sms", "sent", "worker"},
	}
	var got []step
	for i, e := range rec.Events {
		got = append(got, step{e.Channel, e.State, e.Source})
		if i > 0 && e.At.Before(rec.Events[i-1].At) {
			t.Errorf("event %d at %v is before event %d at %v", i, e.At, i-1, rec.Events[i-1].At)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("timeline = %v\nwant       %v", got, want)
	}
	if last := rec.Events[len(rec.Events)-1]; last.ProviderID != "SM123" || last.Attempt != 1 {
		t.Errorf("the sent event = %+v, want the provider's ID and attempt 1", last)
	}
	if rec.Events[2].Error != "550 5.1.1 mailbox unavailable" {
		t.Errorf("the failed event = %+v, want the relay's answer", rec.Events[2])
	}
}

func TestRecipientRecord_UnknownCampaignOrCustomerIsNotFound(t *testing.T) {
	db := open(t)
	c := runningCampaign(t, db, "customer_id,email\nC1,a@example.com\n", 10)
	for _, tc := range []struct{ campaign, customer, want string }{
		{c.ID, "NOPE", "customer_id"},
		{uuid.NewString(), "C1", "campaign"},
		{"not-a-uuid", "C1", "campaign"},
	} {
		_, err := db.RecipientRecord(t.Context(), tc.campaign, tc.customer)
		if breach.ErrorCode(err) != breach.ENOTFOUND || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RecipientRecord(%s, %s) = %v, want not found naming the %s", tc.campaign, tc.customer, err, tc.want)
		}
	}
	if _, _, err := db.Deliveries(t.Context(), uuid.NewString(), breach.DeliveryFilter{}, nil, 10); breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Errorf("Deliveries of an unknown campaign = %v, want not found", err)
	}
	if _, err := db.ExportDeliveries(t.Context(), uuid.NewString(), func(*breach.DeliveryRecord) error { return nil }); breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Errorf("ExportDeliveries of an unknown campaign = %v, want not found", err)
	}
}

// bigList is a list of n customers, every fifth in Korea with only a phone, the others in
// Peru with only an email.
func bigList(n int) string {
	var b strings.Builder
	b.WriteString("customer_id,email,phone,country\n")
	for i := range n {
		if i%5 == 0 {
			fmt.Fprintf(&b, "K%06d,,010-2%03d-%04d,KR\n", i, i/10000, i%10000)
		} else {
			fmt.Fprintf(&b, "P%06d,p%d@example.com,,PE\n", i, i)
		}
	}
	return b.String()
}

func TestDeliveries_PagesMissNothingAndRepeatNothingWithAndWithoutFilters(t *testing.T) {
	db := open(t)
	// More deliveries than a filtered page examines, so that rare filters cross scan windows.
	c := runningCampaign(t, db, bigList(25_000), 50_000)
	// The last three customers' notices fail; the rest stay queued.
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, false, func(cl breach.Claim) *breach.Outcome {
		switch cl.Recipient.CustomerID {
		case "P024997", "P024998", "P000001":
			return &breach.Outcome{State: breach.DeliveryFailed, Error: "550"}
		}
		return nil
	})
	every, pages := allDeliveries(t, db, c, breach.DeliveryFilter{}, 1000)
	if len(every) != 25_000 || pages != 25 {
		t.Fatalf("%d deliveries in %d pages, want 25000 in 25", len(every), pages)
	}
	for _, tc := range []struct {
		f     breach.DeliveryFilter
		limit int
	}{
		{breach.DeliveryFilter{State: breach.DeliveryFailed}, 2},
		{breach.DeliveryFilter{Channel: breach.ChannelSMS}, 1000},
		{breach.DeliveryFilter{Locale: "ko", State: breach.DeliveryQueued}, 999},
		{breach.DeliveryFilter{Locale: "fr"}, 10},
	} {
		t.Run(fmt.Sprintf("%+v", tc.f), func(t *testing.T) {
			var want []string
			for _, d := range every {
				if (tc.f.State == "" || d.State == tc.f.State) && (tc.f.Channel == "" || d.Channel == tc.f.Channel) &&
					(tc.f.Locale == "" || d.Locale == tc.f.Locale) {
					want = append(want, d.CustomerID+"/"+string(d.Channel))
				}
			}
			got, _ := allDeliveries(t, db, c, tc.f, tc.limit)
			var keys []string
			seen := map[string]bool{}
			for _, d := range got {
				k := d.CustomerID + "/" + string(d.Channel)
				if seen[k] {
					t.Errorf("%s listed twice", k)
				}
				seen[k] = true
				keys = append(keys, k)
			}
			if fmt.Sprint(keys) != fmt.Sprint(want) {
				t.Errorf("listed %d deliveries, want %d (first %.80v / %.80v)", len(keys), len(want), keys, want)
			}
		})
	}
	if failed, _ := allDeliveries(t, db, c, breach.DeliveryFilter{State: breach.DeliveryFailed}, 2); len(failed) != 3 {
		t.Errorf("failed = %d, want 3", len(failed))
	}
}

func TestExportDeliveries_StreamsEveryDeliveryAndStopsOnTheCallersError(t *testing.T) {
	db := open(t)
	c := runningCampaign(t, db, string(examples.Customers), 1000)
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, false, sent)
	var (
		n     int
		prev  string
		sentN int
	)
	rows, err := db.ExportDeliveries(t.Context(), c.ID, func(d *breach.DeliveryRecord) error {
		n++
		k := fmt.Sprintf("%012d/%s", d.RecipientID, d.Channel)
		if k <= prev {
			t.Errorf("row %d (%s) out of order after %s", n, k, prev)
		}
		prev = k
		if d.State == breach.DeliverySent {
			sentN++
			if d.SentAt == nil || d.ProviderID != "pid-"+d.CustomerID {
				t.Errorf("sent row = %+v, want its sent time and provider ID", d)
			}
		}
		return nil
	})
	if err != nil || rows != int64(n) {
		t.Fatalf("ExportDeliveries = %d, %v after %d calls", rows, err, n)
	}
	s, _ := db.CampaignStatus(t.Context(), c.ID)
	total := int64(0)
	for ch, states := range s.ByChannel {
		for st, v := range states {
			if ch == breach.ChannelLetter && st == breach.DeliveryPending {
				continue // letters owed, not printed yet: no delivery row until a letters run
			}
			total += v
		}
	}
	if int64(n) != total || sentN == 0 {
		t.Errorf("exported %d rows (%d sent), the status counts %d deliveries", n, sentN, total)
	}
	stop := errors.New("client gone")
	calls := 0
	_, err = db.ExportDeliveries(t.Context(), c.ID, func(*breach.DeliveryRecord) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("export after the callback failed: %v after %d calls, want the callback's error after 3", err, calls)
	}
}

func TestSuppressions_PagesByChannelAndAddress(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	ctx := t.Context()
	var want []string
	for i := range 5 {
		addr := fmt.Sprintf("user%d@example.com", i)
		if err := db.Suppress(ctx, breach.ChannelEmail, addr, "optout", "opt-out link", c.ID); err != nil {
			t.Fatal(err)
		}
		want = append(want, "email "+addr)
	}
	for i := range 3 {
		addr := fmt.Sprintf("+5198765432%d", i)
		if err := db.Suppress(ctx, breach.ChannelSMS, addr, "webhook", "STOP", c.ID); err != nil {
			t.Fatal(err)
		}
		want = append(want, "sms "+addr)
	}
	list := func(ch breach.Channel) []string {
		var (
			out   []string
			after *breach.SuppressionKey
		)
		for {
			page, next, err := db.Suppressions(ctx, ch, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page {
				if s.CampaignID == c.ID && (s.Source == "" || s.Reason == "" || s.CreatedAt.IsZero()) {
					t.Errorf("suppression = %+v", s)
				}
				out = append(out, string(s.Channel)+" "+s.Address)
			}
			if next == nil {
				return out
			}
			after = next
		}
	}
	// Other tests' suppressions share the table: keep only this test's addresses.
	mine := func(all []string) []string {
		var out []string
		for _, s := range all {
			if strings.HasPrefix(s, "email user") || strings.HasPrefix(s, "sms +5198765432") {
				out = append(out, s)
			}
		}
		return out
	}
	if got := mine(list("")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("suppressions = %v, want %v", got, want)
	}
	if got := mine(list(breach.ChannelSMS)); fmt.Sprint(got) != fmt.Sprint(want[5:]) {
		t.Errorf("SMS suppressions = %v, want %v", got, want[5:])
	}
}

// The listing, the record and the export take a delivery's sent_at from its row while it is
// sent, and from its events once it has moved on: either way it is the time of its sent event,
// after a retry too, and never the time of what followed.
func TestDeliveries_SentAtIsTheSentEventsTimeThroughRetriesAndReports(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := runningCampaign(t, db, string(examples.Customers), 1000)
	first := map[string]*breach.Outcome{
		"AT-100001": {State: breach.DeliveryQueued, Error: "451 try again", NextAttempt: time.Now().Add(-time.Second)},
		"AT-100002": {State: breach.DeliverySent, ProviderID: "m2"},
		"AT-100004": {State: breach.DeliverySent, ProviderID: "m4"},
		"AT-100005": {State: breach.DeliveryFailed, Error: "550 no such user"},
		"AT-100007": {State: breach.DeliverySent, ProviderID: "m7"},
	}
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, false, func(cl breach.Claim) *breach.Outcome { return first[cl.Recipient.CustomerID] })
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, false, func(cl breach.Claim) *breach.Outcome {
		if cl.Recipient.CustomerID == "AT-100001" {
			return &breach.Outcome{State: breach.DeliverySent, ProviderID: "m1"}
		}
		return nil
	})
	time.Sleep(10 * time.Millisecond) // the reports' times differ from the sends'
	for customer, state := range map[string]breach.DeliveryState{"AT-100002": breach.DeliveryDelivered, "AT-100004": breach.DeliveryBounced} {
		rec, err := db.RecipientRecord(ctx, c.ID, customer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ApplyReport(ctx, breach.Report{CampaignID: c.ID, RecipientID: rec.Recipient.ID, Channel: breach.ChannelEmail,
			State: state, Error: "report"}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]breach.DeliveryState{"AT-100001": breach.DeliverySent, "AT-100002": breach.DeliveryDelivered,
		"AT-100004": breach.DeliveryBounced, "AT-100005": breach.DeliveryFailed, "AT-100007": breach.DeliverySent, "AT-100008": breach.DeliveryQueued}
	listed, _ := allDeliveries(t, db, c, breach.DeliveryFilter{Channel: breach.ChannelEmail}, 3)
	exported := map[string]breach.DeliveryRecord{}
	if _, err := db.ExportDeliveries(ctx, c.ID, func(d *breach.DeliveryRecord) error {
		exported[d.CustomerID+"/"+string(d.Channel)] = *d
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, d := range listed {
		state, ok := want[d.CustomerID]
		if !ok {
			continue
		}
		checked++
		rec, err := db.RecipientRecord(ctx, c.ID, d.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		var sentAt *time.Time
		for _, e := range rec.Events {
			if e.Channel == breach.ChannelEmail && e.State == breach.DeliverySent && sentAt == nil {
				sentAt = &e.At
			}
		}
		if d.State != state {
			t.Errorf("%s is %s, want %s", d.CustomerID, d.State, state)
		}
		if (state == breach.DeliveryFailed || state == breach.DeliveryQueued) != (sentAt == nil) {
			t.Fatalf("%s: sent event %v in state %s", d.CustomerID, sentAt, state)
		}
		for _, got := range []struct {
			door string
			at   *time.Time
		}{{"listing", d.SentAt}, {"record", rec.Deliveries[0].SentAt}, {"export", exported[d.CustomerID+"/email"].SentAt}} {
			if (got.at == nil) != (sentAt == nil) || (got.at != nil && !got.at.Equal(*sentAt)) {
				t.Errorf("%s: %s sent_at = %v, want the sent event's %v", d.CustomerID, got.door, got.at, sentAt)
			}
		}
		if sentAt != nil && state != breach.DeliverySent && !d.UpdatedAt.After(*sentAt) {
			t.Errorf("%s: updated %v, not after the send %v: the report's time would not be told apart", d.CustomerID, d.UpdatedAt, sentAt)
		}
	}
	if checked != len(want) {
		t.Errorf("checked %d deliveries, want %d", checked, len(want))
	}
}
