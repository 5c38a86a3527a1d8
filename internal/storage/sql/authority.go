package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/realname/realname/internal/realname"
)

// authorityQueries are the statements of the authority institutions
// (migration 0007).
type authorityQueries struct {
	createAuthority, authority, authorities, revokeAuthority string
	purgeNonces, useNonce                                    string
	insertDeposit, deposit, setDepositUser, anonDeposits     string
	insertClaim, claim, useClaim, voidClaims                 string
}

const (
	authorityCols = `id, name, public_key, created_by, created_at, revoked_at`
	depositCols   = `id, authority_id, person_id, method, verified_at, created_at, signature, body_hash,
		signed_message, user_id, certify_id`
	claimCols = `hash, deposit_id, created_at, expires_at, used_at, used_by`
)

func authorityQueriesFor(d dialect) authorityQueries {
	r := d.rebind
	return authorityQueries{
		createAuthority: r(`INSERT INTO authorities (` + authorityCols + `) VALUES (?, ?, ?, ?, ?, ?)`),
		authority:       r(`SELECT ` + authorityCols + ` FROM authorities WHERE id = ?`),
		authorities:     `SELECT ` + authorityCols + ` FROM authorities ORDER BY created_at, id`,
		revokeAuthority: r(`UPDATE authorities SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`),
		purgeNonces:     r(`DELETE FROM authority_nonces WHERE expires_at < ?`),
		useNonce: r(`INSERT INTO authority_nonces (authority_id, nonce, expires_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`),
		insertDeposit:  r(`INSERT INTO deposits (` + depositCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		deposit:        r(`SELECT ` + depositCols + ` FROM deposits WHERE id = ?`),
		setDepositUser: r(`UPDATE deposits SET user_id = ?, certify_id = ? WHERE id = ?`),
		anonDeposits:   r(`UPDATE deposits SET user_id = ? WHERE user_id = ?`),
		insertClaim:    r(`INSERT INTO claim_codes (` + claimCols + `) VALUES (?, ?, ?, ?, ?, ?)`),
		claim:          r(`SELECT ` + claimCols + ` FROM claim_codes WHERE hash = ?`),
		useClaim:       r(`UPDATE claim_codes SET used_at = ?, used_by = ? WHERE hash = ? AND used_at IS NULL`),
		voidClaims: r(`UPDATE claim_codes SET used_at = ? WHERE used_at IS NULL
			AND deposit_id IN (SELECT id FROM deposits WHERE authority_id = ?)`),
	}
}

var authoritySQL = map[dialect]authorityQueries{
	dialectSQLite:   authorityQueriesFor(dialectSQLite),
	dialectPostgres: authorityQueriesFor(dialectPostgres),
}

var (
	_ realname.AuthorityStore    = (*Store)(nil)
	_ realname.DepositTx         = (*txConn)(nil)
	_ realname.AuthorityRevokeTx = (*txConn)(nil)
)

// CreateAuthority stores a new authority; ErrConflict if its id or its
// public key is taken (the primary key, and the unique index of migration
// 0009 on public_key, revoked authorities included).
func (s *Store) CreateAuthority(ctx context.Context, a realname.Authority) error {
	_, err := exec(ctx, s.db, authoritySQL[s.dialect].createAuthority, a.ID, a.Name, a.PublicKey, a.CreatedBy,
		s.dialect.timeArg(a.CreatedAt), s.dialect.nullTimeArg(a.RevokedAt))
	if err != nil && isUniqueViolation(err) {
		return fmt.Errorf("sqlstore: create authority %s: its id or public key is registered already: %w: %w",
			a.ID, realname.ErrConflict, err)
	}
	return wrapErr(err, "create authority %s", a.ID)
}

func scanAuthority(row rowScanner) (realname.Authority, error) {
	var a realname.Authority
	err := row.Scan(&a.ID, &a.Name, &a.PublicKey, &a.CreatedBy, scanTime(&a.CreatedAt), scanTime(&a.RevokedAt))
	return a, err
}

// Authority reads one authority, revoked or not.
func (s *Store) Authority(ctx context.Context, id string) (realname.Authority, error) {
	a, err := scanAuthority(s.db.QueryRowContext(ctx, authoritySQL[s.dialect].authority, id))
	if err != nil {
		return realname.Authority{}, wrapErr(err, "authority %s", id)
	}
	return a, nil
}

// Authorities lists every authority, oldest first.
func (s *Store) Authorities(ctx context.Context) ([]realname.Authority, error) {
	rows, err := s.db.QueryContext(ctx, authoritySQL[s.dialect].authorities)
	if err != nil {
		return nil, wrapErr(err, "authorities")
	}
	defer rows.Close()
	var out []realname.Authority
	for rows.Next() {
		a, err := scanAuthority(rows)
		if err != nil {
			return nil, wrapErr(err, "authorities")
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "authorities")
	}
	return out, nil
}

// RevokeAuthority marks an authority revoked (the first time stays).
func (s *Store) RevokeAuthority(ctx context.Context, id string, at time.Time) error {
	return revokeAuthority(ctx, s.db, s.dialect, id, at)
}

// RevokeAuthority marks an authority revoked (the first time stays).
func (t *txConn) RevokeAuthority(ctx context.Context, id string, at time.Time) error {
	return revokeAuthority(ctx, t.q, t.d, id, at)
}

// Authority reads one authority, revoked or not.
func (t *txConn) Authority(ctx context.Context, id string) (realname.Authority, error) {
	a, err := scanAuthority(t.q.QueryRowContext(ctx, authoritySQL[t.d].authority, id))
	if err != nil {
		return realname.Authority{}, wrapErr(err, "authority %s", id)
	}
	return a, nil
}

// VoidClaimCodes marks the unused claim codes of the authority's deposits
// used at at (used_by stays empty: no user claimed them).
func (t *txConn) VoidClaimCodes(ctx context.Context, authorityID string, at time.Time) (int64, error) {
	n, err := exec(ctx, t.q, authoritySQL[t.d].voidClaims, t.d.timeArg(at), authorityID)
	if err != nil {
		return 0, wrapErr(err, "void claim codes of %s", authorityID)
	}
	return n, nil
}

func revokeAuthority(ctx context.Context, q querier, d dialect, id string, at time.Time) error {
	n, err := exec(ctx, q, authoritySQL[d].revokeAuthority, d.timeArg(at), id)
	if err != nil {
		return wrapErr(err, "revoke authority %s", id)
	}
	if n == 0 {
		return notFound("revoke authority %s", id)
	}
	return nil
}

// UseNonce purges expired nonces and records this one; ErrConflict if the
// authority used it already (the primary key decides, so replicas agree).
func (s *Store) UseNonce(ctx context.Context, authorityID, nonce string, now, expires time.Time) error {
	q := authoritySQL[s.dialect]
	if _, err := exec(ctx, s.db, q.purgeNonces, s.dialect.timeArg(now)); err != nil {
		return wrapErr(err, "purge nonces")
	}
	n, err := exec(ctx, s.db, q.useNonce, authorityID, nonce, s.dialect.timeArg(expires))
	if err != nil {
		return wrapErr(err, "use nonce")
	}
	if n == 0 {
		return conflict("nonce of %s used before", authorityID)
	}
	return nil
}

// InsertDeposit stores a deposit.
func (t *txConn) InsertDeposit(ctx context.Context, d realname.Deposit) error {
	_, err := exec(ctx, t.q, authoritySQL[t.d].insertDeposit, d.ID, d.AuthorityID, d.PersonID, d.Method,
		t.d.timeArg(d.VerifiedAt), t.d.timeArg(d.CreatedAt), d.Signature, d.BodyHash, d.SignedMessage, d.UserID, d.CertifyID)
	if err != nil {
		return wrapErr(err, "insert deposit %s", d.ID)
	}
	return nil
}

// Deposit reads a deposit.
func (t *txConn) Deposit(ctx context.Context, id string) (realname.Deposit, error) {
	var d realname.Deposit
	err := t.q.QueryRowContext(ctx, authoritySQL[t.d].deposit, id).Scan(&d.ID, &d.AuthorityID, &d.PersonID, &d.Method,
		scanTime(&d.VerifiedAt), scanTime(&d.CreatedAt), &d.Signature, &d.BodyHash, &d.SignedMessage, &d.UserID, &d.CertifyID)
	if err != nil {
		return realname.Deposit{}, wrapErr(err, "deposit %s", id)
	}
	return d, nil
}

// SetDepositUser records the user and session a deposit verified.
func (t *txConn) SetDepositUser(ctx context.Context, id, userID, certifyID string) error {
	n, err := exec(ctx, t.q, authoritySQL[t.d].setDepositUser, userID, certifyID, id)
	if err != nil {
		return wrapErr(err, "set deposit user %s", id)
	}
	if n == 0 {
		return notFound("deposit %s", id)
	}
	return nil
}

// InsertClaimCode stores a claim code's hash.
func (t *txConn) InsertClaimCode(ctx context.Context, c realname.ClaimCode) error {
	_, err := exec(ctx, t.q, authoritySQL[t.d].insertClaim, c.Hash, c.DepositID, t.d.timeArg(c.CreatedAt),
		t.d.timeArg(c.ExpiresAt), t.d.nullTimeArg(c.UsedAt), c.UsedBy)
	if err != nil {
		return wrapErr(err, "insert claim code")
	}
	return nil
}

// ClaimCode reads a claim code by its hash.
func (t *txConn) ClaimCode(ctx context.Context, hash []byte) (realname.ClaimCode, error) {
	var c realname.ClaimCode
	err := t.q.QueryRowContext(ctx, authoritySQL[t.d].claim, hash).Scan(&c.Hash, &c.DepositID,
		scanTime(&c.CreatedAt), scanTime(&c.ExpiresAt), scanTime(&c.UsedAt), &c.UsedBy)
	if err != nil {
		return realname.ClaimCode{}, wrapErr(err, "claim code")
	}
	return c, nil
}

// UseClaimCode marks a code used; ErrConflict if it was used already,
// ErrNotFound if there is no such code.
func (t *txConn) UseClaimCode(ctx context.Context, hash []byte, userID string, at time.Time) error {
	n, err := exec(ctx, t.q, authoritySQL[t.d].useClaim, t.d.timeArg(at), userID, hash)
	if err != nil {
		return wrapErr(err, "use claim code")
	}
	if n == 0 {
		if _, err := t.ClaimCode(ctx, hash); err != nil {
			return err
		}
		return conflict("claim code used before")
	}
	return nil
}
