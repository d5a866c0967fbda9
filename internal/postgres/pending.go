package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// pendingCache remembers, per campaign, the recipients the planner has not reached yet, counted
// by notice locale and channel. Counting them reads the unplanned part of the list (a whole
// 200,000-recipient list before start: ~100 ms of CPU), and the incident team's screens ask
// for status several times a second. Once a campaign is approved its list is frozen, so the
// count only changes when the planner moves planned_through: that is the cache key.
type pendingCache struct {
	mu      sync.Mutex
	entries map[uuid.UUID]pendingEntry
	// fill lets one request count at a time: a burst of status requests finding the cache
	// empty (the first seconds after start) waits for one count instead of running dozens.
	fill sync.Mutex
}

// maxPendingEntries bounds the cache: campaigns being planned or about to start at once.
const maxPendingEntries = 64

type pendingEntry struct {
	through int64
	counts  []pendingCount
}

type pendingCount struct {
	locale  string
	channel breach.Channel
	n       int64
}

// add adds campaign c's pending recipients to s, from the cache when the list is frozen (any
// state but draft) and the planner has not moved since they were counted.
func (p *pendingCache) add(ctx context.Context, q querier, uid uuid.UUID, c *breach.Campaign, state breach.CampaignState,
	through int64, s *breach.CampaignStatus) error {
	frozen := state != breach.CampaignDraft
	if frozen {
		if p.addCached(uid, through, s) {
			return nil
		}
		p.fill.Lock()
		defer p.fill.Unlock()
		if p.addCached(uid, through, s) {
			return nil
		}
	}
	counts, err := pendingCounts(ctx, q, uid, c, through)
	if err != nil {
		return err
	}
	for _, pc := range counts {
		s.Add(pc.locale, pc.channel, breach.DeliveryPending, pc.n)
	}
	if frozen {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.entries == nil {
			p.entries = map[uuid.UUID]pendingEntry{}
		}
		if _, ok := p.entries[uid]; !ok && len(p.entries) >= maxPendingEntries {
			clear(p.entries) // rare: many campaigns at once; recounting is only slower
		}
		p.entries[uid] = pendingEntry{through: through, counts: counts}
	}
	return nil
}

// addCached adds the cached count of campaign uid's recipients above through to s, if there is
// one.
func (p *pendingCache) addCached(uid uuid.UUID, through int64, s *breach.CampaignStatus) bool {
	p.mu.Lock()
	e, ok := p.entries[uid]
	p.mu.Unlock()
	if !ok || e.through != through {
		return false
	}
	for _, pc := range e.counts {
		s.Add(pc.locale, pc.channel, breach.DeliveryPending, pc.n)
	}
	return true
}

// pendingCounts counts, per channel and notice locale, the recipients of campaign c the
// planner has not reached yet (IDs above through). Their locales are negotiated as the planner
// will, once per distinct (locale, country).
func pendingCounts(ctx context.Context, q querier, uid uuid.UUID, c *breach.Campaign, through int64) ([]pendingCount, error) {
	rows, err := q.Query(ctx, `
		SELECT locale, country, count(*) FILTER (WHERE `+plannedEmail("$3")+`), count(*) FILTER (WHERE `+plannedSMS("$3")+`)
		FROM recipients r WHERE campaign_id = $1 AND id > $2 GROUP BY locale, country`, uid, through, c.Channels)
	if err != nil {
		return nil, fmt.Errorf("count pending recipients: %w", err)
	}
	var (
		locale, country string
		email, sms      int64
		out             []pendingCount
	)
	negotiate := breach.LocaleNegotiator(c)
	if _, err := pgx.ForEachRow(rows, []any{&locale, &country, &email, &sms}, func() error {
		written := negotiate(locale, country)
		out = append(out, pendingCount{written, breach.ChannelEmail, email}, pendingCount{written, breach.ChannelSMS, sms})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count pending recipients: %w", err)
	}
	return out, nil
}
