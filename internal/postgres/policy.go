package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// RequireTwoPerson records that this deployment requires two approvers for every campaign
// (REQUIRE_TWO_PERSON), with its audit row, unless the database says so already. Every
// campaign read then carries the rule (campaignSelect), whatever the environment of the
// process reading it: an author cannot approve alone from a process started without the
// variable. Nothing lifts it but deleting the row (migration 00023).
func (db *DB) RequireTwoPerson(ctx context.Context, by string) error {
	return db.inTx(ctx, "record the two-person rule", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO approval_policy (two_person, set_by) VALUES (true, $1)
			ON CONFLICT (one) DO UPDATE SET two_person = true, set_at = now(), set_by = excluded.set_by
			WHERE NOT approval_policy.two_person`, by)
		if err != nil {
			return fmt.Errorf("record the two-person rule: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return audit(ctx, tx, by, breach.ActionPolicyTwoPerson, "", nil)
		}
		return nil
	})
}
