package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

// selectLatestByRef reads the newest entry about a ref among the kinds
// passed as one list argument.
func selectLatestByRef(d dialect) string {
	return `SELECT idx, hash FROM trail_entries WHERE ref = ? AND ref <> '' AND ` + inList(d, "kind") +
		` ORDER BY idx DESC LIMIT 1`
}

// LatestByRef returns the index and leaf hash of the newest trail entry
// about ref of one of kinds (an error wrapping trail.ErrNotFound if there
// is none), through the index trail_entries_ref (migration 0006): a ref
// has a few entries, whose kinds are checked in their rows. On SQLite the
// statement comes from the trail's statement cache, as /query asks this
// for every ended session until its receipt is in memory.
func (s *Store) LatestByRef(ctx context.Context, ref string, kinds []string) (trail.Receipt, error) {
	var r trail.Receipt
	var h []byte
	found := false
	db := s.trail()
	list, err := db.list(kinds)
	if err == nil {
		err = db.each(ctx, selectLatestByRef(s.dialect), []any{ref, list}, func(rows *sql.Rows) error {
			found = true
			return rows.Scan(&r.Index, &h)
		})
	}
	switch {
	case err == nil && !found:
		return trail.Receipt{}, fmt.Errorf("sqlstore: trail entry of %q: %w", ref, trail.ErrNotFound)
	case err != nil:
		return trail.Receipt{}, fmt.Errorf("sqlstore: trail entry by ref: %w", err)
	case len(h) != tlog.HashSize:
		return trail.Receipt{}, fmt.Errorf("sqlstore: trail entry %d has a hash of %d bytes", r.Index, len(h))
	}
	r.LeafHash = tlog.Hash(h)
	return r, nil
}
