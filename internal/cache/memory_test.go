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
