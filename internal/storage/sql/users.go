package sqlstore

import (
	"context"

	"github.com/realname/realname/internal/realname"
)

// scanUser reads one row of userCols.
func scanUser(row rowScanner) (realname.UserRecord, error) {
	var u realname.UserRecord
	err := row.Scan(&u.UserID, &u.PersonID, &u.CertifyID, &u.Status, &u.Evidence,
		scanTime(&u.VerifiedAt), scanTime(&u.ExpiresAt))
	return u, err
}

// UserRecord reads a user's record.
func (r reader) UserRecord(ctx context.Context, userID string) (realname.UserRecord, error) {
	u, err := scanUser(r.q.QueryRowContext(ctx, r.sql.userRecord, userID))
	if err != nil {
		return realname.UserRecord{}, wrapErr(err, "user record %q", userID)
	}
	return u, nil
}

// UserByPerson reads the record of the user bound to a person.
func (r reader) UserByPerson(ctx context.Context, personID string) (realname.UserRecord, error) {
	u, err := scanUser(r.q.QueryRowContext(ctx, r.sql.userByPerson, personID))
	if err != nil {
		return realname.UserRecord{}, wrapErr(err, "user record of person %s", personID)
	}
	return u, nil
}

// PutUserRecord inserts or replaces the user's record; ErrConflict if
// another user is bound to the same person. After ErrConflict the stored
// records are unchanged and the transaction stays usable.
func (t *txConn) PutUserRecord(ctx context.Context, u realname.UserRecord) error {
	err := t.guarded(ctx, func() error {
		_, err := t.q.ExecContext(ctx, t.sql.putUserRecord, u.UserID, u.PersonID, u.CertifyID,
			string(u.Status), string(u.Evidence), t.d.timeArg(u.VerifiedAt), t.d.nullTimeArg(u.ExpiresAt))
		return err
	})
	return wrapErr(err, "put user record %q", u.UserID)
}

// DeleteUserRecord deletes a user's record; ErrNotFound if there is none.
func (t *txConn) DeleteUserRecord(ctx context.Context, userID string) error {
	n, err := exec(ctx, t.q, t.sql.deleteUserRecord, userID)
	if err != nil {
		return wrapErr(err, "delete user record %q", userID)
	}
	if n == 0 {
		return notFound("delete user record %q", userID)
	}
	return nil
}
