package app_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/provider/cloudauthsim"
)

// callbackRecorder is the simulator's HTTP client: it records every callback
// URL and can drop them as a lossy network would.
type callbackRecorder struct {
	drop atomic.Bool
	mu   sync.Mutex
	urls []string
}

func (c *callbackRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.urls = append(c.urls, r.URL.String())
	c.mu.Unlock()
	if c.drop.Load() {
		return nil, errors.New("callback lost in transit (test)")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (c *callbackRecorder) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.urls...)
}

// staging is realname with provider "aliyun" pointed at a standalone
// simulator, as an operator stages a real deployment. The simulator
// outlives restarts of realname.
type staging struct {
	sim       *cloudauthsim.Simulator
	initDelay atomic.Int64 // nanoseconds the simulator waits before InitFaceVerify
	callbacks *callbackRecorder
	cfg       config.Config
	key       string
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newStaging(t *testing.T) *staging {
	t.Helper()
	s := &staging{callbacks: &callbackRecorder{}, key: "rk_test_" + strings.Repeat("k", 32)}
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Action") == "InitFaceVerify" {
			time.Sleep(time.Duration(s.initDelay.Load()))
		}
		handler.ServeHTTP(w, r)
	}))
	simURL := "http://" + srv.Listener.Addr().String()
	var err error
	s.sim, err = cloudauthsim.New(cloudauthsim.Config{
		AccessKeyID: "staging-ak", AccessKeySecret: "staging-secret-0123456789", PublicURL: simURL,
		HTTPClient: &http.Client{Transport: s.callbacks, Timeout: 2 * time.Second}, CallbackRetryDelay: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = s.sim
	srv.Start()
	t.Cleanup(func() { srv.Close(); s.sim.Close() })
	addr := freeAddr(t)
	s.cfg = testConfig(t)
	s.cfg.Addr = addr
	s.cfg.PublicURL = "http://" + addr
	s.cfg.Provider = "aliyun"
	s.cfg.APIKey = s.key
	s.cfg.Aliyun = config.Aliyun{AccessKeyID: "staging-ak", AccessKeySecret: "staging-secret-0123456789", SceneID: 1000000006, Endpoint: simURL}
	return s
}

func (s *staging) start(t *testing.T) (*running, client) {
	r := start(t, s.cfg, nil)
	return r, client{t: t, base: r.URL(), key: s.key}
}

func TestLostCallbackIsFinishedByThePoller(t *testing.T) {
	s := newStaging(t)
	_, c := s.start(t)
	s.callbacks.drop.Store(true)
	code, a := c.init("lost", testName, testNumber)
	if code != 200 {
		t.Fatalf("init: %d %+v", code, a)
	}
	complete(t, a.VerifyURL, "pass")
	c.waitStatus(a.CertifyID, "success")
	if n := len(s.callbacks.seen()); n < 1 {
		t.Fatalf("the simulator made %d callback attempts", n)
	}
}

func TestDuplicateCallbacksChangeStateOnce(t *testing.T) {
	s := newStaging(t)
	r, c := s.start(t)
	_, a := c.init("dup", testName, testNumber)
	complete(t, a.VerifyURL, "face_mismatch")
	c.waitStatus(a.CertifyID, "failed")
	urls := s.callbacks.seen()
	if len(urls) == 0 {
		t.Fatal("no callback recorded")
	}
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			resp, err := http.Get(urls[0])
			if err != nil {
				codes <- -1
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 200 {
			t.Fatalf("a repeated callback got %d, want 200", code)
		}
	}
	if q := c.query(a.CertifyID); q.Status != "failed" || q.FailReason != "FACE_MISMATCH" {
		t.Fatalf("after duplicates: %+v", q)
	}
	body := get(t, r.URL()+"/metrics")
	if !bytes.Contains(body, []byte(`realname_auth_failure_total{status="failed"} 1`)) {
		t.Fatalf("the session finished more than once:\n%s", grepLines(body, "realname_auth_failure_total"))
	}
	// A forged token is refused.
	forged := strings.Replace(urls[0], "callbackToken=", "callbackToken=x", 1)
	resp, err := http.Get(forged)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("forged callback: %d", resp.StatusCode)
	}
}

