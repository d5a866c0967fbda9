package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// injected are customers whose IDs and names a spreadsheet would run as formulas.
// (A name holding a link is dropped at import — see plaintext.Name — so CMD1's formula has none.)
const injected = "\n=CMD1,=HYPERLINK(A1),inj1@example.com,,es-PE,PE\n" +
	"+CMD2,+SUM(A1),inj2@example.com,,es-PE,PE\n" +
	"-CMD3,-2+3,inj3@example.com,,es-PE,PE\n" +
	"@CMD4,@SUM(1),inj4@example.com,,es-PE,PE\n" +
	"CMD5,\"\tTabbed\",inj5@example.com,,es-PE,PE\n" +
	"CMD6,\"\rReturned\",inj6@example.com,,es-PE,PE\n"

// sendingCampaign creates a campaign from the example list plus the injected customers, starts
// it through the API, plans it, and sends: every email sent except the French customers',
// which fail; SMS stay queued. It returns the campaign's ID and the database.
func sendingCampaign(t *testing.T, c *client) (string, *postgres.DB) {
	t.Helper()
	ctx := t.Context()
	id := c.createCampaign()
	base := "/api/v1/campaigns/" + id
	list := "customer_id,name,email,phone,locale,country" + injected
	for _, body := range []string{string(examples.Customers), list} {
		if resp, b := c.do("POST", base+"/imports", "text/csv", strings.NewReader(body), c.token); resp.StatusCode != http.StatusCreated {
			t.Fatalf("import: %d %s", resp.StatusCode, b)
		}
	}
	for _, step := range []string{"/approve", "/start"} {
		if resp, b := c.do("POST", base+step, "", nil, c.token); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", step, resp.StatusCode, b)
		}
	}
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	pgtest.PlanAll(t, db, id, 50_000)
	pgtest.Send(t, db, id, breach.ChannelEmail, false, func(cl breach.Claim) *breach.Outcome {
		if cl.Recipient.Country == "FR" {
			return &breach.Outcome{State: breach.DeliveryFailed, Error: "550 mailbox unavailable"}
		}
		return &breach.Outcome{State: breach.DeliverySent, ProviderID: "msg-" + cl.Recipient.CustomerID}
	})
	return id, db
}

type statusAnswer struct {
	State     string
	Total     int64
	ByChannel map[string]map[string]int64            `json:"by_channel"`
	ByLocale  map[string]map[string]map[string]int64 `json:"by_locale"`
	Rate      float64                                `json:"rate_per_sec"`
	ETA       *float64                               `json:"eta_seconds"`
}

