package cloudauthsim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/provider/cloudauthsim"
)

// browser does not follow redirects, so the tests see the 303.
var browser = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func postOutcome(t *testing.T, action, outcome string, accept string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", action, strings.NewReader(url.Values{"outcome": {outcome}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func checkPageHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; frame-ancestors 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
}

func TestFullFlow(t *testing.T) {
	tests := []struct {
		outcome, passed, subCode, faceAttack string
		returnURL                            string
		minScore, maxScore                   float64
	}{
		{"pass", "T", "200", "F", "https://app.example/done", 80, 100},
		{"face_mismatch", "F", "204", "F", "", 0, 50},
		{"liveness_attack", "F", "205", "T", "https://app.example/done?step=2#top", 0, 100},
		{"cancel", "", "", "", "https://app.example/done", 0, 0},
	}
	for i, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.client(t, testKeyID, testSecret)
			cb := newCallbackServer(t)
			req := e.initReq("flow"+string(rune('a'+i)), cb.URL+"/hook?tenant=t1")
			req.ReturnUrl = tt.returnURL
			init, err := c.InitFaceVerify(req)
			if err != nil || init.Code != "200" {
				t.Fatalf("init: %v %+v", err, init)
			}
			id, pageURL := init.ResultObject.CertifyId, init.ResultObject.CertifyUrl
			if d := e.describe(t, c, id); d.Code != "424" {
				t.Fatalf("describe before completion: %s", d.Code)
			}

			resp, body := get(t, pageURL)
			if resp.StatusCode != 200 {
				t.Fatalf("page status %d", resp.StatusCode)
			}
			checkPageHeaders(t, resp.Header)
			action := testPrefix + "/verify/" + id + "/complete"
			for _, want := range []string{`lang="zh-CN"`, `name="viewport"`, "SANDBOX", "沙箱", "不是真实的人脸识别",
				`method="post"`, `action="` + action + `"`, `href="` + testPrefix + `/static/sim.css"`,
				`value="pass"`, `value="face_mismatch"`, `value="liveness_attack"`, `value="cancel"`,
				"通过", "人脸不一致", "活体攻击", "取消"} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, banned := range []string{"<script", "style=", "<style", "张三", "11010119900307001X", "cb-token"} {
				if strings.Contains(body, banned) {
					t.Errorf("page contains %q", banned)
				}
			}

			resp, body = postOutcome(t, e.srv.URL+action, tt.outcome, "")
			switch {
			case tt.returnURL != "":
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("complete status %d, want 303: %s", resp.StatusCode, body)
				}
				loc, _ := url.Parse(resp.Header.Get("Location"))
				want, _ := url.Parse(tt.returnURL)
				if loc.Query().Get("certifyId") != id || loc.Host != want.Host || loc.Path != want.Path ||
					loc.Fragment != want.Fragment || (want.Query().Get("step") != "" && loc.Query().Get("step") != "2") {
					t.Fatalf("Location = %q", resp.Header.Get("Location"))
				}
			default:
				if resp.StatusCode != 200 || !strings.Contains(body, tt.subCode) || strings.Contains(body, "<form") {
					t.Fatalf("result page %d: %s", resp.StatusCode, body)
				}
			}

			if tt.outcome == "cancel" {
				time.Sleep(300 * time.Millisecond) // > 3 callback attempts at 50 ms
				if n := cb.count(); n != 0 {
					t.Fatalf("cancel sent %d callbacks", n)
				}
				if d := e.describe(t, c, id); d.Code != "424" || d.Message != "身份认证记录不存在" {
					t.Fatalf("describe after cancel: %s %s", d.Code, d.Message)
				}
			} else {
				cb.wait(t, 1, 2*time.Second)
				qs, methods, _ := cb.snapshot()
				q := qs[0]
				if methods[0] != "GET" || q.Get("certifyId") != id || q.Get("passed") != tt.subCode ||
					q.Get("callbackToken") != req.CallbackToken || q.Get("tenant") != "t1" {
					t.Fatalf("callback %s %v", methods[0], q)
				}
				d := e.describe(t, c, id)
				ro := d.ResultObject
				if d.Code != "200" || ro.Passed != tt.passed || ro.SubCode != tt.subCode {
					t.Fatalf("describe: %s %+v", d.Code, ro)
				}
				var mi struct {
					FaceAttack string `json:"faceAttack"`
					Front      *struct {
						VerifyScore float64 `json:"verifyScore"`
					} `json:"facialPictureFront"`
				}
				if err := json.Unmarshal([]byte(ro.MaterialInfo), &mi); err != nil || mi.Front == nil {
					t.Fatalf("MaterialInfo %q: %v", ro.MaterialInfo, err)
				}
				if mi.FaceAttack != tt.faceAttack || mi.Front.VerifyScore < tt.minScore || mi.Front.VerifyScore > tt.maxScore {
					t.Fatalf("MaterialInfo %s", ro.MaterialInfo)
				}
				time.Sleep(150 * time.Millisecond)
				if n := cb.count(); n != 1 {
					t.Fatalf("%d callbacks after a 200 answer, want 1", n)
				}
			}

			resp, _ = postOutcome(t, e.srv.URL+action, "pass", "")
			if resp.StatusCode != http.StatusConflict {
				t.Fatalf("second completion status %d, want 409", resp.StatusCode)
			}
			resp, body = get(t, pageURL)
			if resp.StatusCode != 200 || strings.Contains(body, "<form") || !strings.Contains(body, "SANDBOX") {
				t.Fatalf("finished page %d: %s", resp.StatusCode, body)
			}
			if err := e.sim.Complete(id, "pass"); !errors.Is(err, cloudauthsim.ErrAlreadyFinished) {
				t.Fatalf("Complete again: %v", err)
			}
		})
	}
}

