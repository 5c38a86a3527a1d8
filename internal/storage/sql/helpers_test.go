package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/realname/realname/internal/storage/conformance"
	sqlstore "github.com/realname/realname/internal/storage/sql"
)

// sqliteURL is a new SQLite file in the test's temporary directory.
func sqliteURL(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "realname.db")
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
	if os.Getenv(conformance.PostgresEnv) != "" {
		m["postgres"] = func(b *testing.B) string { return conformance.PostgresURL(b) }
	}
	return m
}
