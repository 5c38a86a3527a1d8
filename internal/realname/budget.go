package realname

import (
	"context"
	"fmt"
	"time"
)

// BudgetMetrics is implemented by a Metrics that also watches the daily
// provider budget (the alert metric).
type BudgetMetrics interface {
	BudgetSpent(provider string, used, limit int)
	BudgetRefused(provider string)
}

// spend takes n paid provider calls from today's budget, or refuses with
// BUDGET_EXHAUSTED (503) until the next day, China time.
func (s *Service) spend(ctx context.Context, n int) error {
	limit := s.cfg.DailyBudget
	if limit <= 0 || n <= 0 {
		return nil
	}
	now := s.clock().In(chinaTime)
	provider := s.provider.Name()
	used, ok, err := s.store.SpendBudget(ctx, provider, now.Format(time.DateOnly), n, limit)
	if err != nil {
		return fmt.Errorf("provider budget: %w", err)
	}
	bm, _ := s.metrics.(BudgetMetrics)
	if !ok {
		if bm != nil {
			bm.BudgetRefused(provider)
		}
		s.log.WarnContext(ctx, "daily provider budget exhausted: new verifications are refused until tomorrow (China time)",
			"provider", provider, "limit", limit)
		y, m, d := now.Date()
		tomorrow := time.Date(y, m, d+1, 0, 0, 0, 0, chinaTime)
		e := E(KindUnavailable, CodeBudgetExhausted, "the service has reached its daily limit of verifications; try again tomorrow", nil)
		e.RetryAfter = tomorrow.Sub(now)
		return e
	}
	if bm != nil {
		bm.BudgetSpent(provider, used, limit)
	}
	return nil
}