func TestCallbackRetries(t *testing.T) {
	tests := []struct {
		name   string
		script []int
		want   int
	}{
		{"500 twice then 200", []int{500, 500, 200}, 3},
		{"always failing gives up after 3", []int{500, 503, 404, 500, 500}, 3},
		{"second attempt succeeds", []int{502}, 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.client(t, testKeyID, testSecret)
			cb := newCallbackServer(t, tt.script...)
			init, err := c.InitFaceVerify(e.initReq("retry"+string(rune('a'+i)), cb.URL))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := e.sim.Complete(init.ResultObject.CertifyId, "face_mismatch"); err != nil {
				t.Fatal(err)
			}
			cb.wait(t, tt.want, 3*time.Second)
			time.Sleep(200 * time.Millisecond) // would catch a 4th attempt
			qs, _, times := cb.snapshot()
			if len(qs) != tt.want {
				t.Fatalf("%d callbacks, want %d", len(qs), tt.want)
			}
			for j := 1; j < len(times); j++ {
				if gap := times[j].Sub(times[j-1]); gap < 45*time.Millisecond {
					t.Fatalf("attempt %d only %v after the previous", j+1, gap)
				}
			}
			if total := times[len(times)-1].Sub(start); total > 3*time.Second {
				t.Fatalf("callbacks took %v", total)
			}
			for _, q := range qs {
				if q.Get("passed") != "204" || q.Get("certifyId") != init.ResultObject.CertifyId {
					t.Fatalf("callback query %v", q)
				}
			}
		})
	}
}

func TestCloseStopsRetries(t *testing.T) {
	e := newEnv(t, func(c *cloudauthsim.Config) { c.CallbackRetryDelay = time.Hour })
	c := e.client(t, testKeyID, testSecret)
	cb := newCallbackServer(t, 500)
	init, err := c.InitFaceVerify(e.initReq("closing", cb.URL))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Complete(init.ResultObject.CertifyId, "pass"); err != nil {
		t.Fatal(err)
	}
	cb.wait(t, 1, 2*time.Second)
	done := make(chan struct{})
	go func() { _ = e.sim.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not stop the retry wait")
	}
	if n := cb.count(); n != 1 {
		t.Fatalf("%d callbacks, want 1", n)
	}
}

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
