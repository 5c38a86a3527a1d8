package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/realname/realname/internal/realname"
)

// maxTxAttempts is how many times InTx runs its function on PostgreSQL
// when the transaction fails with a serialization failure or a deadlock.
const maxTxAttempts = 3

// txConn is the realname.Tx handed to InTx's function.
type txConn struct {
	reader
	tx *sql.Tx
}

var _ realname.Tx = (*txConn)(nil)

// InTx runs fn in one transaction and commits if fn returns nil; otherwise
// (or if fn panics) it rolls back and returns fn's error unchanged.
//
// SQLite begins with BEGIN IMMEDIATE: the transaction holds the database's
// write lock from the start, so transactions run one at a time and
// LockVerification is a plain read. PostgreSQL runs at READ COMMITTED;
// LockVerification is SELECT … FOR UPDATE. On PostgreSQL a serialization
// failure or deadlock (SQLSTATE 40001, 40P01) reruns fn in a new
// transaction, up to three runs in all; fn must therefore have no effects
// outside the transaction.
func (s *Store) InTx(ctx context.Context, fn func(realname.Tx) error) error {
	return s.inTx(ctx, func(t *txConn) error { return fn(t) })
}

func (s *Store) inTx(ctx context.Context, fn func(*txConn) error) error {
	for attempt := 1; ; attempt++ {
		err := s.runTx(ctx, fn)
		if err == nil || s.dialect != dialectPostgres || attempt >= maxTxAttempts ||
			!isRetryable(err) || ctx.Err() != nil {
			return err
		}
		s.log.WarnContext(ctx, "retrying transaction", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

// runTx runs fn once in a transaction.
func (s *Store) runTx(ctx context.Context, fn func(*txConn) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrapErr(err, "begin")
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback() // fn panicked
		}
	}()
	t := &txConn{reader: reader{q: tx, d: s.dialect, sql: s.sql}, tx: tx}
	if err := fn(t); err != nil {
		done = true
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			s.log.WarnContext(ctx, "rollback failed", "err", rerr)
		}
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return wrapErr(err, "commit")
	}
	return nil
}

// savepoint is the name of the savepoint guarded takes.
const savepoint = "sqlstore_guard"

// guarded runs one statement that may fail with a uniqueness violation.
// PostgreSQL aborts the whole transaction on any error, so there the
// statement runs under a savepoint that is rolled back if it fails; the
// transaction stays usable, as it does on SQLite (where a failed statement
// only undoes itself).
func (t *txConn) guarded(ctx context.Context, stmt func() error) error {
	if t.d != dialectPostgres {
		return stmt()
	}
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT "+savepoint); err != nil {
		return err
	}
	if err := stmt(); err != nil {
		if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+savepoint); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))
		}
		return err
	}
	_, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+savepoint)
	return err
}

// exec runs a write and reports how many rows it touched. Errors are
// returned as the driver gave them; callers wrap them.
func exec(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
