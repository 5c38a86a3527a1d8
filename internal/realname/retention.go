package realname

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// Retention says how long each kind of personal data is kept. A zero
// duration takes the default; a negative one keeps that kind forever
// (except Faces, where zero is the default: not kept at all).
type Retention struct {
	// Identity: the encrypted name and number of a person no user is
	// verified with any more (never verified, failed, or expired), counted
	// from the end of their last session or the expiry (default 30 days).
	// After it the person is erased: the data key is destroyed.
	Identity time.Duration
	// Faces: how long the provider may keep its copy of a face check
	// (pictures included) after the result (default 0: it is told to
	// delete at once). realname itself never holds face images.
	Faces time.Duration
	// ReviewFiles: the photos of a manual review are deleted when it is
	// decided; undecided ones when the review is cancelled after ReviewTTL.
	// This job deletes any left over (no setting: always at once).
	//
	// Idempotency: stored answers to Idempotency-Keys (default 24 hours).
	Idempotency time.Duration
	// Audit: the audit log of accesses and operator actions (default three
	// years, 26280 hours).
	Audit time.Duration
}

func (r *Retention) defaults() {
	if r.Identity == 0 {
		r.Identity = 30 * 24 * time.Hour
	}
	if r.Faces < 0 {
		r.Faces = 0
	}
	if r.Idempotency == 0 {
		r.Idempotency = 24 * time.Hour
	}
	if r.Audit == 0 {
		r.Audit = 3 * 365 * 24 * time.Hour
	}
}

// RetentionReport is what one run of the retention job did, per item.
type RetentionReport struct {
	ExpiredRecords int `json:"expired_user_records"` // users whose expired verification passed retention: record deleted, person erased
	Persons        int `json:"persons_erased"`       // other persons past retention, erased
	ReviewFiles    int `json:"review_files"`         // finished reviews whose files were deleted
	Idempotency    int `json:"idempotent_answers"`   // stored answers deleted
	Audit          int `json:"audit_entries"`        // audit entries deleted
}

// Total is the number of items the run removed.
func (r RetentionReport) Total() int {
	return r.ExpiredRecords + r.Persons + r.ReviewFiles + r.Idempotency + r.Audit
}

// RetentionMetrics is implemented by a Metrics that counts what the
// retention job removed.
type RetentionMetrics interface {
	Retained(item string, n int)
}

// retentionBatch bounds the rows one step of the job handles per query.
const retentionBatch = 500

// RunRetention deletes what has passed its retention period, reports what
// it did and records the run in the audit log. It is safe to run on
// several replicas at once.
func (s *Service) RunRetention(ctx context.Context) (RetentionReport, error) {
	var rep RetentionReport
	now := s.clock()
	r := s.cfg.Retention
	if r.Identity > 0 {
		cutoff := now.Add(-r.Identity)
		for {
			recs, err := s.store.ExpiredUserRecords(ctx, cutoff, retentionBatch)
			if err != nil {
				return rep, err
			}
			for _, u := range recs {
				if err := s.retireRecord(ctx, u, cutoff, now); err != nil {
					return rep, err
				}
				rep.ExpiredRecords++
			}
			if len(recs) < retentionBatch || ctx.Err() != nil {
				break
			}
		}
		for {
			ids, err := s.store.StalePersons(ctx, cutoff, retentionBatch)
			if err != nil {
				return rep, err
			}
			for _, id := range ids {
				if err := s.inTx(ctx, func(tx Tx) error { return erasePerson(ctx, tx, id, now) }); err != nil {
					return rep, err
				}
				rep.Persons++
			}
			if len(ids) < retentionBatch || ctx.Err() != nil {
				break
			}
		}
	}
	ids, err := s.store.StaleReviewFiles(ctx, retentionBatch)
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		err := s.inTx(ctx, func(tx Tx) error {
			rv, err := tx.Review(ctx, id)
			if err != nil {
				return err
			}
			rv.FilesCT = nil
			return tx.UpdateReview(ctx, rv)
		})
		if err != nil {
			return rep, err
		}
		rep.ReviewFiles++
	}
	if r.Idempotency > 0 {
		if rep.Idempotency, err = s.store.DeleteIdempotentAnswers(ctx, now.Add(-r.Idempotency)); err != nil {
			return rep, err
		}
	}
	if r.Audit > 0 {
		if rep.Audit, err = s.store.DeleteAudit(ctx, now.Add(-r.Audit)); err != nil {
			return rep, err
		}
	}
	if m, ok := s.metrics.(RetentionMetrics); ok {
		m.Retained("expired_user_records", rep.ExpiredRecords)
		m.Retained("persons", rep.Persons)
		m.Retained("review_files", rep.ReviewFiles)
		m.Retained("idempotent_answers", rep.Idempotency)
		m.Retained("audit_entries", rep.Audit)
	}
	if rep.Total() > 0 {
		s.log.InfoContext(ctx, "retention", "expired_user_records", rep.ExpiredRecords, "persons", rep.Persons,
			"review_files", rep.ReviewFiles, "idempotent_answers", rep.Idempotency, "audit_entries", rep.Audit)
		err := s.store.Audit(ctx, AuditEntry{At: now, ActorKind: ActorSystem, Actor: "retention", Action: "retention.run",
			Reason: fmt.Sprintf("removed: %d expired user records, %d persons, %d review files, %d idempotent answers, %d audit entries",
				rep.ExpiredRecords, rep.Persons, rep.ReviewFiles, rep.Idempotency, rep.Audit)})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// retireRecord deletes an expired user record past retention and erases
// its person, unless the user verified again meanwhile.
func (s *Service) retireRecord(ctx context.Context, u UserRecord, cutoff, now time.Time) error {
	err := s.inTx(ctx, func(tx Tx) error {
		cur, err := tx.UserRecord(ctx, u.UserID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.Status != StatusExpired || !cur.ExpiresAt.Before(cutoff) {
			return nil // verified again meanwhile
		}
		if err := tx.DeleteUserRecord(ctx, u.UserID); err != nil {
			return err
		}
		return erasePerson(ctx, tx, cur.PersonID, now)
	})
	if err != nil {
		return fmt.Errorf("retire record of %q: %w", u.UserID, err)
	}
	s.forgetUser(ctx, u.UserID)
	return nil
}

// erasePerson destroys a person's data key and ciphertexts and gives it a
// random index, so the same number makes a new person if it comes again.
func erasePerson(ctx context.Context, tx Tx, personID string, now time.Time) error {
	var idx [32]byte
	if _, err := rand.Read(idx[:]); err != nil {
		return fmt.Errorf("random index: %w", err)
	}
	if err := tx.ErasePerson(ctx, personID, idx[:], now); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("erase person %s: %w", personID, err)
	}
	return nil
}
