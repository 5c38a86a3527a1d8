package conformance

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/realname/realname/internal/testenv"
)

// PostgresEnv names the PostgreSQL server tests may use.
const PostgresEnv = "REALNAME_TEST_POSTGRES_URL"

// PostgresURL returns a URL of a fresh schema on the test server (dropped
// when the test ends), or skips — fails under REALNAME_TEST_REQUIRE — when
// PostgresEnv is unset.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if t, ok := tb.(*testing.T); ok {
			testenv.RequireOrSkip(t, PostgresEnv, "postgres") // fails under REALNAME_TEST_REQUIRE
		}
		tb.Skipf("%s is not set; skipping postgres", PostgresEnv)
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
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
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
