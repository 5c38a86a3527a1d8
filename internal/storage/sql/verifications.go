package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/realname/realname/internal/realname"
)

// The statuses a session waits in.
var openStatuses = []any{string(realname.StatusPending), string(realname.StatusProcessing)}

// scanVerification reads one row of verificationCols.
func scanVerification(row rowScanner) (realname.Verification, error) {
	var (
		v       realname.Verification
		consent string
	)
	err := row.Scan(&v.CertifyID, &v.UserID, &v.PersonID, &v.Provider, &v.ProviderRef, &v.Status,
		&v.CertType, &v.Attempts, &v.IdentityChecked, &v.Score, &v.SubCode, &v.FailReason, &v.VerifyURL,
		&v.CallbackTokenHash, &consent, &v.Evidence, &v.ResultDeleted,
		scanTime(&v.CreatedAt), scanTime(&v.UpdatedAt), scanTime(&v.Deadline),
		scanTime(&v.CompletedAt), scanTime(&v.ExpiresAt), &v.NotifyURL)
	if err != nil {
		return realname.Verification{}, err
	}
	if v.Consent, err = decodeConsent(consent); err != nil {
		return realname.Verification{}, fmt.Errorf("verification %s: %w", v.CertifyID, err)
	}
	return v, nil
}

// verificationArgs are v's values in verificationCols order.
func (d dialect) verificationArgs(v realname.Verification) ([]any, error) {
	consent, err := encodeConsent(v.Consent)
	if err != nil {
		return nil, err
	}
	return []any{v.CertifyID, v.UserID, v.PersonID, v.Provider, v.ProviderRef, string(v.Status),
		v.CertType, v.Attempts, v.IdentityChecked, v.Score, v.SubCode, v.FailReason, v.VerifyURL,
		bytesArg(v.CallbackTokenHash), consent, string(v.Evidence), v.ResultDeleted,
		d.timeArg(v.CreatedAt), d.timeArg(v.UpdatedAt), d.timeArg(v.Deadline),
		d.nullTimeArg(v.CompletedAt), d.nullTimeArg(v.ExpiresAt), v.NotifyURL}, nil
}

// encodeConsent stores a consent as JSON, its times normalised like every
// other time of the store.
func encodeConsent(c realname.Consent) (string, error) {
	c.AcceptedAt = normTime(c.AcceptedAt)
	c.RecordedAt = normTime(c.RecordedAt)
	if !c.WithdrawnAt.IsZero() {
		c.WithdrawnAt = normTime(c.WithdrawnAt)
	}
	if c.Guardian != nil {
		g := *c.Guardian
		g.AcceptedAt = normTime(g.AcceptedAt)
		c.Guardian = &g
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode consent: %w", err)
	}
	return string(b), nil
}

func decodeConsent(s string) (realname.Consent, error) {
	var c realname.Consent
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("decode consent: %w", err)
	}
	c.AcceptedAt = c.AcceptedAt.UTC()
	c.RecordedAt = c.RecordedAt.UTC()
	if !c.WithdrawnAt.IsZero() {
		c.WithdrawnAt = c.WithdrawnAt.UTC()
	}
	if c.Guardian != nil {
		c.Guardian.AcceptedAt = c.Guardian.AcceptedAt.UTC()
	}
	return c, nil
}

// verification runs a query returning at most one session.
func (r reader) verification(ctx context.Context, query string, args []any, format string, a ...any) (realname.Verification, error) {
	v, err := scanVerification(r.q.QueryRowContext(ctx, query, args...))
	if err != nil {
		return realname.Verification{}, wrapErr(err, format, a...)
	}
	return v, nil
}

// Verification reads a session by its id.
func (r reader) Verification(ctx context.Context, certifyID string) (realname.Verification, error) {
	return r.verification(ctx, r.sql.verification, []any{certifyID}, "verification %s", certifyID)
}

// VerificationByProviderRef reads the session the provider knows as ref.
func (r reader) VerificationByProviderRef(ctx context.Context, provider, ref string) (realname.Verification, error) {
	return r.verification(ctx, r.sql.verificationByRef, []any{provider, ref},
		"verification by %s reference %q", provider, ref)
}

// LatestVerification reads the user's newest session (by CreatedAt, then
// CertifyID).
func (r reader) LatestVerification(ctx context.Context, userID string) (realname.Verification, error) {
	return r.verification(ctx, r.sql.latestVerification, []any{userID}, "latest verification of user %q", userID)
}

// OpenVerificationForUser reads the user's newest pending or processing
// session.
func (r reader) OpenVerificationForUser(ctx context.Context, userID string) (realname.Verification, error) {
	return r.verification(ctx, r.sql.openVerificationForUser, append([]any{userID}, openStatuses...),
		"open verification of user %q", userID)
}

// LockVerification reads a session and keeps other writers of it waiting
// until the transaction ends.
func (t *txConn) LockVerification(ctx context.Context, certifyID string) (realname.Verification, error) {
	return t.verification(ctx, t.sql.lockVerification, []any{certifyID}, "lock verification %s", certifyID)
}

