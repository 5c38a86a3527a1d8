package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/ratelimit"
)

func prefixes(t testing.TB, cidrs ...string) trustedProxies {
	t.Helper()
	var out trustedProxies
	for _, c := range cidrs {
		out = append(out, netip.MustParsePrefix(c))
	}
	return out
}

// TestClientIP: X-Forwarded-For is believed only from a trusted proxy, and
// then only up to the right-most address that is not a trusted proxy.
func TestClientIP(t *testing.T) {
	lb := prefixes(t, "10.0.0.0/8", "fd00::/8")
	for _, tc := range []struct {
		name    string
		proxies trustedProxies
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies: remote address", nil, "203.0.113.9:5000", nil, "203.0.113.9"},
		{"no proxies: client XFF ignored", nil, "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"untrusted remote: XFF ignored", lb, "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted proxy: its client", lb, "10.0.0.2:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed left entries ignored", lb, "10.0.0.2:5000", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"spoofed entry naming a proxy", lb, "10.0.0.2:5000", []string{"10.9.9.9, 198.51.100.1"}, "198.51.100.1"},
		{"chain of proxies", lb, "10.0.0.2:5000", []string{"198.51.100.1, 10.0.0.7, 10.0.0.3"}, "198.51.100.1"},
		{"several header lines", lb, "10.0.0.2:5000", []string{"6.6.6.6", "198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		{"trusted proxy without XFF", lb, "10.0.0.2:5000", nil, "10.0.0.2"},
		{"only proxies in XFF", lb, "10.0.0.2:5000", []string{"10.0.0.5, 10.0.0.3"}, "10.0.0.5"},
		{"garbage entry stops at last trusted hop", lb, "10.0.0.2:5000", []string{"198.51.100.1, bogus, 10.0.0.3"}, "10.0.0.3"},
		{"garbage right-most: the proxy itself", lb, "10.0.0.2:5000", []string{"198.51.100.1, not-an-ip"}, "10.0.0.2"},
		{"port in entry refused", lb, "10.0.0.2:5000", []string{"198.51.100.1:80"}, "10.0.0.2"},
		{"zone in entry refused", lb, "10.0.0.2:5000", []string{"fe80::1%eth0"}, "10.0.0.2"},
		{"empty entries skipped", lb, "10.0.0.2:5000", []string{"198.51.100.1,, ,"}, "198.51.100.1"},
		{"IPv6 proxy and client", lb, "[fd00::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped proxy", lb, "[::ffff:10.0.0.2]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"too many entries: stop at the bound", lb, "10.0.0.2:5000",
			[]string{"198.51.100.1" + strings.Repeat(", 10.0.0.1", maxForwardedEntries+3)}, "10.0.0.1"},
		{"huge header: only the right-most part read", lb, "10.0.0.2:5000",
			[]string{strings.Repeat("9", 100_000) + ", 198.51.100.1"}, "198.51.100.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/auth/supported_documents", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tc.proxies.clientIP(r); got != tc.want {
				t.Fatalf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLimitKeyIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":             "203.0.113.9",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":    "2001:db8:1:2::/64",
		"::ffff:203.0.113.9":      "203.0.113.9",
		"not an address: kept as": "not an address: kept as",
	} {
		if got := limitKeyIP(in); got != want {
			t.Errorf("limitKeyIP(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRateLimitedAnswer: the per-IP limit answers 429 with Retry-After and
// the error envelope, counts the refusal, and leaves /health alone.
func TestRateLimitedAnswer(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var s *Server
	s = testServerWith(t, func(o *Options) {
		o.IPLimit = ratelimit.NewMemory(ratelimit.Rule{Limit: 2, Window: time.Minute}, 0)
		o.Now = func() time.Time { return now }
	})
	get := func(path, remote string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", "198.51.100.77") // no trusted proxy: ignored
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	for range 2 {
		if w := get("/api/v1/auth/supported_documents", "203.0.113.9:1"); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
	}
	w := get("/api/v1/auth/supported_documents", "203.0.113.9:2")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("3rd request: %d, want 429", w.Code)
	}
	if ra := w.Header().Get("Retry-After"); ra != "30" {
		t.Fatalf("Retry-After %q, want 30 (2/min: one every 30 s)", ra)
	}
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Success || body.Code != "RATE_LIMITED" || body.Error == "" {
		t.Fatalf("body %s (%v)", w.Body, err)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Request-Id") == "" {
		t.Fatal("429 without the usual headers")
	}
	if w := get("/health", "203.0.113.9:3"); w.Code != 200 {
		t.Fatalf("/health limited: %d", w.Code)
	}
	if w := get("/api/v1/auth/supported_documents", "203.0.113.10:1"); w.Code != 200 {
		t.Fatalf("another address limited: %d", w.Code)
	}
	if n := limitedCount(t, s, ruleIP); n != 1 {
		t.Fatalf("realname_rate_limited_total{rule=ip} = %v", n)
	}
	now = now.Add(30 * time.Second)
	if w := get("/api/v1/auth/supported_documents", "203.0.113.9:1"); w.Code != 200 {
		t.Fatalf("after Retry-After: %d", w.Code)
	}
}

// TestAPIKeyLimit: requests per API key are limited whatever the address.
func TestAPIKeyLimit(t *testing.T) {
	s := testServerWith(t, func(o *Options) {
		o.KeyLimit = ratelimit.NewMemory(ratelimit.Rule{Limit: 1, Window: time.Minute}, 0)
	})
	codes := []int{}
	for i := range 2 {
		r := httptest.NewRequest("GET", "/api/v1/auth/status/u1", nil)
		r.RemoteAddr = "203.0.113." + string(rune('1'+i)) + ":1"
		r.Header.Set("Authorization", "Bearer rk_test_0123456789abcdefghijkl")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		codes = append(codes, w.Code)
		if i == 1 && (w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"RATE_LIMITED"`)) {
			t.Fatalf("429 answer: %v %s", w.Header(), w.Body)
		}
	}
	if codes[0] == http.StatusTooManyRequests || codes[1] != http.StatusTooManyRequests {
		t.Fatalf("codes %v, want the second limited", codes)
	}
	if n := limitedCount(t, s, ruleAPIKey); n != 1 {
		t.Fatalf("realname_rate_limited_total{rule=api_key} = %v", n)
	}
}

// limitedCount reads realname_rate_limited_total{rule=…} from /metrics.
func limitedCount(t *testing.T, s *Server, rule string) float64 {
	t.Helper()
	w := httptest.NewRecorder()
	s.metrics.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	prefix := `realname_rate_limited_total{rule="` + rule + `"} `
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", prefix)
	return 0
}

// BenchmarkLimiterPerRequest is everything the limits add to one request
// with an API key behind a trusted proxy: the client IP from
// X-Forwarded-For, its key, and the per-IP and per-key limiters. It must
// stay under 2 µs (the budget); docs/benchmarks.md §5.1 has the figures; it
// allocates only for IPv6 clients (the /64 key).
func BenchmarkLimiterPerRequest(b *testing.B) {
	proxies := trustedProxies{netip.MustParsePrefix("10.0.0.0/8")}
	ip := ratelimit.NewMemory(ratelimit.Rule{Limit: 1 << 40, Window: time.Minute}, 0)
	key := ratelimit.NewMemory(ratelimit.Rule{Limit: 1 << 40, Window: time.Minute}, 0)
	now := time.Now()
	run := func(b *testing.B, r *http.Request) {
		if ok, _ := ip.Allow(r.Context(), limitKeyIP(proxies.clientIP(r)), now); !ok {
			b.Fatal("refused")
		}
		if ok, _ := key.Allow(r.Context(), "key_bench", now); !ok {
			b.Fatal("refused")
		}
	}
	for _, tc := range []struct{ name, remote, xff string }{
		{"direct", "203.0.113.9:4000", ""},
		{"proxied", "10.0.0.2:4000", "198.51.100.1, 10.0.0.7"},
		{"proxied-ipv6", "10.0.0.2:4000", "2001:db8:1:2::77"},
	} {
		r := httptest.NewRequest("GET", "/api/v1/auth/status/u1", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				run(b, r)
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					run(b, r)
				}
			})
		})
	}
}

// TestRateLimitBehindProxy: behind a trusted proxy each forwarded client
// has its own allowance; a client connecting directly cannot borrow or
// burn another's by sending X-Forwarded-For.
func TestRateLimitBehindProxy(t *testing.T) {
	s := testServerWith(t, func(o *Options) {
		o.IPLimit = ratelimit.NewMemory(ratelimit.Rule{Limit: 1, Window: time.Minute}, 0)
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	get := func(remote, xff string) int {
		r := httptest.NewRequest("GET", "/api/v1/auth/supported_documents", nil)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	for i, tc := range []struct {
		remote, xff string
		want        int
	}{
		{"10.0.0.2:1", "198.51.100.1", 200},
		{"10.0.0.3:1", "198.51.100.2", 200},          // another client through another proxy
		{"10.0.0.2:1", "198.51.100.1", 429},          // the first again
		{"10.0.0.2:1", "6.6.6.6, 198.51.100.1", 429}, // prepending a fake address does not help
		{"203.0.113.9:1", "198.51.100.2", 200},       // direct: its own address, XFF ignored
		{"203.0.113.9:1", "198.51.100.3", 429},       // … so changing XFF does not help
		{"10.0.0.2:1", "198.51.100.3", 200},          // and the spoofed address was not charged
	} {
		if got := get(tc.remote, tc.xff); got != tc.want {
			t.Fatalf("request %d (%s, XFF %q): %d, want %d", i, tc.remote, tc.xff, got, tc.want)
		}
	}
}

// TestIPLimitAndCredentials: the per-IP limit covers browsers (user tokens)
// and failed credentials, but not a valid API key, whose own limit governs
// a platform backend calling for all its users from a few addresses.
func TestIPLimitAndCredentials(t *testing.T) {
	s := testServerWith(t, func(o *Options) {
		o.IPLimit = ratelimit.NewMemory(ratelimit.Rule{Limit: 2, Window: time.Minute}, 0)
	})
	token, _ := s.tokens.Mint("env", "u1")
	call := func(bearer string) int {
		r := httptest.NewRequest("GET", "/api/v1/auth/status/u1", nil)
		r.RemoteAddr = "203.0.113.50:1"
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	for i := range 5 {
		if code := call("rk_test_0123456789abcdefghijkl"); code == http.StatusTooManyRequests {
			t.Fatalf("API-key request %d limited by address", i)
		}
	}
	codes := []int{call(token), call("rk_wrong_key_0123456789abcdef"), call(""), call(token)}
	if codes[0] == http.StatusTooManyRequests || codes[1] != http.StatusUnauthorized {
		t.Fatalf("first two by address: %v", codes)
	}
	if codes[2] != http.StatusTooManyRequests || codes[3] != http.StatusTooManyRequests {
		t.Fatalf("after 2 per address: %v, want 429 for no credential and for the token", codes)
	}
	if code := call("rk_test_0123456789abcdefghijkl"); code == http.StatusTooManyRequests {
		t.Fatal("the API key is limited by the address others used up")
	}
}
