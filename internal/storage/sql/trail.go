package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

// The trail's tables (migrations 0005–0008) are trail_entries (with the
// stored hashes each entry wrote; a subject's head is its newest entry),
// trail_checkpoints and trail_outbox. Only Sequence writes them, except
// trail_outbox, where TrailEnqueue queues events from any transaction of
// the service.

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
// statement after it sees what the previous holder committed. The lock is
// database-wide: logs in different schemas of one database (tests) wait
// for each other too, which is slower but correct.
//
// Sequence runs fn once and never retries: the sequencer's only conflict
// is the lock, which it waits for, and a failed commit may have been
// durable (a connection lost during COMMIT), so running fn again could
// append its events twice. trail.Log forgets its view of the tree after
// any error and reloads it from the store in its next transaction.
func (s *Store) Sequence(ctx context.Context, fn func(trail.SequenceTx) error) error {
	if err := s.prepareTrail(ctx); err != nil {
		return fmt.Errorf("sqlstore: trail: prepare: %w", err)
	}
	var tx *sql.Tx
	var err error
	if s.dialect == dialectSQLite {
		// The store runs SQLite with synchronous=NORMAL: a commit reaches
		// the WAL but is fsynced only at the next checkpoint, so a power
		// cut may lose it. An append is acknowledged as durable, so the
		// sequencer's transaction commits with synchronous=FULL (which
		// also makes every earlier commit in the WAL durable).
		conn, cerr := s.db.Conn(ctx)
		if cerr != nil {
			return fmt.Errorf("sqlstore: trail: connection: %w", cerr)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous=FULL`); err != nil {
			return fmt.Errorf("sqlstore: trail: synchronous: %w", err)
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous=NORMAL`); err != nil {
				s.log.WarnContext(ctx, "trail: synchronous not restored", "err", err)
			}
		}()
		tx, err = conn.BeginTx(ctx, nil)
	} else {
		tx, err = s.db.BeginTx(ctx, nil)
	}
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
	t := &trailTx{trailDB: trailDB{s: s, q: tx, tx: tx}, count: -1}
	if err := fn(t); err != nil {
		return rollback(err)
	}
	done = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: trail: commit: %w", err)
	}
	return nil
}

