package sqlstore

import (
	"context"
	"time"

	"github.com/realname/realname/internal/realname"
)

// IdempotentAnswer reads the stored answer to (scope, key).
func (r reader) IdempotentAnswer(ctx context.Context, scope, key string) (realname.IdempotentAnswer, error) {
	var a realname.IdempotentAnswer
	err := r.q.QueryRowContext(ctx, r.sql.idempotentAnswer, scope, key).
		Scan(&a.Scope, &a.Key, &a.Fingerprint, &a.CertifyID, scanTime(&a.CreatedAt))
	if err != nil {
		return realname.IdempotentAnswer{}, wrapErr(err, "idempotent answer")
	}
	return a, nil
}

// PutIdempotentAnswer stores an answer; ErrConflict if (Scope, Key) already
// has one, which is kept. The transaction stays usable after a conflict.
func (t *txConn) PutIdempotentAnswer(ctx context.Context, a realname.IdempotentAnswer) error {
	n, err := exec(ctx, t.q, t.sql.putIdempotentAnswer, a.Scope, a.Key, bytesArg(a.Fingerprint),
		a.CertifyID, t.d.timeArg(a.CreatedAt))
	if err != nil {
		return wrapErr(err, "put idempotent answer")
	}
	if n == 0 {
		return conflict("put idempotent answer: key already answered")
	}
	return nil
}

// CreateAPIKey stores a new API key; ErrConflict if its ID or Hash is taken.
func (s *Store) CreateAPIKey(ctx context.Context, k realname.APIKey) error {
	n, err := exec(ctx, s.db, s.sql.createAPIKey, k.ID, k.Name, k.Hash,
		s.dialect.timeArg(k.CreatedAt), s.dialect.nullTimeArg(k.RevokedAt))
	if err != nil {
		return wrapErr(err, "create API key %s", k.ID)
	}
	if n == 0 {
		return conflict("create API key %s: id or hash taken", k.ID)
	}
	return nil
}

// APIKeyByHash reads the API key with the given hash, revoked or not.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (realname.APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, s.sql.apiKeyByHash, hash))
	if err != nil {
		return realname.APIKey{}, wrapErr(err, "API key by hash")
	}
	return k, nil
}

func scanAPIKey(row rowScanner) (realname.APIKey, error) {
	var k realname.APIKey
	err := row.Scan(&k.ID, &k.Name, &k.Hash, scanTime(&k.CreatedAt), scanTime(&k.RevokedAt))
	return k, err
}

// APIKeys lists every API key, revoked or not, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]realname.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, s.sql.apiKeys)
	if err != nil {
		return nil, wrapErr(err, "API keys")
	}
	defer rows.Close()
	var ks []realname.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, wrapErr(err, "API keys")
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "API keys")
	}
	return ks, nil
}

// RevokeAPIKey marks a key revoked as of at (a key revoked before keeps its
// first time); ErrNotFound if there is no key with that id.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	n, err := exec(ctx, s.db, s.sql.revokeAPIKey, s.dialect.timeArg(at), id)
	if err != nil {
		return wrapErr(err, "revoke API key %s", id)
	}
	if n == 0 {
		return notFound("revoke API key %s", id)
	}
	return nil
}
