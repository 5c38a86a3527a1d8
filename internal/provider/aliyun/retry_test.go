package aliyun

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realname/realname/internal/provider/providertest"
	"github.com/realname/realname/internal/realname"
)

var testIdentity = realname.IdentityInput{Name: providertest.DefaultName, Number: providertest.DefaultNumber}

func TestRetryThenSuccess(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			env := newSimEnv(t)
			p := env.provider(t, env.config())
			env.sim.FailNext("Id2MetaVerify", 2, status)
			got, err := p.CheckIdentity(t.Context(), testIdentity)
			if err != nil || got != realname.IdentityMatches {
				t.Fatalf("CheckIdentity = %v, %v; want a match after retries", got, err)
			}
			if n := env.sim.Calls("Id2MetaVerify"); n != 1 {
				t.Errorf("simulator counted %d successful calls, want 1", n)
			}
			if n := env.hitCount("Id2MetaVerify"); n != 3 {
				t.Errorf("server saw %d requests, want 3 (2 failures + 1 success)", n)
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	env := newSimEnv(t)
	p := env.provider(t, env.config())
	ref := startSession(t, p)
	env.sim.FailNext("DescribeFaceVerify", 10, http.StatusServiceUnavailable)
	_, err := p.FaceCheckResult(t.Context(), ref)
	if !errors.Is(err, realname.ErrProviderUnavailable) {
		t.Fatalf("err = %v, want ErrProviderUnavailable", err)
	}
	if n, want := env.hitCount("DescribeFaceVerify"), DefaultMaxRetries+1; n != want {
		t.Errorf("server saw %d requests, want MaxRetries+1 = %d", n, want)
	}
	if n := env.sim.Calls("DescribeFaceVerify"); n != 0 {
		t.Errorf("simulator counted %d successful calls, want 0", n)
	}
	if !strings.Contains(err.Error(), "ServiceUnavailable") {
		t.Errorf("err = %q, want the gateway code in it", err)
	}
}

func TestMaxRetriesNegativeDisablesRetries(t *testing.T) {
	env := newSimEnv(t)
	cfg := env.config()
	cfg.MaxRetries = -1
	p := env.provider(t, cfg)
	env.sim.FailNext("Id2MetaVerify", 1, http.StatusServiceUnavailable)
	if _, err := p.CheckIdentity(t.Context(), testIdentity); !errors.Is(err, realname.ErrProviderUnavailable) {
		t.Fatalf("err = %v, want ErrProviderUnavailable", err)
	}
	if n := env.hitCount("Id2MetaVerify"); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

// TestMisconfigurationNotRetried: a wrong secret, a wrong key id and a RAM
// refusal are our configuration's fault: ErrProviderUnavailable (the
// session stays resumable), one request only, an error log with the code.
func TestMisconfigurationNotRetried(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		fail   int // FailNext status, 0 for none
		code   string
	}{
		{"wrong_secret", func(c *Config) { c.AccessKeySecret = "not-the-secret" }, 0, "SignatureDoesNotMatch"},
		{"wrong_key_id", func(c *Config) { c.AccessKeyID = "LTAI5tUnknown" }, 0, "InvalidAccessKeyId.NotFound"},
		{"forbidden", func(*Config) {}, http.StatusForbidden, "Forbidden.RAM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newSimEnv(t)
			cfg := env.config()
			c.mutate(&cfg)
			p := env.provider(t, cfg)
			if c.fail != 0 {
				env.sim.FailNext("Id2MetaVerify", 1, c.fail)
			}
			_, err := p.CheckIdentity(t.Context(), testIdentity)
			if !errors.Is(err, realname.ErrProviderUnavailable) {
				t.Fatalf("err = %v, want ErrProviderUnavailable", err)
			}
			if !strings.Contains(err.Error(), c.code) {
				t.Errorf("err = %q, want code %s in it", err, c.code)
			}
			if n := env.hitCount("Id2MetaVerify"); n != 1 {
				t.Errorf("server saw %d requests, want 1 (no retry)", n)
			}
			logs := env.logs.String()
			if !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, c.code) {
				t.Errorf("want an error log with code %s, got:\n%s", c.code, logs)
			}
			assertNoSecrets(t, "logs", logs, testSecret, cfg.AccessKeySecret, testIdentity.Name, testIdentity.Number)
			assertNoSecrets(t, "error", err.Error(), testSecret, cfg.AccessKeySecret, testIdentity.Name, testIdentity.Number)
		})
	}
}