// TrailEnqueue queues an event in the trail's outbox, atomically with the
// rest of the transaction; the trail's sequencer appends it later
// (trail.Log.Drain). An event that the log would refuse is refused here
// (trail.EncodeOutbox checks it), so the change it records rolls back
// rather than going unrecorded.
func (t *txConn) TrailEnqueue(ctx context.Context, ev trail.Event) error {
	event, err := trail.EncodeOutbox(ev)
	if err != nil {
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
	return s.trail().checkpoint(ctx, selectCheckpointAtLeast, size)
}

func (s *Store) trail() trailDB { return trailDB{s: s, q: s.db} }

// trailDB runs the trail's reads on the pool or inside a transaction.
// SQLite statements come from the Store's statement cache, so each is
// parsed once per connection; variable lists are passed as one JSON
// array (json_each) on SQLite and as an array (= ANY) on PostgreSQL, so
// the statements' text never changes.
type trailDB struct {
	s  *Store
	q  querier
	tx *sql.Tx // nil on the pool
}

// query runs a query written with ? placeholders.
func (db trailDB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if db.s.dialect == dialectPostgres {
		return db.q.QueryContext(ctx, db.s.dialect.rebind(query), args...)
	}
	st, err := db.s.stmt(ctx, db.tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// exec runs a statement written with ? placeholders.
func (db trailDB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.s.dialect == dialectPostgres {
		return db.q.ExecContext(ctx, db.s.dialect.rebind(query), args...)
	}
	st, err := db.s.stmt(ctx, db.tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// list passes a list of values as one argument: a JSON array for
// SQLite's json_each, the slice itself (an array) for PostgreSQL.
func (db trailDB) list(v any) (any, error) {
	if db.s.dialect == dialectPostgres {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// inList is the condition "col is in the list passed as one argument".
func inList(d dialect, col string) string {
	if d == dialectPostgres {
		return col + ` = ANY(?)`
	}
	return col + ` IN (SELECT value FROM json_each(?))`
}

// The trail's statements, with ? placeholders.
const (
	// Exactly this form: SQLite's min/max optimisation reads one row of
	// the primary key only for a bare MAX (COALESCE(MAX(idx) + 1, 0)
	// scans the table).
	selectSize              = `SELECT MAX(idx) FROM trail_entries`
	selectEntries           = `SELECT data FROM trail_entries WHERE idx >= ? AND idx < ? ORDER BY idx`
	selectSubjectEntries    = `SELECT idx FROM trail_entries WHERE subject = ? AND subject <> '' ORDER BY seq`
	selectLatestCheckpoint  = `SELECT size, note FROM trail_checkpoints ORDER BY size DESC LIMIT 1`
	selectCheckpointAtLeast = `SELECT size, note FROM trail_checkpoints WHERE size >= ? ORDER BY size LIMIT 1`
	insertCheckpoint        = `INSERT INTO trail_checkpoints (size, note, created_at) VALUES (?, ?, ?) ON CONFLICT (size) DO UPDATE SET note = excluded.note`
	selectOutbox            = `SELECT id, event FROM trail_outbox ORDER BY id LIMIT ?`
)

// selectHashes reads the stored hashes of entries: a stored hash lives in
// the row of the entry that completed its subtree (see hashes).
func selectHashes(d dialect) string {
	if d == dialectPostgres { // see selectHeads
		return `SELECT e.idx, e.hashes FROM unnest(?::bigint[]) AS u(idx) JOIN trail_entries e ON e.idx = u.idx`
	}
	return `SELECT idx, hashes FROM trail_entries WHERE ` + inList(d, "idx")
}

// selectHeads reads the newest entry of each subject through the
// (subject, seq) index. PostgreSQL: a lateral join with the unnested
// array, one index probe per subject (subject = ANY($1) with 64 subjects
// took a bitmap or sequential scan of the whole table, 6 ms a batch).
// SQLite: MAX(seq) per subject, whose bare columns come from the row with
// the maximum (SQLite documents this).
func selectHeads(d dialect) string {
	if d == dialectPostgres {
		return `SELECT u.subject, e.seq, e.hash FROM unnest(?::text[]) AS u(subject)
			CROSS JOIN LATERAL (SELECT seq, hash FROM trail_entries
				WHERE subject = u.subject AND subject <> '' ORDER BY seq DESC LIMIT 1) e`
	}
	return `SELECT subject, MAX(seq), hash FROM trail_entries
		WHERE subject <> '' AND ` + inList(d, "subject") + ` GROUP BY subject`
}

func deleteOutbox(d dialect) string { return `DELETE FROM trail_outbox WHERE ` + inList(d, "id") }

// sqliteTrailStatements lists every statement of the trail on SQLite,
// for prepareTrail.
func sqliteTrailStatements() []string {
	d := dialectSQLite
	qs := []string{selectSize, selectEntries, selectSubjectEntries, selectLatestCheckpoint, selectCheckpointAtLeast,
		insertCheckpoint, selectOutbox, selectHashes(d), selectHeads(d), deleteOutbox(d), selectLatestByRef(d)}
	for _, k := range sqliteRowsPerInsert {
		qs = append(qs, insertEntries.text(k))
	}
	return qs
}

// each runs a query written with ? placeholders and calls fn to scan
// each row.
func (db trailDB) each(ctx context.Context, query string, args []any, fn func(rows *sql.Rows) error) error {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (db trailDB) size(ctx context.Context) (int64, error) {
	var last sql.NullInt64
	err := db.each(ctx, selectSize, nil, func(rows *sql.Rows) error {
		return rows.Scan(&last)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: trail size: %w", err)
	}
	if !last.Valid {
		return 0, nil
	}
	return last.Int64 + 1, nil
}

func (db trailDB) hashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return []tlog.Hash{}, nil
	}
	// Stored hash x = (level, k) was written by the entry that completed
	// subtree k of that level, ((k+1) << level) - 1, as its level-th hash.
	records := make([]int64, 0, len(indexes))
	seen := make(map[int64]bool, len(indexes))
	for _, x := range indexes {
		if x < 0 {
			return nil, fmt.Errorf("sqlstore: trail stored hash %d: %w", x, trail.ErrNotFound)
		}
		level, k := tlog.SplitStoredHashIndex(x)
		if r := (k+1)<<uint(level) - 1; !seen[r] {
			seen[r] = true
			records = append(records, r)
		}
	}
	found := make(map[int64][]byte, len(records))
	list, err := db.list(records)
	if err == nil {
		err = db.each(ctx, selectHashes(db.s.dialect), []any{list},
			func(rows *sql.Rows) error {
				var r int64
				var hs []byte
				if err := rows.Scan(&r, &hs); err != nil {
					return err
				}
				if len(hs) == 0 || len(hs)%tlog.HashSize != 0 {
					return fmt.Errorf("entry %d has %d bytes of stored hashes", r, len(hs))
				}
				found[r] = hs
				return nil
			})
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail hashes: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		level, k := tlog.SplitStoredHashIndex(x)
		hs, ok := found[(k+1)<<uint(level)-1]
		if !ok || (level+1)*tlog.HashSize > len(hs) {
			return nil, fmt.Errorf("sqlstore: trail stored hash %d: %w", x, trail.ErrNotFound)
		}
		out[i] = tlog.Hash(hs[level*tlog.HashSize : (level+1)*tlog.HashSize])
	}
	return out, nil
}

func (db trailDB) entries(ctx context.Context, start, end int64) ([][]byte, error) {
	if start < 0 || start > end {
		return nil, fmt.Errorf("sqlstore: trail entries [%d, %d): %w", start, end, trail.ErrNotFound)
	}
	out := make([][]byte, 0, min(end-start, 4096))
	err := db.each(ctx, selectEntries, []any{start, end},
		func(rows *sql.Rows) error {
			var d []byte
			err := rows.Scan(&d)
			out = append(out, d)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail entries: %w", err)
	}
	if int64(len(out)) != end-start {
		return nil, fmt.Errorf("sqlstore: trail entries [%d, %d): %w", start, end, trail.ErrNotFound)
	}
	return out, nil
}

func (db trailDB) subjectEntries(ctx context.Context, subject string) ([]int64, error) {
	out := []int64{}
	err := db.each(ctx, selectSubjectEntries, []any{subject},
		func(rows *sql.Rows) error {
			var x int64
			err := rows.Scan(&x)
			out = append(out, x)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail subject entries: %w", err)
	}
	return out, nil
}

func (db trailDB) latestCheckpoint(ctx context.Context) (trail.StoredCheckpoint, error) {
	return db.checkpoint(ctx, selectLatestCheckpoint)
}

func (db trailDB) checkpoint(ctx context.Context, query string, args ...any) (trail.StoredCheckpoint, error) {
	var c trail.StoredCheckpoint
	found := false
	err := db.each(ctx, query, args, func(rows *sql.Rows) error {
		found = true
		return rows.Scan(&c.Size, &c.Note)
	})
	switch {
	case err != nil:
		return trail.StoredCheckpoint{}, fmt.Errorf("sqlstore: trail checkpoint: %w", err)
	case !found:
		return trail.StoredCheckpoint{}, fmt.Errorf("sqlstore: trail checkpoint: %w", trail.ErrNotFound)
	}
	return c, nil
}
