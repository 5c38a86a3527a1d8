package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/realname/realname/internal/realname"
)

// privacyQueries are the statements of the privacy duties (migration 0003).
type privacyQueries struct {
	userVerifications                                  string
	review, insertReview, updateReview                 string
	failuresSince, unlockedAt, unlock                  string
	auditFor, auditLog, insertAudit                    string
	erasePerson                                        string
	anonSessions, anonAudit, anonIdempotency, anonUser string
	anonUnlock                                         string
	openReviews, spendBudget                           string
	expiredUsers, stalePersons, staleReviewFiles       string
	deleteIdempotency, deleteAudit                     string
}

const (
	reviewCols = `certify_id, files_ct, submitted_at, decided_at, decided_by, decision, reason`
	auditCols  = `id, at, actor_kind, actor, action, subject, target, fields, masked, reason`
)

func privacyQueriesFor(d dialect) privacyQueries {
	r := d.rebind
	selectV := `SELECT ` + verificationCols + ` FROM verifications `
	return privacyQueries{
		userVerifications: r(selectV + `WHERE user_id = ? ORDER BY created_at DESC, certify_id DESC LIMIT ?`),
		review:            r(`SELECT ` + reviewCols + ` FROM reviews WHERE certify_id = ?`),
		insertReview: r(`INSERT INTO reviews (` + reviewCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`),
		updateReview: r(`UPDATE reviews SET files_ct = ?, decided_at = ?, decided_by = ?, decision = ?, reason = ?
			WHERE certify_id = ?`),
		// One round trip: failures before an operator's lift do not count.
		failuresSince: r(`SELECT v.completed_at FROM verifications v
			LEFT JOIN user_unlocks u ON u.user_id = v.user_id
			WHERE v.user_id = ? AND v.status = 'failed' AND v.completed_at >= ?
			AND (u.unlocked_at IS NULL OR v.completed_at > u.unlocked_at)
			ORDER BY v.completed_at LIMIT ?`),
		unlockedAt: r(`SELECT unlocked_at FROM user_unlocks WHERE user_id = ?`),
		unlock: r(`INSERT INTO user_unlocks (user_id, unlocked_at) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET unlocked_at = excluded.unlocked_at`),
		auditFor: r(`SELECT ` + auditCols + ` FROM audit_log WHERE subject = ? ORDER BY id LIMIT ?`),
		auditLog: r(`SELECT ` + auditCols + ` FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`),
		insertAudit: r(`INSERT INTO audit_log (at, actor_kind, actor, action, subject, target, fields, masked, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		erasePerson: r(`UPDATE persons SET wrapped_key = NULL, name_ct = NULL, number_ct = NULL, idx = ?,
			erased_at = COALESCE(erased_at, ?) WHERE id = ?`),
		anonIdempotency: r(`DELETE FROM idempotency WHERE certify_id IN
			(SELECT certify_id FROM verifications WHERE user_id = ?)`),
		anonSessions: r(`UPDATE verifications SET user_id = ?, verify_url = '', notify_url = '',
			callback_token_hash = NULL WHERE user_id = ?`),
		anonAudit:  r(`UPDATE audit_log SET subject = ? WHERE subject = ?`),
		anonUser:   r(`DELETE FROM users WHERE user_id = ?`),
		anonUnlock: r(`DELETE FROM user_unlocks WHERE user_id = ?`),
		openReviews: r(selectV + `WHERE provider = '` + realname.ProviderManual + `' AND status = 'processing'
			ORDER BY created_at, certify_id LIMIT ?`),
		// One statement: concurrent spends (several replicas) never pass
		// the limit together.
		spendBudget: r(`INSERT INTO provider_budget (provider, day, calls) VALUES (?, ?, ?)
			ON CONFLICT (provider, day) DO UPDATE SET calls = provider_budget.calls + excluded.calls
			WHERE provider_budget.calls + excluded.calls <= ?
			RETURNING calls`),
		expiredUsers: r(`SELECT ` + userCols + ` FROM users WHERE status = 'expired' AND expires_at < ?
			ORDER BY expires_at LIMIT ?`),
		stalePersons: r(`SELECT p.id FROM persons p WHERE p.erased_at IS NULL AND p.created_at < ?
			AND NOT EXISTS (SELECT 1 FROM users u WHERE u.person_id = p.id)
			AND NOT EXISTS (SELECT 1 FROM verifications v WHERE v.person_id = p.id
				AND (v.status IN ('pending', 'processing') OR v.completed_at >= ?))
			ORDER BY p.id LIMIT ?`),
		staleReviewFiles: r(`SELECT r.certify_id FROM reviews r JOIN verifications v ON v.certify_id = r.certify_id
			WHERE r.files_ct IS NOT NULL AND v.status NOT IN ('pending', 'processing')
			ORDER BY r.certify_id LIMIT ?`),
		deleteIdempotency: r(`DELETE FROM idempotency WHERE created_at < ?`),
		deleteAudit:       r(`DELETE FROM audit_log WHERE at < ?`),
	}
}

// UserVerifications lists a user's sessions, newest first.
func (r reader) UserVerifications(ctx context.Context, userID string, limit int) ([]realname.Verification, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlstore: user verifications: limit %d is not positive", limit)
	}
	rows, err := r.q.QueryContext(ctx, r.sql.privacy.userVerifications, userID, limit)
	if err != nil {
		return nil, wrapErr(err, "verifications of %q", userID)
	}
	defer rows.Close()
	var vs []realname.Verification
	for rows.Next() {
		v, err := scanVerification(rows)
		if err != nil {
			return nil, wrapErr(err, "verifications of %q", userID)
		}
		vs = append(vs, v)
	}
	return vs, wrapErr(rows.Err(), "verifications of %q", userID)
}

// Review reads a manual review.
func (r reader) Review(ctx context.Context, certifyID string) (realname.Review, error) {
	var rv realname.Review
	err := r.q.QueryRowContext(ctx, r.sql.privacy.review, certifyID).Scan(&rv.CertifyID, &rv.FilesCT,
		scanTime(&rv.SubmittedAt), scanTime(&rv.DecidedAt), &rv.DecidedBy, &rv.Decision, &rv.Reason)
	if err != nil {
		return realname.Review{}, wrapErr(err, "review %s", certifyID)
	}
	return rv, nil
}

// FailuresSince lists the completion times of the user's failed sessions.
func (r reader) FailuresSince(ctx context.Context, userID string, since time.Time, limit int) ([]time.Time, error) {
	rows, err := r.q.QueryContext(ctx, r.sql.privacy.failuresSince, userID, r.d.timeArg(since), limit)
	if err != nil {
		return nil, wrapErr(err, "failures of %q", userID)
	}
	defer rows.Close()
	var ts []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(scanTime(&t)); err != nil {
			return nil, wrapErr(err, "failures of %q", userID)
		}
		ts = append(ts, t)
	}
	return ts, wrapErr(rows.Err(), "failures of %q", userID)
}

