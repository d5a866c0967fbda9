package dispatch

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/importer"
)

// Each customer without a list code receives, in their email, the pool code assigned to them —
// the code the recipient row carries into the claim, with no query of its own — and no other.
func TestSend_EachEmailCarriesItsCustomersOwnPoolCode(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c, src, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	c.CreatedBy = "test"
	if err := w.db.CreateCampaign(ctx, c, string(src)); err != nil {
		t.Fatal(err)
	}
	im, err := importer.New(w.db)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	if _, err := im.Run(ctx, c, &breach.Import{CampaignID: c.ID, Filename: "list.csv"}, strings.NewReader(w.customers(n)), importer.Options{}); err != nil {
		t.Fatal(err)
	}
	rd, err := importer.OpenCodes(strings.NewReader("code\n" + strings.Join(codesLines(w.tag, n), "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	ci := &breach.CodeImport{CampaignID: c.ID}
	if err := w.db.ImportCodes(ctx, ci, rd.Next); err != nil || ci.Assigned == 0 || ci.Pool.Missing != 0 {
		t.Fatalf("codes import: %v, %+v", err, ci)
	}
	if _, err := w.db.ApproveCampaign(ctx, c.ID, "approver", "", "", func(c *breach.Campaign, _ []string, _ []breach.Approval) (int, error) {
		return 1, c.CodePool.CheckApproval()
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.db.MoveCampaign(context.Background(), c.ID, "test", "", breach.CampaignCancelled) })
	want := map[string]string{} // email → code
	rows, err := w.pool.Query(ctx, `SELECT r.email, e.code FROM enrolment_codes e JOIN recipients r ON r.campaign_id = e.campaign_id AND r.id = e.recipient_id
		WHERE e.campaign_id = $1 AND r.email IS NOT NULL`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var email, code string
		rows.Scan(&email, &code)
		want[email] = code
	}
	rows.Close()

	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	w.wait(c, 2*time.Minute, "completed", completed)
	seen := 0
	for _, m := range w.sink.Messages() {
		code, ok := want[m.To[0]]
		if !ok {
			continue
		}
		seen++
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		html := htmlPart(t, msg)
		if !strings.Contains(html, code) {
			t.Errorf("the email to %s lacks its code %s", m.To[0], code)
		}
		if got := strings.Count(html, "POOL-"+w.tag); got != strings.Count(html, code) {
			t.Errorf("the email to %s shows another customer's code", m.To[0])
		}
	}
	if seen != len(want) || seen == 0 {
		t.Fatalf("%d emails with a pool code, want %d", seen, len(want))
	}
}

func codesLines(tag string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("POOL-%s-%04d", tag, i)
	}
	return out
}
