package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestTracking_ShowsEachRelaysCounts: with several SMTP relays (SMTP_URLS), the tracking page
// has a row per relay with its sent, failed and rejected counts, and says which one is set
// aside and until when.
func TestTracking_ShowsEachRelaysCounts(t *testing.T) {
	st := newStack(t, nil)
	c := st.campaign("test", "test", nil)
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := st.db.CountRelays(context.Background(), c.ID, []breach.RelayCount{
		{Relay: "relay1.example:587", Sent: 300, Rejected: 2},
		{Relay: "relay2.example:465", Sent: 4, Failed: 7, SetAsideUntil: &until},
	}); err != nil {
		t.Fatal(err)
	}
	b := st.signedIn("relay-watcher", breach.RoleViewer)
	page := b.get("/campaigns/" + c.ID + "/tracking")
	if page.status != http.StatusOK {
		t.Fatalf("tracking: %d\n%s", page.status, page.body)
	}
	table := regexp.MustCompile(`(?s)<table id="relays">.*?</table>`).FindString(page.body)
	if table == "" {
		t.Fatalf("no relays table on the tracking page:\n%s", page.body)
	}
	text := strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(table, " ")), " ")
	for _, want := range []string{
		"relay1.example:587 300 0 2 in service",
		"relay2.example:465 4 7 0 set aside until " + until.UTC().Format("2006-01-02 15:04:05 UTC"),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("relays table lacks %q:\n%s", want, text)
		}
	}
}