func TestProviderDownLosesNothing(t *testing.T) {
	s := newStaging(t)
	r, c := s.start(t)
	for _, action := range []string{"Id2MetaVerify", "InitFaceVerify"} {
		t.Run(action, func(t *testing.T) {
			user := "down-" + action
			s.sim.FailNext(action, 4, http.StatusServiceUnavailable) // the adapter tries 1 + 3 retries
			req, _ := http.NewRequest("POST", r.URL()+"/api/v1/auth/init", strings.NewReader(mustJSON(map[string]any{
				"user_id": user, "real_name": testName, "id_card_number": map[string]string{"Id2MetaVerify": testNumber, "InitFaceVerify": numberB}[action], "consent": consent()})))
			req.Header.Set("Authorization", "Bearer "+s.key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 503 || !bytes.Contains(raw, []byte("PROVIDER_UNAVAILABLE")) || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("init while the provider is down: %d %s %v", resp.StatusCode, raw, resp.Header)
			}
			first, err := r.Service().Status(context.Background(), user)
			if err != nil || first.Status != "pending" {
				t.Fatalf("the session was not kept: %+v %v", first, err)
			}
			code, a := c.init(user, testName, map[string]string{"Id2MetaVerify": testNumber, "InitFaceVerify": numberB}[action])
			if code != 200 || a.CertifyID != first.CertifyID {
				t.Fatalf("resume: %d %+v, want certify id %s", code, a, first.CertifyID)
			}
			complete(t, a.VerifyURL, "pass")
			c.waitStatus(a.CertifyID, "success")
		})
	}
}

func TestRestartInTheMiddle(t *testing.T) {
	s := newStaging(t)
	r, c := s.start(t)
	ring := filepath.Join(s.cfg.DataDir, "keys", "keyring.json")
	keysBefore, err := os.ReadFile(ring)
	if err != nil {
		t.Fatal(err)
	}
	_, before := c.init("restart-a", testName, testNumber) // completed while realname is down
	_, after := c.init("restart-b", "李四", numberB)         // completed after the restart
	r.stop()
	complete(t, before.VerifyURL, "pass") // its callbacks fail: nobody listens
	r2, c2 := s.start(t)
	keysAfter, err := os.ReadFile(ring)
	if err != nil || !bytes.Equal(keysBefore, keysAfter) {
		t.Fatal("the restart changed the keys")
	}
	c2.waitStatus(before.CertifyID, "success")
	complete(t, after.VerifyURL, "pass")
	c2.waitStatus(after.CertifyID, "success")
	var st struct {
		RealName string `json:"real_name"`
	}
	if code := c2.call("GET", "/api/v1/auth/status/restart-b", nil, &st); code != 200 || st.RealName != "李*" {
		t.Fatalf("status after restart: %d %+v", code, st)
	}
	_ = r2
}

func TestKeysAreNeverRegeneratedOverData(t *testing.T) {
	s := newStaging(t)
	r, c := s.start(t)
	c.init("k1", testName, testNumber)
	r.stop()
	if err := os.RemoveAll(filepath.Join(s.cfg.DataDir, "keys")); err != nil {
		t.Fatal(err)
	}
	_, err := newApp(s.cfg)
	if err == nil || !strings.Contains(err.Error(), "refusing to generate new keys") {
		t.Fatalf("start without keys over existing data: %v", err)
	}
}

func get(t *testing.T, u string) []byte {
	t.Helper()
	_, b := getPublic(t, u)
	return b
}

func grepLines(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + " (" + strconv.Itoa(len(out)) + " lines)"
}

func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	s := newStaging(t)
	r, c := s.start(t)
	s.initDelay.Store(int64(800 * time.Millisecond))
	type result struct {
		code int
		a    initAnswer
	}
	res := make(chan result, 1)
	go func() {
		code, a := c.init("inflight", testName, testNumber)
		res <- result{code, a}
	}()
	time.Sleep(300 * time.Millisecond) // the request is now waiting on the provider
	stopped := make(chan struct{})
	go func() { r.stop(); close(stopped) }()
	got := <-res
	if got.code != 200 || got.a.VerifyURL == "" {
		t.Fatalf("in-flight init during shutdown: %d %+v", got.code, got.a)
	}
	<-stopped
	if _, err := http.Get(r.URL() + "/health"); err == nil {
		t.Fatal("the server still answers after shutdown")
	}
	s.initDelay.Store(0)
	_, c2 := s.start(t)
	if q := c2.query(got.a.CertifyID); q.Status != "processing" {
		t.Fatalf("after restart the session is %+v, want processing", q)
	}
	complete(t, got.a.VerifyURL, "pass")
	c2.waitStatus(got.a.CertifyID, "success")
}
