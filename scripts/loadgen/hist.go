package main

import (
	"math/bits"
	"time"
)

// The histogram is log-linear, like HdrHistogram: values are counted in
// whole microseconds; below linearMax µs every microsecond has its own
// bucket, above it every power of two is split into subBuckets equal
// buckets, so a bucket is at most 1/subBuckets (0.8 %) of its value wide.
// Values past the last power of two (maxExp) land in the last bucket; the
// exact maximum is kept apart.
const (
	linearMax  = 1024 // µs: 1 µs buckets up to 1.024 ms
	linearBits = 10   // linearMax == 1 << linearBits
	subBits    = 7
	subBuckets = 1 << subBits
	maxExp     = 27 // last octave [2^27, 2^28) µs: up to about 268 s
	numBuckets = linearMax + (maxExp-linearBits+1)*subBuckets
)

// hist counts durations. The zero value is not usable: see newHist.
// Recording does not allocate; a hist is not safe for concurrent use (the
// load generator keeps one per connection and merges them at the end).
type hist struct {
	counts []uint64
	total  uint64
	min    time.Duration
	max    time.Duration
}

func newHist() *hist {
	return &hist{counts: make([]uint64, numBuckets), min: -1}
}

// bucketOf returns the bucket index of a value in microseconds.
func bucketOf(us uint64) int {
	if us < linearMax {
		return int(us)
	}
	e := bits.Len64(us) - 1 // us is in [2^e, 2^(e+1)), e >= linearBits
	if e > maxExp {
		return numBuckets - 1
	}
	sub := int(us>>(e-subBits)) - subBuckets
	return linearMax + (e-linearBits)*subBuckets + sub
}

// bucketRange returns the lowest value of a bucket and its width, in µs.
func bucketRange(i int) (lo, width uint64) {
	if i < linearMax {
		return uint64(i), 1
	}
	i -= linearMax
	e := i/subBuckets + linearBits
	sub := uint64(i % subBuckets)
	width = 1 << (e - subBits)
	return (subBuckets + sub) * width, width
}

// record counts one duration; negative durations count as zero.
func (h *hist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.total++
	if d > h.max {
		h.max = d
	}
	if h.min < 0 || d < h.min {
		h.min = d
	}
}

// merge adds the counts of o to h.
func (h *hist) merge(o *hist) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	if o.max > h.max {
		h.max = o.max
	}
	if h.min < 0 || o.min < h.min {
		h.min = o.min
	}
}

// quantile returns the value below or at which a fraction q of the
// recorded values lie (nearest rank), as the middle of its bucket, clamped
// to the recorded minimum and maximum; 0 for an empty histogram.
func (h *hist) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(q * float64(h.total))
	if float64(rank) < q*float64(h.total) {
		rank++ // ceil
	}
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			if i == numBuckets-1 {
				return h.max // the last bucket also holds every larger value
			}
			lo, width := bucketRange(i)
			// Twice the middle, in half-microseconds, to stay exact.
			v := time.Duration(2*lo+width) * time.Microsecond / 2
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}
