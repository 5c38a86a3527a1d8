package sqlstore_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/storage/conformance"
)

// testDuplicateKeyMigration: migration 0009 fails on a database where two
// authorities share a public key (made here by undoing it), and applies
// once one of them is deleted, as its comment tells the operator.
func testDuplicateKeyMigration(t *testing.T, url string) {
	ctx := t.Context()
	s := openMigrated(t, url)
	db := s.DB()
	for _, q := range []string{`DROP INDEX authorities_public_key`, `DELETE FROM schema_migrations WHERE version = 9`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	key := bytes.Repeat([]byte{9}, 32)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	a := realname.Authority{ID: "au000000000000000000000000000001", Name: "甲", PublicKey: key, CreatedBy: "alice", CreatedAt: at}
	b := a
	b.ID, b.Name = "au000000000000000000000000000002", "乙"
	for _, x := range []realname.Authority{a, b} {
		if err := s.CreateAuthority(ctx, x); err != nil {
			t.Fatalf("create %s without the index: %v", x.ID, err)
		}
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "0009_authority_key_unique.sql") {
		t.Fatalf("Migrate with a duplicate key: %v, want migration 0009 to fail", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM authorities WHERE id = '`+b.ID+`'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after deleting the duplicate: %v", err)
	}
	b.ID = "au000000000000000000000000000003"
	if err := s.CreateAuthority(ctx, b); !errors.Is(err, realname.ErrConflict) {
		t.Fatalf("create with a's key after 0009: %v, want ErrConflict", err)
	}
}

func TestSQLiteDuplicateKeyMigration(t *testing.T) {
	testDuplicateKeyMigration(t, sqliteURL(t))
}

func TestPostgresDuplicateKeyMigration(t *testing.T) {
	testDuplicateKeyMigration(t, conformance.PostgresURL(t))
}
