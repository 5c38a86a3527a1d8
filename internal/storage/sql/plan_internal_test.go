package sqlstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The poller's query for pending provider deletions runs every few seconds
// over a table that only grows; it must use the partial index rather than
// scan the table.
func TestPendingDeletionsUseIndex(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+s.sql.pendingDeletions, s.dialect.timeArg(time.Now()), 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "verifications_undeleted") {
		t.Errorf("query plan = %q, want it to use the index verifications_undeleted", p)
	}
}
