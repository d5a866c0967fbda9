package postgres

import (
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// A uuid.UUID parameter is encoded as its 16 bytes by the plan registerUUID adds, into a uuid,
// and as its text where the column is text (pgx's own way, which the plan leaves to it); an
// array of them too.
func TestRegisterUUID_EncodesUUIDsAsBytesAndTextStillWorks(t *testing.T) {
	m := pgtype.NewMap()
	registerUUID(m)
	u := uuid.MustParse("6f8402cc-a92e-4bd6-9611-f12b12885cf2")
	if plan := m.PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, u); plan == nil {
		t.Fatal("no plan for a uuid.UUID")
	} else if _, ok := plan.(*uuidEncodePlan); !ok {
		t.Fatalf("a uuid.UUID is encoded by %T, not the 16-byte plan", plan)
	}

	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	db, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var asUUID uuid.UUID
	var asText string
	var inArray bool
	err = db.pool.QueryRow(t.Context(), `SELECT $1::uuid, $2::text, $1::uuid = ANY ($3::uuid[])`, u, u, []uuid.UUID{uuid.New(), u}).
		Scan(&asUUID, &asText, &inArray)
	if err != nil || asUUID != u || asText != u.String() || !inArray {
		t.Fatalf("round trip: %v %v %q %v", err, asUUID, asText, inArray)
	}
	if err := db.pool.QueryRow(t.Context(), `SELECT $1::uuid::text`, pgx.QueryExecModeSimpleProtocol, u).Scan(&asText); err != nil || asText != u.String() {
		t.Fatalf("simple protocol: %v %q", err, asText)
	}
}
