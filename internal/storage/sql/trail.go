package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

// The trail's tables (migration 0005) are trail_entries, trail_hashes,
// trail_heads, trail_checkpoints and trail_outbox. Only Sequence writes
// them, except trail_outbox, where TrailEnqueue queues events from any
// transaction of the service.

// trailLockKey is the pg_advisory_xact_lock key of the trail's sequencer
// ("rn-trail" in ASCII). It differs from migrationLockKey.
const trailLockKey int64 = 0x726e2d747261696c

var _ trail.Store = (*Store)(nil)

// Sequence runs fn in one transaction that holds the trail's sequencer
// lock, and commits if fn returns nil; otherwise (or if fn panics) it
// rolls back and returns fn's error unchanged. fn must read and write only
// through the SequenceTx it is given.
//
// SQLite: the transaction begins with BEGIN IMMEDIATE (as every
// transaction of the Store), which holds the database's write lock, so
// sequencers of all processes sharing the file run one at a time.
// PostgreSQL: the transaction (READ COMMITTED) first takes
// pg_advisory_xact_lock on a fixed key, released when it ends; every
// statement after it sees what the previous holder committed.
//
// Sequence runs fn once and never retries: the sequencer's only conflict
// is the lock, which it waits for, and a failed commit may have been
// durable (a connection lost during COMMIT), so running fn again could
// append its events twice. trail.Log forgets its view of the tree after
// any error and reloads it from the store in its next transaction.
func (s *Store) Sequence(ctx context.Context, fn func(trail.SequenceTx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: trail: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback() // fn panicked
		}
	}()
	rollback := func(err error) error {
		done = true
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			s.log.WarnContext(ctx, "trail: rollback failed", "err", rerr)
		}
		return err
	}
	if s.dialect == dialectPostgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, trailLockKey); err != nil {
			return rollback(fmt.Errorf("sqlstore: trail: sequencer lock: %w", err))
		}
	}
	t := &trailTx{trailDB: trailDB{q: tx, d: s.dialect}, count: -1}
	if err := fn(t); err != nil {
		return rollback(err)
	}
	done = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: trail: commit: %w", err)
	}
	return nil
}

// TrailEnqueue queues an event (the output of trail.EncodeOutbox) in the
// trail's outbox, atomically with the rest of the transaction; the
// trail's sequencer appends it later (trail.Log.DrainOutbox). An event
// that trail.DecodeOutbox refuses is refused here too.
func (t *txConn) TrailEnqueue(ctx context.Context, event []byte) error {
	if _, err := trail.DecodeOutbox(event); err != nil {
		return fmt.Errorf("sqlstore: trail enqueue: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, t.d.rebind(`INSERT INTO trail_outbox (event, created_at) VALUES (?, ?)`),
		event, t.d.timeArg(time.Now())); err != nil {
		return wrapErr(err, "trail enqueue")
	}
	return nil
}

// TrailSize is the number of entries in the trail.
func (s *Store) TrailSize(ctx context.Context) (int64, error) { return s.trail().size(ctx) }

// TrailHashes returns the trail's stored hashes with the given indexes, in
// that order, in one query; a missing one is an error wrapping
// trail.ErrNotFound.
func (s *Store) TrailHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return s.trail().hashes(ctx, indexes)
}

// TrailEntries returns the bytes of entries [start, end); a range outside
// the trail is an error wrapping trail.ErrNotFound.
func (s *Store) TrailEntries(ctx context.Context, start, end int64) ([][]byte, error) {
	return s.trail().entries(ctx, start, end)
}

// SubjectEntries returns the indexes of a subject's entries in sequence
// order (none: an empty slice).
func (s *Store) SubjectEntries(ctx context.Context, subject string) ([]int64, error) {
	return s.trail().subjectEntries(ctx, subject)
}

// LatestCheckpoint returns the newest signed checkpoint (an error wrapping
// trail.ErrNotFound before the first).
func (s *Store) LatestCheckpoint(ctx context.Context) (trail.StoredCheckpoint, error) {
	return s.trail().latestCheckpoint(ctx)
}

// CheckpointAtLeast returns the oldest signed checkpoint of a size ≥ size
// (an error wrapping trail.ErrNotFound if there is none yet).
func (s *Store) CheckpointAtLeast(ctx context.Context, size int64) (trail.StoredCheckpoint, error) {
	return s.trail().checkpoint(ctx, `SELECT size, note FROM trail_checkpoints WHERE size >= ? ORDER BY size LIMIT 1`, size)
}

