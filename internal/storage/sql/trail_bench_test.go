package sqlstore_test

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
	"github.com/realname/realname/internal/trail/trailtest"
)

// benchEnvInt reads a positive integer from the environment, or def.
func benchEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkTrailAppend measures sustained appends: REALNAME_BENCH_APPENDERS
// goroutines (64) each call Log.Append with one event, over and over,
// b.N appends in all, on one Log (the group commit batches them). It
// reports appends/s and the append latency's median and 99th percentile,
// and the share of appends durable within 300 ms.
//
// With REALNAME_BENCH_TRAIL_PROCESSES=n (1) the appenders are spread over n
// pools on the database, a Log each, as n processes of the service would
// share it.
func BenchmarkTrailAppend(b *testing.B) {
	appenders := benchEnvInt("REALNAME_BENCH_APPENDERS", 64)
	procs := benchEnvInt("REALNAME_BENCH_TRAIL_PROCESSES", 1)
	for name, url := range backends(b) {
		b.Run(name, func(b *testing.B) {
			u := url(b)
			k := trailtest.NewKey(b)
			st := openMigrated(b, u)
			logs := []*trail.Log{trailtest.NewLog(b, st, k)}
			for len(logs) < procs {
				logs = append(logs, trailtest.NewLog(b, openMigrated(b, u), k))
			}
			ctx := b.Context()
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu0 := processCPU()
			start := time.Now()
			for g := range appenders {
				l := logs[g%len(logs)]
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						ev := trail.Event{Kind: trail.KindVerificationStarted, Subject: trailtest.Handle(int(i % 50_000)),
							Ref: "vf_" + strconv.FormatInt(i, 36)}
						t0 := time.Now()
						if _, err := l.Append(ctx, ev); err != nil {
							b.Error(err)
							return
						}
						lat[i] = time.Since(t0)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			cpu := processCPU() - cpu0
			b.StopTimer()
			if b.Failed() {
				return
			}
			slices.Sort(lat)
			within := 0
			for _, d := range lat {
				if d <= 300*time.Millisecond {
					within++
				}
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
			b.ReportMetric(100*float64(within)/float64(len(lat)), "within-300ms-%")
			// CPU time of this process (appenders, sequencer, SQLite) per
			// append: what the machine's other load does not change much.
			// A PostgreSQL server's is not in it.
			b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/append")
			if n, err := st.TrailSize(ctx); err != nil || n != int64(b.N) {
				b.Fatalf("size %d, %v; want %d", n, err, b.N)
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTrailInclusionProof measures Log.InclusionProof for a random
// entry of a log of REALNAME_BENCH_TRAIL_SIZE entries (100,000), and
// reports the median and 99th percentile in µs.
func BenchmarkTrailInclusionProof(b *testing.B) {
	size := int64(benchEnvInt("REALNAME_BENCH_TRAIL_SIZE", 100_000))
	for name, url := range backends(b) {
		b.Run(name, func(b *testing.B) {
			st := openMigrated(b, url(b))
			l := trailtest.NewLog(b, st, trailtest.NewKey(b))
			ctx := b.Context()
			evs := make([]trail.Event, 0, 2048)
			for n := int64(0); n < size; n += int64(len(evs)) {
				evs = evs[:0]
				for i := n; i < size && len(evs) < cap(evs); i++ {
					evs = append(evs, trail.Event{Kind: trail.KindDisclosure, Subject: trailtest.Handle(int(i % 50_000))})
				}
				if _, err := l.Append(ctx, evs...); err != nil {
					b.Fatal(err)
				}
			}
			root, err := l.TreeHash(ctx, size)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			var lat []time.Duration
			first := true
			for b.Loop() {
				i := rng.Int64N(size)
				t0 := time.Now()
				p, err := l.InclusionProof(ctx, i, size)
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if first {
					first = false
					d, err := l.Entry(ctx, i)
					if err != nil {
						b.Fatal(err)
					}
					if err := tlog.CheckRecord(p, size, root, i, trail.LeafHash(d)); err != nil {
						b.Fatal(err)
					}
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2])/float64(time.Microsecond), "median-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100])/float64(time.Microsecond), "p99-µs")
		})
	}
}
