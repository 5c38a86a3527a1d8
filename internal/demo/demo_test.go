package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/demo"
	"github.com/realname/realname/internal/realname"
)

// startApp runs a real realname in sandbox mode with a temporary data
// directory, as `realname serve` does.
func startApp(t *testing.T) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.PollInterval = 100 * time.Millisecond
	cfg.PollMinIdle = 200 * time.Millisecond
	cfg.AccessLog = false
	a, err := app.New(context.Background(), cfg, app.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	})
	return a
}

// browser is a person's browser on the demo: a cookie jar and same-origin
// JSON requests.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

type answer struct {
	Success   bool   `json:"success"`
	Code      string `json:"code"`
	Error     string `json:"error"`
	UserID    string `json:"user_id"`
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
	Sent      bool   `json:"sent"`
}

func (b *browser) do(method, path, contentType string, body []byte, hdr map[string]string) (int, answer, http.Header) {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, b.base+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		b.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, raw, err)
	}
	if !a.Success && (a.Code == "" || a.Error == "") {
		b.t.Errorf("%s %s: error answer without code or text: %s", method, path, raw)
	}
	return resp.StatusCode, a, resp.Header
}

func (b *browser) post(path string, body any) (int, answer) {
	b.t.Helper()
	raw, _ := json.Marshal(body)
	code, a, _ := b.do(http.MethodPost, path, "application/json", raw, nil)
	return code, a
}

// api calls realname's REST API with a bearer credential.
func api(t *testing.T, method, u, bearer string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, u, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

func consent() map[string]any {
	return map[string]any{"notice_version": realname.NoticeVersion, "accepted_at": time.Now().UTC().Format(time.RFC3339),
		"scopes": []string{"id_number", "face"}}
}

// verifyUser takes user through a sandbox face check with outcome, using
// the user token the demo minted (as the browser SDK does), and waits for
// the status to settle.
func verifyUser(t *testing.T, base, token, user, number, outcome string) string {
	t.Helper()
	var init struct {
		Success   bool   `json:"success"`
		VerifyURL string `json:"verify_url"`
		Code      string `json:"code"`
	}
	if code := api(t, http.MethodPost, base+"/api/v1/auth/init", token, map[string]any{
		"user_id": user, "real_name": "张三", "id_card_number": number, "consent": consent(),
	}, &init); code != 200 || init.VerifyURL == "" {
		t.Fatalf("init: %d %+v", code, init)
	}
	Complete(t, init.VerifyURL, outcome)
	want := map[string]string{"pass": "success", "face_mismatch": "failed", "liveness_attack": "failed"}[outcome]
	return WaitStatus(t, base, token, user, want)
}

// Complete finishes a sandbox face check as the provider's page would.
func Complete(t *testing.T, verifyURL, outcome string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(verifyURL+"/complete", url.Values{"outcome": {outcome}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 303 {
		t.Fatalf("complete %s: %d", outcome, resp.StatusCode)
	}
}

// WaitStatus polls the user's status until it is want.
func WaitStatus(t *testing.T, base, bearer, user, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var st struct {
			Status string `json:"status"`
		}
		api(t, http.MethodGet, base+"/api/v1/auth/status/"+user, bearer, nil, &st)
		if st.Status == want {
			return st.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("status of %s is %q, want %q", user, st.Status, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDemoBackend(t *testing.T) {
	a := startApp(t)
	base := a.URL()
	b := newBrowser(t, base)

	if code, ans, _ := b.do(http.MethodGet, "/demo/api/me", "", nil, nil); code != 401 || ans.Code != "NOT_SIGNED_IN" {
		t.Fatalf("me before signing in: %d %+v", code, ans)
	}
	if code, ans := b.post("/demo/api/token", nil); code != 401 {
		t.Fatalf("token before signing in: %d %+v", code, ans)
	}
	if code, ans := b.post("/demo/api/letters", map[string]string{"text": "你好"}); code != 401 {
		t.Fatalf("letter before signing in: %d %+v", code, ans)
	}

	// Sign in: a random demo user in an HttpOnly, SameSite=Strict cookie.
	raw, _ := json.Marshal(map[string]any{})
	req, _ := http.NewRequest(http.MethodPost, base+"/demo/api/signin", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var signin answer
	_ = json.NewDecoder(resp.Body).Decode(&signin)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(signin.UserID, "demo_") {
		t.Fatalf("signin: %d %+v", resp.StatusCode, signin)
	}
	setCookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{demo.CookieName + "=", "Path=/demo", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", setCookie, want)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	user := signin.UserID
	if code, ans, _ := b.do(http.MethodGet, "/demo/api/me", "", nil, nil); code != 200 || ans.UserID != user {
		t.Fatalf("me: %d %+v", code, ans)
	}

	// CSRF guards: JSON only, same origin only.
	if code, ans, _ := b.do(http.MethodPost, "/demo/api/letters", "text/plain", []byte(`{"text":"x"}`), nil); code != 415 {
		t.Errorf("text/plain letter: %d %+v", code, ans)
	}
	if code, ans, _ := b.do(http.MethodPost, "/demo/api/letters", "application/x-www-form-urlencoded", []byte("text=x"), nil); code != 415 {
		t.Errorf("form letter: %d %+v", code, ans)
	}
	if code, ans, _ := b.do(http.MethodPost, "/demo/api/token", "application/json", []byte(`{}`),
		map[string]string{"Sec-Fetch-Site": "cross-site"}); code != 403 || ans.Code != "CROSS_SITE" {
		t.Errorf("cross-site token: %d %+v", code, ans)
	}
	if code, ans, _ := b.do(http.MethodPost, "/demo/api/token", "application/json", []byte(`{}`),
		map[string]string{"Origin": "https://evil.example"}); code != 403 {
		t.Errorf("foreign Origin: %d %+v", code, ans)
	}

	// The user token works for this user only, against the real API.
	code, tok := b.post("/demo/api/token", nil)
	if code != 200 || !strings.HasPrefix(tok.Token, "ut2.") || tok.ExpiresAt == "" {
		t.Fatalf("token: %d %+v", code, tok)
	}
	var st struct{ Code string }
	if code := api(t, http.MethodGet, base+"/api/v1/auth/status/"+user, tok.Token, nil, &st); code != 404 || st.Code != "USER_NOT_FOUND" {
		t.Errorf("status with the demo's token: %d %+v", code, st)
	}
	if code := api(t, http.MethodGet, base+"/api/v1/auth/status/someone_else", tok.Token, nil, &st); code != 403 {
		t.Errorf("status of another user with the demo's token: %d %+v", code, st)
	}

	// Letters: bounded, and refused until the person is verified.
	for _, bad := range []string{"", "   ", strings.Repeat("信", demo.MaxLetterRunes+1)} {
		if code, ans := b.post("/demo/api/letters", map[string]string{"text": bad}); code != 400 || ans.Code != "INVALID_LETTER" {
			t.Errorf("letter of %d chars: %d %+v", len(bad), code, ans)
		}
	}
	if code, ans := b.post("/demo/api/letters", map[string]any{"text": "x", "to": "y"}); code != 400 || ans.Code != "INVALID_JSON" {
		t.Errorf("unknown field: %d %+v", code, ans)
	}
	huge, _ := json.Marshal(map[string]string{"text": strings.Repeat("a", 20<<10)})
	if code, ans, _ := b.do(http.MethodPost, "/demo/api/letters", "application/json", huge, nil); code != 413 {
		t.Errorf("huge letter: %d %+v", code, ans)
	}
	code, ans := b.post("/demo/api/letters", map[string]string{"text": "妈妈，我很好。"})
	if code != 403 || ans.Code != "NOT_VERIFIED" || !strings.Contains(ans.Error, "实名认证") {
		t.Fatalf("unverified letter: %d %+v", code, ans)
	}

	// A failed face check still refuses; a passed one lets the letter go.
	verifyUser(t, base, tok.Token, user, "11010519491231002X", "face_mismatch")
	if code, ans := b.post("/demo/api/letters", map[string]string{"text": "妈妈，我很好。"}); code != 403 || ans.Code != "NOT_VERIFIED" {
		t.Fatalf("letter after a failed check: %d %+v", code, ans)
	}
	verifyUser(t, base, tok.Token, user, "11010519491231002X", "pass")
	code, ans = b.post("/demo/api/letters", map[string]string{"text": " 妈妈，我很好。 "})
	if code != 200 || !ans.Sent {
		t.Fatalf("verified letter: %d %+v", code, ans)
	}

	// Another person's browser is another user: not verified.
	other := newBrowser(t, base)
	other.post("/demo/api/signin", nil)
	if code, ans := other.post("/demo/api/letters", map[string]string{"text": "你好"}); code != 403 {
		t.Errorf("other user's letter: %d %+v", code, ans)
	}

	// A forged cookie is nobody.
	u, _ := url.Parse(base + "/demo/")
	forged := newBrowser(t, base)
	forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: demo.CookieName, Value: user + ".9999999999.AAAA", Path: "/demo"}})
	if code, ans, _ := forged.do(http.MethodGet, "/demo/api/me", "", nil, nil); code != 401 {
		t.Errorf("forged cookie: %d %+v", code, ans)
	}

	// Signing out ends the session.
	if code, _ := b.post("/demo/api/signout", nil); code != 200 {
		t.Errorf("signout: %d", code)
	}
	if code, _, _ := b.do(http.MethodGet, "/demo/api/me", "", nil, nil); code != 401 {
		t.Errorf("me after signout: %d", code)
	}
	if code, ans, _ := b.do(http.MethodGet, "/demo/api/nope", "", nil, nil); code != 404 {
		t.Errorf("unknown route: %d %+v", code, ans)
	}
}

func TestDemoPageIsServed(t *testing.T) {
	a := startApp(t)
	resp, err := http.Get(a.URL() + "/demo/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("/demo/: %d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{`lang="zh-CN"`, `src="demo.js"`, `href="demo.css"`, `aria-live`, "沙箱"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "style=", "http://", "https://", "onclick"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("the page has %q (CSP or third-party requests)", bad)
		}
	}
	js, err := http.Get(a.URL() + "/demo/demo.js")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := io.ReadAll(js.Body)
	js.Body.Close()
	if js.StatusCode != 200 || !bytes.Contains(src, []byte(`from '/sdk/realname.js'`)) {
		t.Errorf("demo.js: %d, imports the SDK?", js.StatusCode)
	}
	// The notice comes from the API (the SDK's getNotice), and its version
	// is the one sent with the consent: neither page nor script carries a
	// copy of the text or of the version.
	for _, want := range []string{"auth.getNotice(", "notice_version: notice.version", "n.consents.id_number", "n.consents.face"} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("demo.js lacks %q", want)
		}
	}
	for _, bad := range []string{realname.NoticeVersion, "NOTICE_VERSION", "阿里云实人认证服务", "第二十八"} {
		if bytes.Contains(src, []byte(bad)) || bytes.Contains(page, []byte(bad)) {
			t.Errorf("demo.js or index.html has its own copy of the notice: %q", bad)
		}
	}
	// The SDK's classic build, for pages without modules.
	g, err := http.Get(a.URL() + "/sdk/realname.global.js")
	if err != nil {
		t.Fatal(err)
	}
	gsrc, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if g.StatusCode != 200 || !strings.Contains(g.Header.Get("Content-Type"), "javascript") || !bytes.Contains(gsrc, []byte("RealnameAuth")) {
		t.Errorf("/sdk/realname.global.js: %d %q, %d bytes", g.StatusCode, g.Header.Get("Content-Type"), len(gsrc))
	}
}

func TestBannerNamesTheDemo(t *testing.T) {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	var out bytes.Buffer
	a, err := app.New(context.Background(), cfg, app.Options{Getenv: func(string) string { return "" }, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = a.Run(ctx)
	if want := "demo: " + a.URL() + "/demo/\n"; !strings.Contains(out.String(), want) {
		t.Errorf("banner %q lacks %q", out.String(), want)
	}
}

// Outside sandbox mode the page stays static and its API says why it is
// off; the banner names no demo.
func TestDemoOffOutsideSandbox(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := config.Default()
	cfg.Addr = addr
	cfg.PublicURL = "http://" + addr
	cfg.DataDir = t.TempDir()
	cfg.Provider = "aliyun"
	cfg.APIKey = "rk_test_" + strings.Repeat("k", 32)
	cfg.Aliyun = config.Aliyun{AccessKeyID: "ak", AccessKeySecret: "secret-0123456789abcdef", SceneID: 1000000006,
		Endpoint: "http://127.0.0.1:1"} // never called here
	var out bytes.Buffer
	a, err := app.New(context.Background(), cfg, app.Options{Getenv: func(string) string { return "" }, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if strings.Contains(out.String(), "demo:") {
		t.Errorf("banner outside sandbox mode: %q", out.String())
	}
	b := newBrowser(t, a.URL())
	for _, c := range []struct{ method, path string }{{"POST", "/demo/api/signin"}, {"GET", "/demo/api/me"}} {
		code, ans, _ := b.do(c.method, c.path, "application/json", []byte(`{}`), nil)
		if code != 404 || ans.Code != "DEMO_DISABLED" {
			t.Errorf("%s %s outside sandbox mode: %d %+v", c.method, c.path, code, ans)
		}
	}
	resp, err := http.Get(a.URL() + "/demo/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/demo/ outside sandbox mode: %d", resp.StatusCode)
	}
}

func TestDisabledOutsideSandbox(t *testing.T) {
	rec := httptest.NewRecorder()
	demo.Disabled().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/demo/api/signin", nil))
	var ans answer
	_ = json.Unmarshal(rec.Body.Bytes(), &ans)
	if rec.Code != 404 || ans.Code != "DEMO_DISABLED" || !strings.Contains(ans.Error, "sandbox") {
		t.Errorf("disabled: %d %s", rec.Code, rec.Body)
	}
}

func TestRealnameDown(t *testing.T) {
	s, err := demo.New(demo.Config{RealnameURL: "http://127.0.0.1:1", APIKey: "rk_test_" + strings.Repeat("k", 32)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	b := newBrowser(t, srv.URL)
	if code, ans := b.post("/demo/api/signin", nil); code != 200 {
		t.Fatalf("signin: %d %+v", code, ans)
	}
	if code, ans := b.post("/demo/api/letters", map[string]string{"text": "你好"}); code != 502 || ans.Code != "UPSTREAM_UNAVAILABLE" {
		t.Errorf("letter with realname down: %d %+v", code, ans)
	}
}
