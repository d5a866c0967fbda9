package operation_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// TestApprove_RefusesAListThatGivesOneCodeToSeveralCustomers: a code enrols one person; a list
// whose code column gives the same code (case and spaces aside) to three customers is refused
// at approval, naming them, until a corrected list is imported (review of the public
// endpoints, finding 5: all three were sent it).
func TestApprove_RefusesAListThatGivesOneCodeToSeveralCustomers(t *testing.T) {
	ops := letterService(t)
	actor := breach.CLIActor("setup")
	c, err := ops.CreateCampaign(t.Context(), actor, "campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	imp := func(list string) {
		t.Helper()
		if _, err := ops.Import(t.Context(), actor, c.ID, operation.ImportRequest{Filename: "customers.csv", List: strings.NewReader(list)}); err != nil {
			t.Fatal(err)
		}
	}
	imp("customer_id,name,email,country,offer_code\n" +
		"A-1,Ana One,ana.one@example.com,PE,ATP-SAME-0001\n" +
		"A-2,Bruno Two,bruno.two@example.com,PE,atp-same-0001\n" +
		"A-3,Carla Three,carla.three@example.com,PE, ATP-SAME-0001 \n" +
		"A-4,Dora Four,dora.four@example.com,PE,ATP-OWN-0004\n")
	_, err = ops.Approve(t.Context(), actor, c.ID, operation.ApproveRequest{})
	if breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "1 enrolment code to more than one customer (3 customers, e.g. customer_id A-1, A-2, A-3)") {
		t.Fatalf("approval of a list giving one code to three customers: %v, want it refused naming them", err)
	}
	// Corrected, the list is approved.
	imp("customer_id,name,email,country,offer_code\n" +
		"A-2,Bruno Two,bruno.two@example.com,PE,ATP-OWN-0002\n" +
		"A-3,Carla Three,carla.three@example.com,PE,ATP-OWN-0003\n")
	if c, err = ops.Approve(t.Context(), actor, c.ID, operation.ApproveRequest{}); err != nil || c.State != breach.CampaignApproved {
		t.Fatalf("approval of the corrected list: %v", err)
	}
}
