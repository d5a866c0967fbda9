package postgres

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Possible duplicates (migrations/00008): the one window in which a notice can be sent twice is
// between the provider accepting it and the worker recording sent. A worker that dies in that
// window leaves its claims sending; the reconciler releases them (ReleaseOrphans) marked
// possibly sent, and the send recorded after such a release (Record) counts as a possible
// duplicate. Nothing else marks them: a claim released by a live worker (paused, stopping) was
// never handed to a provider.

// possiblySentError is the error of a release from a dead worker's claim: the release's event
// carries it into the customer's timeline.
const possiblySentError = "possibly sent: the worker sending it stopped before recording the outcome; " +
	"it is sent again, and counted as a possible duplicate once sent"

// possibleDuplicateError is the error recorded with a send that may duplicate an earlier one:
// the sent event says why the delivery is flagged.
const possibleDuplicateError = "possible duplicate: sent again after a worker stopped holding it " +
	"with its outcome unrecorded (see the reconciler's release)"

// queuePossibleDuplicates adds to b the count of a campaign's possible duplicates, stored in *n:
// an index-only read of the few deliveries flagged (deliveries_possible_duplicates), cheap
// enough for the status polled several times a second.
func queuePossibleDuplicates(b *pgx.Batch, uid uuid.UUID, n *int64) {
	b.Queue(`SELECT coalesce(sum(possible_duplicates), 0) FROM deliveries
		WHERE campaign_id = $1 AND possible_duplicates > 0`, uid).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(n); err != nil {
			return fmt.Errorf("count possible duplicates: %w", err)
		}
		return nil
	})
}
