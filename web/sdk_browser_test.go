package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/realname/realname/internal/browsertest"
	"github.com/realname/realname/internal/idnum"
	"github.com/realname/realname/web"
)

// answer is one scripted answer of the fake API.
type answer struct {
	code   int
	body   any // marshalled as JSON; a string is sent as it is
	header map[string]string
	drop   bool // close the connection without an answer (a network error)
}

func ok(body map[string]any) answer {
	body["success"] = true
	return answer{code: 200, body: body}
}

func apiErr(code int, machine string) answer {
	return answer{code: code, body: map[string]any{"success": false, "error": "scripted " + machine, "code": machine}}
}

func status(s string) answer {
	return ok(map[string]any{"certify_id": "cid-1", "user_id": "u1", "status": s, "passed": s == "success"})
}

type request struct {
	method, path, auth, body string
	header                   http.Header
	at                       time.Time
	query                    string
}

// fakeAPI implements /api/v1/auth/{init,query,status/…,verify} with
// scripted answers and records the requests.
type fakeAPI struct {
	mu     sync.Mutex
	url    string
	init   []answer // consumed in order; the last one stays
	query  []answer
	status []answer
	verify []answer
	notice []answer
	// The person's rights: GET me/data, GET me/consents, POST
	// me/consents/withdraw, DELETE me.
	meData, meConsents, meWithdraw, meErase []answer

	reqs []request

	dropped map[string]time.Time // when a request to the path was last dropped
	// oneShot: the server closes every connection after one request (see
	// oneRequestPerConn), so every request is counted, a repeat too.
	oneShot bool
}

// oneRequestPerConn makes srv close every connection after one answer.
// Chromium repeats a request by itself only on a reused connection, so
// then a repeated request is the page's own, and f counts it however late
// it comes.
func oneRequestPerConn(srv *httptest.Server, f *fakeAPI) {
	srv.Config.SetKeepAlivesEnabled(false)
	f.mu.Lock()
	f.oneShot = true
	f.mu.Unlock()
}

// hangUp closes the connection without an answer: a network error.
func hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func next(q *[]answer) answer {
	a := (*q)[0]
	if len(*q) > 1 {
		*q = (*q)[1:]
	}
	return a
}

func (f *fakeAPI) script(q *[]answer, as ...answer) {
	f.mu.Lock()
	*q = as
	f.mu.Unlock()
}

func (f *fakeAPI) requests(path string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var rs []request
	for _, r := range f.reqs {
		if strings.HasPrefix(r.path, path) {
			rs = append(rs, r)
		}
	}
	return rs
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	// Chromium repeats a request at once when a reused connection closes
	// without an answer; the repeat meets the same fate and is not counted.
	if d, isDrop := f.dropped[r.URL.Path]; isDrop && !f.oneShot && time.Since(d) < 50*time.Millisecond {
		delete(f.dropped, r.URL.Path)
		f.mu.Unlock()
		hangUp(w)
		return
	}
	f.reqs = append(f.reqs, request{r.Method, r.URL.Path, r.Header.Get("Authorization"), string(body), r.Header.Clone(), time.Now(), r.URL.RawQuery})
	var a answer
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/v1/auth/init":
		a = next(&f.init)
	case r.Method == "POST" && r.URL.Path == "/api/v1/auth/query":
		a = next(&f.query)
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/api/v1/auth/status/"):
		a = next(&f.status)
	case r.Method == "POST" && r.URL.Path == "/api/v1/auth/verify":
		a = next(&f.verify)
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/api/v1/auth/notices/"):
		a = next(&f.notice)
	case r.Method == "GET" && r.URL.Path == "/api/v1/auth/me/data":
		a = next(&f.meData)
	case r.Method == "GET" && r.URL.Path == "/api/v1/auth/me/consents":
		a = next(&f.meConsents)
	case r.Method == "POST" && r.URL.Path == "/api/v1/auth/me/consents/withdraw":
		a = next(&f.meWithdraw)
	case r.Method == "DELETE" && r.URL.Path == "/api/v1/auth/me":
		a = next(&f.meErase)
	default:
		a = apiErr(404, "NOT_FOUND")
	}
	if a.drop {
		if f.dropped == nil {
			f.dropped = map[string]time.Time{}
		}
		f.dropped[r.URL.Path] = time.Now()
	}
	f.mu.Unlock()
	if a.drop {
		hangUp(w)
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if s, isString := a.body.(string); isString {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(a.code)
		io.WriteString(w, s)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.code)
	json.NewEncoder(w).Encode(a.body)
}

// testCSP is the policy of the test pages: as strict as web.Handler's, but
// the pages may be framed by their own origin.
const testCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-src 'self'; base-uri 'none'; frame-ancestors 'self'"

// newServer serves web.Handler, the classic build, the test pages under
// /test/ and the fake API.
func newServer(t *testing.T) (*httptest.Server, *fakeAPI) {
	f := &fakeAPI{}
	mux := http.NewServeMux()
	mux.Handle("/sdk/", web.Handler())
	mux.Handle("GET /sdk/realname.global.js", web.SDKGlobalHandler())
	files := http.StripPrefix("/test/", http.FileServer(http.Dir("testdata")))
	mux.Handle("/test/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", testCSP)
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	}))
	mux.Handle("/api/v1/auth/", f)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.init = []answer{ok(map[string]any{"certify_id": "cid-1", "verify_url": srv.URL + "/test/verify.html", "request_id": "req-1", "message": "ok"})}
	f.query = []answer{status("processing")}
	f.status = []answer{ok(map[string]any{"user_id": "u1", "status": "success", "real_name": "张*", "is_valid": true, "days_remaining": 300})}
	f.verify = []answer{ok(map[string]any{"passed": true, "reason": ""})}
	f.notice = []answer{ok(map[string]any{"notice": testNotice})}
	f.meData = []answer{ok(map[string]any{"data": testData})}
	f.meConsents = []answer{ok(map[string]any{"consents": testConsents})}
	f.meWithdraw = []answer{ok(map[string]any{"erasure": testErasure(2)})}
	f.meErase = []answer{ok(map[string]any{"erasure": testErasure(0)})}
	return srv, f
}