func (s *Store) trail() trailDB { return trailDB{q: s.db, d: s.dialect} }

// trailDB runs the trail's reads on the pool or inside a transaction.
type trailDB struct {
	q querier
	d dialect
}

// sqliteMaxVars stays under SQLite's limit of 32766 bound variables per
// statement; PostgreSQL statements pass arrays and need no chunking.
const sqliteMaxVars = 32000

// placeholders is "(?, ?), (?, ?), …": rows groups of cols placeholders.
func placeholders(rows, cols int) string {
	group := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(group) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(group)
	}
	return b.String()
}

// chunks calls fn with successive [lo, hi) ranges of n items, each small
// enough for a SQLite statement with cols variables per item.
func chunks(n, cols int, fn func(lo, hi int) error) error {
	step := sqliteMaxVars / cols
	for lo := 0; lo < n; lo += step {
		if err := fn(lo, min(lo+step, n)); err != nil {
			return err
		}
	}
	return nil
}

func (db trailDB) size(ctx context.Context) (int64, error) {
	var n int64
	if err := db.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM trail_entries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: trail size: %w", err)
	}
	return n, nil
}

func (db trailDB) hashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	found := make(map[int64]tlog.Hash, len(indexes))
	scan := func(rows *sql.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var x int64
			var h []byte
			if err := rows.Scan(&x, &h); err != nil {
				return err
			}
			if len(h) != tlog.HashSize {
				return fmt.Errorf("stored hash %d has %d bytes", x, len(h))
			}
			found[x] = tlog.Hash(h)
		}
		return rows.Err()
	}
	var err error
	if db.d == dialectPostgres {
		err = scan(db.q.QueryContext(ctx, `SELECT idx, hash FROM trail_hashes WHERE idx = ANY($1)`, indexes))
	} else {
		err = chunks(len(indexes), 1, func(lo, hi int) error {
			args := make([]any, hi-lo)
			for i, x := range indexes[lo:hi] {
				args[i] = x
			}
			q := `SELECT idx, hash FROM trail_hashes WHERE idx IN (` + strings.TrimSuffix(strings.Repeat("?,", hi-lo), ",") + `)`
			return scan(db.q.QueryContext(ctx, q, args...))
		})
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail hashes: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("sqlstore: trail stored hash %d: %w", x, trail.ErrNotFound)
		}
		out[i] = h
	}
	return out, nil
}

func (db trailDB) entries(ctx context.Context, start, end int64) ([][]byte, error) {
	if start < 0 || start > end {
		return nil, fmt.Errorf("sqlstore: trail entries [%d, %d): %w", start, end, trail.ErrNotFound)
	}
	rows, err := db.q.QueryContext(ctx, db.d.rebind(`SELECT data FROM trail_entries WHERE idx >= ? AND idx < ? ORDER BY idx`), start, end)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail entries: %w", err)
	}
	defer rows.Close()
	out := make([][]byte, 0, min(end-start, 4096))
	for rows.Next() {
		var d []byte
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("sqlstore: trail entries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: trail entries: %w", err)
	}
	if int64(len(out)) != end-start {
		return nil, fmt.Errorf("sqlstore: trail entries [%d, %d): %w", start, end, trail.ErrNotFound)
	}
	return out, nil
}

func (db trailDB) subjectEntries(ctx context.Context, subject string) ([]int64, error) {
	rows, err := db.q.QueryContext(ctx, db.d.rebind(`SELECT idx FROM trail_entries WHERE subject = ? AND subject <> '' ORDER BY seq`), subject)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail subject entries: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var x int64
		if err := rows.Scan(&x); err != nil {
			return nil, fmt.Errorf("sqlstore: trail subject entries: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: trail subject entries: %w", err)
	}
	return out, nil
}

func (db trailDB) latestCheckpoint(ctx context.Context) (trail.StoredCheckpoint, error) {
	return db.checkpoint(ctx, `SELECT size, note FROM trail_checkpoints ORDER BY size DESC LIMIT 1`)
}

func (db trailDB) checkpoint(ctx context.Context, query string, args ...any) (trail.StoredCheckpoint, error) {
	var c trail.StoredCheckpoint
	err := db.q.QueryRowContext(ctx, db.d.rebind(query), args...).Scan(&c.Size, &c.Note)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return trail.StoredCheckpoint{}, fmt.Errorf("sqlstore: trail checkpoint: %w", trail.ErrNotFound)
	case err != nil:
		return trail.StoredCheckpoint{}, fmt.Errorf("sqlstore: trail checkpoint: %w", err)
	}
	return c, nil
}
