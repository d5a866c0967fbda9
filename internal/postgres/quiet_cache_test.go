package postgres

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

func TestQuietCache_OnlyLargeWaitsAreServedFromTheCache(t *testing.T) {
	db := &DB{}
	big, small := uuid.New(), uuid.New()
	until := time.Date(2030, 1, 2, 13, 0, 0, 0, time.UTC)
	db.storeQuietWait(big, breach.QuietWait{Count: quietCacheFrom, Earliest: &until, Latest: &until})
	db.storeQuietWait(small, breach.QuietWait{Count: quietCacheFrom - 1})

	b := &pgx.Batch{}
	var w breach.QuietWait
	db.queueQuietWait(b, big, &w)
	if b.Len() != 0 || w.Count != quietCacheFrom || !w.Earliest.Equal(until) {
		t.Errorf("a large fresh wait: %d queries queued, wait %+v; want the cached one", b.Len(), w)
	}
	db.queueQuietWait(b, small, &w)
	if b.Len() != 1 {
		t.Errorf("a small wait was not read with the status (%d queries queued)", b.Len())
	}
	// Once the count falls, the campaign is read exactly again.
	db.storeQuietWait(big, breach.QuietWait{Count: 3})
	b = &pgx.Batch{}
	db.queueQuietWait(b, big, &w)
	if b.Len() != 1 {
		t.Errorf("a wait that fell below the threshold is still cached")
	}
}
