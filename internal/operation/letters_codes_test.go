package operation_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// TestLetters_CarryThePoolCodeAssignedToTheCustomer: a customer reachable only by post is
// assigned a pool code (exported to the vendor against their reference), and their letter
// carries that code — not the "could not be included" sentence (review: the letters query
// did not read it).
func TestLetters_CarryThePoolCodeAssignedToTheCustomer(t *testing.T) {
	ops := letterService(t)
	actor := breach.CLIActor("setup")
	c := draft(t, ops, actor)
	if _, err := ops.ImportCodes(t.Context(), actor, c.ID, operation.CodesRequest{Filename: "vendor.csv", Codes: codesFile(poolCodes("POOL", 100)...)}); err != nil {
		t.Fatal(err)
	}
	c, err := ops.Approve(t.Context(), actor, c.ID, operation.ApproveRequest{})
	if err != nil {
		t.Fatal(err)
	}
	byRef := map[string]string{}
	for code, ref := range exportCodes(t, ops, actor, c.ID) {
		byRef[ref] = code
	}
	texts := map[string]string{}
	ops.RenderLetter = func(c *breach.Campaign, r *breach.Recipient) (*notice.Letter, error) {
		l, err := ops.Renderer.Letter(c, r)
		if err == nil {
			texts[r.CustomerID] = fmt.Sprintf("%+v", *l) // every string the letter prints
		}
		return l, err
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := ops.Letters(context.Background(), actor, c.ID, func(*breach.Campaign) (operation.LetterSink, error) { return &operation.DirSink{Dir: dir}, nil }); err != nil {
		t.Fatal(err)
	}
	for _, id := range postalOnly {
		code := byRef[notice.Reference(testSecret, c.ID, id)]
		if code == "" {
			t.Errorf("%s: no pool code assigned", id)
			continue
		}
		if txt := texts[id]; !strings.Contains(txt, code) || strings.Contains(txt, "could not be included") {
			t.Errorf("%s: the letter does not carry the assigned pool code %s:\n%s", id, code, txt)
		}
	}
}
