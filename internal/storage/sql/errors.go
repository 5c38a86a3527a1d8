package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/realname/realname/internal/realname"
)

// PostgreSQL SQLSTATE codes this package reacts to.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// wrapErr adds context to a database error and maps it to the domain's
// sentinels: no rows → realname.ErrNotFound, a uniqueness violation →
// realname.ErrConflict. The driver's error stays in the chain. Messages
// name the operation and opaque ids only, never personal data.
func wrapErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	op := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlstore: %s: %w", op, realname.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, realname.ErrConflict, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// notFound is realname.ErrNotFound with context.
func notFound(format string, args ...any) error {
	return fmt.Errorf("sqlstore: %s: %w", fmt.Sprintf(format, args...), realname.ErrNotFound)
}

// conflict is realname.ErrConflict with context.
func conflict(format string, args ...any) error {
	return fmt.Errorf("sqlstore: %s: %w", fmt.Sprintf(format, args...), realname.ErrConflict)
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// violation in either dialect.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgUniqueViolation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// isRetryable reports whether a PostgreSQL transaction failed in a way that
// running it again may fix: a serialization failure or a deadlock.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgSerializationFailure || pgErr.Code == pgDeadlockDetected
	}
	return false
}
