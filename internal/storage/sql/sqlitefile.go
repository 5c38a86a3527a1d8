package sqlstore

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// sqlitePragmas are added to every SQLite DSN: WAL so readers never block
// the writer, a 10 s busy timeout, foreign keys on, NORMAL sync (safe with
// WAL), and BEGIN IMMEDIATE for every transaction so a writer takes the
// write lock up front and never deadlocks upgrading a read lock.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// sqliteTarget is a parsed SQLite location.
type sqliteTarget struct {
	dsn    string // what the driver gets
	path   string // the file on disk; empty for an in-memory database
	memory bool
}

// parseSQLiteURL accepts a plain path ("data/rn.db"), "sqlite:PATH"
// ("sqlite:///abs/rn.db" works too) and SQLite file: URIs
// ("file:rn.db?cache=private"). Query parameters given by the caller are
// kept; the package's pragmas are appended.
func parseSQLiteURL(raw string) (sqliteTarget, error) {
	s := raw
	switch {
	case strings.HasPrefix(s, "sqlite://"):
		s = strings.TrimPrefix(s, "sqlite://")
	case strings.HasPrefix(s, "sqlite:"):
		s = strings.TrimPrefix(s, "sqlite:")
	}
	if s == "" {
		return sqliteTarget{}, errors.New("sqlstore: empty SQLite path")
	}
	base, query, _ := strings.Cut(s, "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		return sqliteTarget{}, fmt.Errorf("sqlstore: SQLite URL query: %w", err)
	}
	if query != "" {
		query += "&"
	}
	query += sqlitePragmas

	var t sqliteTarget
	if rest, ok := strings.CutPrefix(base, "file:"); ok {
		// A URI: file:PATH or file://[localhost]/PATH, percent-encoded.
		if after, ok := strings.CutPrefix(rest, "//"); ok {
			host, p, found := strings.Cut(after, "/")
			if host != "" && host != "localhost" {
				return sqliteTarget{}, fmt.Errorf("sqlstore: SQLite URI with host %q", host)
			}
			if !found {
				return sqliteTarget{}, errors.New("sqlstore: SQLite URI without a path")
			}
			rest = "/" + p
		}
		p, err := url.PathUnescape(rest)
		if err != nil {
			return sqliteTarget{}, fmt.Errorf("sqlstore: SQLite URI path: %w", err)
		}
		t.path = p
		t.dsn = base + "?" + query
	} else {
		t.path = base
		t.dsn = base + "?" + query
	}
	if t.path == "" || t.path == ":memory:" || params.Get("mode") == "memory" {
		t.path, t.memory = "", true
	}
	return t, nil
}

// prepare creates the database file (0600) and its directory (0700) if they
// are missing, so the file never exists with a wider mode. An existing file
// readable by others is reported, not changed.
func (t sqliteTarget) prepare(log *slog.Logger) error {
	if t.memory {
		return nil
	}
	if dir := filepath.Dir(t.path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("sqlstore: create SQLite directory: %w", err)
		}
	}
	f, err := os.OpenFile(t.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("sqlstore: create SQLite file: %w", err)
		}
	case errors.Is(err, fs.ErrExist):
		if fi, err := os.Stat(t.path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("SQLite database file is accessible to other users",
				"path", t.path, "mode", fi.Mode().Perm().String())
		}
	default:
		return fmt.Errorf("sqlstore: create SQLite file: %w", err)
	}
	return nil
}