func TestTracking_StatusSplitsEveryCountByLocale(t *testing.T) {
	c := newServer(t)
	id, _ := sendingCampaign(t, c)
	resp, body := c.do("GET", "/api/v1/campaigns/"+id+"/status", "", nil, c.token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
	st := decode[statusAnswer](t, body)
	for ch, states := range st.ByChannel {
		for state, n := range states {
			var sum int64
			for _, l := range st.ByLocale {
				sum += l[ch][state]
			}
			if sum != n {
				t.Errorf("%s %s: %d, but the locales add up to %d: %s", ch, state, n, sum, body)
			}
		}
	}
	if got := st.ByLocale["fr"]["email"]["failed"]; got != 5 {
		t.Errorf("French emails failed = %d, want 5", got)
	}
	if got := st.ByLocale["ko"]["email"]["sent"]; got == 0 {
		t.Errorf("no Korean email sent: %s", body)
	}
	if st.Total != 55 || st.ETA == nil || st.Rate <= 0 {
		t.Errorf("total %d, eta %v, rate %v; want 55 recipients (4 of them reachable only by post), a rate and an ETA while SMS are queued", st.Total, st.ETA, st.Rate)
	}
}

type recordAnswer struct {
	Recipient struct {
		CustomerID string `json:"customer_id"`
		Email      string
	}
	Deliveries []struct {
		Channel, State, Locale, Address, Error string
		ProviderID                             string `json:"provider_id"`
		Attempts                               int
	}
	Events []struct {
		At                     string
		Channel, State, Source string
		ProviderID             string `json:"provider_id"`
		Attempt                int
	}
}

func TestTracking_OneRecipientsRecordAndTimeline(t *testing.T) {
	c := newServer(t)
	id, _ := sendingCampaign(t, c)
	base := "/api/v1/campaigns/" + id
	resp, body := c.do("GET", base+"/recipients/AT-300001", "", nil, c.token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("recipient: %d %s", resp.StatusCode, body)
	}
	rec := decode[recordAnswer](t, body)
	if rec.Recipient.CustomerID != "AT-300001" || rec.Recipient.Email != "minjun.kim@naver.com" || len(rec.Deliveries) != 1 {
		t.Fatalf("record = %s", body)
	}
	if d := rec.Deliveries[0]; d.Channel != "email" || d.State != "sent" || d.Locale != "ko" || d.ProviderID != "msg-AT-300001" ||
		d.Address != "minjun.kim@naver.com" || d.Attempts != 1 {
		t.Errorf("delivery = %+v", d)
	}
	var timeline []string
	for _, e := range rec.Events {
		timeline = append(timeline, e.Channel+" "+e.State+" "+e.Source)
	}
	if want := []string{"email queued planner", "email sending worker", "email sent worker"}; !slices.Equal(timeline, want) {
		t.Errorf("timeline = %q, want %q", timeline, want)
	}
	if last := rec.Events[len(rec.Events)-1]; last.ProviderID != "msg-AT-300001" || last.Attempt != 1 || last.At == "" {
		t.Errorf("sent event = %+v", last)
	}
	// A customer_id is looked up exactly, path-escaped like any other.
	resp, body = c.do("GET", base+"/recipients/"+url.PathEscape("=CMD1"), "", nil, c.token)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"customer_id":"=CMD1"`) {
		t.Errorf("recipient =CMD1: %d %.200s", resp.StatusCode, body)
	}
	for _, tc := range []struct{ path, want string }{
		{base + "/recipients/NOPE", "customer_id"},
		{"/api/v1/campaigns/" + uuid.NewString() + "/recipients/AT-300001", "campaign"},
	} {
		resp, body := c.do("GET", tc.path, "", nil, c.token)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), tc.want) {
			t.Errorf("GET %s: %d %s, want 404 naming the %s", tc.path, resp.StatusCode, body, tc.want)
		}
	}
	if resp, body := c.do("GET", "/api/v1/campaigns/not-an-id/recipients/AT-300001", "", nil, c.token); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed campaign ID: %d %s, want 400", resp.StatusCode, body)
	}
	for _, pii := range []string{"AT-300001", "minjun", "CMD1", "NOPE"} {
		if strings.Contains(c.logs.String(), pii) {
			t.Errorf("the log holds %q:\n%s", pii, c.logs)
		}
	}
}

type pageAnswer struct {
	Deliveries []struct {
		CustomerID string `json:"customer_id"`
		Channel    string
		State      string
		Locale     string
	}
	Next string
}

// list pages through a listing, returning every row's customer/channel.
func (c *client) list(path string, limit int) (keys []string, pages int) {
	c.t.Helper()
	after := ""
	for {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		q := fmt.Sprintf("%s%slimit=%d&after=%s", path, sep, limit, url.QueryEscape(after))
		resp, body := c.do("GET", q, "", nil, c.token)
		if resp.StatusCode != http.StatusOK {
			c.t.Fatalf("GET %s: %d %s", q, resp.StatusCode, body)
		}
		p := decode[pageAnswer](c.t, body)
		if len(p.Deliveries) > limit {
			c.t.Fatalf("%d rows with limit %d", len(p.Deliveries), limit)
		}
		for _, d := range p.Deliveries {
			keys = append(keys, d.CustomerID+"/"+d.Channel+"/"+d.State+"/"+d.Locale)
		}
		pages++
		if p.Next == "" {
			return keys, pages
		}
		after = p.Next
	}
}

func TestTracking_DeliveryListingPagesWithFilters(t *testing.T) {
	c := newServer(t)
	id, _ := sendingCampaign(t, c)
	base := "/api/v1/campaigns/" + id + "/deliveries"
	every, pages := c.list(base, 7)
	if len(every) != 51 || pages != 8 {
		t.Fatalf("%d deliveries in %d pages of 7, want 51 in 8", len(every), pages)
	}
	seen := map[string]bool{}
	for _, k := range every {
		if seen[k] {
			t.Errorf("%s listed twice", k)
		}
		seen[k] = true
	}
	for _, f := range []string{"state=sent", "channel=sms", "locale=ko", "state=failed&channel=email&locale=fr", "locale=ES"} {
		t.Run(f, func(t *testing.T) {
			q, _ := url.ParseQuery(f)
			var want []string
			for _, k := range every {
				p := strings.Split(k, "/")
				if (q.Get("channel") == "" || p[1] == q.Get("channel")) && (q.Get("state") == "" || p[2] == q.Get("state")) &&
					(q.Get("locale") == "" || p[3] == strings.ToLower(q.Get("locale"))) {
					want = append(want, k)
				}
			}
			got, _ := c.list(base+"?"+f, 3)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("listed %q\nwant   %q", got, want)
			}
		})
	}
	resp, body := c.do("GET", base, "", nil, c.token)
	if p := decode[pageAnswer](t, body); resp.StatusCode != http.StatusOK || len(p.Deliveries) != 51 || p.Next != "" {
		t.Errorf("default page: %d, %d rows, next %q; want all 51 and no next", resp.StatusCode, len(p.Deliveries), p.Next)
	}
}

func TestTracking_BadFiltersLimitsAndCursorsAre400(t *testing.T) {
	c := newServer(t)
	id, _ := sendingCampaign(t, c)
	other := c.createCampaign()
	base := "/api/v1/campaigns/" + id + "/deliveries"
	resp, body := c.do("GET", base+"?limit=2", "", nil, c.token)
	cursor := decode[pageAnswer](t, body).Next
	if resp.StatusCode != http.StatusOK || cursor == "" {
		t.Fatalf("first page: %d %s", resp.StatusCode, body)
	}
	tampered := []byte(cursor)
	tampered[len(tampered)/2] ^= 1
	for _, tc := range []struct{ path, param string }{
		{base + "?state=lost", "state"},
		{base + "?state=pending", "state"},
		{base + "?channel=fax", "channel"},
		{base + "?locale=not%20a%20locale", "locale"},
		{base + "?limit=0", "limit"},
		{base + "?limit=1001", "limit"},
		{base + "?limit=ten", "limit"},
		{base + "?after=garbage", "after"},
		{base + "?after=" + string(tampered), "after"},
		{"/api/v1/campaigns/" + other + "/deliveries?after=" + cursor, "after"},
		{"/api/v1/suppressions?channel=pigeon", "channel"},
		{"/api/v1/suppressions?after=" + cursor, "after"},
		{"/api/v1/suppressions?limit=-1", "limit"},
		// A filter the listing does not have is refused, not ignored: ?customer_id= answered
		// a page of everyone to a caller who asked for one record.
		{base + "?customer_id=AT-300001", "customer_id"},
		{base + "?state=sent&state=failed", "state"},
		{"/api/v1/suppressions?address=x", "address"},
	} {
		resp, body := c.do("GET", tc.path, "", nil, c.token)
		e := decode[struct {
			Error struct{ Code, Message string }
		}](t, body)
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(e.Error.Message, tc.param+":") {
			t.Errorf("GET %s: %d %s, want 400 naming %s", tc.path, resp.StatusCode, body, tc.param)
		}
	}
	// A query string that cannot be read is refused, not half read: ?limit=5;state=sent
	// answered a page of everyone, neither filter applied.
	for _, path := range []string{base + "?limit=5;state=sent", base + "?customer_id=AT%2-1"} {
		if resp, body := c.do("GET", path, "", nil, c.token); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s, want 400", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/api/v1/campaigns/" + uuid.NewString() + "/deliveries", "/api/v1/campaigns/" + uuid.NewString() + "/deliveries.csv"} {
		if resp, body := c.do("GET", path, "", nil, c.token); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d %s, want 404", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{base, base + ".csv", "/api/v1/campaigns/" + id + "/recipients/AT-300001", "/api/v1/suppressions"} {
		if resp, _ := c.do("GET", path, "", nil, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", path, resp.StatusCode)
		}
	}
}

// getCSV streams a CSV answer record by record to fn and returns the header.
func (c *client) getCSV(path string, fn func([]string)) (*http.Response, []string) {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(c.t.Context(), "GET", c.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	r := csv.NewReader(resp.Body)
	header, err := r.Read()
	if err != nil {
		c.t.Fatal(err)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return resp, header
		}
		if err != nil {
			c.t.Fatal(err)
		}
		fn(rec)
	}
}

func TestTracking_ExportIsEscapedCompleteAndAudited(t *testing.T) {
	c := newServer(t)
	id, _ := sendingCampaign(t, c)
	byID := map[string]map[string]string{}
	resp, header := c.getCSV("/api/v1/campaigns/"+id+"/deliveries.csv", func(rec []string) {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula: %q", cell, rec)
			}
		}
		row := map[string]string{}
		for i, h := range []string{"customer_id", "name", "channel", "address", "locale", "state", "attempts", "provider_id", "error", "fallback", "possible_duplicate", "sent_at", "updated_at", "reference", "told_with"} {
			row[h] = rec[i]
		}
		byID[rec[0]] = row
	})
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "deliveries-"+id+".csv") {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, resp.Header.Get("Content-Disposition"))
	}
	if want := "customer_id,name,channel,address,locale,state,attempts,provider_id,error,fallback,possible_duplicate,sent_at,updated_at,reference,told_with"; strings.Join(header, ",") != want {
		t.Errorf("header = %q", header)
	}
	if len(byID) != 51 {
		t.Errorf("%d rows, want one per delivery (51)", len(byID))
	}
	for id, name := range map[string]string{"'=CMD1": "'=HYPERLINK(A1)", "'+CMD2": "'+SUM(A1)", "'-CMD3": "'-2+3", "'@CMD4": "'@SUM(1)"} {
		if byID[id] == nil || byID[id]["name"] != name {
			t.Errorf("row %s = %v, want the name %s", id, byID[id], name)
		}
	}
	if r := byID["AT-300001"]; r["state"] != "sent" || r["locale"] != "ko" || r["provider_id"] != "msg-AT-300001" || r["sent_at"] == "" ||
		r["address"] != "minjun.kim@naver.com" || len(r["reference"]) != 12 {
		t.Errorf("AT-300001 = %v", r)
	}
	if r := byID["AT-200001"]; r["state"] != "failed" || r["error"] != "550 mailbox unavailable" || r["sent_at"] != "" || r["locale"] != "fr" {
		t.Errorf("AT-200001 = %v", r)
	}
	if r := byID["AT-200004"]; r["channel"] != "sms" || r["state"] != "queued" || r["address"] != "'+33658932741" {
		t.Errorf("AT-200004 = %v: an SMS, its number escaped", r)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var (
		actor  string
		detail map[string]any
	)
	if err := conn.QueryRow(t.Context(), `SELECT actor, detail FROM audit_log WHERE campaign_id = $1 AND action = 'campaign.exported' AND detail->>'stage' = 'finished'`, id).
		Scan(&actor, &detail); err != nil {
		t.Fatalf("no audit row of the export: %v", err)
	}
	if !strings.HasPrefix(actor, "token:") || detail["rows"] != float64(51) || detail["complete"] != true || len(detail) != 3 {
		t.Errorf("audit = %s %v", actor, detail)
	}
	for _, pii := range []string{"minjun", "CMD1", "HYPERLINK", "Quispe"} {
		if strings.Contains(c.logs.String(), pii) {
			t.Errorf("the log holds %q", pii)
		}
	}
}

func TestTracking_ExportStreamsALargeCampaign(t *testing.T) {
	c := newServer(t)
	ctx := t.Context()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	id := c.createCampaign()
	const n = 50_000
	var list bytes.Buffer
	list.WriteString("customer_id,email\n")
	for i := range n {
		fmt.Fprintf(&list, "C%06d,c%d@example.com\n", i, i)
	}
	camp, err := db.Campaign(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if imp := importList(t, db, camp, &list); imp.Accepted != n {
		t.Fatalf("import = %+v", imp)
	}
	if _, err := db.ApproveCampaign(ctx, id, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(ctx, id, "starter", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	pgtest.PlanAll(t, db, id, 50_000)
	rows, prev := 0, ""
	c.getCSV("/api/v1/campaigns/"+id+"/deliveries.csv", func(rec []string) {
		rows++
		if rec[0] <= prev || rec[5] != "queued" || rec[4] != "es" {
			t.Fatalf("row %d = %q after %q", rows, rec, prev)
		}
		prev = rec[0]
	})
	if rows != n {
		t.Errorf("%d rows, want %d", rows, n)
	}
}

// importList imports a list straight through the importer (the API bounds uploads).
func importList(t *testing.T, db *postgres.DB, c *breach.Campaign, list io.Reader) *breach.Import {
	t.Helper()
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	imp := &breach.Import{Filename: "big.csv", CreatedBy: "test"}
	if _, err := im.Run(t.Context(), c, imp, list, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	return imp
}

func TestWriteDeliveriesCSV_EscapesEveryFormulaStartAndFlushes(t *testing.T) {
	var out flushCounter
	records := []breach.DeliveryRecord{
		{CustomerID: "=1+1", Name: "\tTabbed", Channel: "email", Address: "a@example.com", State: "sent"},
		{CustomerID: "\rCR", Name: "-Minus", Channel: "sms", Address: "+51987654321", State: "queued", Error: "@mention"},
	}
	rows, err := operation.WriteDeliveriesCSV(&out, []byte("k"), "c", func(fn func(*breach.DeliveryRecord) error) (int64, error) {
		for i := range records {
			if err := fn(&records[i]); err != nil {
				return int64(i), err
			}
		}
		return int64(len(records)), nil
	})
	if err != nil || rows != 2 || out.flushes == 0 {
		t.Fatalf("WriteDeliveriesCSV = %d, %v, %d flushes", rows, err, out.flushes)
	}
	got, err := csv.NewReader(&out.Buffer).ReadAll()
	if err != nil || len(got) != 3 {
		t.Fatalf("CSV = %q, %v", got, err)
	}
	for i, want := range [][]string{{"'=1+1", "'\tTabbed", "email", "a@example.com"}, {"'\rCR", "'-Minus", "sms", "'+51987654321"}} {
		if !slices.Equal(got[i+1][:4], want) {
			t.Errorf("row %d = %q, want %q", i+1, got[i+1][:4], want)
		}
	}
	if got[2][8] != "'@mention" {
		t.Errorf("error cell = %q", got[2][8])
	}
}

// flushCounter is a buffer that counts its flushes.
type flushCounter struct {
	bytes.Buffer
	flushes int
}

func (f *flushCounter) Flush() error { f.flushes++; return nil }

func TestTracking_SuppressionListPagesWithSealedCursors(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	db, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	var want []string
	for i := range 5 {
		addr := fmt.Sprintf("supp%d@tracking.example", i)
		if err := db.Suppress(t.Context(), breach.ChannelEmail, addr, "optout", "opt-out link", id); err != nil {
			t.Fatal(err)
		}
		want = append(want, addr)
	}
	var got []string
	after := ""
	for {
		resp, body := c.do("GET", "/api/v1/suppressions?channel=email&limit=2&after="+url.QueryEscape(after), "", nil, c.token)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("suppressions: %d %s", resp.StatusCode, body)
		}
		var p struct {
			Suppressions []breach.Suppression
			Next         string
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Suppressions {
			if s.Channel != breach.ChannelEmail {
				t.Errorf("channel filter let %+v through", s)
			}
			if strings.HasSuffix(s.Address, "@tracking.example") {
				got = append(got, s.Address)
				if s.CampaignID != id || s.Source != "optout" || s.Reason != "opt-out link" {
					t.Errorf("suppression = %+v", s)
				}
			}
		}
		if p.Next == "" {
			break
		}
		raw, _ := base64.RawURLEncoding.DecodeString(p.Next)
		if strings.Contains(p.Next, "tracking") || bytes.Contains(raw, []byte("tracking.example")) {
			t.Errorf("the cursor %q shows the address it stopped at", p.Next)
		}
		after = p.Next
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q", got, want)
	}
}
