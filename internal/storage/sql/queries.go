package sqlstore

import (
	"context"
	"database/sql"
)

// querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Column lists, in the order the scan functions read them.
const (
	verificationCols = `certify_id, user_id, person_id, provider, provider_ref, status, cert_type,
		attempts, identity_checked, score, sub_code, fail_reason, verify_url, callback_token_hash, consent, evidence,
		result_deleted, created_at, updated_at, deadline, completed_at, expires_at, notify_url`
	personCols     = `id, idx, key_id, wrapped_key, name_ct, number_ct, cert_type, created_at, erased_at`
	userCols       = `user_id, person_id, certify_id, status, evidence, verified_at, expires_at`
	apiKeyCols     = `id, name, hash, created_at, revoked_at`
	idempotentCols = `scope, key, fingerprint, certify_id, created_at`
)

// queries holds every statement of the package, already rebound for one
// dialect. They are written once, with ? placeholders.
type queries struct {
	verification, lockVerification, verificationByRef                           string
	latestVerification, openVerificationForUser                                 string
	insertVerification, updateVerification                                      string
	openVerifications, countOpenVerifications                                   string
	pendingDeletions, markResultDeleted                                         string
	expireVerifications, expireUsers                                            string
	person, personByIndex, insertPerson, updatePerson, persons, updatePersonKey string
	userRecord, userByPerson, putUserRecord, deleteUserRecord                   string
	idempotentAnswer, putIdempotentAnswer                                       string
	createAPIKey, apiKeyByHash, apiKeys, revokeAPIKey                           string
	privacy                                                                     privacyQueries
}

// queriesFor builds the statements for d.
func queriesFor(d dialect) *queries {
	r := d.rebind
	selectV := `SELECT ` + verificationCols + ` FROM verifications `
	lock := selectV + `WHERE certify_id = ?`
	if d == dialectPostgres {
		// SQLite needs nothing: BEGIN IMMEDIATE already serialises writers.
		lock += ` FOR UPDATE`
	}
	return &queries{
		verification:      r(selectV + `WHERE certify_id = ?`),
		lockVerification:  r(lock),
		verificationByRef: r(selectV + `WHERE provider = ? AND provider_ref = ? AND provider_ref <> ''`),
		latestVerification: r(selectV + `WHERE user_id = ?
			ORDER BY created_at DESC, certify_id DESC LIMIT 1`),
		openVerificationForUser: r(selectV + `WHERE user_id = ? AND status IN (?, ?)
			ORDER BY created_at DESC, certify_id DESC LIMIT 1`),
		insertVerification: r(`INSERT INTO verifications (` + verificationCols + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`),
		// Everything but the key and created_at, which never change.
		updateVerification: r(`UPDATE verifications SET user_id = ?, person_id = ?, provider = ?,
			provider_ref = ?, status = ?, cert_type = ?, attempts = ?, identity_checked = ?, score = ?,
			sub_code = ?,
			fail_reason = ?, verify_url = ?, callback_token_hash = ?, consent = ?, evidence = ?,
			result_deleted = ?, updated_at = ?, deadline = ?, completed_at = ?, expires_at = ?,
			notify_url = ?
			WHERE certify_id = ?`),
		openVerifications: r(selectV + `WHERE status IN (?, ?) AND updated_at < ?
			ORDER BY updated_at, certify_id LIMIT ?`),
		countOpenVerifications: r(`SELECT COUNT(*) FROM verifications WHERE status IN (?, ?)`),
		// The literal conditions are those of migration 0004's partial
		// index, so the planner can use it. Open sessions have no
		// completed_at, so only success, failed and expired ones match,
		// and cancelled ones whose person was erased.
		pendingDeletions: r(selectV + `WHERE result_deleted = FALSE AND provider_ref <> ''
			AND (status <> 'cancelled' OR fail_reason IN ('ERASED', 'CONSENT_WITHDRAWN')) AND completed_at < ?
			ORDER BY completed_at, certify_id LIMIT ?`),
		markResultDeleted: r(`UPDATE verifications SET result_deleted = TRUE WHERE certify_id = ?`),
		expireVerifications: r(`UPDATE verifications SET status = ?, updated_at = ?
			WHERE status = ? AND expires_at <= ?`),
		expireUsers: r(`UPDATE users SET status = ? WHERE status = ? AND expires_at <= ?`),

		person:        r(`SELECT ` + personCols + ` FROM persons WHERE id = ?`),
		personByIndex: r(`SELECT ` + personCols + ` FROM persons WHERE idx = ?`),
		insertPerson: r(`INSERT INTO persons (` + personCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`),
		// An erased person is never written again (an init or a key
		// rotation that read it before the erasure must not revive it).
		updatePerson: r(`UPDATE persons SET key_id = ?, wrapped_key = ?, name_ct = ?, number_ct = ?
			WHERE id = ? AND erased_at IS NULL`),
		persons:         r(`SELECT ` + personCols + ` FROM persons WHERE id > ? ORDER BY id LIMIT ?`),
		updatePersonKey: r(`UPDATE persons SET key_id = ?, wrapped_key = ? WHERE id = ? AND erased_at IS NULL`),

		userRecord:   r(`SELECT ` + userCols + ` FROM users WHERE user_id = ?`),
		userByPerson: r(`SELECT ` + userCols + ` FROM users WHERE person_id = ?`),
		putUserRecord: r(`INSERT INTO users (` + userCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET person_id = excluded.person_id,
			certify_id = excluded.certify_id, status = excluded.status, evidence = excluded.evidence,
			verified_at = excluded.verified_at, expires_at = excluded.expires_at`),
		deleteUserRecord: r(`DELETE FROM users WHERE user_id = ?`),

		idempotentAnswer: r(`SELECT ` + idempotentCols + ` FROM idempotency WHERE scope = ? AND key = ?`),
		putIdempotentAnswer: r(`INSERT INTO idempotency (` + idempotentCols + `) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`),

		createAPIKey: r(`INSERT INTO api_keys (` + apiKeyCols + `) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`),
		apiKeyByHash: r(`SELECT ` + apiKeyCols + ` FROM api_keys WHERE hash = ?`),
		apiKeys:      r(`SELECT ` + apiKeyCols + ` FROM api_keys ORDER BY created_at, id`),
		// The first revocation time stays.
		revokeAPIKey: r(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`),
		privacy:      privacyQueriesFor(d),
	}
}

// reader runs the read queries on the pool (Store) or inside a transaction
// (the Tx given to InTx's function).
type reader struct {
	q   querier
	d   dialect
	sql *queries
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }
