package cloudauthsim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
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
		{"script", "GET", "/static/sim.js", 200, "sim-camera-status", "text/javascript"},
		{"script by POST", "POST", "/static/sim.js", 405, "", ""},
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
				checkSandboxHeaders(t, resp.Header, "")
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

// wantCSP is the page's Content-Security-Policy; formOrigin is the
// session's ReturnUrl origin, which the form's 303 goes to.
func wantCSP(formOrigin string) string {
	if formOrigin != "" {
		formOrigin = " " + formOrigin
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"media-src 'self' blob: mediastream:; connect-src 'self'; form-action 'self'" + formOrigin + "; " +
		"base-uri 'none'; frame-ancestors 'self'"
}

func checkSandboxHeaders(t *testing.T, h http.Header, formOrigin string) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": wantCSP(formOrigin),
		"X-Frame-Options":         "SAMEORIGIN",
		"Permissions-Policy":      "camera=(self), microphone=(), geolocation=()",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

var (
	scriptTagRE = regexp.MustCompile(`(?s)<script\b[^>]*>(.*?)</script>`)
	attrRE      = regexp.MustCompile(`(?i)\s(on[a-z]+|style)\s*=`)
	assetRE     = regexp.MustCompile(`(?:src|href)="(/sandbox/cloudauth/static/sim\.(?:js|css)\?v=[0-9a-f]{16})"`)
)

// pendingPage starts a session (with returnURL, if any) and GETs its page.
func pendingPage(t *testing.T, e *env, order, returnURL string) (*http.Response, string) {
	t.Helper()
	c := e.client(t, testKeyID, testSecret)
	cb := newCallbackServer(t)
	req := e.initReq(order, cb.URL)
	req.ReturnUrl = returnURL
	init, err := c.InitFaceVerify(req)
	if err != nil {
		t.Fatal(err)
	}
	return get(t, init.ResultObject.CertifyUrl)
}

func TestPageMarkup(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := pendingPage(t, e, "markup", "")
	if resp.StatusCode != 200 {
		t.Fatalf("page status %d", resp.StatusCode)
	}
	checkSandboxHeaders(t, resp.Header, "")

	// No inline script or style: every <script> has a src and no body.
	scripts := scriptTagRE.FindAllStringSubmatch(body, -1)
	if len(scripts) != 1 || strings.TrimSpace(scripts[0][1]) != "" ||
		!strings.Contains(scripts[0][0], `src="/sandbox/cloudauth/static/sim.js?v=`) {
		t.Errorf("want exactly one external script, got %q", scripts)
	}
	if strings.Count(body, "<script") != 1 {
		t.Errorf("stray <script in page")
	}
	for _, banned := range []string{"<style", "javascript:", "http://", "https://", "//fonts.", "张三", "11010119900307001X"} {
		if strings.Contains(body, banned) {
			t.Errorf("page contains %q", banned)
		}
	}
	if m := attrRE.FindString(body); m != "" {
		t.Errorf("page has an inline handler or style attribute: %q", m)
	}
	if assets := assetRE.FindAllString(body, -1); len(assets) != 2 {
		t.Errorf("want versioned sim.js and sim.css, got %q", assets)
	}

	for _, want := range []string{
		`<html lang="zh-CN">`, `name="viewport"`,
		"<title>【沙箱】", "SANDBOX</title>", `<header class="sandbox">`, "不是真实的人脸识别",
		`<main aria-labelledby="sim-title">`, `aria-current="step"`, "准备", "活体检测", "完成",
		`id="sim-start"`, `<video id="sim-camera"`, `muted playsinline`,
		`id="sim-camera-status" class="status" role="status" aria-live="polite"`,
		`id="sim-skip-camera"`, `id="sim-camera-next"`,
		"不会被录制、截取或上传",
		`method="post" action="/sandbox/cloudauth/verify/`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Real buttons with Chinese and English accessible names.
	for _, c := range []struct{ value, zh string }{
		{"pass", "通过"}, {"face_mismatch", "人脸不一致"}, {"liveness_attack", "活体攻击"}, {"cancel", "取消"},
	} {
		want := `<button type="submit" name="outcome" value="` + c.value + `" class="choice ` + c.value + `">` +
			`<span class="zh">` + c.zh + `</span> <span class="en" lang="en">` + c.value + `</span></button>`
		if !strings.Contains(body, want) {
			t.Errorf("page lacks the %s button %q", c.value, want)
		}
	}
	// Every <button> is a real button with a type.
	if strings.Count(body, "<button") != strings.Count(body, `<button type="`) {
		t.Error("a button without a type")
	}
}

func TestPageFormActionAllowsReturnOrigin(t *testing.T) {
	e := newEnv(t, nil)
	resp, _ := pendingPage(t, e, "formaction", "https://App.example:8443/done?step=2#top")
	checkSandboxHeaders(t, resp.Header, "https://App.example:8443")
}

func TestResultPagesHaveNoScript(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := get(t, e.public+"/verify/"+strings.Repeat("e", 32))
	if resp.StatusCode != 404 || strings.Contains(body, "<script") || !strings.Contains(body, "SANDBOX") {
		t.Fatalf("not-found page %d: %s", resp.StatusCode, body)
	}
	checkSandboxHeaders(t, resp.Header, "")
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t, nil)
	_, page := pendingPage(t, e, "assets", "")
	assets := assetRE.FindAllStringSubmatch(page, -1)
	if len(assets) != 2 {
		t.Fatalf("versioned assets %q", assets)
	}
	base := strings.TrimSuffix(e.public, testPrefix)
	for _, a := range assets {
		versioned := a[1]
		plain, _, _ := strings.Cut(versioned, "?")
		wantType := "text/javascript; charset=utf-8"
		if strings.HasSuffix(plain, ".css") {
			wantType = "text/css; charset=utf-8"
		}
		t.Run(plain, func(t *testing.T) {
			resp, body := get(t, base+versioned)
			h := resp.Header
			if resp.StatusCode != 200 || h.Get("Content-Type") != wantType || len(body) == 0 ||
				h.Get("Content-Length") != strconv.Itoa(len(body)) || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("Cache-Control") != "public, max-age=31536000, immutable" || h.Get("ETag") == "" {
				t.Fatalf("versioned: %d %v", resp.StatusCode, h)
			}
			etag := h.Get("ETag")
			resp, body2 := get(t, base+plain)
			if resp.StatusCode != 200 || body2 != body || resp.Header.Get("Cache-Control") != "no-cache" ||
				resp.Header.Get("ETag") != etag {
				t.Fatalf("plain: %d %v", resp.StatusCode, resp.Header)
			}
			req, _ := http.NewRequest("GET", base+plain, nil)
			req.Header.Set("If-None-Match", etag)
			resp, err := browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotModified {
				t.Fatalf("revalidation: %d", resp.StatusCode)
			}
			req, _ = http.NewRequest("HEAD", base+versioned, nil)
			resp, err = browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != wantType {
				t.Fatalf("HEAD: %d %v", resp.StatusCode, resp.Header)
			}
			if strings.HasSuffix(plain, ".js") {
				// The ids the browser tests rely on are documented, and
				// the script never sends the video anywhere.
				for _, id := range []string{"#sim-start", "#sim-camera ", "#sim-camera-status", "#sim-skip-camera",
					"button[name=outcome][value=pass|face_mismatch|liveness_attack|cancel]",
					`facingMode: "user"`, "getTracks()", "track.stop()", NoCameraText} {
					if !strings.Contains(body, id) {
						t.Errorf("sim.js lacks %q", id)
					}
				}
				for _, banned := range []string{"fetch(", "XMLHttpRequest", "MediaRecorder", "toDataURL", "toBlob",
					"drawImage", "sendBeacon", "WebSocket", "innerHTML", "eval(", "http://", "https://"} {
					if strings.Contains(body, banned) {
						t.Errorf("sim.js contains %q", banned)
					}
				}
			}
		})
	}
}

// NoCameraText is the camera step's message without a usable camera.
const NoCameraText = "未检测到摄像头，沙箱可以不用摄像头继续"

// TestNoScriptFormStillCompletes is the no-JavaScript path for every
// outcome: the page's form fields POSTed as a browser without script would.
func TestNoScriptFormStillCompletes(t *testing.T) {
	for _, outcome := range []string{"pass", "face_mismatch", "liveness_attack", "cancel"} {
		t.Run(outcome, func(t *testing.T) {
			e := newEnv(t, nil)
			_, page := pendingPage(t, e, "nojs"+strings.ReplaceAll(outcome, "_", ""), "")
			m := regexp.MustCompile(`<form [^>]*method="post" action="([^"]+)"`).FindStringSubmatch(page)
			if m == nil || !strings.Contains(page, `name="outcome" value="`+outcome+`"`) {
				t.Fatalf("no form or no %s button", outcome)
			}
			resp, body := postOutcome(t, strings.TrimSuffix(e.public, testPrefix)+m[1], outcome, "")
			if resp.StatusCode != 200 || strings.Contains(body, "<form") || strings.Contains(body, "<script") ||
				!strings.Contains(body, "SANDBOX") || !strings.Contains(body, `role="status"`) {
				t.Fatalf("result page %d: %s", resp.StatusCode, body)
			}
			checkSandboxHeaders(t, resp.Header, "")
		})
	}
}
