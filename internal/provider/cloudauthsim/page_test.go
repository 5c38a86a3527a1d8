package cloudauthsim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/provider/cloudauthsim"
)

func TestCompleteJSONAndErrors(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, testKeyID, testSecret)
	cb := newCallbackServer(t)
	init, err := c.InitFaceVerify(e.initReq("jsonorder", cb.URL))
	if err != nil {
		t.Fatal(err)
	}
	id := init.ResultObject.CertifyId
	base := e.public + "/verify/"
	tests := []struct {
		name, id, outcome string
		status            int
	}{
		{"unknown id", strings.Repeat("b", 32), "pass", 404},
		{"malformed id", "NOT-HEX", "pass", 404},
		{"unknown outcome", id, "maybe", 400},
		{"empty outcome", id, "", 400},
		{"liveness attack", id, "liveness_attack", 200},
		{"again", id, "pass", 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := postOutcome(t, base+tt.id+"/complete", tt.outcome, "application/json")
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatalf("not JSON: %s", body)
			}
			if tt.status == 200 && (m["certify_id"] != id || m["outcome"] != "liveness_attack" || m["sub_code"] != "205") {
				t.Fatalf("answer %v", m)
			}
			if tt.status != 200 && m["error"] == "" {
				t.Fatalf("error answer %v", m)
			}
		})
	}
	cb.wait(t, 1, 2*time.Second)
	if err := e.sim.Complete(strings.Repeat("c", 32), "pass"); !errors.Is(err, cloudauthsim.ErrUnknownSession) {
		t.Fatalf("Complete unknown: %v", err)
	}
}

func TestPagesAndRoutes(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name, method, path string
		status             int
		contains           string
		contentType        string
	}{
		{"stylesheet", "GET", "/static/sim.css", 200, ".sandbox", "text/css"},
		{"unknown page", "GET", "/verify/" + strings.Repeat("d", 32), 404, "未找到", "text/html"},
		{"bad id page", "GET", "/verify/xyz", 404, "SANDBOX", "text/html"},
		{"complete by GET", "GET", "/verify/" + strings.Repeat("d", 32) + "/complete", 405, "", ""},
		{"page by POST", "POST", "/verify/" + strings.Repeat("d", 32), 405, "", ""},
		{"unknown route", "GET", "/nope", 404, "", ""},
		{"deeper verify route", "GET", "/verify/" + strings.Repeat("d", 32) + "/x", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.public+tt.path, nil)
			resp, err := browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.contains) ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
			if tt.contentType == "text/html" {
				checkPageHeaders(t, resp.Header)
			}
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, func(c *cloudauthsim.Config) {
		c.Now = clock.Now
		c.SessionTTL = 5 * time.Minute
	})
	c := e.client(t, testKeyID, testSecret)
	cb := newCallbackServer(t)
	init, err := c.InitFaceVerify(e.initReq("expiring", cb.URL))
	if err != nil {
		t.Fatal(err)
	}
	id := init.ResultObject.CertifyId
	clock.Advance(6 * time.Minute) // past the TTL, within the clock skew
	if d := e.describe(t, c, id); d.Code != "424" {
		t.Fatalf("describe expired: %s", d.Code)
	}
	if err := e.sim.Complete(id, "pass"); !errors.Is(err, cloudauthsim.ErrSessionExpired) {
		t.Fatalf("Complete expired: %v", err)
	}
	resp, body := get(t, init.ResultObject.CertifyUrl)
	if resp.StatusCode != http.StatusGone || strings.Contains(body, "<form") {
		t.Fatalf("expired page %d", resp.StatusCode)
	}
	time.Sleep(150 * time.Millisecond)
	if cb.count() != 0 {
		t.Fatal("callback for an expired session")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  cloudauthsim.Config
		ok   bool
	}{
		{"ok", cloudauthsim.Config{AccessKeyID: "a", AccessKeySecret: "b", PublicURL: "http://127.0.0.1:8001/sandbox/cloudauth"}, true},
		{"trailing slash trimmed", cloudauthsim.Config{AccessKeyID: "a", AccessKeySecret: "b", PublicURL: "https://x.example/"}, true},
		{"no key", cloudauthsim.Config{AccessKeySecret: "b", PublicURL: "http://x"}, false},
		{"no secret", cloudauthsim.Config{AccessKeyID: "a", PublicURL: "http://x"}, false},
		{"no public url", cloudauthsim.Config{AccessKeyID: "a", AccessKeySecret: "b"}, false},
		{"relative public url", cloudauthsim.Config{AccessKeyID: "a", AccessKeySecret: "b", PublicURL: "/sandbox"}, false},
		{"public url with query", cloudauthsim.Config{AccessKeyID: "a", AccessKeySecret: "b", PublicURL: "http://x/?a=b"}, false},
		{"negative delay", cloudauthsim.Config{AccessKeyID: "a", AccessKeySecret: "b", PublicURL: "http://x", CallbackRetryDelay: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := cloudauthsim.New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v", err)
			}
			if s != nil {
				_ = s.Close()
			}
		})
	}
}

func TestLogsHaveNoPersonalData(t *testing.T) {
	var buf syncBuffer
	e := newEnv(t, func(c *cloudauthsim.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	c := e.client(t, testKeyID, testSecret)
	cb := newCallbackServer(t, 500, 500, 500)
	req := e.initReq("logs", cb.URL+"/hook?secret=s3")
	init, err := c.InitFaceVerify(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Complete(init.ResultObject.CertifyId, "pass"); err != nil {
		t.Fatal(err)
	}
	cb.wait(t, 3, 3*time.Second)
	_ = e.sim.Close()
	logs := buf.String()
	if !strings.Contains(logs, "callback gave up") || !strings.Contains(logs, init.ResultObject.CertifyId) {
		t.Fatalf("expected a warning about the callback, got:\n%s", logs)
	}
	for _, secret := range []string{req.CertName, req.CertNo, req.CallbackToken, "s3", testSecret} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain %q:\n%s", secret, logs)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
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
