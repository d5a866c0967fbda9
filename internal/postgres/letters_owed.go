package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// owedLetters remembers, per campaign, how many letters its list owes by notice locale — the
// customers with a postal address and no email or phone (letter_policy unreachable or
// fallback), or everyone with an address (all) — so that the status can say how many are
// still to print (pending) without reading the list at every poll. An approved campaign's list
// is frozen, so the count never changes: it is counted once. (Under fallback, letters owed
// because email and SMS failed show once printed: that set changes as notices fail.)
type owedLetters struct {
	mu      sync.Mutex
	entries map[uuid.UUID][]owedCount
}

type owedCount struct {
	locale string
	n      int64
}

// addPending adds campaign c's letters not printed yet to s as pending: for each locale, the
// letters owed less the letters the record has (in any state).
func (o *owedLetters) addPending(ctx context.Context, q querier, uid uuid.UUID, c *breach.Campaign, state breach.CampaignState,
	s *breach.CampaignStatus) error {
	policy := c.LetterPolicy()
	if policy == breach.LettersNone || state == breach.CampaignCancelled {
		return nil
	}
	frozen := state != breach.CampaignDraft
	o.mu.Lock()
	counts, ok := o.entries[uid]
	o.mu.Unlock()
	if !ok || !frozen {
		var err error
		if counts, err = countOwedLetters(ctx, q, uid, c, policy); err != nil {
			return err
		}
		if frozen {
			o.mu.Lock()
			if o.entries == nil || len(o.entries) >= maxPendingEntries {
				o.entries = map[uuid.UUID][]owedCount{}
			}
			o.entries[uid] = counts
			o.mu.Unlock()
		}
	}
	for _, oc := range counts {
		var have int64
		for _, n := range s.ByLocale[oc.locale][breach.ChannelLetter] {
			have += n
		}
		if oc.n > have {
			s.Add(oc.locale, breach.ChannelLetter, breach.DeliveryPending, oc.n-have)
		}
	}
	return nil
}

// countOwedLetters counts the letters campaign c's list owes under policy, per notice locale
// (negotiated as a letters run does). A customer told by the same person's letter to the same
// address (letter_with, shared.go) is owed none.
func countOwedLetters(ctx context.Context, q querier, uid uuid.UUID, c *breach.Campaign, policy breach.LetterPolicy) ([]owedCount, error) {
	rows, err := q.Query(ctx, `
		SELECT locale, country, count(*) FROM recipients
		WHERE campaign_id = $1 AND postal IS NOT NULL AND purged_at IS NULL AND letter_with IS NULL
			AND ($2 = 'all' OR (email IS NULL AND phone IS NULL))
		GROUP BY locale, country`, uid, policy)
	if err != nil {
		return nil, fmt.Errorf("count letters owed: %w", err)
	}
	var (
		locale, country string
		n               int64
	)
	byLocale := map[string]int64{}
	negotiate := breach.LocaleNegotiator(c)
	if _, err := pgx.ForEachRow(rows, []any{&locale, &country, &n}, func() error {
		byLocale[negotiate(locale, country)] += n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count letters owed: %w", err)
	}
	out := make([]owedCount, 0, len(byLocale))
	for l, n := range byLocale {
		out = append(out, owedCount{l, n})
	}
	return out, nil
}
