package cache

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const shards = 32

// Memory is an in-process cache with per-entry expiry and a bound on the
// number of entries. It is safe for concurrent use.
type Memory struct {
	seed   maphash.Seed
	shards [shards]shard
	max    int // entries per shard
	now    func() time.Time
}

type shard struct {
	mu      sync.RWMutex
	entries map[string]entry
}

type entry struct {
	value   []byte
	expires time.Time
}

// NewMemory returns a cache holding at most maxEntries entries (default
// 100 000). When a shard is full, expired entries are dropped first, then
// arbitrary ones.
func NewMemory(maxEntries int) *Memory {
	if maxEntries <= 0 {
		maxEntries = 100_000
	}
	m := &Memory{seed: maphash.MakeSeed(), max: max(1, maxEntries/shards), now: time.Now}
	for i := range m.shards {
		m.shards[i].entries = make(map[string]entry)
	}
	return m
}

func (m *Memory) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%shards]
}

// Get returns a live entry.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool) {
	s := m.shard(key)
	s.mu.RLock()
	e, ok := s.entries[key]
	s.mu.RUnlock()
	if !ok || !m.now().Before(e.expires) {
		return nil, false
	}
	return e.value, true
}

// Set stores a copy of value for ttl.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	now := m.now()
	v := append([]byte(nil), value...)
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.entries[key]; !exists && len(s.entries) >= m.max {
		s.evict(now)
	}
	s.entries[key] = entry{value: v, expires: now.Add(ttl)}
}

// evict makes room: expired entries first, else one arbitrary entry.
func (s *shard) evict(now time.Time) {
	for k, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, k)
		}
	}
	if len(s.entries) > 0 {
		for k := range s.entries {
			delete(s.entries, k)
			return
		}
	}
}

// Delete drops an entry.
func (m *Memory) Delete(_ context.Context, key string) {
	s := m.shard(key)
	s.mu.Lock()
	delete(s.entries, key)
	s.mu.Unlock()
}

// Len counts entries, live or not (for tests and metrics).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		m.shards[i].mu.RLock()
		n += len(m.shards[i].entries)
		m.shards[i].mu.RUnlock()
	}
	return n
}
