package trail

import (
	"context"
	"errors"

	"golang.org/x/mod/sumdb/tlog"
)

// ErrNotFound is returned for an entry, checkpoint or subject the store
// does not hold.
var ErrNotFound = errors.New("trail: not found")

// Store keeps the log durably: entries, the tree's stored hashes (see
// tlog.StoredHashIndex), each subject's head, signed checkpoints, and the
// outbox of events that other transactions queued for the log.
//
// Sequence is the only way to write. It runs fn in one transaction that
// holds the sequencer lock, so that one process at a time appends, however
// many share the store (SQLite: BEGIN IMMEDIATE; PostgreSQL: a
// transaction-scoped advisory lock).
type Store interface {
	Reader
	Sequence(ctx context.Context, fn func(SequenceTx) error) error
}

// Reader reads what Sequence committed.
type Reader interface {
	// TrailSize is the number of entries.
	TrailSize(ctx context.Context) (int64, error)
	// TrailHashes returns the stored hashes with the given indexes, in
	// that order.
	TrailHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// TrailEntries returns the bytes of entries [start, end).
	TrailEntries(ctx context.Context, start, end int64) ([][]byte, error)
	// SubjectEntries returns the indexes of a subject's entries in
	// sequence order (none: an empty slice).
	SubjectEntries(ctx context.Context, subject string) ([]int64, error)
	// LatestByRef returns the index and leaf hash of the newest entry
	// whose Ref is ref and whose Kind is one of kinds (ErrNotFound if
	// there is none).
	LatestByRef(ctx context.Context, ref string, kinds []string) (Receipt, error)
	// LatestCheckpoint returns the newest signed checkpoint
	// (ErrNotFound before the first).
	LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error)
	// CheckpointAtLeast returns the oldest signed checkpoint of a size ≥
	// size (ErrNotFound if there is none yet).
	CheckpointAtLeast(ctx context.Context, size int64) (StoredCheckpoint, error)
}

// SequenceTx is the transaction Sequence hands to its function.
type SequenceTx interface {
	TrailSize(ctx context.Context) (int64, error)
	TrailHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// SubjectHeads returns the head (seq and leaf hash of the newest
	// entry, written earlier in this transaction included) of each of the
	// subjects that has entries.
	SubjectHeads(ctx context.Context, subjects []string) (map[string]Head, error)
	// Outbox returns up to limit queued events, oldest first.
	Outbox(ctx context.Context, limit int) ([]OutboxItem, error)
	// AppendBatch writes b: its entries and their stored hashes, and
	// deletes the outbox items it consumed.
	AppendBatch(ctx context.Context, b *Batch) error
	// LatestCheckpoint is Reader's, inside the transaction.
	LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error)
	// SaveCheckpoint stores a signed checkpoint of the given size,
	// replacing the note of that size if there is one (a cosigned copy).
	SaveCheckpoint(ctx context.Context, c StoredCheckpoint) error
}

// Head is the newest entry of a subject: its sequence number and leaf hash.
type Head struct {
	Seq  int64
	Hash tlog.Hash
}

// OutboxItem is an event queued by another transaction (see
// EncodeOutbox).
type OutboxItem struct {
	ID    int64
	Event []byte
}

// StoredEntry is an entry as Sequence writes it, with the columns that
// index it.
type StoredEntry struct {
	Index   int64
	Data    []byte
	Hash    tlog.Hash
	Kind    string
	Subject string // "" for entries about the log itself
	Seq     int64
	Ref     string
}

// Batch is one append: entries Start… in order, and their stored hashes,
// which are contiguous from tlog.StoredHashIndex(0, Start).
type Batch struct {
	Start     int64
	Entries   []StoredEntry
	HashStart int64
	Hashes    []tlog.Hash
	Outbox    []int64 // ids of the outbox items the batch consumed
}

// StoredCheckpoint is a signed checkpoint as kept by the store.
type StoredCheckpoint struct {
	Size int64
	Note []byte // the signed note
}