// InsertVerification stores a new session; ErrConflict if its CertifyID or
// its (Provider, ProviderRef) is taken.
func (t *txConn) InsertVerification(ctx context.Context, v realname.Verification) error {
	args, err := t.d.verificationArgs(v)
	if err != nil {
		return fmt.Errorf("sqlstore: insert verification %s: %w", v.CertifyID, err)
	}
	n, err := exec(ctx, t.q, t.sql.insertVerification, args...)
	if err != nil {
		return wrapErr(err, "insert verification %s", v.CertifyID)
	}
	if n == 0 {
		return conflict("insert verification %s: id or provider reference taken", v.CertifyID)
	}
	return nil
}

// UpdateVerification replaces every field of a stored session except
// CertifyID and CreatedAt. ErrNotFound if there is no such session,
// ErrConflict if the new (Provider, ProviderRef) belongs to another one; the
// transaction stays usable after either.
func (t *txConn) UpdateVerification(ctx context.Context, v realname.Verification) error {
	a, err := t.d.verificationArgs(v)
	if err != nil {
		return fmt.Errorf("sqlstore: update verification %s: %w", v.CertifyID, err)
	}
	args := append(append(a[1:17:17], a[18:]...), a[0])
	var n int64
	update := func() (err error) {
		n, err = exec(ctx, t.q, t.sql.updateVerification, args...)
		return err
	}
	if v.ProviderRef != "" {
		err = t.guarded(ctx, update) // only a reference can collide
	} else {
		err = update()
	}
	if err != nil {
		return wrapErr(err, "update verification %s", v.CertifyID)
	}
	if n == 0 {
		return notFound("update verification %s", v.CertifyID)
	}
	return nil
}

// OpenVerifications lists pending and processing sessions last updated
// before updatedBefore, oldest update first (then by CertifyID), at most
// limit of them; limit must be positive.
func (s *Store) OpenVerifications(ctx context.Context, updatedBefore time.Time, limit int) ([]realname.Verification, error) {
	return s.verifications(ctx, "open verifications", s.sql.openVerifications, limit,
		append(openStatuses[:2:2], s.dialect.timeArg(updatedBefore), limit)...)
}

// PendingProviderDeletions lists success, failed and expired sessions with
// a provider reference whose copy at the provider is not deleted yet and
// that completed before completedBefore, oldest first (then by CertifyID),
// at most limit of them; limit must be positive.
func (s *Store) PendingProviderDeletions(ctx context.Context, completedBefore time.Time, limit int) ([]realname.Verification, error) {
	return s.verifications(ctx, "pending provider deletions", s.sql.pendingDeletions, limit,
		s.dialect.timeArg(completedBefore), limit)
}

// MarkResultDeleted sets a session's ResultDeleted in one statement;
// ErrNotFound if there is no such session.
func (s *Store) MarkResultDeleted(ctx context.Context, certifyID string) error {
	n, err := exec(ctx, s.db, s.sql.markResultDeleted, certifyID)
	if err != nil {
		return wrapErr(err, "mark result deleted %s", certifyID)
	}
	if n == 0 {
		return notFound("mark result deleted %s", certifyID)
	}
	return nil
}

// verifications runs a query listing sessions.
func (s *Store) verifications(ctx context.Context, what, query string, limit int, args ...any) ([]realname.Verification, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlstore: %s: limit %d is not positive", what, limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrapErr(err, "%s", what)
	}
	defer rows.Close()
	var vs []realname.Verification
	for rows.Next() {
		v, err := scanVerification(rows)
		if err != nil {
			return nil, wrapErr(err, "%s", what)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "%s", what)
	}
	return vs, nil
}

// CountOpenVerifications counts pending and processing sessions.
func (s *Store) CountOpenVerifications(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.sql.countOpenVerifications, openStatuses...).Scan(&n); err != nil {
		return 0, wrapErr(err, "count open verifications")
	}
	return n, nil
}

// ExpireVerifications moves, in one transaction, the success sessions and
// user records whose ExpiresAt is at or before now to expired (sessions
// also get UpdatedAt = now). It returns how many sessions moved.
func (s *Store) ExpireVerifications(ctx context.Context, now time.Time) (int, error) {
	var moved int64
	err := s.inTx(ctx, func(t *txConn) error {
		ts := s.dialect.timeArg(now)
		n, err := exec(ctx, t.q, s.sql.expireVerifications,
			string(realname.StatusExpired), ts, string(realname.StatusSuccess), ts)
		if err != nil {
			return wrapErr(err, "expire verifications")
		}
		if _, err := exec(ctx, t.q, s.sql.expireUsers,
			string(realname.StatusExpired), string(realname.StatusSuccess), ts); err != nil {
			return wrapErr(err, "expire user records")
		}
		moved = n
		return nil
	})
	return int(moved), err
}
