package sqlstore

import (
	"context"
	"fmt"

	"github.com/realname/realname/internal/realname"
)

// scanPerson reads one row of personCols.
func scanPerson(row rowScanner) (realname.Person, error) {
	var p realname.Person
	err := row.Scan(&p.ID, &p.Index, &p.KeyID, &p.WrappedKey, &p.NameCT, &p.NumberCT, &p.CertType,
		scanTime(&p.CreatedAt), scanTime(&p.ErasedAt))
	return p, err
}

// Person reads a person by id.
func (r reader) Person(ctx context.Context, id string) (realname.Person, error) {
	p, err := scanPerson(r.q.QueryRowContext(ctx, r.sql.person, id))
	if err != nil {
		return realname.Person{}, wrapErr(err, "person %s", id)
	}
	return p, nil
}

// PersonByIndex reads the person with the given blind index.
func (r reader) PersonByIndex(ctx context.Context, index []byte) (realname.Person, error) {
	p, err := scanPerson(r.q.QueryRowContext(ctx, r.sql.personByIndex, index))
	if err != nil {
		return realname.Person{}, wrapErr(err, "person by index")
	}
	return p, nil
}

// InsertPerson stores a new person; ErrConflict if its ID or its Index is
// taken. The statement is INSERT … ON CONFLICT DO NOTHING, so a conflict
// leaves the transaction usable in both dialects, and concurrent inserts of
// one index wait for each other instead of failing the transaction.
func (t *txConn) InsertPerson(ctx context.Context, p realname.Person) error {
	n, err := exec(ctx, t.q, t.sql.insertPerson, p.ID, p.Index, p.KeyID, bytesArg(p.WrappedKey),
		bytesArg(p.NameCT), bytesArg(p.NumberCT), p.CertType, t.d.timeArg(p.CreatedAt), t.d.nullTimeArg(p.ErasedAt))
	if err != nil {
		return wrapErr(err, "insert person %s", p.ID)
	}
	if n == 0 {
		return conflict("insert person %s: id or index taken", p.ID)
	}
	return nil
}

// UpdatePerson replaces a person's key id, wrapped key and ciphertexts (by
// ID); the index, certificate type and creation time stay. ErrNotFound if
// there is no such person or it was erased.
func (t *txConn) UpdatePerson(ctx context.Context, p realname.Person) error {
	n, err := exec(ctx, t.q, t.sql.updatePerson, p.KeyID, bytesArg(p.WrappedKey), bytesArg(p.NameCT),
		bytesArg(p.NumberCT), p.ID)
	if err != nil {
		return wrapErr(err, "update person %s", p.ID)
	}
	if n == 0 {
		return notFound("update person %s", p.ID)
	}
	return nil
}

// Persons pages through persons ordered by ID: at most limit persons whose
// ID sorts (bytewise) after afterID; "" starts at the beginning. limit
// must be positive.
func (s *Store) Persons(ctx context.Context, afterID string, limit int) ([]realname.Person, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlstore: persons: limit %d is not positive", limit)
	}
	rows, err := s.db.QueryContext(ctx, s.sql.persons, afterID, limit)
	if err != nil {
		return nil, wrapErr(err, "persons after %q", afterID)
	}
	defer rows.Close()
	var ps []realname.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, wrapErr(err, "persons after %q", afterID)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "persons after %q", afterID)
	}
	return ps, nil
}

// UpdatePersonKey replaces a person's key id and wrapped key (key
// rotation); ErrNotFound if there is no such person or it was erased.
func (s *Store) UpdatePersonKey(ctx context.Context, id, keyID string, wrapped []byte) error {
	n, err := exec(ctx, s.db, s.sql.updatePersonKey, keyID, bytesArg(wrapped), id)
	if err != nil {
		return wrapErr(err, "update key of person %s", id)
	}
	if n == 0 {
		return notFound("update key of person %s", id)
	}
	return nil
}