// UnlockedAt is when the user's lockout was last lifted.
func (r reader) UnlockedAt(ctx context.Context, userID string) (time.Time, error) {
	var t time.Time
	err := r.q.QueryRowContext(ctx, r.sql.privacy.unlockedAt, userID).Scan(scanTime(&t))
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	return t, wrapErr(err, "unlock of %q", userID)
}

// AuditFor lists the audit entries about a subject.
func (r reader) AuditFor(ctx context.Context, subject string, limit int) ([]realname.AuditEntry, error) {
	return r.audit(ctx, r.sql.privacy.auditFor, subject, limit)
}

func (r reader) audit(ctx context.Context, query string, args ...any) ([]realname.AuditEntry, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrapErr(err, "audit log")
	}
	defer rows.Close()
	var es []realname.AuditEntry
	for rows.Next() {
		var (
			e      realname.AuditEntry
			fields string
		)
		if err := rows.Scan(&e.ID, scanTime(&e.At), &e.ActorKind, &e.Actor, &e.Action, &e.Subject, &e.Target,
			&fields, &e.Masked, &e.Reason); err != nil {
			return nil, wrapErr(err, "audit log")
		}
		if fields != "" {
			e.Fields = strings.Split(fields, ",")
		}
		es = append(es, e)
	}
	return es, wrapErr(rows.Err(), "audit log")
}

// InsertReview stores a new review; ErrConflict if one exists.
func (t *txConn) InsertReview(ctx context.Context, rv realname.Review) error {
	n, err := exec(ctx, t.q, t.sql.privacy.insertReview, rv.CertifyID, bytesArg(rv.FilesCT),
		t.d.timeArg(rv.SubmittedAt), t.d.nullTimeArg(rv.DecidedAt), rv.DecidedBy, rv.Decision, rv.Reason)
	if err != nil {
		return wrapErr(err, "insert review %s", rv.CertifyID)
	}
	if n == 0 {
		return conflict("insert review %s", rv.CertifyID)
	}
	return nil
}

// UpdateReview replaces a review's files and decision.
func (t *txConn) UpdateReview(ctx context.Context, rv realname.Review) error {
	n, err := exec(ctx, t.q, t.sql.privacy.updateReview, bytesArg(rv.FilesCT), t.d.nullTimeArg(rv.DecidedAt),
		rv.DecidedBy, rv.Decision, rv.Reason, rv.CertifyID)
	if err != nil {
		return wrapErr(err, "update review %s", rv.CertifyID)
	}
	if n == 0 {
		return notFound("update review %s", rv.CertifyID)
	}
	return nil
}

// ErasePerson destroys a person's key and ciphertexts.
func (t *txConn) ErasePerson(ctx context.Context, id string, newIndex []byte, at time.Time) error {
	n, err := exec(ctx, t.q, t.sql.privacy.erasePerson, newIndex, t.d.timeArg(at), id)
	if err != nil {
		return wrapErr(err, "erase person %s", id)
	}
	if n == 0 {
		return notFound("erase person %s", id)
	}
	return nil
}

