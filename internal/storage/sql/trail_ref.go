package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

// LatestByRef returns the index and leaf hash of the newest trail entry
// about ref of one of kinds (an error wrapping trail.ErrNotFound if there
// is none), through the index trail_entries_ref (migration 0006): a ref
// has a few entries, whose kinds are checked in their rows.
func (s *Store) LatestByRef(ctx context.Context, ref string, kinds []string) (trail.Receipt, error) {
	var r trail.Receipt
	var h []byte
	list, err := s.trail().list(kinds)
	if err != nil {
		return trail.Receipt{}, fmt.Errorf("sqlstore: trail entry by ref: %w", err)
	}
	err = s.db.QueryRowContext(ctx, s.dialect.rebind(
		`SELECT idx, hash FROM trail_entries WHERE ref = ? AND ref <> '' AND `+inList(s.dialect, "kind")+
			` ORDER BY idx DESC LIMIT 1`), ref, list).Scan(&r.Index, &h)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return trail.Receipt{}, fmt.Errorf("sqlstore: trail entry of %q: %w", ref, trail.ErrNotFound)
	case err != nil:
		return trail.Receipt{}, fmt.Errorf("sqlstore: trail entry by ref: %w", err)
	case len(h) != tlog.HashSize:
		return trail.Receipt{}, fmt.Errorf("sqlstore: trail entry %d has a hash of %d bytes", r.Index, len(h))
	}
	r.LeafHash = tlog.Hash(h)
	return r, nil
}
