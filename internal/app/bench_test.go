package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/pii"
	"github.com/realname/realname/internal/storage/conformance"
)

// BenchmarkCompleteVerification measures complete sandbox verifications per
// second: init over HTTP with a distinct valid ID number → POST complete
// (outcome pass) on the simulator's page → the simulator calls back → poll
// query until it answers success. Several workers run verifications at
// once (REALNAME_BENCH_WORKERS, default 16). Each b.N round runs on a fresh
// app and a fresh database: sqlite (the embedded default) and postgres
// (with REALNAME_TEST_POSTGRES_URL set; a fresh schema, dropped after).
//
//	go test -run='^$' -bench=CompleteVerification -benchtime=400x ./internal/app/
//	REALNAME_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test …
//
// scripts/bench-verifications.sh runs it several times and prints medians.
func BenchmarkCompleteVerification(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchVerifications(b, benchConfig(b))
	})
	b.Run("postgres", func(b *testing.B) {
		cfg := benchConfig(b)
		cfg.DatabaseURL = conformance.PostgresURL(b) // skips without REALNAME_TEST_POSTGRES_URL
		keyDir := b.TempDir()
		files := pii.KeyFiles{RingPath: filepath.Join(keyDir, "ring.json"), IndexPath: filepath.Join(keyDir, "index.key")}
		if _, err := pii.Generate(files); err != nil {
			b.Fatal(err)
		}
		cfg.Keys.RingFile, cfg.Keys.IndexFile = files.RingPath, files.IndexPath
		benchVerifications(b, cfg)
	})
}

// benchConfig is the embedded default (access log on, poller at its
// default interval) on a free loopback port and a fresh data directory.
func benchConfig(b *testing.B) config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = b.TempDir()
	return cfg
}

// benchStart runs an app for the benchmark; logs are formatted as in
// production (JSON, info) and discarded.
// benchRateLimit is a per-minute limit no benchmark reaches.
const benchRateLimit = 1_000_000_000

func benchStart(b *testing.B, cfg config.Config) *app.App {
	b.Helper()
	// The load comes from one address and one key: the per-IP and per-key
	// limits, and the daily provider budget, are raised so far that they
	// never refuse, but still checked.
	cfg.Rate.IP, cfg.Rate.APIKey = benchRateLimit, benchRateLimit
	cfg.Privacy.DailyBudget = benchRateLimit
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.New(context.Background(), cfg, app.Options{Logger: log, Getenv: func(string) string { return "" }})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
	})
	return a
}

// benchIDNumber returns the i-th of a series of distinct valid resident ID
// numbers: region 110101, birth dates from 1950-01-01 on, sequence 001–999,
// MOD 11-2 check character.
func benchIDNumber(i int) string {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/999)
	body := fmt.Sprintf("110101%s%03d", birth.Format("20060102"), 1+i%999)
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for k := range 17 {
		sum += int(body[k]-'0') * weights[k]
	}
	return body + string("10X98765432"[sum%11])
}

func TestBenchIDNumbers(t *testing.T) {
	// The README's valid test numbers follow the same rule.
	for _, n := range []string{"11010519491231002X", "440524188001010014", "110101199003074477"} {
		weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
		sum := 0
		for k := range 17 {
			sum += int(n[k]-'0') * weights[k]
		}
		if "10X98765432"[sum%11] != n[17] {
			t.Fatalf("check character rule disagrees with %s", n)
		}
	}
	seen := map[string]bool{}
	for i := range 5000 {
		n := benchIDNumber(i)
		if len(n) != 18 || seen[n] {
			t.Fatalf("%d: %s (duplicate: %v)", i, n, seen[n])
		}
		seen[n] = true
	}
}

// benchClient keeps enough idle connections for every worker.
var benchClient = &http.Client{
	Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
	Timeout:   30 * time.Second,
	// The sandbox page answers the completion with a redirect; its status is enough.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func benchCall(base, key, path string, body any, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", base+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := benchClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, answer)
	}
	return json.Unmarshal(answer, out)
}

// verifyOne runs one complete verification and returns how long it took.
func verifyOne(base, key string, i int) (time.Duration, error) {
	t0 := time.Now()
	var init struct {
		CertifyID string `json:"certify_id"`
		VerifyURL string `json:"verify_url"`
	}
	err := benchCall(base, key, "/api/v1/auth/init", map[string]any{
		"user_id": "bench-" + strconv.Itoa(i), "real_name": "张三", "id_card_number": benchIDNumber(i),
		"consent": map[string]any{"notice_version": "2026-11-01", "accepted_at": time.Now().UTC().Format(time.RFC3339), "scopes": []string{"id_number", "face"}},
	}, &init)
	if err != nil {
		return 0, err
	}
	resp, err := benchClient.PostForm(init.VerifyURL+"/complete", url.Values{"outcome": {"pass"}})
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 303 {
		return 0, fmt.Errorf("complete: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	wait := time.Millisecond
	for {
		var q struct {
			Status string `json:"status"`
		}
		if err := benchCall(base, key, "/api/v1/auth/query", map[string]any{"certify_id": init.CertifyID}, &q); err != nil {
			return 0, err
		}
		switch q.Status {
		case "success":
			return time.Since(t0), nil
		case "pending", "processing":
		default:
			return 0, fmt.Errorf("verification %d ended %s", i, q.Status)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("verification %d still %s after 20 s", i, q.Status)
		}
		time.Sleep(wait)
		wait = min(2*wait, 10*time.Millisecond)
	}
}

func benchVerifications(b *testing.B, cfg config.Config) {
	a := benchStart(b, cfg)
	base, key := a.URL(), a.DevAPIKey()
	workers := 16
	if s := os.Getenv("REALNAME_BENCH_WORKERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("REALNAME_BENCH_WORKERS=%q", s)
		}
		workers = n
	}
	var (
		next     atomic.Int64
		failed   atomic.Pointer[error]
		mu       sync.Mutex
		took     = make([]time.Duration, 0, b.N)
		wg       sync.WaitGroup
		quitting = func() bool { return failed.Load() != nil }
	)
	deletions0 := a.Simulator().Calls("DeleteFaceVerifyResult")
	cpu0 := processCPU()
	b.ResetTimer()
	for range workers {
		wg.Go(func() {
			for !quitting() {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				d, err := verifyOne(base, key, i)
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				mu.Lock()
				took = append(took, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// The provider's copy is deleted in the background after each result;
	// that work belongs to the verification, so the clock runs until it
	// is done.
	for deadline := time.Now().Add(time.Minute); failed.Load() == nil &&
		a.Simulator().Calls("DeleteFaceVerifyResult")-deletions0 < b.N; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			err := fmt.Errorf("only %d of %d provider copies deleted after a minute",
				a.Simulator().Calls("DeleteFaceVerifyResult")-deletions0, b.N)
			failed.CompareAndSwap(nil, &err)
		}
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	slices.Sort(took)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(workers), "workers")
	// CPU time of this process (the app and the load generator: HTTP
	// client, polling) per verification; a database server's is not in it.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/verification")
}

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