// testNotice is the fake API's notice text.
var testNotice = map[string]any{
	"version": "2026-11-01", "lang": "zh", "title": "规则",
	"sections": []map[string]string{{"heading": "为什么", "text": "因为"}},
	"consents": map[string]string{"id_number": "我同意一", "face": "我同意二"},
	"sha256":   strings.Repeat("ab", 32),
}

// The fake API's answers to the person's rights, shaped as docs/api.md
// says.
var (
	testData = map[string]any{
		"user_id":       "u1",
		"standing":      map[string]any{"status": "success", "evidence": "face", "certify_id": "cid-1", "verified_at": "2026-11-23T08:00:00Z", "expires_at": "2027-11-23T08:00:00Z"},
		"identities":    []map[string]any{{"person_id": "p1", "cert_type": "IDENTITY_CARD", "name": "张三", "id_number": "11010519491231002X", "created_at": "2026-11-23T08:00:00Z", "erased": false}},
		"verifications": []map[string]any{{"certify_id": "cid-1", "person_id": "p1", "provider": "sandbox", "status": "success", "evidence": "face"}},
		"reviews":       []map[string]any{},
		"access_records": []map[string]any{{"id": 7, "at": "2026-11-23T09:00:00Z", "actor_kind": "person", "actor": "u1", "action": "data.export",
			"subject": "u1", "fields": []string{"name", "id_number"}, "masked": false}},
		"exported_at": "2026-11-23T09:00:00Z",
	}
	testConsents = []map[string]any{{"certify_id": "cid-1", "evidence": "face", "status": "success",
		"consent": map[string]any{"notice_version": "2026-11-01", "accepted_at": "2026-11-23T08:00:00Z", "scopes": []string{"id_number", "face"}}}}
)

// testErasure is an erasure report; withdrawn > 0 makes it a withdrawal's.
func testErasure(withdrawn int) map[string]any {
	return map[string]any{"user_id": "u1", "pseudonym": "erased-abc", "sessions_cancelled": 1, "persons_erased": 1,
		"provider_deletions": 1, "sessions_kept": 2, "consents_withdrawn": withdrawn, "nothing_held": false, "erased_at": "2026-11-23T10:00:00Z"}
}

// validID is a resident ID number the server accepts.
func validID(t *testing.T) string {
	body := "11010119900307123"
	c, err := idnum.CheckCharacter(body)
	if err != nil {
		t.Fatal(err)
	}
	return body + string(c)
}

func open(t *testing.T, b *browsertest.Browser, vp browsertest.Viewport, srv *httptest.Server) *browsertest.Page {
	p := b.Page(t, vp)
	p.Navigate(srv.URL + "/test/sdk.html")
	p.Eval(`waitFor(() => window.make)`, nil)
	return p
}

// initJS starts a verification with the page's auth and returns its result.
func initJS(t *testing.T) string {
	return fmt.Sprintf(`auth.initAuth({userId: 'u1', realName: '张三', idCardNumber: %q, consent: consent()})`, validID(t))
}

func events(p *browsertest.Page) []string {
	var evs []string
	p.Eval(`events()`, &evs)
	return evs
}

type event struct {
	Ev string         `json:"ev"`
	D  map[string]any `json:"d"`
}

func lastEvent(p *browsertest.Page) event {
	var e event
	p.Eval(`log[log.length - 1] || null`, &e)
	return e
}

