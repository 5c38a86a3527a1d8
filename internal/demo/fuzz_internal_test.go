package demo

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzSession feeds arbitrary cookie values to the session check: it never
// panics, and it accepts a value only if it is exactly what setSession
// writes for a live session (user.expiry.MAC with the right MAC).
func FuzzSession(f *testing.F) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s, err := New(Config{RealnameURL: "http://127.0.0.1:1", APIKey: "rk_fuzz", Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.setSession(rec, "demo_0123abcd")
	good := rec.Result().Cookies()[0].Value
	for _, seed := range []string{good, "", ".", "..", "demo_1.1.x", good[:len(good)-1], strings.Replace(good, "demo_", "demo_x", 1),
		"demo_0123abcd.99999999999999999999." + s.sign("demo_0123abcd.99999999999999999999")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest(http.MethodGet, "/demo/api/me", nil)
		r.AddCookie(&http.Cookie{Name: CookieName, Value: value})
		user, ok := s.session(r)
		if !ok {
			return
		}
		// Only a value with a valid MAC over "user.expiry" is accepted. The
		// value is the one the server sees: net/http drops bytes a cookie
		// may not hold when the request is written.
		c, _ := r.Cookie(CookieName)
		i := strings.LastIndexByte(c.Value, '.')
		payload := c.Value[:i]
		if c.Value[i+1:] != s.sign(payload) || !strings.HasPrefix(payload, user+".") || user == "" {
			t.Fatalf("accepted %q (sent as %q) as %q", value, c.Value, user)
		}
	})
}
