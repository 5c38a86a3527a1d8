package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	sqlstore "github.com/realname/realname/internal/storage/sql"
)

// postgresEnv names the PostgreSQL server the tests use.
const postgresEnv = "REALNAME_TEST_POSTGRES_URL"

// sqliteURL is a new SQLite file in the test's temporary directory.
func sqliteURL(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "realname.db")
}

// newSchema creates a schema rn_test_<random> on the server at baseURL and
// returns a URL whose connections use it (search_path).
func newSchema(tb testing.TB, baseURL string) string {
	tb.Helper()
	ctx := context.Background()
	admin, err := sql.Open("pgx", baseURL)
	if err != nil {
		tb.Fatalf("open admin connection: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "rn_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		_ = admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(baseURL)
	if err != nil {
		tb.Fatalf("parse %s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// open opens a store and closes it when the test ends; it does not migrate.
func open(tb testing.TB, url string) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), url, sqlstore.Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// openMigrated opens a store and migrates it.
func openMigrated(tb testing.TB, url string) *sqlstore.Store {
	tb.Helper()
	s := open(tb, url)
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// backends lists the databases a benchmark runs on: SQLite always,
// PostgreSQL when REALNAME_TEST_POSTGRES_URL is set.
func backends(b *testing.B) map[string]func(b *testing.B) string {
	m := map[string]func(b *testing.B) string{
		"sqlite": func(b *testing.B) string { return sqliteURL(b) },
	}
	if pg := os.Getenv(postgresEnv); pg != "" {
		m["postgres"] = func(b *testing.B) string { return newSchema(b, pg) }
	}
	return m
}
