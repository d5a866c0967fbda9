package operation

import (
	"context"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// CachedStatuses is how many campaigns' entries the status cache holds.
func (s *Service) CachedStatuses() int {
	s.statuses.mu.Lock()
	defer s.statuses.mu.Unlock()
	return len(s.statuses.entries)
}

// CachedStatus asks the status cache for id as given, without Status's parsing of it.
func (s *Service) CachedStatus(ctx context.Context, id string) (*breach.CampaignStatus, error) {
	return s.statuses.get(ctx, id, s.StatusMaxAge, s.Store.CampaignStatus)
}
