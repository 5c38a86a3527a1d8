package trail

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// MemoryStore is a Store in memory, for tests and tools. Its Sequence
// applies a transaction's writes only when the function succeeds.
type MemoryStore struct {
	mu          sync.Mutex // held by Sequence for the whole transaction
	read        sync.RWMutex
	entries     []StoredEntry
	hashes      []tlog.Hash
	subjects    map[string][]int64
	checkpoints []StoredCheckpoint // by size, ascending
	outbox      []OutboxItem
	nextOutbox  int64
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{subjects: map[string][]int64{}, nextOutbox: 1}
}

var _ Store = (*MemoryStore)(nil)

// Enqueue queues an event in the outbox, as another transaction would.
func (m *MemoryStore) Enqueue(ev Event) error {
	b, err := EncodeOutbox(ev)
	if err != nil {
		return err
	}
	m.read.Lock()
	defer m.read.Unlock()
	m.outbox = append(m.outbox, OutboxItem{ID: m.nextOutbox, Event: b})
	m.nextOutbox++
	return nil
}

// Tamper replaces the bytes of entry i without touching the tree, as an
// attacker with write access to the database could; for tests.
func (m *MemoryStore) Tamper(i int64, data []byte) {
	m.read.Lock()
	defer m.read.Unlock()
	m.entries[i].Data = data
}

func (m *MemoryStore) TrailSize(context.Context) (int64, error) {
	m.read.RLock()
	defer m.read.RUnlock()
	return int64(len(m.entries)), nil
}

func (m *MemoryStore) TrailHashes(_ context.Context, indexes []int64) ([]tlog.Hash, error) {
	m.read.RLock()
	defer m.read.RUnlock()
	return readHashes(m.hashes, nil, 0, indexes)
}

func readHashes(committed, pending []tlog.Hash, pendingStart int64, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		switch {
		case x >= 0 && x < int64(len(committed)):
			out[i] = committed[x]
		case pending != nil && x >= pendingStart && x < pendingStart+int64(len(pending)):
			out[i] = pending[x-pendingStart]
		default:
			return nil, fmt.Errorf("trail: stored hash %d: %w", x, ErrNotFound)
		}
	}
	return out, nil
}

func (m *MemoryStore) TrailEntries(_ context.Context, start, end int64) ([][]byte, error) {
	m.read.RLock()
	defer m.read.RUnlock()
	if start < 0 || end > int64(len(m.entries)) || start > end {
		return nil, fmt.Errorf("trail: entries [%d, %d): %w", start, end, ErrNotFound)
	}
	out := make([][]byte, 0, end-start)
	for _, e := range m.entries[start:end] {
		out = append(out, slices.Clone(e.Data))
	}
	return out, nil
}

func (m *MemoryStore) SubjectEntries(_ context.Context, subject string) ([]int64, error) {
	m.read.RLock()
	defer m.read.RUnlock()
	return append([]int64{}, m.subjects[subject]...), nil
}

func (m *MemoryStore) LatestByRef(_ context.Context, ref string, kinds []string) (Receipt, error) {
	m.read.RLock()
	defer m.read.RUnlock()
	for i := len(m.entries) - 1; i >= 0; i-- {
		if e := m.entries[i]; ref != "" && e.Ref == ref && slices.Contains(kinds, e.Kind) {
			return Receipt{Index: e.Index, LeafHash: e.Hash}, nil
		}
	}
	return Receipt{}, ErrNotFound
}

func (m *MemoryStore) LatestCheckpoint(context.Context) (StoredCheckpoint, error) {
	m.read.RLock()
	defer m.read.RUnlock()
	if len(m.checkpoints) == 0 {
		return StoredCheckpoint{}, ErrNotFound
	}
	return m.checkpoints[len(m.checkpoints)-1], nil
}

