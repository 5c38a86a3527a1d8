package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

// trailTx is the trail.SequenceTx that Sequence hands to its function.
// Its reads see its own writes (they run in the transaction).
//
// AppendBatch writes each table with as few statements as it can: on
// PostgreSQL one INSERT … SELECT FROM unnest(arrays) per table, whatever
// the batch's size (the statement text never changes, so pgx prepares it
// once per connection); on SQLite multi-row INSERTs of up to
// sqliteMaxVars variables (a batch of trail.Log's maximum of 2048 entries
// fits in one statement per table).
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
	scan := func(query string, args ...any) error {
		rows, err := t.q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
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
		}
		return rows.Err()
	}
	var err error
	if t.d == dialectPostgres {
		err = scan(`SELECT subject, seq, hash FROM trail_heads WHERE subject = ANY($1)`, subjects)
	} else {
		err = chunks(len(subjects), 1, func(lo, hi int) error {
			args := make([]any, hi-lo)
			for i, s := range subjects[lo:hi] {
				args[i] = s
			}
			return scan(`SELECT subject, seq, hash FROM trail_heads WHERE subject IN (`+
				strings.TrimSuffix(strings.Repeat("?,", hi-lo), ",")+`)`, args...)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail subject heads: %w", err)
	}
	return out, nil
}

func (t *trailTx) Outbox(ctx context.Context, limit int) ([]trail.OutboxItem, error) {
	rows, err := t.q.QueryContext(ctx, t.d.rebind(`SELECT id, event FROM trail_outbox ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trail outbox: %w", err)
	}
	defer rows.Close()
	var out []trail.OutboxItem
	for rows.Next() {
		var it trail.OutboxItem
		if err := rows.Scan(&it.ID, &it.Event); err != nil {
			return nil, fmt.Errorf("sqlstore: trail outbox: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: trail outbox: %w", err)
	}
	return out, nil
}

func (t *trailTx) SaveCheckpoint(ctx context.Context, c trail.StoredCheckpoint) error {
	if _, err := t.q.ExecContext(ctx, t.d.rebind(`INSERT INTO trail_checkpoints (size, note, created_at) VALUES (?, ?, ?)`),
		c.Size, c.Note, t.d.timeArg(time.Now())); err != nil {
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
	if t.d == dialectPostgres {
		err = t.appendPostgres(ctx, b)
	} else {
		err = t.appendSQLite(ctx, b)
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

func (t *trailTx) appendPostgres(ctx context.Context, b *trail.Batch) error {
	n := len(b.Entries)
	idx, seq := make([]int64, n), make([]int64, n)
	data, hash := make([][]byte, n), make([][]byte, n)
	kind, subject, ref := make([]string, n), make([]string, n), make([]string, n)
	for i, e := range b.Entries {
		idx[i], data[i], hash[i], kind[i], subject[i], seq[i], ref[i] = e.Index, e.Data, e.Hash[:], e.Kind, e.Subject, e.Seq, e.Ref
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO trail_entries (idx, data, hash, kind, subject, seq, ref)
		SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::bigint[], $7::text[])`,
		idx, data, hash, kind, subject, seq, ref); err != nil {
		return wrapErr(err, "trail append entries")
	}
	hs := make([][]byte, len(b.Hashes))
	for i := range b.Hashes {
		hs[i] = b.Hashes[i][:]
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO trail_hashes (idx, hash)
		SELECT $1::bigint + u.i - 1, u.h FROM unnest($2::bytea[]) WITH ORDINALITY AS u(h, i)`,
		b.HashStart, hs); err != nil {
		return wrapErr(err, "trail append hashes")
	}
	if len(b.Heads) > 0 {
		var subjects []string
		var seqs []int64
		var hashes [][]byte
		for s, h := range b.Heads {
			subjects, seqs, hashes = append(subjects, s), append(seqs, h.Seq), append(hashes, h.Hash[:])
		}
		if _, err := t.q.ExecContext(ctx, `INSERT INTO trail_heads (subject, seq, hash)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[])
			ON CONFLICT (subject) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
			subjects, seqs, hashes); err != nil {
			return wrapErr(err, "trail subject heads")
		}
	}
	if len(b.Outbox) > 0 {
		res, err := t.q.ExecContext(ctx, `DELETE FROM trail_outbox WHERE id = ANY($1)`, b.Outbox)
		return checkDeleted(res, err, len(b.Outbox))
	}
	return nil
}

func (t *trailTx) appendSQLite(ctx context.Context, b *trail.Batch) error {
	err := chunks(len(b.Entries), 7, func(lo, hi int) error {
		args := make([]any, 0, 7*(hi-lo))
		for _, e := range b.Entries[lo:hi] {
			args = append(args, e.Index, e.Data, e.Hash[:], e.Kind, e.Subject, e.Seq, e.Ref)
		}
		_, err := t.q.ExecContext(ctx, `INSERT INTO trail_entries (idx, data, hash, kind, subject, seq, ref) VALUES `+
			placeholders(hi-lo, 7), args...)
		return err
	})
	if err != nil {
		return wrapErr(err, "trail append entries")
	}
	err = chunks(len(b.Hashes), 2, func(lo, hi int) error {
		args := make([]any, 0, 2*(hi-lo))
		for i := lo; i < hi; i++ {
			args = append(args, b.HashStart+int64(i), b.Hashes[i][:])
		}
		_, err := t.q.ExecContext(ctx, `INSERT INTO trail_hashes (idx, hash) VALUES `+placeholders(hi-lo, 2), args...)
		return err
	})
	if err != nil {
		return wrapErr(err, "trail append hashes")
	}
	heads := make([]any, 0, 3*len(b.Heads))
	for s, h := range b.Heads {
		heads = append(heads, s, h.Seq, h.Hash[:])
	}
	err = chunks(len(b.Heads), 3, func(lo, hi int) error {
		_, err := t.q.ExecContext(ctx, `INSERT INTO trail_heads (subject, seq, hash) VALUES `+placeholders(hi-lo, 3)+`
			ON CONFLICT (subject) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, heads[3*lo:3*hi]...)
		return err
	})
	if err != nil {
		return wrapErr(err, "trail subject heads")
	}
	return chunks(len(b.Outbox), 1, func(lo, hi int) error {
		args := make([]any, hi-lo)
		for i, id := range b.Outbox[lo:hi] {
			args[i] = id
		}
		res, err := t.q.ExecContext(ctx, `DELETE FROM trail_outbox WHERE id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", hi-lo), ",")+`)`, args...)
		return checkDeleted(res, err, hi-lo)
	})
}

// checkDeleted checks that deleting consumed outbox items removed them all:
// only the sequencer deletes them, under its lock.
func checkDeleted(res interface{ RowsAffected() (int64, error) }, err error, want int) error {
	if err != nil {
		return wrapErr(err, "trail delete outbox items")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrapErr(err, "trail delete outbox items")
	}
	if n != int64(want) {
		return fmt.Errorf("sqlstore: trail deleted %d outbox items of %d consumed", n, want)
	}
	return nil
}
