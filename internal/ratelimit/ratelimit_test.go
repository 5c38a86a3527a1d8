package ratelimit

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var ctx = context.Background()

func TestMemoryBurstThenRate(t *testing.T) {
	m := NewMemory(Rule{Limit: 10, Window: time.Minute}, 0)
	now := time.Unix(1_700_000_000, 0)
	for i := range 10 {
		if ok, _ := m.Allow(ctx, "u", now); !ok {
			t.Fatalf("event %d refused", i+1)
		}
	}
	ok, ra := m.Allow(ctx, "u", now)
	if ok || ra != 6*time.Second {
		t.Fatalf("11th: ok=%v retry=%s, want refused, 6s", ok, ra)
	}
	if ok, _ := m.Allow(ctx, "other", now); !ok {
		t.Fatal("another key is limited too")
	}
	if ok, _ := m.Allow(ctx, "u", now.Add(6*time.Second-time.Nanosecond)); ok {
		t.Fatal("allowed before Retry-After")
	}
	if ok, _ := m.Allow(ctx, "u", now.Add(6*time.Second)); !ok {
		t.Fatal("refused at Retry-After")
	}
	// A full window later the whole burst is back.
	later := now.Add(2 * time.Minute)
	for i := range 10 {
		if ok, _ := m.Allow(ctx, "u", later); !ok {
			t.Fatalf("after a pause: event %d refused", i+1)
		}
	}
}

func TestMemorySustainedRate(t *testing.T) {
	// Over 10 minutes at one request every 100 ms, 600/min allows at most
	// 600 in the first minute (burst) and then 10/s.
	m := NewMemory(Rule{Limit: 600, Window: time.Minute}, 0)
	now := time.Unix(0, 0)
	allowed := 0
	for i := range 20 * 600 {
		if ok, _ := m.Allow(ctx, "ip", now.Add(time.Duration(i)*5*time.Millisecond)); ok {
			allowed++
		}
	}
	// 60 s of requests every 5 ms: burst 600 + 60 s × 10/s, less a little.
	if allowed < 1190 || allowed > 1201 {
		t.Fatalf("allowed %d in 60 s, want ≈ 1200", allowed)
	}
}

func TestMemoryDisabled(t *testing.T) {
	m := NewMemory(Rule{}, 0)
	for range 1000 {
		if ok, _ := m.Allow(ctx, "k", time.Now()); !ok {
			t.Fatal("a disabled rule refused")
		}
	}
	if m.Len() != 0 {
		t.Fatal("a disabled rule remembers keys")
	}
}

func TestMemoryBounded(t *testing.T) {
	m := NewMemory(Rule{Limit: 5, Window: time.Minute}, 640)
	now := time.Unix(0, 0)
	for i := range 100_000 {
		m.Allow(ctx, strconv.Itoa(i), now)
	}
	if n := m.Len(); n > 640 {
		t.Fatalf("%d keys remembered, max 640", n)
	}
	// Keys whose buckets are full again are dropped first: a busy key
	// survives a flood of keys that expired.
	m = NewMemory(Rule{Limit: 2, Window: time.Minute}, 64*100)
	for i := range 64 * 200 {
		m.Allow(ctx, "old"+strconv.Itoa(i), now)
	}
	m.Allow(ctx, "busy", now.Add(time.Minute))
	m.Allow(ctx, "busy", now.Add(time.Minute))
	for i := range 50 { // fewer than a shard holds: only expired keys make room
		m.Allow(ctx, "new"+strconv.Itoa(i), now.Add(time.Minute))
	}
	if ok, _ := m.Allow(ctx, "busy", now.Add(time.Minute)); ok {
		t.Fatal("the busy key was forgotten")
	}
}

func TestMemoryConcurrent(t *testing.T) {
	m := NewMemory(Rule{Limit: 10, Window: time.Minute}, 0)
	now := time.Now()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if ok, _ := m.Allow(ctx, "u", now); ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 10 {
		t.Fatalf("%d of 200 concurrent events allowed, want 10", allowed.Load())
	}
}

func TestRetryAfterPositive(t *testing.T) {
	m := NewMemory(Rule{Limit: 1, Window: time.Nanosecond * 3}, 0)
	now := time.Unix(0, 0)
	m.Allow(ctx, "k", now)
	ok, ra := m.Allow(ctx, "k", now)
	if ok || ra <= 0 {
		t.Fatalf("ok=%v retry=%s", ok, ra)
	}
}

// BenchmarkAllow is the cost the limiter adds to a request (one rule).
func BenchmarkAllow(b *testing.B) {
	m := NewMemory(Rule{Limit: 1 << 30, Window: time.Minute}, 0)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "192.0.2." + strconv.Itoa(i)
	}
	now := time.Now()
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Allow(ctx, keys[i&1023], now)
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				m.Allow(ctx, keys[i&1023], now)
				i++
			}
		})
	})
	b.Run("parallel-one-key", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Allow(ctx, "203.0.113.7", now)
			}
		})
	})
}
