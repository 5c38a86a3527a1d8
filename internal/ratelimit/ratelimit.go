// Package ratelimit holds the service's request limits: one small interface
// (Limiter) and an in-process implementation (Memory). A shared
// implementation (Redis, for several replicas) can come later behind the
// same interface.
package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Limiter decides whether one more event for key is allowed at now. A
// Limiter enforces one rule (a limit per window); keys are opaque
// strings (a client IP, an API key id, a user id). When the event is
// refused, retryAfter is how long until one would be allowed (> 0).
// Implementations MUST be safe for concurrent use. An implementation that
// cannot decide (a remote store is down) returns ok and logs: limits are a
// defence, not a dependency.
type Limiter interface {
	Allow(ctx context.Context, key string, now time.Time) (ok bool, retryAfter time.Duration)
}

// Rule is a limit: at most Limit events per Window per key, spread out
// (GCRA: a burst of up to Limit, then one event every Window/Limit).
type Rule struct {
	Limit  int
	Window time.Duration
}

// Enabled reports whether the rule limits anything (Limit > 0).
func (r Rule) Enabled() bool { return r.Limit > 0 && r.Window > 0 }

// nShards is the number of independently locked parts of a Memory.
const nShards = 64

// DefaultMaxKeys bounds the keys a Memory remembers when none is given.
const DefaultMaxKeys = 100_000

// Memory is the in-process Limiter: GCRA (the "generic cell rate
// algorithm", a token bucket kept as one timestamp per key) over sharded
// maps. Memory is bounded: at most maxKeys keys; a key whose bucket is full
// again is forgotten when room is needed, and when every key is still
// busy an arbitrary one is dropped (that key starts afresh: under a flood
// of distinct keys the limit errs towards letting requests through rather
// than refusing everyone new).
type Memory struct {
	interval int64 // ns between events at the sustained rate: Window/Limit
	burst    int64 // ns of credit: Window - interval (Limit events at once)
	perShard int
	seed     maphash.Seed
	shards   [nShards]shard
}

type shard struct {
	mu  sync.Mutex
	tat map[string]int64 // theoretical arrival time, Unix ns
	_   [40]byte         // keep shards on separate cache lines
}

// NewMemory returns an in-process limiter for rule, remembering at most
// maxKeys keys (DefaultMaxKeys when ≤ 0). A rule that is not Enabled
// allows everything.
func NewMemory(rule Rule, maxKeys int) *Memory {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	m := &Memory{seed: maphash.MakeSeed(), perShard: (maxKeys + nShards - 1) / nShards}
	if rule.Enabled() {
		m.interval = int64(rule.Window) / int64(rule.Limit)
		if m.interval <= 0 {
			m.interval = 1
		}
		m.burst = m.interval * int64(rule.Limit-1)
	}
	for i := range m.shards {
		m.shards[i].tat = make(map[string]int64)
	}
	return m
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, now time.Time) (bool, time.Duration) {
	if m.interval == 0 {
		return true, 0
	}
	t := now.UnixNano()
	sh := &m.shards[maphash.String(m.seed, key)%nShards]
	sh.mu.Lock()
	tat, found := sh.tat[key]
	if !found || tat < t {
		tat = t
	}
	// Refused while the arrival time is more than the burst ahead.
	if tat-t > m.burst {
		sh.mu.Unlock()
		return false, time.Duration(tat - m.burst - t)
	}
	if !found && len(sh.tat) >= m.perShard {
		sh.evict(t, m.perShard)
	}
	sh.tat[key] = tat + m.interval
	sh.mu.Unlock()
	return true, 0
}

// evict makes room for one key: every key whose bucket is full again
// (its theoretical arrival time has passed) is dropped; if that frees
// nothing, an arbitrary one. Called with the lock held.
func (sh *shard) evict(now int64, max int) {
	for k, tat := range sh.tat {
		if tat <= now {
			delete(sh.tat, k)
		}
	}
	for k := range sh.tat {
		if len(sh.tat) < max {
			return
		}
		delete(sh.tat, k)
	}
}

// Len is the number of keys remembered (for tests and metrics).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.tat)
		sh.mu.Unlock()
	}
	return n
}

// Allowed is a Limiter that allows everything.
type Allowed struct{}

// Allow implements Limiter.
func (Allowed) Allow(context.Context, string, time.Time) (bool, time.Duration) { return true, 0 }