// AnonymiseUser replaces a user id by a pseudonym and deletes the user's
// record, lockout lift and idempotent answers.
func (t *txConn) AnonymiseUser(ctx context.Context, userID, pseudonym string) error {
	q := t.sql.privacy
	steps := []struct {
		what  string
		query string
		args  []any
	}{
		{"idempotent answers", q.anonIdempotency, []any{userID}},
		{"sessions", q.anonSessions, []any{pseudonym, userID}},
		{"audit entries", q.anonAudit, []any{pseudonym, userID}},
		{"user record", q.anonUser, []any{userID}},
		{"lockout lift", q.anonUnlock, []any{userID}},
		{"deposits", authoritySQL[t.d].anonDeposits, []any{pseudonym, userID}},
	}
	for _, st := range steps {
		if _, err := exec(ctx, t.q, st.query, st.args...); err != nil {
			return wrapErr(err, "anonymise %s of %q", st.what, userID)
		}
	}
	return nil
}

// Audit appends an audit entry inside the transaction.
func (t *txConn) Audit(ctx context.Context, e realname.AuditEntry) error {
	return insertAudit(ctx, t.q, t.d, t.sql, e)
}

// Audit appends an audit entry.
func (s *Store) Audit(ctx context.Context, e realname.AuditEntry) error {
	return insertAudit(ctx, s.db, s.dialect, s.sql, e)
}

func insertAudit(ctx context.Context, q querier, d dialect, qs *queries, e realname.AuditEntry) error {
	_, err := q.ExecContext(ctx, qs.privacy.insertAudit, d.timeArg(e.At), e.ActorKind, e.Actor, e.Action,
		e.Subject, e.Target, strings.Join(e.Fields, ","), e.Masked, e.Reason)
	return wrapErr(err, "append audit entry %s", e.Action)
}

// AuditLog pages through the audit log.
func (s *Store) AuditLog(ctx context.Context, afterID int64, limit int) ([]realname.AuditEntry, error) {
	return s.reader.audit(ctx, s.sql.privacy.auditLog, afterID, limit)
}

// OpenReviews lists the reviews waiting for a decision, oldest first.
func (s *Store) OpenReviews(ctx context.Context, limit int) ([]realname.Verification, error) {
	return s.verifications(ctx, "open reviews", s.sql.privacy.openReviews, limit, limit)
}

// Unlock records the lift of a user's lockout.
func (s *Store) Unlock(ctx context.Context, userID string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.sql.privacy.unlock, userID, s.dialect.timeArg(at))
	return wrapErr(err, "unlock %q", userID)
}

// SpendBudget adds n calls to the provider's count of the day unless that
// would pass limit.
func (s *Store) SpendBudget(ctx context.Context, provider, day string, n, limit int) (int, bool, error) {
	if n > limit {
		return 0, false, nil
	}
	var used int
	err := s.db.QueryRowContext(ctx, s.sql.privacy.spendBudget, provider, day, n, limit).Scan(&used)
	if err == sql.ErrNoRows {
		return limit, false, nil
	}
	if err != nil {
		return 0, false, wrapErr(err, "spend budget of %s", provider)
	}
	return used, true, nil
}

// ExpiredUserRecords lists records whose verification expired before the
// given time.
func (s *Store) ExpiredUserRecords(ctx context.Context, expiredBefore time.Time, limit int) ([]realname.UserRecord, error) {
	rows, err := s.db.QueryContext(ctx, s.sql.privacy.expiredUsers, s.dialect.timeArg(expiredBefore), limit)
	if err != nil {
		return nil, wrapErr(err, "expired user records")
	}
	defer rows.Close()
	var us []realname.UserRecord
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrapErr(err, "expired user records")
		}
		us = append(us, u)
	}
	return us, wrapErr(rows.Err(), "expired user records")
}

// StalePersons lists persons past the identity's retention.
func (s *Store) StalePersons(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	ts := s.dialect.timeArg(cutoff)
	return s.ids(ctx, "stale persons", s.sql.privacy.stalePersons, ts, ts, limit)
}

// StaleReviewFiles lists finished reviews that still hold files.
func (s *Store) StaleReviewFiles(ctx context.Context, limit int) ([]string, error) {
	return s.ids(ctx, "stale review files", s.sql.privacy.staleReviewFiles, limit)
}

func (s *Store) ids(ctx context.Context, what, query string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrapErr(err, "%s", what)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrapErr(err, "%s", what)
		}
		ids = append(ids, id)
	}
	return ids, wrapErr(rows.Err(), "%s", what)
}

// DeleteIdempotentAnswers deletes old idempotent answers.
func (s *Store) DeleteIdempotentAnswers(ctx context.Context, before time.Time) (int, error) {
	n, err := exec(ctx, s.db, s.sql.privacy.deleteIdempotency, s.dialect.timeArg(before))
	return int(n), wrapErr(err, "delete idempotent answers")
}

// DeleteAudit deletes old audit entries.
func (s *Store) DeleteAudit(ctx context.Context, before time.Time) (int, error) {
	n, err := exec(ctx, s.db, s.sql.privacy.deleteAudit, s.dialect.timeArg(before))
	return int(n), wrapErr(err, "delete audit entries")
}
