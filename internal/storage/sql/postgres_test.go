package sqlstore_test

import (
	"testing"

	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/storage/conformance"
)

func TestPostgresConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) realname.Store {
		return openMigrated(t, postgresURL(t))
	})
}

func TestPostgresMigrate(t *testing.T) {
	testMigrate(t, postgresURL(t), "postgres")
}
