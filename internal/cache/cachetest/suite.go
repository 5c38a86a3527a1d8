// Package cachetest is the shared suite every cache implementation passes.
package cachetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Cache is the interface every implementation satisfies (the same as
// realname.Cache).
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, bool)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration)
	Delete(ctx context.Context, key string)
}

// Suite checks the behaviour every implementation must show. newCache
// returns a fresh, empty cache.
func Suite(t *testing.T, newCache func(t *testing.T) Cache) {
	ctx := context.Background()
	t.Run("miss", func(t *testing.T) {
		if _, ok := newCache(t).Get(ctx, "nope"); ok {
			t.Fatal("hit on an empty cache")
		}
	})
	t.Run("set get delete", func(t *testing.T) {
		c := newCache(t)
		c.Set(ctx, "k", []byte("v"), time.Minute)
		if v, ok := c.Get(ctx, "k"); !ok || string(v) != "v" {
			t.Fatalf("Get = %q, %v", v, ok)
		}
		c.Delete(ctx, "k")
		if _, ok := c.Get(ctx, "k"); ok {
			t.Fatal("hit after Delete")
		}
	})
	t.Run("stores a copy", func(t *testing.T) {
		c := newCache(t)
		b := []byte("abc")
		c.Set(ctx, "k", b, time.Minute)
		b[0] = 'x'
		if v, _ := c.Get(ctx, "k"); !bytes.Equal(v, []byte("abc")) {
			t.Fatalf("value changed with the caller's slice: %q", v)
		}
	})
	t.Run("expires", func(t *testing.T) {
		c := newCache(t)
		c.Set(ctx, "k", []byte("v"), 50*time.Millisecond)
		time.Sleep(120 * time.Millisecond)
		if _, ok := c.Get(ctx, "k"); ok {
			t.Fatal("hit after expiry")
		}
		c.Set(ctx, "z", []byte("v"), 0)
		if _, ok := c.Get(ctx, "z"); ok {
			t.Fatal("a zero ttl stored something")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		c := newCache(t)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					k := fmt.Sprintf("k%d", i%20)
					c.Set(ctx, k, []byte{byte(g)}, time.Minute)
					c.Get(ctx, k)
					if i%7 == 0 {
						c.Delete(ctx, k)
					}
				}
			}()
		}
		wg.Wait()
	})
}
