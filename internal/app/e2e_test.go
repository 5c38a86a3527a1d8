package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/config"
	sqlstore "github.com/realname/realname/internal/storage/sql"
)

// Sandbox identities and a valid test number.
const (
	testNumber = "11010519491231002X"
	testName   = "张三"
	numberB    = "440524188001010014"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}

// running is an App serving in the background.
type running struct {
	*app.App
	stop func()
	done chan error
	logs *syncBuffer
}

func testConfig(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.PollInterval = 100 * time.Millisecond
	cfg.PollMinIdle = 200 * time.Millisecond
	return cfg
}

func start(t *testing.T, cfg config.Config, getenv func(string) string) *running {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	a, err := app.New(context.Background(), cfg, app.Options{Logger: log, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{App: a, logs: logs, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-r.done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(r.stop)
	return r
}

// client calls the API with a bearer credential.
type client struct {
	t    *testing.T
	base string
	key  string
}

func (c client) call(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

func consent() map[string]any {
	return map[string]any{"notice_version": "2026-11-01", "accepted_at": time.Now().UTC().Format(time.RFC3339), "scopes": []string{"id_number", "face"}}
}

type initAnswer struct {
	Success   bool   `json:"success"`
	CertifyID string `json:"certify_id"`
	VerifyURL string `json:"verify_url"`
	Code      string `json:"code"`
	Error     string `json:"error"`
}

type queryAnswer struct {
	Success    bool     `json:"success"`
	Status     string   `json:"status"`
	Passed     bool     `json:"passed"`
	UserID     string   `json:"user_id"`
	AuthTime   *string  `json:"auth_time"`
	ExpireTime *string  `json:"expire_time"`
	Score      *float64 `json:"face_compare_score"`
	FailReason string   `json:"fail_reason"`
}

func (c client) init(user, name, number string) (int, initAnswer) {
	var a initAnswer
	code := c.call("POST", "/api/v1/auth/init", map[string]any{"user_id": user, "real_name": name, "id_card_number": number, "consent": consent()}, &a)
	return code, a
}

func (c client) query(certifyID string) queryAnswer {
	var q queryAnswer
	if code := c.call("POST", "/api/v1/auth/query", map[string]any{"certify_id": certifyID}, &q); code != 200 {
		c.t.Fatalf("query %s: %d", certifyID, code)
	}
	return q
}

// waitStatus polls query until the status is want.
func (c client) waitStatus(certifyID, want string) queryAnswer {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		q := c.query(certifyID)
		if q.Status == want {
			return q
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("status of %s is %s, want %s", certifyID, q.Status, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// complete finishes the sandbox page the way a person does: GET the page,
// then POST the outcome form.
func complete(t *testing.T, verifyURL, outcome string) {
	t.Helper()
	if strings.Contains(verifyURL, "?") {
		t.Fatalf("verify_url has a query string: %s", verifyURL)
	}
	resp, err := http.Get(verifyURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte("SANDBOX")) || !bytes.Contains(page, []byte(`value="`+outcome+`"`)) {
		t.Fatalf("sandbox page: %d\n%s", resp.StatusCode, page)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.PostForm(verifyURL+"/complete", url.Values{"outcome": {outcome}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 303 {
		t.Fatalf("complete %s: %d", outcome, resp.StatusCode)
	}
}

func TestSandboxEndToEnd(t *testing.T) {
	r := start(t, testConfig(t), nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	if c.key == "" {
		t.Fatal("no development API key in sandbox mode")
	}
	for _, tc := range []struct {
		outcome, status, reason string
	}{
		{"pass", "success", ""},
		{"face_mismatch", "failed", "FACE_MISMATCH"},
		{"liveness_attack", "failed", "LIVENESS_ATTACK"},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			c := c
			c.t = t
			user := "user-" + tc.outcome
			number := map[string]string{"pass": testNumber, "face_mismatch": numberB, "liveness_attack": "110101199003074477"}[tc.outcome]
			code, a := c.init(user, testName, number)
			if code != 200 || !a.Success || a.CertifyID == "" || a.VerifyURL == "" {
				t.Fatalf("init: %d %+v", code, a)
			}
			if q := c.query(a.CertifyID); q.Status != "processing" || q.Passed {
				t.Fatalf("before completion: %+v", q)
			}
			complete(t, a.VerifyURL, tc.outcome)
			q := c.waitStatus(a.CertifyID, tc.status)
			if q.FailReason != tc.reason || q.Passed != (tc.status == "success") || q.UserID != user {
				t.Fatalf("query: %+v", q)
			}
			var v struct {
				Passed     bool   `json:"passed"`
				ReasonCode string `json:"reason_code"`
				UserInfo   *struct {
					RealName string `json:"real_name"`
				} `json:"user_info"`
			}
			if code := c.call("POST", "/api/v1/auth/verify", map[string]any{"user_id": user}, &v); code != 200 || v.Passed != (tc.status == "success") {
				t.Fatalf("verify: %d %+v", code, v)
			}
			var st struct {
				Status   string `json:"status"`
				RealName string `json:"real_name"`
				IsValid  bool   `json:"is_valid"`
				Days     int    `json:"days_remaining"`
			}
			if code := c.call("GET", "/api/v1/auth/status/"+user, nil, &st); code != 200 || st.Status != tc.status || st.RealName != "张*" {
				t.Fatalf("status: %d %+v", code, st)
			}
			if tc.status == "success" {
				if !st.IsValid || st.Days != 364 && st.Days != 365 || v.UserInfo == nil || v.UserInfo.RealName != "张*" || q.Score == nil || q.AuthTime == nil || q.ExpireTime == nil {
					t.Fatalf("success answers incomplete: %+v %+v %+v", st, v, q)
				}
				code, again := c.init(user, testName, number)
				if code != 409 || again.Code != "ALREADY_AUTHENTICATED" {
					t.Fatalf("second init: %d %+v", code, again)
				}
			}
		})
	}
	t.Run("cancel", func(t *testing.T) {
		c := c
		c.t = t
		_, a := c.init("user-cancel", "李四", "110101199003070636")
		complete(t, a.VerifyURL, "cancel")
		time.Sleep(500 * time.Millisecond) // several poller rounds
		if q := c.query(a.CertifyID); q.Status != "processing" {
			t.Fatalf("a cancelled face check must wait for the session timeout, got %+v", q)
		}
		// A plain init resumes the open session (its page is finished);
		// "restart": true starts a new face check and cancels the old one.
		if _, again := c.init("user-cancel", "李四", "110101199003070636"); again.CertifyID != a.CertifyID {
			t.Fatalf("plain re-init opened %s, want the open session %s", again.CertifyID, a.CertifyID)
		}
		var fresh initAnswer
		if code := c.call("POST", "/api/v1/auth/init", map[string]any{"user_id": "user-cancel", "real_name": "李四",
			"id_card_number": "110101199003070636", "consent": consent(), "restart": true}, &fresh); code != 200 || fresh.CertifyID == a.CertifyID {
			t.Fatalf("restart: %d %+v", code, fresh)
		}
		if q := c.query(a.CertifyID); q.Status != "cancelled" {
			t.Fatalf("the replaced session is %s, want cancelled", q.Status)
		}
		complete(t, fresh.VerifyURL, "pass")
		c.waitStatus(fresh.CertifyID, "success")
	})
	t.Run("face re-check", func(t *testing.T) {
		for picture, want := range map[string]bool{"a face": true, "xxSANDBOX_MISMATCHxx": false} {
			var v struct {
				Passed     bool     `json:"passed"`
				ReasonCode string   `json:"reason_code"`
				Similarity *float64 `json:"similarity_score"`
			}
			img := base64.StdEncoding.EncodeToString([]byte(picture))
			if code := c.call("POST", "/api/v1/auth/verify", map[string]any{"user_id": "user-pass", "face_image": img}, &v); code != 200 || v.Passed != want || v.Similarity == nil {
				t.Fatalf("%q: %d %+v", picture, code, v)
			}
			if !want && v.ReasonCode != "FACE_MISMATCH" {
				t.Fatalf("mismatch reason %q", v.ReasonCode)
			}
		}
		// An unverified user gets no paid comparison.
		before := r.Simulator().Calls("ContrastFaceVerify")
		var v struct{ Passed bool }
		c.call("POST", "/api/v1/auth/verify", map[string]any{"user_id": "nobody", "face_image": "YQ=="}, &v)
		if v.Passed || r.Simulator().Calls("ContrastFaceVerify") != before {
			t.Fatal("an unverified user's face was sent to the provider")
		}
	})
	t.Run("platform notice", func(t *testing.T) {
		got := make(chan map[string]string, 4)
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m map[string]string
			_ = json.NewDecoder(r.Body).Decode(&m)
			got <- m
		}))
		defer hook.Close()
		var a initAnswer
		code := c.call("POST", "/api/v1/auth/init", map[string]any{"user_id": "user-notice", "real_name": "王五",
			"id_card_number": "320102198506123454", "consent": consent(), "callback_url": hook.URL + "/realname"}, &a)
		if code != 200 {
			t.Fatalf("init with callback_url: %d %+v", code, a)
		}
		complete(t, a.VerifyURL, "pass")
		select {
		case m := <-got:
			if m["certify_id"] != a.CertifyID || m["user_id"] != "user-notice" || m["status"] != "success" {
				t.Fatalf("notice %v", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the platform was not told")
		}
	})
	t.Run("sandbox identities", func(t *testing.T) {
		for name, want := range map[string]string{"测试不符": "IDENTITY_MISMATCH", "测试无档": "IDENTITY_NO_RECORD"} {
			code, a := c.init("user-"+want, name, "110101199003072594")
			if code != 400 || a.Code != want {
				t.Fatalf("%s: %d %+v", name, code, a)
			}
		}
	})
	t.Run("no PII at rest or in logs", func(t *testing.T) {
		r.stop()
		secrets := [][]byte{[]byte(testNumber), []byte(strings.ToLower(testNumber)), []byte(testName), []byte(numberB), []byte("李四")}
		haystacks := map[string][]byte{"logs": r.logs.Bytes()}
		err := filepath.WalkDir(testConfigDir(r), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if info, err := d.Info(); err != nil || info.Mode().Perm()&0o077 != 0 && path != testConfigDir(r) {
				t.Errorf("%s: mode %v, want no group or other access (%v)", path, info.Mode().Perm(), err)
			}
			if d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			haystacks[path] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(haystacks) < 3 {
			t.Fatalf("searched only %d places", len(haystacks))
		}
		for where, hay := range haystacks {
			for _, s := range secrets {
				if bytes.Contains(hay, s) {
					t.Errorf("%s contains %q in the clear", where, s)
				}
			}
		}
		if !bytes.Contains(r.logs.Bytes(), []byte(`"msg":"verification finished"`)) {
			t.Fatal("the logs of the run are missing: the search proves nothing")
		}
	})
	t.Run("sandbox results are marked as such", func(t *testing.T) {
		r.stop()
		st, err := sqlstore.Open(context.Background(), filepath.Join(testConfigDir(r), "realname.db"), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		vs, err := st.UserVerifications(context.Background(), "user-pass", 10)
		if err != nil || len(vs) == 0 {
			t.Fatalf("sessions of user-pass: %d, %v", len(vs), err)
		}
		for _, v := range vs {
			if v.Provider != app.SandboxProviderName {
				t.Errorf("session %s stored with provider %q, want %q", v.CertifyID, v.Provider, app.SandboxProviderName)
			}
		}
	})
}

// testConfigDir returns the data directory of a running app.
func testConfigDir(r *running) string { return r.DataDir() }

func TestBadInputAnswers(t *testing.T) {
	r := start(t, testConfig(t), nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	for _, tc := range []struct {
		name, method, path, body, ctype, key string
		status                               int
		code                                 string
	}{
		{"no credential", "POST", "/api/v1/auth/init", `{}`, "application/json", "-", 401, "UNAUTHORIZED"},
		{"bad key", "POST", "/api/v1/auth/init", `{}`, "application/json", "rk_nope", 401, "INVALID_API_KEY"},
		{"empty body", "POST", "/api/v1/auth/init", ``, "application/json", "", 400, "INVALID_JSON"},
		{"not json", "POST", "/api/v1/auth/init", `{"user_id":`, "application/json", "", 400, "INVALID_JSON"},
		{"wrong type", "POST", "/api/v1/auth/init", `{"user_id":5}`, "application/json", "", 400, "INVALID_JSON"},
		{"unknown field", "POST", "/api/v1/auth/init", `{"userId":"u"}`, "application/json", "", 400, "INVALID_JSON"},
		{"two objects", "POST", "/api/v1/auth/init", `{}{}`, "application/json", "", 400, "INVALID_JSON"},
		{"form body", "POST", "/api/v1/auth/init", `a=b`, "application/x-www-form-urlencoded", "", 400, "UNSUPPORTED_MEDIA_TYPE"},
		{"too large", "POST", "/api/v1/auth/init", `{"user_id":"` + strings.Repeat("a", 70<<10) + `"}`, "application/json", "", 413, "BODY_TOO_LARGE"},
		{"bad number", "POST", "/api/v1/auth/init", `{"user_id":"u","real_name":"张三","id_card_number":"110105194912310021","consent":` + mustJSON(consent()) + `}`, "application/json", "", 400, "INVALID_ID_NUMBER"},
		{"bad name", "POST", "/api/v1/auth/init", `{"user_id":"u","real_name":"x","id_card_number":"11010519491231002X","consent":` + mustJSON(consent()) + `}`, "application/json", "", 400, "INVALID_NAME"},
		{"no consent", "POST", "/api/v1/auth/init", `{"user_id":"u","real_name":"张三","id_card_number":"11010519491231002X"}`, "application/json", "", 400, "CONSENT_REQUIRED"},
		{"bad consent time", "POST", "/api/v1/auth/init", `{"user_id":"u","real_name":"张三","id_card_number":"11010519491231002X","consent":{"notice_version":"2026-11-01","accepted_at":"yesterday","scopes":["id_number","face"]}}`, "application/json", "", 400, "CONSENT_REQUIRED"},
		{"bad callback url", "POST", "/api/v1/auth/init", `{"user_id":"u","real_name":"张三","id_card_number":"11010519491231002X","callback_url":"ftp://x","consent":` + mustJSON(consent()) + `}`, "application/json", "", 400, "INVALID_REQUEST"},
		{"bad certify id", "POST", "/api/v1/auth/query", `{"certify_id":"../../etc"}`, "application/json", "", 400, "INVALID_REQUEST"},
		{"unknown certify id", "POST", "/api/v1/auth/query", `{"certify_id":"vf000000000000000000000000000000"}`, "application/json", "", 404, "NOT_FOUND"},
		{"unknown user", "GET", "/api/v1/auth/status/nobody", ``, "", "", 404, "USER_NOT_FOUND"},
		{"bad user id", "GET", "/api/v1/auth/status/a%20b", ``, "", "", 400, "INVALID_REQUEST"},
		{"bad face image", "POST", "/api/v1/auth/verify", `{"user_id":"u","face_image":"***"}`, "application/json", "", 400, "INVALID_FACE_IMAGE"},
		{"callback without token", "GET", "/api/v1/auth/callback?certifyId=x", ``, "", "-", 400, "INVALID_CALLBACK"},
		{"callback unknown", "GET", "/api/v1/auth/callback?certifyId=x&callbackToken=y&passed=200", ``, "", "-", 404, "NOT_FOUND"},
		{"unknown route", "GET", "/api/v1/nothing", ``, "", "", 404, "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, c.base+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			switch tc.key {
			case "":
				req.Header.Set("Authorization", "Bearer "+c.key)
			case "-":
			default:
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Success *bool  `json:"success"`
				Error   string `json:"error"`
				Code    string `json:"code"`
			}
			raw, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("not JSON: %s", raw)
			}
			if resp.StatusCode != tc.status || e.Code != tc.code || e.Success == nil || *e.Success || e.Error == "" {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, raw, tc.status, tc.code)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
				t.Fatalf("missing headers: %v", resp.Header)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestUserTokensActOnlyForTheirUser(t *testing.T) {
	r := start(t, testConfig(t), nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	var tok struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	if code := c.call("POST", "/api/v1/auth/token", map[string]any{"user_id": "alice"}, &tok); code != 200 || !strings.HasPrefix(tok.Token, "ut2.") {
		t.Fatalf("token: %d %+v", code, tok)
	}
	u := client{t: t, base: r.URL(), key: tok.Token}
	code, a := u.init("alice", testName, testNumber)
	if code != 200 {
		t.Fatalf("init with own token: %d %+v", code, a)
	}
	if q := u.query(a.CertifyID); q.UserID != "alice" {
		t.Fatalf("query own: %+v", q)
	}
	var e initAnswer
	if code := u.call("POST", "/api/v1/auth/init", map[string]any{"user_id": "bob", "real_name": testName, "id_card_number": numberB, "consent": consent()}, &e); code != 403 {
		t.Fatalf("init for another user: %d %+v", code, e)
	}
	if code := u.call("GET", "/api/v1/auth/status/bob", nil, &e); code != 403 {
		t.Fatalf("status of another user: %d", code)
	}
	if code := u.call("POST", "/api/v1/auth/token", map[string]any{"user_id": "bob"}, &e); code != 403 {
		t.Fatalf("token minted by a token: %d", code)
	}
	_, b := c.init("bob", "李四", numberB)
	if code := u.call("POST", "/api/v1/auth/query", map[string]any{"certify_id": b.CertifyID}, &e); code != 404 {
		t.Fatalf("query of another user's session: %d", code)
	}
	forged := tok.Token[:len(tok.Token)-2] + "AA"
	if code := (client{t: t, base: r.URL(), key: forged}).call("GET", "/api/v1/auth/status/alice", nil, &e); code != 401 {
		t.Fatalf("forged token: %d", code)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	r := start(t, testConfig(t), nil)
	for _, p := range []string{"/health", "/ready"} {
		resp, err := http.Get(r.URL() + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, resp, err)
		}
		resp.Body.Close()
	}
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	_, a := c.init("m1", testName, testNumber)
	complete(t, a.VerifyURL, "pass")
	c.waitStatus(a.CertifyID, "success")
	c.call("POST", "/api/v1/auth/verify", map[string]any{"user_id": "m1"}, nil)
	resp, err := http.Get(r.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"realname_auth_init_total 1", "realname_auth_success_total 1", "realname_auth_failure_total",
		"realname_auth_processing_time_seconds_bucket", "realname_active_auth_sessions 0", "realname_cache_hits_total",
		"realname_cache_misses_total", "realname_db_open_connections", "realname_http_requests_total"} {
		if !bytes.Contains(body, []byte(m)) {
			t.Errorf("metrics lack %q", m)
		}
	}
	_ = fmt.Sprint()
}

// newApp builds an App without running it.
func newApp(cfg config.Config) (*app.App, error) {
	return app.New(context.Background(), cfg, app.Options{Getenv: func(string) string { return "" }})
}
