package sqlstore_test

import (
	"testing"

	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/storage/conformance"
)

// postgresBase is the test server's URL; without one the test is skipped
// (or fails, under REALNAME_TEST_REQUIRE=postgres or all).
func postgresBase(t *testing.T) string {
	t.Helper()
	return conformance.RequireOrSkip(t, postgresEnv, "postgres")
}

func TestPostgresConformance(t *testing.T) {
	base := postgresBase(t)
	conformance.Run(t, func(t *testing.T) realname.Store {
		return openMigrated(t, newSchema(t, base))
	})
}

func TestPostgresMigrate(t *testing.T) {
	testMigrate(t, newSchema(t, postgresBase(t)), "postgres")
}
