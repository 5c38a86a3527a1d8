package cloudauthsim_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
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
		"X-Frame-Options":        "SAMEORIGIN",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	// The exact policy is checked in page_test.go; form-action depends on
	// the session's ReturnUrl.
	if csp := h.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; script-src 'self';") ||
		!strings.HasSuffix(csp, "; frame-ancestors 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
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
				`method="post"`, `action="` + action + `"`, `href="` + testPrefix + `/static/sim.css?v=`, `src="` + testPrefix + `/static/sim.js?v=`,
				`value="pass"`, `value="face_mismatch"`, `value="liveness_attack"`, `value="cancel"`,
				"通过", "人脸不一致", "活体攻击", "取消"} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, banned := range []string{"style=", "<style", "张三", "11010119900307001X", "cb-token"} {
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
