package cloudauthsim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFormOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://app.example/done?x=1#top", "https://app.example"},
		{"HTTP://127.0.0.1:8080/back", "http://127.0.0.1:8080"},
		{"http://[::1]:9000/", "http://[::1]:9000"},
		{"https://a;b.example/", ""},
		{"https://a.example'/", ""},
		{"https://user@app.example/", "https://app.example"},
		{"ftp://app.example/", ""},
		{"/relative", ""},
	}
	for _, tt := range tests {
		if got := formOrigin(tt.in); got != tt.want {
			t.Errorf("formOrigin(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestServeJS checks the handler itself, whatever the routing.
func TestServeJS(t *testing.T) {
	s := &Simulator{}
	rec := httptest.NewRecorder()
	s.serveJS(rec, httptest.NewRequest("GET", "/static/sim.js?v="+simJSHash, nil))
	h := rec.Header()
	if rec.Code != 200 || h.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		h.Get("Cache-Control") != "public, max-age=31536000, immutable" || rec.Body.String() != string(simJS) ||
		!strings.HasPrefix(string(simJS), "/* Script of the Cloudauth simulator") {
		t.Fatalf("%d %v", rec.Code, h)
	}
	rec = httptest.NewRecorder()
	s.serveJS(rec, httptest.NewRequest("DELETE", "/static/sim.js", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("DELETE: %d", rec.Code)
	}
}
