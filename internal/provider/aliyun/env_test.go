package aliyun

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/provider/cloudauthsim"
)

// Test credentials and the path the simulator is mounted under.
const (
	testKeyID  = "LTAI5tTestKeyId0001"
	testSecret = "test-secret-never-logged"
	testScene  = 1000001
	mountPath  = "/sandbox/cloudauth"
)

// simEnv is the Cloudauth simulator mounted under mountPath of a loopback
// server, with a callback receiver and a counter of HTTP requests per
// Action (the simulator's own Calls excludes injected failures).
type simEnv struct {
	sim      *cloudauthsim.Simulator
	srv      *httptest.Server
	endpoint string // host:port/sandbox/cloudauth
	logs     *syncBuffer

	mu   sync.Mutex
	hits map[string]int
}

// newSimEnv starts a simulator; it is torn down with tb.
func newSimEnv(tb testing.TB) *simEnv {
	tb.Helper()
	env := &simEnv{hits: make(map[string]int), logs: &syncBuffer{}}
	callbacks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	tb.Cleanup(callbacks.Close)

	env.srv = httptest.NewUnstartedServer(nil)
	host := env.srv.Listener.Addr().String()
	sim, err := cloudauthsim.New(cloudauthsim.Config{
		AccessKeyID:        testKeyID,
		AccessKeySecret:    testSecret,
		PublicURL:          "http://" + host + mountPath,
		CallbackRetryDelay: 10 * time.Millisecond,
	})
	if err != nil {
		tb.Fatalf("cloudauthsim.New: %v", err)
	}
	env.sim = sim
	inner := http.StripPrefix(mountPath, sim)
	env.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.URL.Query().Get("Action"); a != "" {
			env.mu.Lock()
			env.hits[a]++
			env.mu.Unlock()
		}
		inner.ServeHTTP(w, r)
	})
	env.srv.Start()
	tb.Cleanup(env.srv.Close)
	tb.Cleanup(func() { _ = sim.Close() })
	env.endpoint = host + mountPath
	return env
}

// hitCount reports how many HTTP requests of action reached the server.
func (e *simEnv) hitCount(action string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hits[action]
}

// config is a working Config for the simulator, with fast retries.
func (e *simEnv) config() Config {
	return Config{
		AccessKeyID:     testKeyID,
		AccessKeySecret: testSecret,
		SceneID:         testScene,
		Endpoint:        e.endpoint,
		Scheme:          "http",
		Timeout:         5 * time.Second,
		PoolSize:        8,
		Logger:          slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// provider builds a Provider from cfg with test backoffs.
func (e *simEnv) provider(tb testing.TB, cfg Config) *Provider {
	tb.Helper()
	p, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	p.backoffBase, p.backoffCap = 5*time.Millisecond, 20*time.Millisecond
	return p
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// assertNoSecrets fails if text holds any of the secrets or personal data
// (also in their URL-encoded form).
func assertNoSecrets(tb testing.TB, what, text string, secrets ...string) {
	tb.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(text, s) || strings.Contains(text, url.QueryEscape(s)) {
			tb.Errorf("%s contains %q", what, s)
		}
	}
}
