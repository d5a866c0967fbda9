package web_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// A user sees their own API tokens, never another's, and revoking one shuts it at once.
func TestTokens_AUserListsAndRevokesTheirOwnTokens(t *testing.T) {
	st := newStack(t, nil)
	b := st.signedIn("tokenowner", breach.RoleViewer)
	st.user("othertok", breach.RoleViewer)
	token := "bn_test_console_token"
	sum := sha256.Sum256([]byte(token))
	ctx := context.Background()
	if err := st.db.CreateToken(ctx, "owner-laptop", "tokenowner", sum[:], time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	other := sha256.Sum256([]byte("bn_test_other_token"))
	if err := st.db.CreateToken(ctx, "someone-elses", "othertok", other[:], time.Time{}); err != nil {
		t.Fatal(err)
	}
	page := b.get("/tokens")
	if page.status != http.StatusOK || !strings.Contains(page.body, "owner-laptop") || strings.Contains(page.body, "someone-elses") {
		t.Fatalf("the tokens page: %d, want the user's token and not the other's\n%s", page.status, page.body)
	}
	api := func() int {
		req, _ := http.NewRequest("GET", st.srv.URL+"/api/v1/campaigns", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := api(); status != http.StatusOK {
		t.Fatalf("the token before revoking: %d", status)
	}
	if got := b.post("/tokens/someone-elses/revoke", nil); got.status != http.StatusNotFound {
		t.Errorf("revoking another user's token: %d, want 404", got.status)
	}
	if got := b.post("/tokens/owner-laptop/revoke", nil); got.status != http.StatusSeeOther {
		t.Fatalf("revoking: %d\n%s", got.status, got.body)
	}
	if status := api(); status != http.StatusUnauthorized {
		t.Errorf("the revoked token: %d, want 401", status)
	}
	if got := auditActions(t, "user:tokenowner"); !contains(got, breach.ActionTokenRevoke) {
		t.Errorf("no token.revoke row: %v", got)
	}
}
