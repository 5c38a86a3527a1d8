package realname

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"
)

// Callback is the provider's notification. It is only a hint: the result is
// fetched again from the provider.
type Callback struct {
	Ref   string // the provider's CertifyId
	Token string // the per-session callback token
	Hint  string // the provider's SubCode as sent in the callback ("passed")
}

// maxCallbackField bounds each callback field.
const maxCallbackField = 256

// HandleCallback authenticates a callback by its per-session token (in
// constant time), fetches the authoritative result and finishes the
// session. Repeats and concurrent duplicates change the state once.
func (s *Service) HandleCallback(ctx context.Context, cb Callback) (Verification, error) {
	if cb.Ref == "" || cb.Token == "" || len(cb.Ref) > maxCallbackField || len(cb.Token) > maxCallbackField || len(cb.Hint) > maxCallbackField {
		return Verification{}, E(KindInvalid, CodeInvalidCallback, "certifyId and callbackToken are required", nil)
	}
	v, err := s.store.VerificationByProviderRef(ctx, s.provider.Name(), cb.Ref)
	if errors.Is(err, ErrNotFound) {
		return Verification{}, E(KindNotFound, CodeNotFound, "unknown certifyId", err)
	}
	if err != nil {
		return Verification{}, fmt.Errorf("find session by provider ref: %w", err)
	}
	sum := sha256.Sum256([]byte(cb.Token))
	if len(v.CallbackTokenHash) != len(sum) || subtle.ConstantTimeCompare(v.CallbackTokenHash, sum[:]) != 1 {
		return Verification{}, E(KindUnauthorized, CodeInvalidCallback, "callback token does not match", nil)
	}
	if v.Status.Terminal() {
		return v, nil // a repeat: already handled
	}
	return s.refresh(ctx, v)
}

// refresh asks the provider for the result of an open session and finishes
// it when there is one. ErrNotFinished leaves the session as it is.
func (s *Service) refresh(ctx context.Context, v Verification) (Verification, error) {
	if v.ProviderRef == "" {
		return v, nil
	}
	pctx, cancel := s.providerCtx(ctx)
	res, err := s.provider.FaceCheckResult(pctx, v.ProviderRef)
	cancel()
	switch {
	case errors.Is(err, ErrNotFinished):
		return v, nil
	case errors.Is(err, ErrUnknownSession):
		return s.finish(ctx, v.CertifyID, outcome{FaceResult: FaceResult{Reason: "PROVIDER_LOST_SESSION"}, cancel: true})
	case err != nil:
		return v, unavailable(err)
	}
	return s.finish(ctx, v.CertifyID, outcome{FaceResult: res})
}

// outcome is how a session ends.
type outcome struct {
	FaceResult
	cancel bool // cancelled rather than failed
}

// finish moves an open session to its terminal state in one transaction.
// A passed result binds the person to the user; if another user holds the
// person, the session fails with IDENTITY_BOUND_TO_OTHER_USER. Finishing a
// terminal session changes nothing.
func (s *Service) finish(ctx context.Context, certifyID string, res outcome) (Verification, error) {
	var out Verification
	changed := false
	err := s.inTx(ctx, func(tx Tx) error {
		var err error
		out, changed, err = s.finishTx(ctx, tx, certifyID, res)
		return err
	})
	if err != nil {
		return Verification{}, fmt.Errorf("finish %s: %w", certifyID, err)
	}
	if changed {
		s.finished(ctx, out)
	}
	return out, nil
}

