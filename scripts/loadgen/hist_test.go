package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverValues(t *testing.T) {
	// Every value falls in the bucket whose range holds it, buckets are in
	// order, and none is wider than 1/128 of its lowest value past 1 ms.
	prevLo := uint64(0)
	for i := 0; i < numBuckets; i++ {
		lo, width := bucketRange(i)
		if i > 0 && lo <= prevLo {
			t.Fatalf("bucket %d starts at %d, not after %d", i, lo, prevLo)
		}
		prevLo = lo
		if got := bucketOf(lo); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", lo, got, i)
		}
		if got := bucketOf(lo + width - 1); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", lo+width-1, got, i)
		}
		if i+1 < numBuckets {
			if next, _ := bucketRange(i + 1); next != lo+width {
				t.Fatalf("bucket %d ends at %d, bucket %d starts at %d", i, lo+width, i+1, next)
			}
		}
		if lo >= linearMax && float64(width)/float64(lo) > 1.0/subBuckets {
			t.Fatalf("bucket %d [%d, +%d) is %.2f %% wide", i, lo, width, 100*float64(width)/float64(lo))
		}
	}
	if got := bucketOf(math.MaxUint64); got != numBuckets-1 {
		t.Fatalf("bucketOf(max) = %d, want the last bucket", got)
	}
}

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func TestQuantilesKnownData(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(i int, r *rand.Rand) time.Duration
		n    int
	}{
		{"1..1000µs", func(i int, _ *rand.Rand) time.Duration { return time.Duration(i+1) * time.Microsecond }, 1000},
		{"1..10000µs", func(i int, _ *rand.Rand) time.Duration { return time.Duration(i+1) * time.Microsecond }, 10000},
		{"exponential 200µs", func(_ int, r *rand.Rand) time.Duration {
			return time.Duration(r.ExpFloat64() * float64(200*time.Microsecond))
		}, 100000},
		{"bimodal 100µs / 25ms", func(i int, r *rand.Rand) time.Duration {
			if i%50 == 0 {
				return 25*time.Millisecond + time.Duration(r.IntN(1000))*time.Microsecond
			}
			return 100*time.Microsecond + time.Duration(r.IntN(50_000))
		}, 100000},
		{"seconds", func(i int, _ *rand.Rand) time.Duration { return time.Duration(i+1) * 10 * time.Millisecond }, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			h := newHist()
			vals := make([]time.Duration, tc.n)
			for i := range vals {
				vals[i] = tc.gen(i, r)
				h.record(vals[i])
			}
			slices.Sort(vals)
			if h.total != uint64(tc.n) {
				t.Fatalf("total %d, want %d", h.total, tc.n)
			}
			if h.max != vals[len(vals)-1] {
				t.Fatalf("max %v, want %v", h.max, vals[len(vals)-1])
			}
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.quantile(q), exactQuantile(vals, q)
				// Within a bucket: 1 µs below 1 ms, 0.8 % above.
				tol := max(time.Microsecond, time.Duration(float64(want)/subBuckets))
				if d := got - want; d > tol || d < -tol {
					t.Errorf("q%v = %v, want %v ± %v", q, got, want, tol)
				}
			}
		})
	}
}

func TestQuantileSpecialCases(t *testing.T) {
	h := newHist()
	if got := h.quantile(0.99); got != 0 {
		t.Fatalf("empty: %v", got)
	}
	h.record(-5 * time.Millisecond) // clamped to 0
	h.record(3 * time.Millisecond)
	if h.min != 0 || h.max != 3*time.Millisecond {
		t.Fatalf("min %v max %v", h.min, h.max)
	}
	// A value far past the last bucket is still the maximum.
	h.record(time.Hour)
	if got := h.quantile(1); got != time.Hour {
		t.Fatalf("q1 = %v", got)
	}
	if got := h.quantile(0.99); got != time.Hour {
		t.Fatalf("q0.99 = %v (3 values: nearest rank is the largest)", got)
	}
	// merge adds up.
	a, b := newHist(), newHist()
	for i := range 100 {
		a.record(time.Duration(i) * time.Microsecond)
		b.record(time.Duration(i+100) * time.Microsecond)
	}
	a.merge(b)
	a.merge(newHist())
	if a.total != 200 || a.min != 0 || a.max != 199*time.Microsecond {
		t.Fatalf("merged: total %d min %v max %v", a.total, a.min, a.max)
	}
	if got := a.quantile(0.5); got < 99*time.Microsecond || got > 100*time.Microsecond {
		t.Fatalf("merged median %v", got)
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	h := newHist()
	if n := testing.AllocsPerRun(1000, func() { h.record(1234 * time.Microsecond) }); n != 0 {
		t.Fatalf("%v allocations per record", n)
	}
}
