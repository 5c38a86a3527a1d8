package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

// FuzzDecodeInit feeds arbitrary bodies to the JSON reader of init: it must
// never panic, and it either fills the struct or answers a 400/413 kind.
func FuzzDecodeInit(f *testing.F) {
	for _, s := range []string{`{}`, `{"user_id":"u1","real_name":"张三","id_card_number":"11010519491231002X","consent":{"notice_version":"2026-11-01","accepted_at":"2026-11-23T08:00:00Z","scopes":["id_number","face"]}}`,
		`{"user_id":5}`, `[]`, `{"a":`, `{}{}`, `{"consent":null}`, "\x00", `{"user_id":"\ud800"}`, `{"scopes":[[[[[[[[[[[[]]]]]]]]]]]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/api/v1/auth/init", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var b initBody
		err := decodeJSON(w, r, smallBody, &b)
		if err == nil {
			return
		}
		if k := realname.KindOf(err); k != realname.KindInvalid && k != realname.KindTooLarge {
			t.Fatalf("kind %v for %q: %v", k, body, err)
		}
	})
}

// FuzzCallbackQuery sends arbitrary query strings to the real callback
// handler: it never panics, never answers 5xx, and always answers the JSON
// envelope.
func FuzzCallbackQuery(f *testing.F) {
	srv := testServer(f)
	for _, s := range []string{"certifyId=a&passed=200&callbackToken=b", "", "certifyId=%zz", "certifyId=" + string(bytes.Repeat([]byte("a"), 300)) + "&callbackToken=x", "a=b&a=c;d", "certifyId=ref&callbackToken=\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "/api/v1/auth/callback", nil)
		r.URL.RawQuery = q
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%q → %d %s", q, w.Code, w.Body)
		}
		var env struct {
			Success *bool `json:"success"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Success == nil {
			t.Fatalf("%q → not the envelope: %s", q, w.Body)
		}
	})
}

// FuzzUserToken: no random string verifies, and every minted token does.
func FuzzUserToken(f *testing.F) {
	tok := &userTokens{key: bytes.Repeat([]byte{7}, 32), ttl: time.Minute, now: time.Now}
	good, _ := tok.Mint("k1", "alice")
	for _, s := range []string{good, "ut2.", "ut2..", "ut2.AAAA.BBBB", "ut1.AAAA.BBBB", good + "x", good[:len(good)-1]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ut, ok := tok.Verify(s)
		if ok && s != good {
			// Only a genuine token verifies; a fuzzer cannot forge HMAC.
			minted, _ := tok.Mint(ut.clientID, ut.userID)
			if minted != s {
				t.Fatalf("forged token verified: %q → %+v", s, ut)
			}
		}
	})
}

func TestUserTokens(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	tok := &userTokens{key: bytes.Repeat([]byte{1}, 32), ttl: 15 * time.Minute, now: func() time.Time { return now }}
	s, exp := tok.Mint("k_platform", "alice")
	if !exp.Equal(now.Add(15 * time.Minute)) {
		t.Fatalf("expiry %v", exp)
	}
	if ut, ok := tok.Verify(s); !ok || ut.userID != "alice" || ut.clientID != "k_platform" {
		t.Fatalf("Verify = %+v, %v", ut, ok)
	}
	other := &userTokens{key: bytes.Repeat([]byte{2}, 32), ttl: time.Minute, now: tok.now}
	if _, ok := other.Verify(s); ok {
		t.Fatal("a token verified under another key")
	}
	later := &userTokens{key: tok.key, ttl: tok.ttl, now: func() time.Time { return now.Add(16 * time.Minute) }}
	if _, ok := later.Verify(s); ok {
		t.Fatal("an expired token verified")
	}
	// A well-signed payload whose client-id length runs past its end, and
	// one with an empty user id, are refused.
	for _, raw := range [][]byte{
		append(make([]byte, 8), 200, 'k'),
		append(make([]byte, 8), 1, 'k'),
	} {
		copy(raw, []byte{0, 0, 0, 0, 0x7f, 0, 0, 0}) // far future
		payload := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
		forged := payload + "." + base64.RawURLEncoding.EncodeToString(tok.mac(payload))
		if ut, ok := tok.Verify(forged); ok {
			t.Fatalf("malformed payload %x verified as %+v", raw, ut)
		}
	}
	// A token of the earlier format (no client id) is no longer accepted.
	raw := append([]byte{0, 0, 0, 0, 0x7f, 0, 0, 0}, "alice"...)
	v1 := "ut1." + base64.RawURLEncoding.EncodeToString(raw)
	v1 += "." + base64.RawURLEncoding.EncodeToString(tok.mac(v1))
	for _, bad := range []string{"", "ut2.", v1, s + "A", "rk_abc", s[:len(s)-3]} {
		if _, ok := tok.Verify(bad); ok {
			t.Fatalf("%q verified", bad)
		}
	}
}

