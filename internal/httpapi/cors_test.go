package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

const (
	corsAllowed = "https://letters.example.cn"
	corsOther   = "https://evil.example"
)

func corsServer(t testing.TB) *Server {
	t.Helper()
	return testServerWith(t, func(o *Options) {
		o.CORSOrigins = []string{corsAllowed, "http://localhost:3000"}
	})
}

// corsHeaders are the headers CORS may set.
var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Allow-Credentials",
}

// serve sends one request; origin and auth are set when not empty, and
// preflight adds Access-Control-Request-Method.
func serve(s *Server, method, path, origin, auth string, preflight bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if auth != "" {
		r.Header.Set("Authorization", "Bearer "+auth)
	}
	if preflight {
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func wantNoCORS(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	for _, h := range corsHeaders {
		if v, ok := w.Header()[h]; ok {
			t.Errorf("%s: %q, want none", h, v)
		}
	}
}

func wantSecurityHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	for _, sh := range securityHeaders {
		if got := w.Header().Get(sh.key); got != sh.value[0] {
			t.Errorf("%s = %q, want %q", sh.key, got, sh.value[0])
		}
	}
	if w.Header().Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

func wantErrorCode(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var body struct {
		Success *bool  `json:"success"`
		Error   string `json:"error"`
		Code    string `json:"code"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Success == nil || *body.Success || body.Error == "" || body.Code != code {
		t.Fatalf("body %s (%v), want code %s", w.Body, err, code)
	}
}

// TestCORSAllowedOrigin: a listed origin can read real answers, successes
// and errors alike, with the request id and Retry-After exposed; never
// with credentials.
func TestCORSAllowedOrigin(t *testing.T) {
	s := corsServer(t)
	tok, _ := s.tokens.Mint("env", "alice")
	for _, tc := range []struct {
		name, method, path, auth string
		status                   int
	}{
		{"public route", "GET", "/api/v1/auth/supported_documents", "", 200},
		{"no credentials: 401", "GET", "/api/v1/auth/status/alice", "", 401},
		{"bad token: 401", "POST", "/api/v1/auth/query", "ut2.forged.token", 401},
		{"user token for another user: 403", "GET", "/api/v1/auth/status/bob", tok, 403},
		{"user token, nothing started: 404", "GET", "/api/v1/auth/status/alice", tok, 404},
		{"unknown route: 404", "GET", "/api/v1/nope", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(s, tc.method, tc.path, corsAllowed, tc.auth, false)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			h := w.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != corsAllowed {
				t.Errorf("Allow-Origin %q", got)
			}
			if got := h.Values("Vary"); len(got) != 1 || got[0] != "Origin" {
				t.Errorf("Vary %q", got)
			}
			if got := h.Get("Access-Control-Expose-Headers"); got != "Retry-After, X-Request-Id" {
				t.Errorf("Expose-Headers %q", got)
			}
			for _, h := range []string{"Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Max-Age"} {
				if v, ok := w.Header()[h]; ok {
					t.Errorf("%s: %q on an actual answer", h, v)
				}
			}
			wantSecurityHeaders(t, w)
		})
	}
}

// TestCORSOtherOrigins: an unlisted origin, a near miss or no Origin is
// served as usual but gets no CORS headers; the answer still varies by
// Origin.
func TestCORSOtherOrigins(t *testing.T) {
	s := corsServer(t)
	for _, origin := range []string{"", corsOther, "https://letters.example.cn.evil.example", "http://letters.example.cn",
		"https://LETTERS.example.cn", "https://letters.example.cn/", "null", "*"} {
		t.Run(origin, func(t *testing.T) {
			w := serve(s, "GET", "/api/v1/auth/supported_documents", origin, "", false)
			if w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			wantNoCORS(t, w)
			if got := w.Header().Get("Vary"); got != "Origin" {
				t.Errorf("Vary %q, want Origin", got)
			}
			wantSecurityHeaders(t, w)
		})
	}
	r := httptest.NewRequest("GET", "/api/v1/auth/supported_documents", nil)
	r.Header.Add("Origin", corsAllowed)
	r.Header.Add("Origin", corsAllowed)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	wantNoCORS(t, w) // two Origin headers: not a browser's request
}

func TestCORSPreflight(t *testing.T) {
	s := corsServer(t)
	for _, path := range []string{"/api/v1/auth/init", "/api/v1/auth/status/alice", "/api/v1/auth/token", "/api/v1/anything"} {
		t.Run("allowed "+path, func(t *testing.T) {
			w := serve(s, "OPTIONS", path, corsAllowed, "", true)
			if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
				t.Fatalf("status %d, body %q; want 204 and no body", w.Code, w.Body)
			}
			want := map[string]string{
				"Access-Control-Allow-Origin":  corsAllowed,
				"Access-Control-Allow-Methods": "GET, POST, DELETE",
				"Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, X-Request-Id",
				"Access-Control-Max-Age":       "600",
				"Vary":                         "Origin",
			}
			for k, v := range want {
				if got := w.Header().Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for _, h := range []string{"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} {
				if v, ok := w.Header()[h]; ok {
					t.Errorf("%s: %q on a preflight", h, v)
				}
			}
			wantSecurityHeaders(t, w)
		})
	}
	t.Run("second origin", func(t *testing.T) {
		w := serve(s, "OPTIONS", "/api/v1/auth/init", "http://localhost:3000", "", true)
		if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
	})
	for _, origin := range []string{corsOther, "", "null"} {
		t.Run("refused "+origin, func(t *testing.T) {
			w := serve(s, "OPTIONS", "/api/v1/auth/init", origin, "", true)
			wantErrorCode(t, w, http.StatusForbidden, "CORS_ORIGIN_NOT_ALLOWED")
			wantNoCORS(t, w)
			if got := w.Header().Get("Vary"); got != "Origin" {
				t.Errorf("Vary %q", got)
			}
			wantSecurityHeaders(t, w)
		})
	}
	t.Run("OPTIONS without Access-Control-Request-Method", func(t *testing.T) {
		w := serve(s, "OPTIONS", "/api/v1/auth/init", corsAllowed, "", false)
		wantErrorCode(t, w, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("preflight outside /api/v1/", func(t *testing.T) {
		w := serve(s, "OPTIONS", "/api/v2/auth/init", corsAllowed, "", true)
		wantErrorCode(t, w, http.StatusNotFound, "NOT_FOUND")
	})
}

// TestCORSNotConfigured: without origins nothing changes: no CORS header,
// no Vary, and a preflight is refused.
func TestCORSNotConfigured(t *testing.T) {
	s := testServer(t)
	w := serve(s, "OPTIONS", "/api/v1/auth/init", corsAllowed, "", true)
	wantErrorCode(t, w, http.StatusForbidden, "CORS_ORIGIN_NOT_ALLOWED")
	wantNoCORS(t, w)
	wantSecurityHeaders(t, w)
	w = serve(s, "GET", "/api/v1/auth/supported_documents", corsAllowed, "", false)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	wantNoCORS(t, w)
	if v, ok := w.Header()["Vary"]; ok {
		t.Errorf("Vary %q without CORS", v)
	}
}

func TestCORSOriginsRefuseWildcard(t *testing.T) {
	for _, bad := range [][]string{{"*"}, {corsAllowed, ""}, {"https://*.example.cn"}} {
		if _, err := newCORSOrigins(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// BenchmarkCORSApply is what CORS adds to each answer when origins are
// listed: one map lookup and shared header values, no allocation.
func BenchmarkCORSApply(b *testing.B) {
	c, err := newCORSOrigins([]string{corsAllowed, "http://localhost:3000"})
	if err != nil {
		b.Fatal(err)
	}
	for _, origin := range []string{corsAllowed, corsOther, ""} {
		b.Run("origin="+origin, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/api/v1/auth/status/u1", nil)
			if origin != "" {
				r.Header.Set("Origin", origin)
			}
			hdr := http.Header{}
			b.ReportAllocs()
			for b.Loop() {
				clear(hdr)
				c.apply(hdr, r)
			}
		})
	}
}
