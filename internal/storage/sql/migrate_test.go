package sqlstore_test

import (
	"context"
	"sync"
	"testing"
)

// testMigrate checks that migrations are idempotent and that two processes
// (two Store handles) may migrate one fresh database at the same time.
func testMigrate(t *testing.T, url, dialect string) {
	ctx := t.Context()
	a, b := open(t, url), open(t, url)
	if a.Dialect() != dialect {
		t.Fatalf("Dialect = %q, want %q", a.Dialect(), dialect)
	}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	start := make(chan struct{})
	for i, s := range []interface{ Migrate(context.Context) error }{a, b} {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate %d: %v", i, err)
		}
	}
	for range 2 {
		if err := a.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}

	var versions, rows int
	if err := a.DB().QueryRowContext(ctx, `SELECT COUNT(DISTINCT version), COUNT(*) FROM schema_migrations`).
		Scan(&versions, &rows); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if versions == 0 || rows != versions {
		t.Errorf("schema_migrations holds %d rows for %d versions", rows, versions)
	}
	if err := b.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if st := a.Stats(); st.OpenConnections == 0 {
		t.Errorf("Stats reports no open connections")
	}
}