func TestRenderErrorStatuses(t *testing.T) {
	for kind, status := range kindStatus {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		renderError(w, r, discard, &realname.Error{Kind: kind, Code: "X", Message: "m", RetryAfter: 1500 * time.Millisecond})
		if w.Code != status {
			t.Fatalf("kind %v → %d, want %d", kind, w.Code, status)
		}
		if w.Header().Get("Retry-After") != "2" {
			t.Fatalf("kind %v: Retry-After = %q, want 2", kind, w.Header().Get("Retry-After"))
		}
	}
	// Without RetryAfter only 429 and 503 say when to come back.
	for kind, status := range kindStatus {
		w := httptest.NewRecorder()
		renderError(w, httptest.NewRequest("GET", "/", nil), discard, &realname.Error{Kind: kind, Code: "X", Message: "m"})
		if got, want := w.Header().Get("Retry-After"), map[bool]string{true: "1"}[status == 429 || status == 503]; got != want {
			t.Fatalf("kind %v without RetryAfter: Retry-After = %q, want %q", kind, got, want)
		}
	}
	// USER_LOCKED (403) and BUDGET_EXHAUSTED (503) carry their wait.
	for _, c := range []struct {
		kind   realname.Kind
		code   string
		status int
	}{{realname.KindPermission, realname.CodeUserLocked, 403}, {realname.KindUnavailable, realname.CodeBudgetExhausted, 503}} {
		w := httptest.NewRecorder()
		renderError(w, httptest.NewRequest("GET", "/", nil), discard, &realname.Error{Kind: c.kind, Code: c.code, Message: "m", RetryAfter: 3 * time.Hour})
		if w.Code != c.status || w.Header().Get("Retry-After") != "10800" {
			t.Fatalf("%s: %d, Retry-After %q", c.code, w.Code, w.Header().Get("Retry-After"))
		}
	}
	w := httptest.NewRecorder()
	renderError(w, httptest.NewRequest("GET", "/", nil), discard, http.ErrBodyNotAllowed)
	if w.Code != 500 || bytes.Contains(w.Body.Bytes(), []byte("body not allowed")) {
		t.Fatalf("internal error leaked detail: %d %s", w.Code, w.Body)
	}
}

// FuzzClientIP feeds arbitrary X-Forwarded-For headers and remote
// addresses to the client IP logic: it never panics, without a trusted
// proxy it always answers the remote host, and otherwise it answers the
// remote host or an entry of the header that is an IP address.
func FuzzClientIP(f *testing.F) {
	for _, s := range []struct{ remote, xff string }{
		{"10.0.0.2:1", "198.51.100.1"}, {"10.0.0.2:1", "1.1.1.1, 10.0.0.3"}, {"203.0.113.9:1", "198.51.100.1"},
		{"[fd00::1]:1", "2001:db8::1, fd00::2"}, {"10.0.0.2:1", ",,, ,"}, {"10.0.0.2:1", "fe80::1%eth0"},
		{"garbage", "1.2.3.4"}, {"10.0.0.2:1", "::ffff:10.0.0.1, 1.2.3.4:80"},
	} {
		f.Add(s.remote, s.xff)
	}
	proxies := trustedProxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		for _, line := range strings.Split(xff, "\n") {
			r.Header.Add("X-Forwarded-For", line)
		}
		host := hostOf(remote)
		if got := trustedProxies(nil).clientIP(r); got != host {
			t.Fatalf("without proxies: %q, want %q", got, host)
		}
		got := proxies.clientIP(r)
		if got == host {
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil || a.Zone() != "" || !strings.Contains(xff, got) {
			t.Fatalf("clientIP = %q: not the remote host %q nor an address from %q", got, host, xff)
		}
		_ = limitKeyIP(got)
	})
}

// FuzzReviewBody sends arbitrary bodies to the real review handler (JSON,
// base64 files, consent and guardian times, the domain's checks): it never
// panics, never answers 5xx, and always answers the JSON envelope.
func FuzzReviewBody(f *testing.F) {
	srv := testServer(f)
	png := "iVBORw0KGgpmcm9udA==" // "\x89PNG\r\n\x1a\nfront"
	for _, s := range []string{
		`{"user_id":"u1","real_name":"张三","id_card_number":"11010519491231002X","consent":{"notice_version":"2026-11-01","accepted_at":"2026-11-23T08:00:00Z","scopes":["id_number","documents"],"guardian":{"relation":"parent","accepted_at":"2026-11-23T08:00:00Z"}},"files":[{"kind":"id_front","content_type":"image/png","data":"` + png + `"}]}`,
		`{"files":[{"data":"%%%"}]}`, `{"files":[{},{},{},{},{}]}`, `{"consent":{"guardian":{}}}`, `{"files":null}`, `{}`, `[]`,
		`{"user_id":"u1","note":"\u0000","files":[{"kind":"other","content_type":"application/pdf","data":"JVBERi0="}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/api/v1/auth/review", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer rk_test_0123456789abcdefghijkl")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%q → %d %s", body, w.Code, w.Body)
		}
		var env struct {
			Success *bool `json:"success"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Success == nil {
			t.Fatalf("%q → not the envelope: %s", body, w.Body)
		}
	})
}