// finishTx is finish's work inside a transaction: it reports the session
// and whether it changed.
func (s *Service) finishTx(ctx context.Context, tx Tx, certifyID string, res outcome) (Verification, bool, error) {
	v, err := tx.LockVerification(ctx, certifyID)
	if err != nil {
		return Verification{}, false, err
	}
	if v.Status.Terminal() {
		return v, false, nil
	}
	now := s.clock()
	v.SubCode, v.Score = res.SubCode, res.Score
	to := StatusFailed
	switch {
	case res.cancel:
		to = StatusCancelled
		v.FailReason = res.Reason
	case res.Passed && s.personErased(ctx, tx, v.PersonID):
		// The person was erased while the check ran (DELETE /me, a
		// withdrawal): nothing may bind the user to it again.
		to, v.FailReason = StatusCancelled, CodeErased
	case res.Passed:
		to = StatusSuccess
		rec := UserRecord{UserID: v.UserID, PersonID: v.PersonID, CertifyID: v.CertifyID,
			Status: StatusSuccess, Evidence: v.Evidence, VerifiedAt: now, ExpiresAt: now.Add(s.cfg.Validity)}
		if err := s.bind(ctx, tx, rec, now); errors.Is(err, ErrConflict) {
			to, v.FailReason = StatusFailed, CodeIdentityBound
		} else if err != nil {
			return Verification{}, false, err
		} else {
			v.ExpiresAt = rec.ExpiresAt
		}
	default:
		v.FailReason = res.Reason
		if v.FailReason == "" {
			v.FailReason = ReasonForSubCode(res.SubCode)
		}
	}
	if err := v.move(to, now); err != nil {
		return Verification{}, false, err
	}
	if err := tx.UpdateVerification(ctx, v); err != nil {
		return Verification{}, false, fmt.Errorf("update verification: %w", err)
	}
	if v.Provider == ProviderManual {
		// A review's files go when it ends, however it ends.
		if err := dropReviewFiles(ctx, tx, v.CertifyID); err != nil {
			return Verification{}, false, err
		}
	}
	return v, true, nil
}

// finished does what follows a session's end, after its transaction
// committed: caches, metrics, the platform's notice and the provider's
// deletion.
func (s *Service) finished(ctx context.Context, out Verification) {
	s.forgetUser(ctx, out.UserID)
	s.metrics.Finished(out.Status, out.CompletedAt.Sub(out.CreatedAt))
	s.log.InfoContext(ctx, "verification finished", "certify_id", out.CertifyID,
		"status", string(out.Status), "reason", out.FailReason, "sub_code", out.SubCode)
	if out.NotifyURL != "" && s.notifier != nil {
		s.notifier.Notify(ctx, Notice{URL: out.NotifyURL, CertifyID: out.CertifyID, UserID: out.UserID, Status: out.Status})
	}
	if out.ProviderRef != "" && (out.Status != StatusCancelled || out.FailReason == CodeErased) && s.cfg.Retention.Faces == 0 {
		s.queueDeletion(out)
	}
}

// personErased reports whether the person was erased (or cannot be read,
// which is treated the same: nothing is bound to it).
func (s *Service) personErased(ctx context.Context, tx Tx, personID string) bool {
	p, err := tx.Person(ctx, personID)
	return err != nil || p.Erased()
}

// bind stores the user's record. An expired binding of another user to the
// same person gives way; a valid one is a conflict.
func (s *Service) bind(ctx context.Context, tx Tx, rec UserRecord, now time.Time) error {
	other, err := tx.UserByPerson(ctx, rec.PersonID)
	switch {
	case err == nil && other.UserID != rec.UserID:
		if other.Valid(now) {
			return ErrConflict
		}
		if err := tx.DeleteUserRecord(ctx, other.UserID); err != nil {
			return fmt.Errorf("release expired binding: %w", err)
		}
		s.forgetUser(ctx, other.UserID)
	case err != nil && !errors.Is(err, ErrNotFound):
		return fmt.Errorf("find binding: %w", err)
	}
	return tx.PutUserRecord(ctx, rec)
}

// queueDeletion hands a finished session to the background worker that
// asks the provider to delete its copy, off the callback's path. When the
// queue is full the session waits for the poller (PendingProviderDeletions).
func (s *Service) queueDeletion(v Verification) {
	select {
	case s.deletions <- v:
	default:
	}
}

// deleteAtProvider asks the provider to delete its copy of the face check
// (pictures included) now that the result is stored, and records that it
// did. A failure leaves ResultDeleted false, so the poller tries again.
func (s *Service) deleteAtProvider(ctx context.Context, v Verification) {
	d, ok := s.provider.(ResultDeleter)
	if !ok {
		return
	}
	pctx, cancel := s.providerCtx(context.WithoutCancel(ctx))
	defer cancel()
	if err := d.DeleteResult(pctx, v.ProviderRef); err != nil && !errors.Is(err, ErrUnknownSession) {
		s.log.WarnContext(ctx, "provider did not delete its copy of the face check; the poller will retry",
			"certify_id", v.CertifyID, "err", err)
		return
	}
	if err := s.store.MarkResultDeleted(context.WithoutCancel(ctx), v.CertifyID); err != nil {
		s.log.WarnContext(ctx, "mark provider copy deleted", "certify_id", v.CertifyID, "err", err)
	}
}