func (m *MemoryStore) CheckpointAtLeast(_ context.Context, size int64) (StoredCheckpoint, error) {
	m.read.RLock()
	defer m.read.RUnlock()
	for _, c := range m.checkpoints {
		if c.Size >= size {
			return c, nil
		}
	}
	return StoredCheckpoint{}, ErrNotFound
}

// Sequence runs fn with the store's lock held, and applies its writes if
// it returns nil.
func (m *MemoryStore) Sequence(ctx context.Context, fn func(SequenceTx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m}
	if err := fn(tx); err != nil {
		return err
	}
	m.read.Lock()
	defer m.read.Unlock()
	for _, b := range tx.batches {
		for _, e := range b.Entries {
			m.entries = append(m.entries, e)
			if e.Subject != "" {
				m.subjects[e.Subject] = append(m.subjects[e.Subject], e.Index)
			}
		}
		m.hashes = append(m.hashes, b.Hashes...)
		m.outbox = slices.DeleteFunc(m.outbox, func(o OutboxItem) bool { return slices.Contains(b.Outbox, o.ID) })
	}
	for _, c := range tx.checkpoints {
		i := slices.IndexFunc(m.checkpoints, func(o StoredCheckpoint) bool { return o.Size == c.Size })
		if i >= 0 {
			m.checkpoints[i] = c
		} else {
			m.checkpoints = append(m.checkpoints, c)
		}
	}
	return nil
}

type memTx struct {
	m           *MemoryStore
	batches     []*Batch
	checkpoints []StoredCheckpoint
}

func (t *memTx) TrailSize(context.Context) (int64, error) {
	n := int64(len(t.m.entries))
	for _, b := range t.batches {
		n += int64(len(b.Entries))
	}
	return n, nil
}

func (t *memTx) TrailHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	t.m.read.RLock()
	defer t.m.read.RUnlock()
	var pending []tlog.Hash
	start := int64(len(t.m.hashes))
	for _, b := range t.batches {
		pending = append(pending, b.Hashes...)
	}
	return readHashes(t.m.hashes, pending, start, indexes)
}

func (t *memTx) SubjectHeads(_ context.Context, subjects []string) (map[string]Head, error) {
	out := map[string]Head{}
	for _, s := range subjects {
		if idx := t.m.subjects[s]; len(idx) > 0 {
			e := t.m.entries[idx[len(idx)-1]]
			out[s] = Head{Seq: e.Seq, Hash: e.Hash}
		}
		for _, b := range t.batches {
			for _, e := range b.Entries {
				if e.Subject == s {
					out[s] = Head{Seq: e.Seq, Hash: e.Hash}
				}
			}
		}
	}
	return out, nil
}

func (t *memTx) Outbox(_ context.Context, limit int) ([]OutboxItem, error) {
	t.m.read.RLock()
	defer t.m.read.RUnlock()
	var out []OutboxItem
	for _, o := range t.m.outbox {
		if len(out) == limit {
			break
		}
		out = append(out, o)
	}
	return out, nil
}

func (t *memTx) AppendBatch(ctx context.Context, b *Batch) error {
	n, _ := t.TrailSize(ctx)
	if b.Start != n {
		return fmt.Errorf("trail: batch starts at %d, log has %d entries", b.Start, n)
	}
	hn := int64(len(t.m.hashes))
	for _, p := range t.batches {
		hn += int64(len(p.Hashes))
	}
	if b.HashStart != hn {
		return fmt.Errorf("trail: batch hashes start at %d, store has %d", b.HashStart, hn)
	}
	t.batches = append(t.batches, b)
	return nil
}

func (t *memTx) LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error) {
	if len(t.checkpoints) > 0 {
		return t.checkpoints[len(t.checkpoints)-1], nil
	}
	return t.m.LatestCheckpoint(ctx)
}

func (t *memTx) SaveCheckpoint(_ context.Context, c StoredCheckpoint) error {
	t.checkpoints = append(t.checkpoints, c)
	return nil
}