func TestSDKInBrowser(t *testing.T) {
	b := browsertest.New(t)

	t.Run("success", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		p.Eval(`make()`, nil)
		var res map[string]string
		p.Eval(initJS(t), &res)
		if res["certifyId"] != "cid-1" || res["verifyUrl"] != srv.URL+"/test/verify.html" {
			t.Fatalf("initAuth = %v", res)
		}
		// The overlay: a labelled modal dialog with the verify page framed.
		var ov struct {
			Modal, Label, Src, Allow, Focus, Position string
		}
		p.Eval(`waitFor(() => document.querySelector('.realname-overlay')).then(o => ({
			Modal: o.getAttribute('aria-modal'),
			Label: document.getElementById(o.getAttribute('aria-labelledby')).textContent,
			Src: o.querySelector('iframe').src, Allow: o.querySelector('iframe').getAttribute('allow'),
			Focus: document.activeElement.className, Position: getComputedStyle(o).position}))`, &ov)
		if ov.Modal != "true" || ov.Label != "实名认证" || ov.Src != srv.URL+"/test/verify.html" ||
			!strings.Contains(ov.Allow, "camera") || ov.Focus != "realname-overlay__close" || ov.Position != "fixed" {
			t.Errorf("overlay %+v", ov)
		}
		// realname.css is loaded through a <link> (the CSP forbids inline styles).
		p.Eval(`waitFor(() => { const l = document.querySelector('link[data-realname-sdk]'); return l && l.sheet && l.sheet.cssRules.length > 0; })`, nil)
		p.WaitVisible(".realname-overlay iframe")
		p.Eval(`sleep(300)`, nil) // a few polls with "processing"
		p.Screenshot("sdk-overlay-desktop")
		if evs := events(p); strings.Join(evs, ",") != "authinit" {
			t.Fatalf("events while processing: %v", evs)
		}
		f.script(&f.query, status("success"))
		p.Eval(`waitFor(() => events().includes('authsuccess'))`, nil)
		p.Eval(`sleep(200)`, nil)
		if evs := events(p); strings.Join(evs, ",") != "authinit,authsuccess" {
			t.Errorf("events = %v, want authinit,authsuccess", evs)
		}
		var gone bool
		p.Eval(`!document.querySelector('.realname-overlay') && !document.documentElement.classList.contains('realname-overlay-open')`, &gone)
		if !gone {
			t.Error("the overlay is still open after success")
		}
		if e := lastEvent(p); e.D["status"] != "success" || e.D["user_id"] != "u1" {
			t.Errorf("authsuccess detail %v", e.D)
		}
		// The polls: at the interval, and none after the final status.
		qs := f.requests("/api/v1/auth/query")
		if len(qs) < 4 {
			t.Fatalf("%d queries", len(qs))
		}
		for i := 1; i < len(qs); i++ {
			if gap := qs[i].at.Sub(qs[i-1].at); gap < 30*time.Millisecond {
				t.Errorf("query %d came %v after the one before, want ≥ 40ms", i, gap)
			}
		}
		p.Eval(`sleep(150)`, nil)
		if n := len(f.requests("/api/v1/auth/query")); n != len(qs) {
			t.Errorf("%d queries after the final status", n-len(qs))
		}
		var body struct {
			UserID, IDCardNumber, CertType string
			Consent                        struct{ Scopes []string }
		}
		ir := f.requests("/api/v1/auth/init")[0]
		json.Unmarshal([]byte(ir.body), &struct {
			UserID       *string `json:"user_id"`
			IDCardNumber *string `json:"id_card_number"`
			CertType     *string `json:"cert_type"`
			Consent      any     `json:"consent"`
		}{&body.UserID, &body.IDCardNumber, &body.CertType, &body.Consent})
		if body.UserID != "u1" || body.IDCardNumber != validID(t) || body.CertType != "IDENTITY_CARD" || !strings.Contains(ir.body, `"scopes":["id_number","face"]`) {
			t.Errorf("init body %s", ir.body)
		}
		if strings.Contains(ir.body, "return_url") {
			t.Errorf("overlay mode sent a return_url: %s", ir.body)
		}
		checkTokens(t, f)
		p.CheckClean()
	})

	t.Run("backoff", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		p.Expect(`503 from .*/api/v1/auth/query`)
		p.Expect(`ERR_EMPTY_RESPONSE`)
		f.script(&f.query, apiErr(503, "PROVIDER_UNAVAILABLE"), answer{drop: true}, apiErr(503, "PROVIDER_UNAVAILABLE"),
			apiErr(503, "PROVIDER_UNAVAILABLE"), status("processing"), status("processing"), status("success"))
		p.Eval(`make({pollInterval: 50, pollMaxInterval: 250})`, nil)
		p.Eval(initJS(t), nil)
		p.Eval(`waitFor(() => events().includes('authsuccess'))`, nil)
		qs := f.requests("/api/v1/auth/query")
		if len(qs) != 7 {
			t.Fatalf("%d queries, want 7", len(qs))
		}
		// After each error the wait doubles (100, 200, 250 capped, 250);
		// after an answer it is back at 50. A timer never fires early, so
		// the lower bounds are strict; a loaded machine (CI, a fuzzer on
		// the other core) delays the browser, so the upper bounds are loose,
		// and the waits after an answer are compared with the capped ones.
		want := []time.Duration{100, 200, 250, 250, 50, 50}
		gaps := make([]time.Duration, len(want))
		for i, w := range want {
			gaps[i] = qs[i+1].at.Sub(qs[i].at)
			lo, hi := w*time.Millisecond*8/10, w*time.Millisecond+400*time.Millisecond
			if gaps[i] < lo || gaps[i] > hi {
				t.Errorf("wait before query %d = %v, want about %dms", i+1, gaps[i], w)
			}
		}
		if gaps[4] >= gaps[2]+gaps[3] || gaps[5] >= gaps[2]+gaps[3] {
			t.Errorf("waits after an answer %v, %v are not back below the capped ones %v, %v", gaps[4], gaps[5], gaps[2], gaps[3])
		}
		if evs := events(p); strings.Join(evs, ",") != "authinit,authsuccess" {
			t.Errorf("events = %v", evs)
		}
		p.CheckClean()
	})

	t.Run("retry-after", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		limited := apiErr(429, "RATE_LIMITED")
		limited.header = map[string]string{"Retry-After": "1"}
		f.script(&f.query, limited, status("success"))
		p.Eval(`make({pollInterval: 30})`, nil)
		p.Eval(initJS(t), nil)
		p.Eval(`waitFor(() => events().includes('authsuccess'))`, nil)
		qs := f.requests("/api/v1/auth/query")
		if gap := qs[1].at.Sub(qs[0].at); len(qs) != 2 || gap < 900*time.Millisecond {
			t.Errorf("%d queries, the second %v after a 429 with Retry-After: 1", len(qs), gap)
		}
		p.CheckClean()
	})

	t.Run("timeout", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		p.Eval(`make({timeout: 400})`, nil)
		p.Eval(initJS(t), nil)
		p.Eval(`waitFor(() => events().includes('autherror'))`, nil)
		e := lastEvent(p)
		if e.Ev != "autherror" || e.D["reason"] != "TIMEOUT" || e.D["message"] != "认证超时，请重新发起" {
			t.Errorf("last event %+v", e)
		}
		n := len(f.requests("/api/v1/auth/query"))
		p.Eval(`sleep(200)`, nil)
		if m := len(f.requests("/api/v1/auth/query")); m != n {
			t.Errorf("%d queries after the time limit", m-n)
		}
		var open bool
		p.Eval(`!!document.querySelector('.realname-overlay')`, &open)
		if open {
			t.Error("the overlay is open after the time limit")
		}
		if evs := events(p); strings.Join(evs, ",") != "authinit,autherror" {
			t.Errorf("events = %v", evs)
		}
		p.CheckClean()
	})

	t.Run("init-errors", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		p.Expect(`50[23] from .*/api/v1/auth/init`)
		p.Expect(`ERR_EMPTY_RESPONSE`)
		for _, c := range []struct {
			a                   answer
			reason, code, msgIn string
			httpStatus          float64
		}{
			{apiErr(503, "PROVIDER_UNAVAILABLE"), "PROVIDER_UNAVAILABLE", "PROVIDER_UNAVAILABLE", "暂时不可用", 503},
			{answer{drop: true}, "NETWORK", "NETWORK", "网络", 0},
			{apiErr(409, "ALREADY_AUTHENTICATED"), "ALREADY_AUTHENTICATED", "ALREADY_AUTHENTICATED", "已完成实名认证", 409},
			{apiErr(409, "IDENTITY_BOUND_TO_OTHER_USER"), "IDENTITY_BOUND_TO_OTHER_USER", "IDENTITY_BOUND_TO_OTHER_USER", "其他账号", 409},
			{apiErr(400, "CONSENT_REQUIRED"), "CONSENT_REQUIRED", "CONSENT_REQUIRED", "同意", 400},
			{answer{code: 502, body: "bad gateway"}, "HTTP_502", "HTTP_502", "HTTP 502", 502},
			{apiErr(403, "FORBIDDEN"), "FORBIDDEN", "FORBIDDEN", "无权", 403},
		} {
			f.script(&f.init, c.a)
			p.Eval(`log.length = 0; make()`, nil)
			var res any
			p.Eval(initJS(t), &res)
			if res != nil {
				t.Errorf("%s: initAuth = %v, want null", c.code, res)
			}
			e := lastEvent(p)
			if evs := events(p); len(evs) != 1 || e.Ev != "autherror" || e.D["reason"] != c.reason || e.D["code"] != c.code ||
				!strings.Contains(fmt.Sprint(e.D["message"]), c.msgIn) || (c.httpStatus != 0 && e.D["httpStatus"] != c.httpStatus) {
				t.Errorf("%s: events %v, last %+v", c.code, evs, e)
			}
		}
		// Client-side checks stop a bad number or name before any request.
		n := len(f.requests("/api/v1/auth/init"))
		for _, c := range []struct{ js, code string }{
			{`auth.initAuth({userId: 'u1', realName: '张三', idCardNumber: '110101199003071230', consent: consent()})`, "INVALID_ID_NUMBER"},
			{`auth.initAuth({userId: 'u1', realName: '张3', idCardNumber: '` + validID(t) + `', consent: consent()})`, "INVALID_NAME"},
			{`auth.initAuth({userId: 'u1', realName: '张三', idCardNumber: '` + validID(t) + `', consent: {notice_version: 'v', accepted_at: 'x', scopes: ['id_number']}})`, "CONSENT_REQUIRED"},
		} {
			p.Eval(`log.length = 0; make()`, nil)
			p.Eval(c.js, nil)
			if e := lastEvent(p); e.Ev != "autherror" || e.D["code"] != c.code {
				t.Errorf("%s: last event %+v", c.code, e)
			}
		}
		if m := len(f.requests("/api/v1/auth/init")); m != n {
			t.Errorf("client-side errors sent %d requests", m-n)
		}
		// getToken failing, and an expired token replaced once.
		p.Eval(`log.length = 0; make({getToken: async () => { throw new Error('backend down'); }})`, nil)
		p.Eval(initJS(t), nil)
		if e := lastEvent(p); e.Ev != "autherror" || e.D["reason"] != "TOKEN" {
			t.Errorf("getToken failing: last event %+v", e)
		}
		f.script(&f.init, apiErr(401, "INVALID_TOKEN"), ok(map[string]any{"certify_id": "cid-2", "verify_url": srv.URL + "/test/verify.html"}))
		p.Eval(`log.length = 0; make({mode: 'overlay'})`, nil)
		var res map[string]string
		p.Eval(initJS(t), &res)
		if res["certifyId"] != "cid-2" {
			t.Errorf("after INVALID_TOKEN: initAuth = %v", res)
		}
		reqs := f.requests("/api/v1/auth/init")
		if a, b := reqs[len(reqs)-2].auth, reqs[len(reqs)-1].auth; a == b || !strings.HasPrefix(b, "Bearer user-token-") {
			t.Errorf("the retry after INVALID_TOKEN used %q, then %q", a, b)
		}
		p.Eval(`auth.cancel()`, nil)
		p.CheckClean() // no unhandled rejections, no console errors
	})

	t.Run("failed", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		f.script(&f.query, status("processing"), ok(map[string]any{"certify_id": "cid-1", "status": "failed", "passed": false, "fail_reason": "FACE_MISMATCH"}))
		p.Eval(`make()`, nil)
		p.Eval(initJS(t), nil)
		p.Eval(`waitFor(() => events().includes('authfail'))`, nil)
		e := lastEvent(p)
		if e.D["reason"] != "FACE_MISMATCH" || e.D["message"] != "人脸与实名信息不一致" {
			t.Errorf("authfail %+v", e)
		}
		f.script(&f.query, status("expired"))
		p.Eval(`log.length = 0; make({lang: 'en'})`, nil)
		p.Eval(initJS(t), nil)
		p.Eval(`waitFor(() => events().includes('authfail'))`, nil)
		if e := lastEvent(p); e.D["reason"] != "EXPIRED" || !strings.Contains(fmt.Sprint(e.D["message"]), "expired") {
			t.Errorf("expired: authfail %+v", e)
		}
		p.CheckClean()
	})

	t.Run("cancel", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		// The provider reports a cancelled check.
		f.script(&f.query, status("cancelled"))
		p.Eval(`make()`, nil)
		p.Eval(initJS(t), nil)
		p.Eval(`waitFor(() => events().includes('authcancel'))`, nil)
		if e := lastEvent(p); e.D["reason"] != "PROVIDER" {
			t.Errorf("provider cancel: %+v", e)
		}
		// The person closes the overlay: the button, Esc, and cancel().
		f.script(&f.query, status("processing"))
		for _, how := range []string{"button", "escape", "cancel()"} {
			p.Eval(`log.length = 0; make()`, nil)
			p.Eval(initJS(t), nil)
			p.WaitVisible(".realname-overlay__close")
			switch how {
			case "button":
				p.Click(".realname-overlay__close")
			case "escape":
				p.Eval(`document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))`, nil)
			default:
				p.Eval(`auth.cancel()`, nil)
			}
			p.Eval(`waitFor(() => events().includes('authcancel'))`, nil)
			n := len(f.requests("/api/v1/auth/query"))
			p.Eval(`sleep(150)`, nil)
			var st struct {
				Events []string
				Open   bool
				Focus  string
			}
			p.Eval(`({Events: events(), Open: !!document.querySelector('.realname-overlay'), Focus: document.activeElement.tagName})`, &st)
			if strings.Join(st.Events, ",") != "authinit,authcancel" || st.Open || lastEvent(p).D["reason"] != "USER" {
				t.Errorf("%s: %+v, last %+v", how, st, lastEvent(p))
			}
			if m := len(f.requests("/api/v1/auth/query")); m != n {
				t.Errorf("%s: %d queries after cancel", how, m-n)
			}
		}
		// After a cancel, the same instance's next initAuth asks for a new
		// face check ("restart"); a new instance's first one does not.
		p.Eval(initJS(t), nil)
		p.WaitVisible(".realname-overlay__close")
		inits := f.requests("/api/v1/auth/init")
		if b := inits[len(inits)-1].body; !strings.Contains(b, `"restart":true`) {
			t.Errorf("init after cancel(): %s, want restart", b)
		}
		if b := inits[len(inits)-2].body; strings.Contains(b, "restart") {
			t.Errorf("the first init of an instance sent restart: %s", b)
		}
		p.Eval(`auth.cancel()`, nil)
		// Tab keeps the focus inside the dialog.
		p.Eval(`log.length = 0; make()`, nil)
		p.Eval(initJS(t), nil)
		p.WaitVisible(".realname-overlay__close")
		var inside []bool
		p.Eval(`(async () => { const r = []; for (let i = 0; i < 3; i++) {
			document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Tab', bubbles: true}));
			r.push(!!document.activeElement.closest('.realname-overlay')); } auth.cancel(); return r; })()`, &inside)
		for i, in := range inside {
			if !in {
				t.Errorf("Tab %d left the dialog", i+1)
			}
		}
		p.CheckClean()
	})

	t.Run("status-and-verify", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		p.Expect(`ERR_EMPTY_RESPONSE`)
		p.Eval(`make()`, nil)
		var st map[string]any
		p.Eval(`auth.checkAuthStatus('u 1/x')`, &st)
		if st["success"] != true || st["real_name"] != "张*" {
			t.Errorf("checkAuthStatus = %v", st)
		}
		f.script(&f.status, apiErr(404, "USER_NOT_FOUND"))
		p.Eval(`auth.checkAuthStatus('u2')`, &st)
		if st["success"] != false || st["code"] != "USER_NOT_FOUND" || st["reason"] != "USER_NOT_FOUND" || st["message"] != "未找到该用户的认证记录" {
			t.Errorf("checkAuthStatus error = %v", st)
		}
		var v map[string]any
		p.Eval(`auth.quickVerify('u1', 'data:image/jpeg;base64,AAAA')`, &v)
		if v["success"] != true || v["passed"] != true {
			t.Errorf("quickVerify = %v", v)
		}
		f.script(&f.verify, answer{drop: true})
		p.Eval(`auth.quickVerify('u1')`, &v)
		if v["success"] != false || v["reason"] != "NETWORK" {
			t.Errorf("quickVerify over a broken network = %v", v)
		}
		sr := f.requests("/api/v1/auth/status/")
		if sr[0].path != "/api/v1/auth/status/u 1/x" && !strings.HasSuffix(sr[0].path, "u 1/x") {
			t.Logf("status path %q", sr[0].path)
		}
		vr := f.requests("/api/v1/auth/verify")
		if vr[0].body != `{"user_id":"u1","face_image":"data:image/jpeg;base64,AAAA"}` {
			t.Errorf("verify body %s", vr[0].body)
		}
		checkTokens(t, f)
		p.CheckClean()
	})

	t.Run("notice", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		p.Expect(`ERR_EMPTY_RESPONSE`)
		p.Eval(`make()`, nil)
		var n map[string]any
		p.Eval(`auth.getNotice()`, &n)
		if n["version"] != "2026-11-01" || n["sha256"] != testNotice["sha256"] || fmt.Sprint(n["consents"]) != "map[face:我同意二 id_number:我同意一]" {
			t.Errorf("getNotice() = %v", n)
		}
		p.Eval(`make({lang: 'en'}).getNotice('2026-11-01')`, &n)
		p.Eval(`auth.getNotice('v/1', 'zh')`, &n)
		rs := f.requests("/api/v1/auth/notices/")
		if len(rs) != 3 || rs[0].path != "/api/v1/auth/notices/current" || rs[0].query != "lang=zh" ||
			rs[1].path != "/api/v1/auth/notices/2026-11-01" || rs[1].query != "lang=en" ||
			rs[2].query != "lang=zh" || !strings.HasSuffix(rs[2].path, "/v/1") {
			t.Errorf("requests %+v", rs)
		}
		// Public texts: no token asked for, none sent, no cookie.
		var calls int
		p.Eval(`tokenCalls`, &calls)
		for _, r := range rs {
			if r.auth != "" || r.header.Get("Cookie") != "" {
				t.Errorf("%s sent Authorization %q, cookies %q", r.path, r.auth, r.header.Get("Cookie"))
			}
		}
		if calls != 0 {
			t.Errorf("getNotice asked for %d tokens", calls)
		}
		for _, c := range []struct {
			a    answer
			code string
		}{
			{apiErr(404, "NOTICE_NOT_FOUND"), "NOTICE_NOT_FOUND"},
			{apiErr(400, "INVALID_REQUEST"), "INVALID_REQUEST"},
			{ok(map[string]any{"notice": map[string]any{"version": "x"}}), "BAD_RESPONSE"},
			{answer{drop: true}, "NETWORK"},
		} {
			f.script(&f.notice, c.a)
			p.Eval(`log.length = 0; make()`, nil)
			var res any
			p.Eval(`auth.getNotice('nope')`, &res)
			e := lastEvent(p)
			if res != nil || len(events(p)) != 1 || e.Ev != "autherror" || e.D["code"] != c.code || e.D["call"] != "getNotice" || e.D["message"] == "" {
				t.Errorf("%s: getNotice = %v, last event %+v", c.code, res, e)
			}
		}
		p.CheckClean()
	})

	t.Run("rights", func(t *testing.T) {
		srv, f := newServer(t)
		oneRequestPerConn(srv, f) // the counts below are exact
		p := open(t, b, browsertest.Desktop, srv)
		p.Expect(`503 from .*/api/v1/auth/me`)
		p.Expect(`ERR_EMPTY_RESPONSE`)
		calls := []struct {
			js, method, path string
			q                *[]answer
			want             any // the method's result, as the fake API sent it
		}{
			{"getMyData", "GET", "/api/v1/auth/me/data", &f.meData, testData},
			{"getMyConsents", "GET", "/api/v1/auth/me/consents", &f.meConsents, testConsents},
			{"withdrawConsent", "POST", "/api/v1/auth/me/consents/withdraw", &f.meWithdraw, testErasure(2)},
			{"eraseMyData", "DELETE", "/api/v1/auth/me", &f.meErase, testErasure(0)},
		}
		p.Eval(`make()`, nil)
		for i, c := range calls {
			var got any
			p.Eval(`auth.`+c.js+`()`, &got)
			if !sameJSON(t, got, c.want) {
				t.Errorf("%s() = %v, want %v", c.js, got, c.want)
			}
			rs := f.requests("/api/v1/auth/me")
			if len(rs) != i+1 {
				t.Fatalf("%s: %d requests to /me in all, want %d", c.js, len(rs), i+1)
			}
			r := rs[i]
			// One token for the instance (getToken once), no body, no
			// Content-Type: withdraw takes none.
			if r.method != c.method || r.path != c.path || r.query != "" || r.auth != "Bearer user-token-1" ||
				r.body != "" || r.header.Get("Content-Type") != "" || r.header.Get("Accept") != "application/json" {
				t.Errorf("%s: request %s %s?%s, Authorization %q, body %q, Content-Type %q", c.js, r.method, r.path, r.query,
					r.auth, r.body, r.header.Get("Content-Type"))
			}
		}
		if evs := events(p); len(evs) != 0 {
			t.Errorf("events after successful calls: %v", evs)
		}
		checkTokens(t, f)

		// An answer of the wrong kind: an error to the caller, and nothing
		// the page could mistake for an erasure.
		type failure struct {
			a                  answer
			code, reason, text string
			httpStatus         float64
			lang               string
		}
		failures := []failure{
			{apiErr(403, "USER_TOKEN_REQUIRED"), "USER_TOKEN_REQUIRED", "USER_TOKEN_REQUIRED", "本人", 403, "zh"},
			{apiErr(403, "USER_TOKEN_REQUIRED"), "USER_TOKEN_REQUIRED", "USER_TOKEN_REQUIRED", "user token", 403, "en"},
			{apiErr(503, "PROVIDER_UNAVAILABLE"), "PROVIDER_UNAVAILABLE", "PROVIDER_UNAVAILABLE", "暂时不可用", 503, "zh"},
			{answer{drop: true}, "NETWORK", "NETWORK", "网络", 0, "zh"},
			{ok(map[string]any{"nothing": true}), "BAD_RESPONSE", "BAD_RESPONSE", "无法识别", 0, "zh"},
		}
		for _, c := range calls {
			for _, fl := range failures {
				f.script(c.q, fl.a)
				before := len(exact(f.requests(c.path), c.path))
				p.Eval(`log.length = 0; make({lang: '`+fl.lang+`'})`, nil)
				var res any = "unset"
				p.Eval(`auth.`+c.js+`()`, &res)
				e := lastEvent(p)
				if res != nil || len(events(p)) != 1 || e.Ev != "autherror" || e.D["call"] != c.js || e.D["code"] != fl.code ||
					e.D["reason"] != fl.reason || !strings.Contains(fmt.Sprint(e.D["message"]), fl.text) ||
					(fl.httpStatus != 0 && e.D["httpStatus"] != fl.httpStatus) {
					t.Errorf("%s, %s (%s): result %v, events %v, last %+v", c.js, fl.code, fl.lang, res, events(p), e)
				}
				// Never repeated by the SDK: a withdrawal or erasure that
				// failed on the way back may have happened.
				if n := len(exact(f.requests(c.path), c.path)) - before; n != 1 {
					t.Errorf("%s, %s: %d requests, want 1", c.js, fl.code, n)
				}
			}
		}

		// An expired token: a new one from getToken, the call made once more.
		f.script(&f.meErase, apiErr(401, "INVALID_TOKEN"), ok(map[string]any{"erasure": testErasure(0)}))
		p.Eval(`log.length = 0; tokenCalls = 0; make()`, nil)
		var rep map[string]any
		p.Eval(`auth.eraseMyData()`, &rep)
		rs := exact(f.requests("/api/v1/auth/me"), "/api/v1/auth/me")
		if rep["pseudonym"] != "erased-abc" || len(events(p)) != 0 {
			t.Errorf("after INVALID_TOKEN: eraseMyData() = %v, events %v", rep, events(p))
		}
		if a, b := rs[len(rs)-2].auth, rs[len(rs)-1].auth; a != "Bearer user-token-1" || b != "Bearer user-token-2" {
			t.Errorf("the retry after INVALID_TOKEN used %q, then %q", a, b)
		}
		// No token from the platform: no request at all.
		n := len(f.requests("/api/v1/auth/me"))
		p.Eval(`log.length = 0; make({getToken: async () => { throw new Error('backend down'); }})`, nil)
		p.Eval(`auth.getMyData()`, &rep)
		if e := lastEvent(p); rep != nil || e.Ev != "autherror" || e.D["reason"] != "TOKEN" || e.D["call"] != "getMyData" {
			t.Errorf("getToken failing: getMyData() = %v, last event %+v", rep, e)
		}
		if m := len(f.requests("/api/v1/auth/me")); m != n {
			t.Errorf("getToken failing: %d requests", m-n)
		}
		p.CheckClean() // no unhandled rejections, no console errors
	})

	t.Run("validation", func(t *testing.T) {
		srv, _ := newServer(t)
		p := open(t, b, browsertest.Desktop, srv)
		id := validID(t)
		numbers := []string{id, strings.ToLower(id), id[:17] + "0", id[:17] + "1", "11010519491231002X", "11010519491231002x",
			"110105 1949 1231 002X", "１１０１０５１９４９１２３１００２Ｘ", "110105-19491231-002X", "110105194912310021",
			"710105194912310020", "810105194912310021", "990105194912310021", "110105194902300028", "110105204912310026",
			"110105180001010016", "110105179912310011", "110105200002290017", "110105190002290011",
			"110105491231002", "110105491331002", "710105491231002", "11010549123100", "", "   ", "abc", "11010519491231002Y",
			strings.Repeat("1", 65), "1101051949123100２X", "11010519491231002X\u3000"}
		names := []string{"张三", "张", "欧阳娜娜", "阿依古丽·买买提", "阿依古丽.买买提", "阿依古丽・买买提", "张 三", " 张三 ",
			"John Smith", "Zoë O'Brien-Lee", "·张三", "张三·", "张··三", "张3", "张三!", "Ａｌｉｃｅ", "李\u3000四",
			strings.Repeat("张", 32), strings.Repeat("张", 33), "", "  ", "a", "ab", "张\u200b三", "𠀀𠀁", "Jean-Luc", "张-", "O''Neil",
			"王 ·小明", "Müller", "Ωμέγα"}
		type verdict struct {
			OK   bool   `json:"ok"`
			Code string `json:"code"`
		}
		var gotIDs, gotNames []verdict
		in, _ := json.Marshal(numbers)
		p.Eval(`(`+string(in)+`).map(s => RealnameAuth.validateIdNumber(s))`, &gotIDs)
		in, _ = json.Marshal(names)
		p.Eval(`(`+string(in)+`).map(s => RealnameAuth.validateName(s))`, &gotNames)
		now := time.Now()
		for i, s := range numbers {
			_, err := idnum.Parse(idnum.IdentityCard, s, now)
			if gotIDs[i].OK != (err == nil) || (!gotIDs[i].OK && gotIDs[i].Code != "INVALID_ID_NUMBER") {
				t.Errorf("validateIdNumber(%q) = %+v, server: %v", s, gotIDs[i], err)
			}
		}
		for i, s := range names {
			_, err := idnum.ParseName(s)
			if gotNames[i].OK != (err == nil) || (!gotNames[i].OK && gotNames[i].Code != "INVALID_NAME") {
				t.Errorf("validateName(%q) = %+v, server: %v", s, gotNames[i], err)
			}
		}
		var msgs []string
		p.Eval(`[RealnameAuth.messages('RATE_LIMITED'), RealnameAuth.messages('RATE_LIMITED', 'en'), RealnameAuth.messages('NO_SUCH_CODE'),
			RealnameAuth.validateIdNumber('110105194912310021').message, RealnameAuth.validateName('张3', 'en').message]`, &msgs)
		if msgs[0] != "请求过于频繁，请稍后再试" || !strings.Contains(msgs[1], "Too many") || msgs[2] == "" || !strings.Contains(msgs[3], "校验位") || !strings.Contains(msgs[4], "letters") {
			t.Errorf("messages %q", msgs)
		}
		p.CheckClean()
	})

	t.Run("mode", func(t *testing.T) {
		srv, _ := newServer(t)
		var mode string
		desk := open(t, b, browsertest.Desktop, srv)
		desk.Eval(`make().resolveMode()`, &mode)
		if mode != "overlay" {
			t.Errorf("desktop mode %q, want overlay", mode)
		}
		phone := open(t, b, browsertest.Phone, srv)
		phone.Eval(`make().resolveMode()`, &mode)
		if mode != "redirect" {
			t.Errorf("phone mode %q, want redirect", mode)
		}
		phone.Eval(`make({mode: 'overlay'}).resolveMode()`, &mode)
		if mode != "overlay" {
			t.Errorf("phone with mode overlay: %q", mode)
		}
		// An in-app webview (WeChat) redirects even on a wide screen.
		wechat := b.Page(t, browsertest.Desktop)
		wechat.Run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090c11)",
			})
			return err
		}))
		wechat.Navigate(srv.URL + "/test/sdk.html")
		wechat.Eval(`waitFor(() => window.make).then(() => make().resolveMode())`, &mode)
		if mode != "redirect" {
			t.Errorf("WeChat webview mode %q, want redirect", mode)
		}
		wechat.CheckClean()
		desk.CheckClean()
		phone.CheckClean()
	})

	t.Run("redirect-and-resume", func(t *testing.T) {
		srv, f := newServer(t)
		p := open(t, b, browsertest.Phone, srv)
		p.Eval(`make({returnUrl: location.href})`, nil)
		p.Eval(`setTimeout(() => `+initJS(t)+`, 0); true`, nil)
		p.WaitVisible("#verify-page") // the browser went to verify_url
		ir := f.requests("/api/v1/auth/init")
		if len(ir) != 1 || !strings.Contains(ir[0].body, `"return_url":"`+srv.URL+`/test/sdk.html"`) {
			t.Errorf("init body %v", ir)
		}
		p.Screenshot("sdk-redirect-phone")
		f.script(&f.query, status("success"))
		p.Navigate(srv.URL + "/test/sdk.html") // back from the provider
		p.Eval(`waitFor(() => window.make)`, nil)
		var resumed bool
		p.Eval(`make().resume()`, &resumed)
		if !resumed {
			t.Fatal("resume() = false after the redirect")
		}
		p.Eval(`waitFor(() => events().includes('authsuccess'))`, nil)
		p.Eval(`make().resume()`, &resumed)
		if resumed {
			t.Error("resume() = true after the verification finished")
		}
		p.CheckClean()
	})

	t.Run("classic-build", func(t *testing.T) {
		srv, _ := newServer(t)
		p := b.Page(t, browsertest.Desktop)
		p.Navigate(srv.URL + "/test/global.html")
		var c struct {
			Type, APIBase, Message string
			IDOK                   bool
		}
		p.Eval(`new Promise(r => { const f = () => window.classic ? r(window.classic) : setTimeout(f, 10); f(); }).then(c => ({Type: c.type, APIBase: c.apiBase, Message: c.message, IDOK: c.idOK}))`, &c)
		if c.Type != "function" || c.APIBase != srv.URL || !c.IDOK || !strings.Contains(c.Message, "Too many") {
			t.Errorf("classic build: %+v", c)
		}
		p.CheckClean()
	})
}

// exact keeps the requests to exactly path (f.requests matches a prefix).
func exact(rs []request, path string) []request {
	var out []request
	for _, r := range rs {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// sameJSON reports whether got (decoded from the page) and want encode to
// the same JSON.
func sameJSON(t *testing.T, got, want any) bool {
	t.Helper()
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var norm any
	if err := json.Unmarshal(w, &norm); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(norm)
	return string(a) == string(b)
}

// checkTokens checks that every API request carried the user token from
// getToken, and no API key.
func checkTokens(t *testing.T, f *fakeAPI) {
	t.Helper()
	for _, r := range f.requests("/api/") {
		if !strings.HasPrefix(r.auth, "Bearer user-token-") {
			t.Errorf("%s %s: Authorization %q", r.method, r.path, r.auth)
		}
		for k := range r.header {
			if lk := strings.ToLower(k); strings.Contains(lk, "api-key") || strings.Contains(lk, "apikey") {
				t.Errorf("%s %s: header %s", r.method, r.path, k)
			}
		}
		if r.header.Get("Cookie") != "" {
			t.Errorf("%s %s: sent cookies", r.method, r.path)
		}
	}
}
