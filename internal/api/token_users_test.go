package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// openDB opens the test database for a test's own setup and checks.
func openDB(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// addUser stores a console user with the given roles (the password hash is never checked
// here) and returns a fresh operator token bound to them.
func addUser(t *testing.T, db *postgres.DB, login string, roles ...breach.Role) string {
	t.Helper()
	u := &breach.User{Login: login, Roles: roles}
	if err := db.CreateUser(t.Context(), u, "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", "cli:test"); err != nil {
		t.Fatal(err)
	}
	token := "bn_test_user_" + login
	sum := sha256.Sum256([]byte(token))
	if err := db.CreateToken(t.Context(), "token-of-"+login, login, sum[:], time.Time{}); err != nil {
		t.Fatal(err)
	}
	return token
}

// draftBy stores the example campaign as a draft created by author, with its customer list
// uploaded by author too, as the console would.
func draftBy(t *testing.T, db *postgres.DB, author string, twoPerson bool) string {
	t.Helper()
	c, src, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	c.Approval.TwoPerson = twoPerson
	c.CreatedBy = author
	if err := db.CreateCampaign(t.Context(), c, string(src)); err != nil {
		t.Fatal(err)
	}
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	imp := &breach.Import{Filename: "customers.csv", CreatedBy: author}
	if _, err := im.Run(t.Context(), c, imp, bytes.NewReader(examples.Customers), importer.Options{}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

type errorAnswer struct {
	Error struct{ Code, Message string }
}

func TestAPI_TwoPersonCampaignTakesTwoApproversWhoAreNotItsAuthors(t *testing.T) {
	c := newServer(t)
	db := openDB(t)
	maria := addUser(t, db, "maria", breach.RoleOperator, breach.RoleApprover)
	bob := addUser(t, db, "bob", breach.RoleApprover)
	carla := addUser(t, db, "carla", breach.RoleApprover)
	// Maria created the campaign and uploaded its list from the command line, where she is
	// cli:maria: her console identity cannot be linked to it by name alone.
	id := draftBy(t, db, "cli:maria", true)
	approve := "/api/v1/campaigns/" + id + "/approve"
	state := func() (string, int) {
		resp, body := c.do("GET", "/api/v1/campaigns/"+id, "", nil, c.token)
		got := decode[struct {
			State     string
			Approvals []struct{ By string }
			Required  int `json:"approvals_required"`
		}](t, body)
		if resp.StatusCode != http.StatusOK || got.Required != 2 {
			t.Fatalf("GET campaign: %d %s, want approvals_required 2", resp.StatusCode, body)
		}
		return got.State, len(got.Approvals)
	}

	resp, body := c.do("POST", approve, "", nil, maria)
	if e := decode[errorAnswer](t, body); resp.StatusCode != http.StatusConflict || e.Error.Code != "conflict" ||
		!strings.Contains(e.Error.Message, "user:maria created it or uploaded its list, so other approvers must approve it") {
		t.Errorf("Maria approving her own campaign with her token: %d %s, want 409 saying others must", resp.StatusCode, body)
	}
	resp, body = c.do("POST", approve, "", nil, c.token)
	if e := decode[errorAnswer](t, body); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(e.Error.Message, "approve it in the web console, or through the API with a token bound to your user") {
		t.Errorf("an unbound token approving: %d %s, want 409 saying how to approve", resp.StatusCode, body)
	}
	if st, n := state(); st != "draft" || n != 0 {
		t.Fatalf("after the refused approvals: %s with %d approvals; want a draft with none", st, n)
	}

	// One approver is not enough, and approving twice does not count twice.
	if resp, body = c.do("POST", approve, "", nil, bob); resp.StatusCode != http.StatusOK {
		t.Fatalf("Bob's approval: %d %s", resp.StatusCode, body)
	}
	if st, n := state(); st != "draft" || n != 1 {
		t.Fatalf("after Bob's approval: %s with %d approvals; want a draft with 1 of 2", st, n)
	}
	resp, body = c.do("POST", approve, "", nil, bob)
	if e := decode[errorAnswer](t, body); resp.StatusCode != http.StatusConflict || !strings.Contains(e.Error.Message, "has approved it already (1 of 2 approvals)") {
		t.Errorf("Bob approving again: %d %s, want 409", resp.StatusCode, body)
	}
	resp, body = c.do("POST", approve, "", nil, carla)
	got := decode[struct {
		State      string
		ApprovedBy string `json:"approved_by"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || got.State != "approved" || got.ApprovedBy != "user:carla" {
		t.Errorf("Carla approving with her token: %d %s, want approved by user:carla", resp.StatusCode, body)
	}
	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: id, Action: breach.ActionCampaignApprove})
	if err != nil || len(entries) != 2 || entries[0].Actor != "user:carla" || entries[1].Actor != "user:bob" {
		t.Fatalf("audit of the approvals: %+v, %v; want Bob's then Carla's", entries, err)
	}
	// Each row names the token the approval came through, not only whose it is.
	for i, want := range []string{"token:token-of-carla", "token:token-of-bob"} {
		var d struct{ Via string }
		if err := json.Unmarshal(entries[i].Detail, &d); err != nil || d.Via != want {
			t.Errorf("%s's approval came via %q (%v), want %s", entries[i].Actor, d.Via, err, want)
		}
	}
	refused, err := db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: id, Action: breach.ActionApproveRefused})
	if err != nil || len(refused) != 3 {
		t.Errorf("audit of the refusals: %d, %v; want 3 (Maria, the unbound token, Bob again)", len(refused), err)
	}
}

func TestAPI_AnUnboundTokenMayStillApproveAOnePersonCampaign(t *testing.T) {
	c := newServer(t)
	db := openDB(t)
	id := draftBy(t, db, "run:demo", false)
	if resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/approve", "", nil, c.token); resp.StatusCode != http.StatusOK {
		t.Errorf("an unbound token approving a one-person campaign: %d %s", resp.StatusCode, body)
	}
}

func TestAPI_BoundTokensHaveTheirUsersRoles(t *testing.T) {
	c := newServer(t)
	db := openDB(t)
	vera := addUser(t, db, "vera", breach.RoleViewer)
	otto := addUser(t, db, "otto", breach.RoleOperator)
	ada := addUser(t, db, "ada", breach.RoleApprover)
	id := c.createCampaign()
	base := "/api/v1/campaigns/" + id

	forbidden := func(who, token, method, path, contentType, body, role string) {
		t.Helper()
		resp, b := c.do(method, path, contentType, strings.NewReader(body), token)
		e := decode[errorAnswer](t, b)
		if resp.StatusCode != http.StatusForbidden || e.Error.Code != "forbidden" || !strings.Contains(e.Error.Message, "it takes the "+role+" role") {
			t.Errorf("%s: %s %s = %d %s, want 403 naming the %s role", who, method, path, resp.StatusCode, b, role)
		}
	}
	// A viewer reads everything and changes nothing.
	for _, path := range []string{"/api/v1/campaigns", base, base + "/status", base + "/lint", "/api/v1/audit?campaign=" + id} {
		if resp, b := c.do("GET", path, "", nil, vera); resp.StatusCode != http.StatusOK {
			t.Errorf("viewer: GET %s = %d %s, want 200", path, resp.StatusCode, b)
		}
	}
	for _, r := range []struct{ path, contentType, body string }{
		{"/api/v1/campaigns", "application/yaml", string(examples.Campaign)},
		{base + "/imports", "text/csv", "customer_id,email\nC1,a@example.com\n"},
		{base + "/test-send", "application/json", `{"to": ["reviewer@example.com"]}`},
		{base + "/start", "", ""},
		{base + "/cancel", "", ""},
		{base + "/purge", "", ""},
	} {
		forbidden("viewer", vera, "POST", r.path, r.contentType, r.body, "operator")
	}
	forbidden("viewer", vera, "POST", base+"/approve", "", "", "approver")

	// An operator uploads the list but cannot approve; an approver approves but cannot start.
	if resp, b := c.do("POST", base+"/imports", "text/csv", bytes.NewReader(examples.Customers), otto); resp.StatusCode != http.StatusCreated {
		t.Fatalf("operator uploading the list: %d %s", resp.StatusCode, b)
	}
	forbidden("operator", otto, "POST", base+"/approve", "", "", "approver")
	if resp, b := c.do("POST", base+"/approve", "", nil, ada); resp.StatusCode != http.StatusOK {
		t.Fatalf("approver approving: %d %s", resp.StatusCode, b)
	}
	forbidden("approver", ada, "POST", base+"/start", "", "", "operator")
	if resp, b := c.do("POST", base+"/cancel", "", nil, otto); resp.StatusCode != http.StatusOK {
		t.Errorf("operator cancelling: %d %s", resp.StatusCode, b)
	}
	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: id})
	if err != nil {
		t.Fatal(err)
	}
	actors := map[string]string{}
	for _, e := range entries {
		actors[e.Action] = e.Actor
	}
	if actors["campaign.approve"] != "user:ada" || actors["campaign.cancelled"] != "user:otto" || actors["import"] != "user:otto" {
		t.Errorf("audit actors by action: %v; want the import and the cancel by user:otto, the approval by user:ada", actors)
	}
}

func TestAPI_ADisabledUsersTokenStopsAtOnce(t *testing.T) {
	c := newServer(t)
	db := openDB(t)
	token := addUser(t, db, "leaver", breach.RoleOperator, breach.RoleApprover)
	if resp, b := c.do("GET", "/api/v1/campaigns", "", nil, token); resp.StatusCode != http.StatusOK {
		t.Fatalf("before disabling: %d %s", resp.StatusCode, b)
	}
	if err := db.DisableUser(t.Context(), "leaver", "cli:test"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ method, path string }{{"GET", "/api/v1/campaigns"}, {"POST", "/api/v1/campaigns"}} {
		resp, b := c.do(r.method, r.path, "application/yaml", bytes.NewReader(examples.Campaign), token)
		if e := decode[errorAnswer](t, b); resp.StatusCode != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
			t.Errorf("after disabling: %s %s = %d %s, want 401", r.method, r.path, resp.StatusCode, b)
		}
	}
	// And the token list says so: it was listed live (a review).
	tokens, err := db.Tokens(t.Context(), "leaver")
	if err != nil || len(tokens) != 1 || !tokens[0].UserDisabled || tokens[0].Live(time.Now()) {
		t.Errorf("the disabled user's tokens: %+v, %v; want one, its user disabled, not live", tokens, err)
	}
}

// TestOpenAPI_EveryRouteClosedToSomeRoleDocuments403 keeps the document true to the role
// check: an operator route that changes something (any but a GET) can answer 403.
func TestOpenAPI_EveryRouteClosedToSomeRoleDocuments403(t *testing.T) {
	doc, err := apiDoc()
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range (&api.Server{}).Routes() {
		if rt.Public || rt.Method == http.MethodGet {
			continue
		}
		item := doc.Paths.Find(rt.Pattern)
		if item == nil || item.GetOperation(rt.Method) == nil {
			continue // TestOpenAPI_DescribesEveryRouteAndOnlyThose reports it
		}
		if item.GetOperation(rt.Method).Responses.Status(http.StatusForbidden) == nil {
			t.Errorf("%s %s takes a role a viewer lacks, but openapi.yaml has no 403 for it", rt.Method, rt.Pattern)
		}
	}
}

// An approval given by a user disabled since (an account compromised, a person who left) no
// longer counts towards a two-person approval still to complete: it completed it (a review).
func TestAPI_ADisabledApproversPendingApprovalNoLongerCounts(t *testing.T) {
	c := newServer(t)
	db := openDB(t)
	bob := addUser(t, db, "dis-bob", breach.RoleApprover)
	carla := addUser(t, db, "dis-carla", breach.RoleApprover)
	dave := addUser(t, db, "dis-dave", breach.RoleApprover)
	id := draftBy(t, db, "cli:maria", true)
	approve := "/api/v1/campaigns/" + id + "/approve"
	if resp, body := c.do("POST", approve, "", nil, bob); resp.StatusCode != http.StatusOK {
		t.Fatalf("Bob's approval: %d %s", resp.StatusCode, body)
	}
	if err := db.DisableUser(t.Context(), "dis-bob", "cli:admin"); err != nil {
		t.Fatal(err)
	}
	resp, body := c.do("POST", approve, "", nil, carla)
	if got := decode[struct{ State string }](t, body); resp.StatusCode != http.StatusOK || got.State != "draft" {
		t.Fatalf("Carla's approval after Bob was disabled: %d %s, want the campaign still a draft (1 of 2)", resp.StatusCode, body)
	}
	resp, body = c.do("POST", approve, "", nil, dave)
	if got := decode[struct{ State string }](t, body); resp.StatusCode != http.StatusOK || got.State != "approved" {
		t.Errorf("Dave's approval: %d %s, want approved", resp.StatusCode, body)
	}
}

// TestAuthenticate_AClientOfManyRefusedTokensWaits: each unknown token costs the database a
// query, and one client sent ten thousand a second (a review): past 60 refused in a minute,
// its requests are answered 429 without their token looked up — but a token checked lately
// still acts, so that an operator behind the same address is not locked out.
func TestAuthenticate_AClientOfManyRefusedTokensWaits(t *testing.T) {
	c, db := serve(t, t.Name(), nil)
	// serve keeps the token cache listening; without it no token is "checked lately".
	listenCtx, stop := context.WithCancel(context.Background())
	listening, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- db.CacheTokens(listenCtx, func() { close(listening) }) }()
	defer func() { stop(); <-done }()
	<-listening
	if resp, _ := c.do("GET", "/api/v1/campaigns", "", nil, c.token); resp.StatusCode != http.StatusOK {
		t.Fatalf("the valid token: %d", resp.StatusCode)
	}
	for i := range 60 {
		if resp, _ := c.do("GET", "/api/v1/campaigns", "", nil, fmt.Sprintf("bn_nonsense%d", i)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("refused token %d: %d, want 401", i, resp.StatusCode)
		}
	}
	resp, _ := c.do("GET", "/api/v1/campaigns", "", nil, "bn_nonsense-more")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("the 61st refused token: %d (Retry-After %q), want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ := c.do("GET", "/api/v1/campaigns", "", nil, c.token); resp.StatusCode != http.StatusOK {
		t.Errorf("the valid token, checked lately, from the same client meanwhile: %d, want 200", resp.StatusCode)
	}
}
