package sqlstore_test

import (
	"testing"

	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/storage/conformance"
	"github.com/realname/realname/internal/testenv"
)

func TestPostgresConformance(t *testing.T) {
	testenv.RequireOrSkip(t, conformance.PostgresEnv, "postgres")
	conformance.Run(t, func(t *testing.T) realname.Store {
		return openMigrated(t, conformance.PostgresURL(t))
	})
}

func TestPostgresMigrate(t *testing.T) {
	testMigrate(t, conformance.PostgresURL(t), "postgres")
}