// slowServer answers nothing until release is closed or the client goes.
func slowServer(t *testing.T) (endpoint string, hits *atomic.Int32, release func()) {
	t.Helper()
	done := make(chan struct{})
	hits = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-done:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	var once atomic.Bool
	release = func() {
		if once.CompareAndSwap(false, true) {
			close(done)
		}
	}
	t.Cleanup(srv.Close)
	t.Cleanup(release)
	return strings.TrimPrefix(srv.URL, "http://"), hits, release
}

func slowConfig(endpoint string) Config {
	return Config{
		AccessKeyID: testKeyID, AccessKeySecret: testSecret, SceneID: testScene,
		Endpoint: endpoint, Scheme: "http",
	}
}

func TestTimeoutHonoured(t *testing.T) {
	endpoint, hits, _ := slowServer(t)
	cfg := slowConfig(endpoint)
	cfg.Timeout = 150 * time.Millisecond
	cfg.MaxRetries = 1
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.backoffBase, p.backoffCap = time.Millisecond, time.Millisecond
	start := time.Now()
	_, err = p.CheckIdentity(t.Context(), testIdentity)
	elapsed := time.Since(start)
	if !errors.Is(err, realname.ErrProviderUnavailable) {
		t.Fatalf("err = %v, want ErrProviderUnavailable", err)
	}
	if !strings.Contains(err.Error(), "timeout") {
		t.Errorf("err = %q, want it to say timeout", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("took %v for 2 attempts of 150 ms", elapsed)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("server saw %d requests, want 2 (timeouts are retried)", n)
	}
	assertNoSecrets(t, "error", err.Error(), testIdentity.Name, testIdentity.Number)
}

// TestContextCancelsInFlight: the call returns when ctx ends, although the
// SDK cannot be interrupted; the abandoned attempt gives its client back.
func TestContextCancelsInFlight(t *testing.T) {
	endpoint, _, release := slowServer(t)
	cfg := slowConfig(endpoint)
	cfg.PoolSize = 1
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = p.FaceCheckResult(ctx, "0123456789abcdef0123456789abcdef")
	if time.Since(start) > time.Second {
		t.Errorf("took %v with a 100 ms context", time.Since(start))
	}
	if !errors.Is(err, realname.ErrProviderUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrProviderUnavailable and DeadlineExceeded", err)
	}

	// The only client is still busy: a second call waits for it, bounded
	// by its own context.
	ctx2, cancel2 := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel2()
	if _, err := p.CheckIdentity(ctx2, testIdentity); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second call: err = %v, want DeadlineExceeded while the pool is empty", err)
	}

	// Once the server answers, the client returns to the pool.
	release()
	deadline := time.Now().Add(5 * time.Second)
	for len(p.clients) != cap(p.clients) {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned attempt never gave its client back")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startSession opens a hosted check on the simulator and returns its ref.
func startSession(t *testing.T, p *Provider) string {
	t.Helper()
	s, err := p.StartFaceCheck(t.Context(), realname.FaceCheckRequest{
		OrderNo:       providertest.NewOrderNo("vf"),
		Identity:      testIdentity,
		CallbackURL:   "https://callback.example.com/cb",
		CallbackToken: "token0123456789",
	})
	if err != nil {
		t.Fatalf("StartFaceCheck: %v", err)
	}
	return s.Ref
}
