package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

// trailTx is the trail.SequenceTx that Sequence hands to its function.
// Its reads see its own writes (they run in the transaction).
//
// AppendBatch writes each table with as few statements as it can, none
// of which the database parses more than once per connection: on
// PostgreSQL one INSERT … SELECT FROM unnest(arrays) per table, whatever
// the batch's size (pgx prepares each once per connection); on SQLite
// multi-row INSERTs of a few fixed sizes (sqliteRowsPerInsert) from the
// Store's statement cache.
type trailTx struct {
	trailDB
	count int64 // entries, once read or written in this transaction; -1: unknown
}

var _ trail.SequenceTx = (*trailTx)(nil)

func (t *trailTx) TrailSize(ctx context.Context) (int64, error) {
	n, err := t.size(ctx)
	if err == nil {
		t.count = n
	}
	return n, err
}

func (t *trailTx) TrailHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return t.hashes(ctx, indexes)
}

func (t *trailTx) LatestCheckpoint(ctx context.Context) (trail.StoredCheckpoint, error) {
	return t.latestCheckpoint(ctx)
}

func (t *trailTx) SubjectHeads(ctx context.Context, subjects []string) (map[string]trail.Head, error) {
	out := make(map[string]trail.Head, len(subjects))
	if len(subjects) == 0 {
		return out, nil
	}
	list, err := t.list(subjects)
	if err == nil {
		err = t.each(ctx, selectHeads(t.s.dialect), []any{list},
			func(rows *sql.Rows) error {
				var s string
				var h trail.Head
				var hash []byte
				if err := rows.Scan(&s, &h.Seq, &hash); err != nil {
					return err
				}
				if len(hash) != tlog.HashSize {
					return fmt.Errorf("head of a subject has a hash of %d bytes", len(hash))
				}
				h.Hash = tlog.Hash(hash)
				out[s] = h
				return nil
			})
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail subject heads: %w", err)
	}
	return out, nil
}

