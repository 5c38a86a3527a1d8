package realname

import (
	"context"
	"sync"
	"time"
)

// PollOnce finishes open sessions whose callback never came: it asks the
// provider for each session idle longer than minIdle, finishes those with a
// result, and cancels those past their deadline. It also moves successes
// past their validity to expired, and retries the deletion of the
// provider's copy of finished sessions where it has not succeeded yet. It
// returns how many sessions it finished.
func (s *Service) PollOnce(ctx context.Context, minIdle time.Duration, batch int) (int, error) {
	now := s.clock()
	if n, err := s.store.ExpireVerifications(ctx, now); err != nil {
		return 0, err
	} else if n > 0 {
		s.log.InfoContext(ctx, "verifications expired", "count", n)
	}
	open, err := s.store.OpenVerifications(ctx, now.Add(-minIdle), batch)
	if err != nil {
		return 0, err
	}
	finished := 0
	for _, v := range open {
		if ctx.Err() != nil {
			break
		}
		got, err := s.refresh(ctx, v)
		if err != nil {
			s.log.WarnContext(ctx, "poll session", "certify_id", v.CertifyID, "err", err)
			got = v
		}
		if got.Status.Terminal() {
			finished++
			continue
		}
		if !s.clock().Before(got.Deadline) {
			if _, err := s.finish(ctx, got.CertifyID, outcome{FaceResult: FaceResult{Reason: "TIMEOUT"}, cancel: true}); err != nil {
				s.log.WarnContext(ctx, "cancel timed-out session", "certify_id", v.CertifyID, "err", err)
				continue
			}
			finished++
			continue
		}
		if got.Provider == ProviderManual {
			// A review waits for an operator, not for the provider: the
			// poller need not look at it again before its deadline.
			s.touch(ctx, got.CertifyID, got.Deadline)
			continue
		}
		s.touch(ctx, got.CertifyID, s.clock())
	}
	if _, ok := s.provider.(ResultDeleter); ok && ctx.Err() == nil {
		// Sessions completed minIdle ago or earlier: the background worker
		// has had its chance with the newer ones.
		// Unless the provider may keep its copy longer (Retention.Faces).
		pending, err := s.store.PendingProviderDeletions(ctx, now.Add(-max(minIdle, s.cfg.Retention.Faces)), batch)
		if err != nil {
			return finished, err
		}
		for _, v := range pending {
			if ctx.Err() != nil {
				break
			}
			s.deleteAtProvider(ctx, v)
		}
	}
	return finished, nil
}

// touch moves an open session to the back of the poller's queue: the
// poller looks at it again once it has been idle after at.
func (s *Service) touch(ctx context.Context, certifyID string, at time.Time) {
	err := s.inTx(ctx, func(tx Tx) error {
		v, err := tx.LockVerification(ctx, certifyID)
		if err != nil || v.Status.Terminal() {
			return err
		}
		v.UpdatedAt = at
		return tx.UpdateVerification(ctx, v)
	})
	if err != nil {
		s.log.WarnContext(ctx, "touch session", "certify_id", certifyID, "err", err)
	}
}

// deletionWorkers is how many provider deletions run at once: each is a
// round trip to the provider, so a few in parallel keep up with a busy
// callback path.
const deletionWorkers = 4

// RunPoller calls PollOnce every interval until ctx ends. Alongside, it
// runs the workers that ask the provider to delete its copy of each session
// as it finishes. It returns when all have stopped.
func (s *Service) RunPoller(ctx context.Context, interval, minIdle time.Duration) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for range deletionWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case v := <-s.deletions:
					s.deleteAtProvider(ctx, v)
				}
			}
		})
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.PollOnce(ctx, minIdle, 100); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "poller", "err", err)
			}
		}
	}
}

// FlushDeletions asks the provider to delete the copies queued so far, in
// this goroutine, and reports how many it handled. It is for a process
// that runs no poller (an operator command); what fails is left to the
// server's poller.
func (s *Service) FlushDeletions(ctx context.Context) int {
	n := 0
	for {
		select {
		case v := <-s.deletions:
			s.deleteAtProvider(ctx, v)
			n++
		default:
			return n
		}
	}
}
