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
	s := planStore(t)
	if p := queryPlan(t, s, s.sql.pendingDeletions, s.dialect.timeArg(time.Now()), 10); !strings.Contains(p, "verifications_undeleted") {
		t.Errorf("query plan = %q, want it to use the index verifications_undeleted", p)
	}
}

// The sequencer reads the heads of a batch's subjects in every batch,
// from a table that only grows: through the (subject, seq) index, never a
// scan.
func TestSubjectHeadsUseIndex(t *testing.T) {
	s := planStore(t)
	p := queryPlan(t, s, selectHeads(s.dialect), `["h_00","h_01"]`)
	if !strings.Contains(p, "trail_entries_subject") || strings.Contains(p, "SCAN trail_entries") {
		t.Errorf("query plan = %q, want it to search trail_entries through the index trail_entries_subject", p)
	}
}

// planStore is a migrated SQLite store in a temporary directory.
func planStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of query, its details joined
// by "; ".
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
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
	return strings.Join(plan, "; ")
}