func (t *trailTx) Outbox(ctx context.Context, limit int) ([]trail.OutboxItem, error) {
	var out []trail.OutboxItem
	err := t.each(ctx, selectOutbox, []any{limit},
		func(rows *sql.Rows) error {
			var it trail.OutboxItem
			err := rows.Scan(&it.ID, &it.Event)
			out = append(out, it)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail outbox: %w", err)
	}
	return out, nil
}

func (t *trailTx) SaveCheckpoint(ctx context.Context, c trail.StoredCheckpoint) error {
	if _, err := t.exec(ctx, insertCheckpoint,
		c.Size, c.Note, t.s.dialect.timeArg(time.Now())); err != nil {
		return wrapErr(err, "trail save checkpoint %d", c.Size)
	}
	return nil
}

// AppendBatch checks that b continues the tree (its entries start at the
// trail's size, its stored hashes where the tree's end), then writes it.
func (t *trailTx) AppendBatch(ctx context.Context, b *trail.Batch) error {
	if t.count < 0 {
		if _, err := t.TrailSize(ctx); err != nil {
			return err
		}
	}
	if err := checkBatch(b, t.count); err != nil {
		return err
	}
	var err error
	if t.s.dialect == dialectPostgres {
		err = t.appendPostgres(ctx, b)
	} else {
		err = t.appendSQLite(ctx, b)
	}
	if err == nil && len(b.Outbox) > 0 {
		err = t.deleteOutbox(ctx, b.Outbox)
	}
	if err != nil {
		t.count = -1
		return err
	}
	t.count += int64(len(b.Entries))
	return nil
}

// checkBatch reports whether b is a well-formed continuation of a tree of
// size entries.
func checkBatch(b *trail.Batch, size int64) error {
	end := b.Start + int64(len(b.Entries))
	switch {
	case b.Start != size:
		return fmt.Errorf("sqlstore: trail batch starts at %d, the trail has %d entries", b.Start, size)
	case b.HashStart != tlog.StoredHashIndex(0, b.Start):
		return fmt.Errorf("sqlstore: trail batch hashes start at %d, not %d", b.HashStart, tlog.StoredHashIndex(0, b.Start))
	case int64(len(b.Hashes)) != tlog.StoredHashIndex(0, end)-b.HashStart:
		return fmt.Errorf("sqlstore: trail batch of %d entries with %d stored hashes", len(b.Entries), len(b.Hashes))
	}
	for i, e := range b.Entries {
		if e.Index != b.Start+int64(i) {
			return fmt.Errorf("sqlstore: trail batch entry %d has index %d", b.Start+int64(i), e.Index)
		}
	}
	return nil
}

// entryHashes splits a batch's stored hashes by the entry that wrote
// them: entry n wrote those from tlog.StoredHashIndex(0, n) up to
// StoredHashIndex(0, n+1), concatenated here.
func entryHashes(b *trail.Batch) [][]byte {
	out := make([][]byte, len(b.Entries))
	at := int64(0)
	for i, e := range b.Entries {
		k := tlog.StoredHashIndex(0, e.Index+1) - tlog.StoredHashIndex(0, e.Index)
		buf := make([]byte, 0, k*tlog.HashSize)
		for _, h := range b.Hashes[at : at+k] {
			buf = append(buf, h[:]...)
		}
		out[i], at = buf, at+k
	}
	return out
}

func (t *trailTx) appendPostgres(ctx context.Context, b *trail.Batch) error {
	n := len(b.Entries)
	idx, seq := make([]int64, n), make([]int64, n)
	data, hash := make([][]byte, n), make([][]byte, n)
	kind, subject, ref := make([]string, n), make([]string, n), make([]string, n)
	for i, e := range b.Entries {
		idx[i], data[i], hash[i], kind[i], subject[i], seq[i], ref[i] = e.Index, e.Data, e.Hash[:], e.Kind, e.Subject, e.Seq, e.Ref
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO trail_entries (idx, data, hash, hashes, kind, subject, seq, ref)
		SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[], $5::text[], $6::text[], $7::bigint[], $8::text[])`,
		idx, data, hash, entryHashes(b), kind, subject, seq, ref); err != nil {
		return wrapErr(err, "trail append entries")
	}
	return nil
}

func (t *trailTx) appendSQLite(ctx context.Context, b *trail.Batch) error {
	hs := entryHashes(b)
	err := t.insertRows(ctx, insertEntries, len(b.Entries), func(i int, args []any) []any {
		e := &b.Entries[i]
		return append(args, e.Index, e.Data, e.Hash[:], hs[i], e.Kind, e.Subject, e.Seq, e.Ref)
	})
	if err != nil {
		return wrapErr(err, "trail append entries")
	}
	return nil
}

// sqliteRowsPerInsert are the sizes of the multi-row INSERTs that
// insertRows uses, largest first: few statements per batch, each prepared
// once per connection (parsing a new 2048-row INSERT for every batch took
// a third of the sequencer's CPU time). 256 rows of 8 columns stay far
// below SQLite's limit of 32766 variables.
var sqliteRowsPerInsert = []int{256, 32, 4, 1}

// multiInsert is a SQLite INSERT of several rows: prefix, the VALUES
// list, suffix.
type multiInsert struct {
	prefix, suffix string
	cols           int
}

// The SQLite INSERTs of AppendBatch.
var (
	insertEntries = multiInsert{prefix: `INSERT INTO trail_entries (idx, data, hash, hashes, kind, subject, seq, ref) VALUES `, cols: 8}
)

// text is the statement for rows rows.
func (m multiInsert) text(rows int) string {
	group := "(" + strings.Repeat("?, ", m.cols-1) + "?)"
	return m.prefix + strings.TrimSuffix(strings.Repeat(group+", ", rows), ", ") + m.suffix
}

// insertRows inserts n rows with m's statements; row appends the values
// of row i to args.
func (t *trailTx) insertRows(ctx context.Context, m multiInsert, n int, row func(i int, args []any) []any) error {
	args := make([]any, 0, min(n, sqliteRowsPerInsert[0])*m.cols)
	for i := 0; i < n; {
		k := 1
		for _, c := range sqliteRowsPerInsert {
			if c <= n-i {
				k = c
				break
			}
		}
		args = args[:0]
		for j := i; j < i+k; j++ {
			args = row(j, args)
		}
		if _, err := t.exec(ctx, m.text(k), args...); err != nil {
			return err
		}
		i += k
	}
	return nil
}

// deleteOutbox deletes the outbox items a batch consumed, and checks that
// they were all there: only the sequencer deletes them, under its lock.
func (t *trailTx) deleteOutbox(ctx context.Context, ids []int64) error {
	list, err := t.list(ids)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, deleteOutbox(t.s.dialect), list)
	if err != nil {
		return wrapErr(err, "trail delete outbox items")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrapErr(err, "trail delete outbox items")
	}
	if n != int64(len(ids)) {
		return fmt.Errorf("sqlstore: trail deleted %d outbox items of %d consumed", n, len(ids))
	}
	return nil
}
