package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/notice"
	"github.com/realname/realname/internal/ratelimit"
)

func get(s http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestNoticeList(t *testing.T) {
	s := testServer(t)
	w := get(s, "/api/v1/auth/notices")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var ans struct {
		Success  bool
		Current  string
		Versions []struct {
			Version, Published string
			Languages          []string
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	if !ans.Success || ans.Current != notice.Current() || len(ans.Versions) != len(notice.Versions()) {
		t.Fatalf("answer %s", w.Body)
	}
	for i, v := range notice.Versions() {
		got := ans.Versions[i]
		if got.Version != v.Version || got.Published != v.Published || !slices.Equal(got.Languages, []string{"zh", "en"}) {
			t.Errorf("version %d: %+v", i, got)
		}
	}
	checkCacheable(t, w)
}

// checkCacheable: the answer may be cached, and still has the middleware's
// other headers.
func checkCacheable(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	h := w.Result().Header
	if got := h.Values("Cache-Control"); len(got) != 1 || got[0] != "public, max-age=300" {
		t.Errorf("Cache-Control %q", got)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Request-Id") == "" || h.Get("Etag") == "" {
		t.Errorf("headers %v", h)
	}
	if ct := h.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestNoticeText(t *testing.T) {
	s := testServer(t)
	cur := notice.Current()
	for _, tc := range []struct {
		path, version, lang string
	}{
		{"/api/v1/auth/notices/current", cur, "zh"},
		{"/api/v1/auth/notices/current?lang=en", cur, "en"},
		{"/api/v1/auth/notices/" + cur + "?lang=zh", cur, "zh"},
		{"/api/v1/auth/notices/" + cur + "?lang=", cur, "zh"},
		{"/api/v1/auth/notices/2026-11-01?lang=en", "2026-11-01", "en"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := get(s, tc.path)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var ans struct {
				Success bool
				Notice  struct {
					Version, Lang, Title, SHA256 string
					Sections                     []struct{ Heading, Text string }
					Consents                     map[string]string
				}
			}
			if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
				t.Fatal(err)
			}
			want, err := notice.Get(tc.version, tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			n := ans.Notice
			if !ans.Success || n.Version != tc.version || n.Lang != tc.lang || n.Title != want.Title || n.SHA256 != want.SHA256 ||
				len(n.Sections) != len(want.Sections) || n.Sections[0].Heading != want.Sections[0].Heading ||
				n.Consents["id_number"] != want.Consents["id_number"] || n.Consents["face"] != want.Consents["face"] || len(n.Consents) != 2 {
				t.Errorf("answer %s", w.Body)
			}
			for _, field := range []string{`"version"`, `"lang"`, `"title"`, `"sections"`, `"heading"`, `"text"`, `"consents"`, `"sha256"`} {
				if !strings.Contains(w.Body.String(), field) {
					t.Errorf("no %s in %s", field, w.Body)
				}
			}
			checkCacheable(t, w)
			// A cache that has it asks again: 304, no body.
			again := get(s, tc.path, "If-None-Match", w.Header().Get("Etag"))
			if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
				t.Errorf("with If-None-Match: %d %q", again.Code, again.Body)
			}
		})
	}
}

func TestNoticeBadRequests(t *testing.T) {
	s := testServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/auth/notices/1999-01-01", 404, codeNoticeNotFound},
		{"GET", "/api/v1/auth/notices/latest?lang=en", 404, codeNoticeNotFound},
		{"GET", "/api/v1/auth/notices/current?lang=fr", 400, "INVALID_REQUEST"},
		{"GET", "/api/v1/auth/notices/current?lang=ZH", 400, "INVALID_REQUEST"},
		{"GET", "/api/v1/auth/notices/1999-01-01?lang=xx", 400, "INVALID_REQUEST"},
		{"GET", "/api/v1/auth/notices/" + strings.Repeat("1", 33), 400, "INVALID_REQUEST"},
		{"GET", "/api/v1/auth/notices/a_b", 400, "INVALID_REQUEST"},
		{"GET", "/api/v1/auth/notices/%2e%2e%2fx", 400, "INVALID_REQUEST"},
		{"GET", "/api/v1/auth/notices/%E7%89%88", 400, "INVALID_REQUEST"},
		{"GET", "/api/v1/auth/notices/current/x", 404, "NOT_FOUND"},
		{"POST", "/api/v1/auth/notices", 404, "NOT_FOUND"},
		{"DELETE", "/api/v1/auth/notices/current", 404, "NOT_FOUND"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatalf("%d %s: %v", w.Code, w.Body, err)
			}
			if w.Code != tc.status || e.Code != tc.code || e.Success || e.Error == "" {
				t.Errorf("%d %s, want %d %s", w.Code, w.Body, tc.status, tc.code)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("an error answer has Cache-Control %q", cc)
			}
		})
	}
}

// The notices need no credentials, but the per-IP limit applies.
func TestNoticeRoutesArePublicAndLimited(t *testing.T) {
	s := testServerWith(t, func(o *Options) {
		o.IPLimit = ratelimit.NewMemory(ratelimit.Rule{Limit: 2, Window: time.Minute}, 0)
	})
	if w := get(s, "/api/v1/auth/notices", "Authorization", "Bearer nonsense"); w.Code != http.StatusOK {
		t.Fatalf("with a bad credential: %d %s", w.Code, w.Body)
	}
	if w := get(s, "/api/v1/auth/notices/current"); w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w := get(s, "/api/v1/auth/notices/current")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("over the limit: %d %v %s", w.Code, w.Header(), w.Body)
	}
}

func BenchmarkNoticeText(b *testing.B) {
	s := testServer(b)
	r := httptest.NewRequest(http.MethodGet, "/api/v1/auth/notices/current?lang=zh", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
