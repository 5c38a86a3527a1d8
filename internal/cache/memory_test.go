package cache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/realname/realname/internal/cache"
	"github.com/realname/realname/internal/cache/cachetest"
)

func TestMemory(t *testing.T) {
	cachetest.Suite(t, func(*testing.T) cachetest.Cache { return cache.NewMemory(0) })
}

func TestMemoryBound(t *testing.T) {
	m := cache.NewMemory(64)
	ctx := context.Background()
	for i := range 10_000 {
		m.Set(ctx, fmt.Sprint(i), []byte("v"), time.Minute)
	}
	if n := m.Len(); n > 64 {
		t.Fatalf("Len = %d, want ≤ 64", n)
	}
	m.Set(ctx, "last", []byte("v"), time.Minute)
	if _, ok := m.Get(ctx, "last"); !ok {
		t.Fatal("newest entry missing after eviction")
	}
}

func TestMemoryValues(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	m := cache.NewMemory(0)
	cache.SetClock(m, func() time.Time { return now })
	type status struct{ s string }
	want := &status{"success"}
	m.SetValue(ctx, "k", want, time.Minute)
	if v, ok := m.GetValue(ctx, "k"); !ok || v != any(want) {
		t.Fatalf("GetValue = %v, %v; want the stored value itself", v, ok)
	}
	if b, ok := m.Get(ctx, "k"); ok {
		t.Fatalf("Get of a value entry = %q, want a miss", b)
	}
	m.Set(ctx, "b", []byte("bytes"), time.Minute)
	if v, ok := m.GetValue(ctx, "b"); ok {
		t.Fatalf("GetValue of a byte entry = %v, want a miss", v)
	}
	m.SetValue(ctx, "nil", nil, time.Minute)
	m.SetValue(ctx, "zero ttl", want, 0)
	if _, ok := m.GetValue(ctx, "nil"); ok {
		t.Fatal("a nil value was stored")
	}
	if _, ok := m.GetValue(ctx, "zero ttl"); ok {
		t.Fatal("a value with ttl 0 was stored")
	}
	now = now.Add(time.Minute)
	if _, ok := m.GetValue(ctx, "k"); ok {
		t.Fatal("hit after expiry")
	}
	m.SetValue(ctx, "k", want, time.Minute)
	m.Delete(ctx, "k")
	if _, ok := m.GetValue(ctx, "k"); ok {
		t.Fatal("hit after Delete")
	}
	if n := m.Len(); n != 1 { // only "b" is left
		t.Fatalf("Len = %d, want 1", n)
	}
}

func BenchmarkMemoryGet(b *testing.B) {
	m := cache.NewMemory(0)
	ctx := context.Background()
	m.Set(ctx, "user:u1", []byte(`{"status":"success"}`), time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := m.Get(ctx, "user:u1"); !ok {
				b.Fatal("miss")
			}
		}
	})
}
