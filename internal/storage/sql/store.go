package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/realname/realname/internal/realname"
)

// Options tune a Store. The zero value is fine.
type Options struct {
	// MaxOpenConns caps the connection pool. Zero means 16 for PostgreSQL
	// and 8 for SQLite (an in-memory SQLite database always uses one).
	MaxOpenConns int
	// Logger receives migration and retry messages; nil discards them.
	Logger *slog.Logger
}

// Store is a realname.Store on SQLite or PostgreSQL. It is safe for
// concurrent use. Its read methods run outside any transaction; writes go
// through InTx or the maintenance methods.
type Store struct {
	reader
	db      *sql.DB
	dialect dialect
	log     *slog.Logger
	stmts   stmtCache // the trail's prepared statements (SQLite)
}

var _ realname.Store = (*Store)(nil)

// Default pool sizes.
const (
	defaultPostgresConns = 16
	defaultSQLiteConns   = 8
)

// Open connects to the database named by url and checks that it answers.
// url is a postgres:// or postgresql:// URL (PostgreSQL), or a SQLite
// database: a file path, sqlite:PATH, or a file: URI. A missing SQLite file
// is created with mode 0600 (its directory with 0700). Open does not touch
// the schema; call Migrate.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		d          dialect
		driverName string
		dsn        string
		conns      = opts.MaxOpenConns
	)
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		d, driverName, dsn = dialectPostgres, "pgx", url
		if conns <= 0 {
			conns = defaultPostgresConns
		}
	} else {
		target, err := parseSQLiteURL(url)
		if err != nil {
			return nil, err
		}
		if err := target.prepare(log); err != nil {
			return nil, err
		}
		d, driverName, dsn = dialectSQLite, "sqlite", target.dsn
		if conns <= 0 {
			conns = defaultSQLiteConns
		}
		if target.memory {
			conns = 1 // every connection would get its own database
		}
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", d, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if d == dialectPostgres {
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", d, err)
	}
	s := &Store{db: db, dialect: d, log: log.With("component", "sqlstore", "dialect", d.String())}
	s.reader = reader{q: db, d: d, sql: queriesFor(d)}
	return s, nil
}

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect.String() }

// DB is the underlying pool, for tools and tests. Writing through it
// bypasses the Store's guarantees.
func (s *Store) DB() *sql.DB { return s.db }

// Stats reports the connection pool's statistics (for metrics).
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// Close closes the pool. Calling it twice is harmless.
func (s *Store) Close() error {
	_ = s.stmts.close() // closing the pool closes them anyway
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}
