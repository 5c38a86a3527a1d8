package cache

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const shards = 32

// Memory is an in-process cache with per-entry expiry and a bound on the
// number of entries. It is safe for concurrent use. Reads take no lock (the
// hot path reads the same few keys from every core); writers of a shard are
// serialised.
type Memory struct {
	seed   maphash.Seed
	shards [shards]shard
	max    int // entries per shard
	now    func() time.Time
}

type shard struct {
	mu      sync.Mutex // serialises writers (and guards n); readers take no lock
	entries sync.Map   // string → *entry; an entry is never modified once stored
	n       int        // entries stored, live or not
}

type entry struct {
	value   []byte
	obj     any // set by SetValue instead of value
	expires time.Time
}

// NewMemory returns a cache holding at most maxEntries entries (default
// 100 000). When a shard is full, expired entries are dropped first, then
// an arbitrary one if that freed nothing.
func NewMemory(maxEntries int) *Memory {
	if maxEntries <= 0 {
		maxEntries = 100_000
	}
	return &Memory{seed: maphash.MakeSeed(), max: max(1, maxEntries/shards), now: time.Now}
}

func (m *Memory) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%shards]
}

// Get returns a live entry stored with Set.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool) {
	e, ok := m.live(key)
	if !ok || e.obj != nil {
		return nil, false
	}
	return e.value, true
}

// GetValue returns a live entry stored with SetValue. Callers MUST NOT
// modify what it returns: every reader shares it.
func (m *Memory) GetValue(_ context.Context, key string) (any, bool) {
	e, ok := m.live(key)
	if !ok || e.obj == nil {
		return nil, false
	}
	return e.obj, true
}

func (m *Memory) live(key string) (*entry, bool) {
	v, ok := m.shard(key).entries.Load(key)
	if !ok {
		return nil, false
	}
	e := v.(*entry)
	if !m.now().Before(e.expires) {
		return nil, false
	}
	return e, true
}

// Set stores a copy of value for ttl.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) {
	m.store(key, &entry{value: append([]byte(nil), value...)}, ttl)
}

// SetValue stores v itself (not a copy) for ttl, so that a hit costs no
// decoding. v must be non-nil and never modified afterwards. Get does not
// see it; Delete drops it like any entry.
func (m *Memory) SetValue(_ context.Context, key string, v any, ttl time.Duration) {
	if v == nil {
		return
	}
	m.store(key, &entry{obj: v}, ttl)
}

func (m *Memory) store(key string, e *entry, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	now := m.now()
	e.expires = now.Add(ttl)
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.entries.Load(key); !exists {
		if s.n >= m.max {
			s.evict(now)
		}
		s.n++
	}
	s.entries.Store(key, e)
}

// evict makes room: expired entries first, else one arbitrary entry. The
// caller holds s.mu.
func (s *shard) evict(now time.Time) {
	freed := false
	s.entries.Range(func(k, v any) bool {
		if !now.Before(v.(*entry).expires) {
			s.entries.Delete(k)
			s.n--
			freed = true
		}
		return true
	})
	if freed {
		return
	}
	s.entries.Range(func(k, _ any) bool {
		s.entries.Delete(k)
		s.n--
		return false
	})
}

// Delete drops an entry.
func (m *Memory) Delete(_ context.Context, key string) {
	s := m.shard(key)
	s.mu.Lock()
	if _, loaded := s.entries.LoadAndDelete(key); loaded {
		s.n--
	}
	s.mu.Unlock()
}

// Len counts entries, live or not (for tests and metrics).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		m.shards[i].mu.Lock()
		n += m.shards[i].n
		m.shards[i].mu.Unlock()
	}
	return n
}
