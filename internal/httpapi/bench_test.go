package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/cache"
	"github.com/realname/realname/internal/pii"
	"github.com/realname/realname/internal/ratelimit"
	"github.com/realname/realname/internal/realname"
	sqlstore "github.com/realname/realname/internal/storage/sql"
)

// The hot-path benchmarks measure the CPU cost of realname's own work per
// request for POST /api/v1/auth/verify and GET /api/v1/auth/status/{user_id}
// of a verified user: everything from the mux to the last byte handed to
// the ResponseWriter (request id, security headers, authentication, JSON in
// and out, cache, metrics, access log), without the network and net/http's
// own parsing and writing. scripts/bench-http.sh measures the whole server
// over loopback. Run:
//
//	go test -run='^$' -bench=HotPath -benchmem ./internal/httpapi/

// passingProvider passes every face check and remembers the callback token
// so the benchmark can finish the session through HandleCallback.
type passingProvider struct {
	mu     sync.Mutex
	tokens map[string]string // ref → callback token
}

func (*passingProvider) Name() string { return "bench" }
func (*passingProvider) CheckIdentity(context.Context, realname.IdentityInput) (realname.IdentityMatch, error) {
	return realname.IdentityMatches, nil
}
func (p *passingProvider) StartFaceCheck(_ context.Context, r realname.FaceCheckRequest) (realname.FaceCheckSession, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens["ref-"+r.OrderNo] = r.CallbackToken
	return realname.FaceCheckSession{Ref: "ref-" + r.OrderNo, VerifyURL: "https://bench.example/v"}, nil
}
func (*passingProvider) FaceCheckResult(context.Context, string) (realname.FaceResult, error) {
	return realname.FaceResult{Passed: true, SubCode: "200", Score: 99}, nil
}

const benchKey = "rk_bench_0123456789abcdefghijklmnop"

// benchServer is a Server wired as app.New wires it (memory cache, metrics,
// a stored API key) with one verified user, "u1".
func benchServer(b *testing.B, log *slog.Logger, accessLog bool) *Server {
	b.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := store.CreateAPIKey(ctx, realname.APIKey{ID: "key_bench", Name: "bench", Hash: HashAPIKey(benchKey), CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}); err != nil {
		b.Fatal(err)
	}
	secret := sha256.Sum256([]byte("kek"))
	ring, err := pii.NewKeyRing([]pii.Key{{ID: "k1", Secret: secret[:], Created: time.Now()}}, "k1")
	if err != nil {
		b.Fatal(err)
	}
	idx, err := pii.NewBlindIndex(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		b.Fatal(err)
	}
	prov := &passingProvider{tokens: map[string]string{}}
	metrics := NewMetrics(nil, nil)
	svc, err := realname.New(realname.Config{CallbackURL: "https://rn.example/api/v1/auth/callback"},
		realname.Deps{Store: store, Provider: prov, Keys: realname.Keys{Ring: ring, Index: idx}, Cache: cache.NewMemory(0), Metrics: metrics})
	if err != nil {
		b.Fatal(err)
	}
	res, err := svc.Init(ctx, realname.InitRequest{ClientID: "key_bench", UserID: "u1", RealName: "张三", IDNumber: "11010519491231002X",
		Consent: &realname.Consent{NoticeVersion: "2026-11-01", AcceptedAt: time.Now().Add(-time.Minute), Scopes: []string{"id_number", "face"}}})
	if err != nil {
		b.Fatal(err)
	}
	v, err := svc.Verification(ctx, res.CertifyID)
	if err != nil {
		b.Fatal(err)
	}
	if v, err = svc.HandleCallback(ctx, realname.Callback{Ref: v.ProviderRef, Token: prov.tokens[v.ProviderRef], Hint: "200"}); err != nil || v.Status != realname.StatusSuccess {
		b.Fatalf("finish: %v %v", v.Status, err)
	}
	s, err := New(Options{Service: svc, Keys: store.APIKeyByHash, TokenKey: bytes.Repeat([]byte{9}, 32),
		Metrics: metrics, Logger: log, AccessLog: accessLog, SupportedDocs: []string{"IDENTITY_CARD"},
		// The limits app.New sets, with rules high enough that the
		// benchmark's requests are all allowed: the cost measured is the
		// limiter's bookkeeping on every request.
		IPLimit:  ratelimit.NewMemory(ratelimit.Rule{Limit: 1 << 40, Window: time.Minute}, 0),
		KeyLimit: ratelimit.NewMemory(ratelimit.Rule{Limit: 1 << 40, Window: time.Minute}, 0),
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// discardWriter is a reusable http.ResponseWriter that keeps nothing but
// the status, so the benchmark measures the handler, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *discardWriter) reset()                      { clear(w.h); w.status, w.n = 0, 0 }

func BenchmarkHotPath(b *testing.B) {
	jsonLog := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, tc := range []struct {
		name      string
		log       *slog.Logger
		accessLog bool
	}{{"accesslog=off", discard, false}, {"accesslog=json", jsonLog, true}} {
		s := benchServer(b, tc.log, tc.accessLog)
		for _, route := range []struct{ name, method, path, body string }{
			{"verify", "POST", "/api/v1/auth/verify", `{"user_id":"u1"}`},
			{"status", "GET", "/api/v1/auth/status/u1", ""},
		} {
			b.Run(route.name+"/"+tc.name, func(b *testing.B) {
				body := strings.NewReader(route.body)
				req := httptest.NewRequest(route.method, route.path, body)
				req.Header.Set("Authorization", "Bearer "+benchKey)
				if route.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				w := &discardWriter{h: http.Header{}}
				check := func() {
					if w.status != 0 && w.status != 200 || w.n == 0 {
						b.Fatalf("%s: status %d, %d bytes", route.path, w.status, w.n)
					}
				}
				s.ServeHTTP(w, req) // fill the API key and answer caches
				check()
				b.ReportAllocs()
				for b.Loop() {
					w.reset()
					body.Reset(route.body)
					req.Body = io.NopCloser(body)
					s.ServeHTTP(w, req)
				}
				check()
			})
		}
	}
	b.Run("constant-json", func(b *testing.B) {
		// What the baseline server of scripts/bench-http.sh does per request.
		w := &discardWriter{h: http.Header{}}
		body := []byte(`{"success":true,"passed":true,"reason":"已实名认证","reason_code":"","user_info":{"user_id":"u1","real_name":"张*","evidence":"face","auth_time":"2026-11-23T08:34:19Z","expire_time":"2027-11-23T08:34:19Z"}}` + "\n")
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}
	})
}

// BenchmarkAPIKeyCheck is the API-key check of every request, for a known
// key, from every core at once.
func BenchmarkAPIKeyCheck(b *testing.B) {
	s := benchServer(b, discard, false)
	ctx := context.Background()
	if _, ok, err := s.keys.check(ctx, benchKey); !ok || err != nil {
		b.Fatal(ok, err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok, _ := s.keys.check(ctx, benchKey); !ok {
				b.Fatal("key refused")
			}
		}
	})
}

// TestAppendJSONMatchesEncodingJSON guards the reflection-free encoder of
// writeJSON: for every value it accepts, it must produce json.Marshal's
// bytes exactly.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	s := "x"
	f := 97.5
	values := []any{
		nil, "", "plain", "张*", "已实名认证", `quote " back \ slash`, "<script>&amp;</script>", "ctl \x00\x01\x1f\x7f \b\f\n\r\t",
		"bad utf8 \xff\xfe end", "line sep \u2028 par sep \u2029", "emoji 😀", true, false, 0, -1, 364, int64(1) << 60,
		0.0, 1.0, -2.5, 99.123456789, 1e-7, 1e21, 1e20, 123456789012345678.0, 5e-324, (*string)(nil), &s, (*float64)(nil), &f,
		realname.StatusSuccess, realname.Evidence("face"), errorBody{Error: "bad <thing> & more", Code: "INVALID_JSON"},
		map[string]any(nil), map[string]any{},
		map[string]any{"success": true, "passed": true, "reason": "已实名认证", "reason_code": "", "similarity_score": 98.5,
			"user_info": map[string]any{"user_id": "u1", "real_name": "张*", "evidence": realname.Evidence("face"), "auth_time": &s, "expire_time": (*string)(nil)}},
		map[string]any{"b": 1, "a": 2, "B": 3, "aa": 4, "<": 5, "é": 6, "\u2028": 7, "": 8},
	}
	// The hot path's answer types, every field filled (and every field
	// zero): a field added to them but not to their appendJSON fails here.
	for _, typ := range []reflect.Type{reflect.TypeFor[verifyAnswer](), reflect.TypeFor[statusAnswer]()} {
		for variant := range 3 {
			v := reflect.New(typ).Elem()
			fillForTest(v, variant)
			values = append(values, v.Interface())
		}
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		got, ok := appendJSON(nil, v)
		if !ok || string(got) != string(want) {
			t.Errorf("%#v:\n got %s (%v)\nwant %s", v, got, ok, want)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), []string{"a"}, struct{ A int }{1}, map[string]any{"x": []int{1}}, float32(1.5), time.Now()} {
		if _, ok := appendJSON(nil, v); ok {
			t.Errorf("%#v: accepted; it must fall back to json.Marshal", v)
		}
	}
	// writeJSON itself: same body plus a newline, and its headers.
	w := httptest.NewRecorder()
	answer := values[len(values)-2] // a filled verifyAnswer
	writeJSON(w, 200, answer)
	want, _ := json.Marshal(answer)
	if w.Body.String() != string(want)+"\n" || w.Header().Get("Content-Length") != strconv.Itoa(len(want)+1) ||
		w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("writeJSON: %v %q", w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	writeJSON(w, 200, map[string]any{"bad": math.NaN()})
	if w.Code != 500 || w.Body.String() != `{"success":false,"error":"internal error","code":"INTERNAL"}`+"\n" {
		t.Fatalf("unencodable answer: %d %q", w.Code, w.Body)
	}
}

// FuzzAppendJSON compares string quoting and number formatting with
// encoding/json's.
func FuzzAppendJSON(f *testing.F) {
	for i, s := range []string{"", "a", "张三", "<>&", "\x00\u2028\xff", `"\`} {
		f.Add(s, float64(i)*1.1e-7, int64(i))
	}
	f.Fuzz(func(t *testing.T, s string, x float64, n int64) {
		v := map[string]any{s: s, "x": x, "n": n, "i": int(n), "p": &s}
		want, err := json.Marshal(v)
		got, ok := appendJSON(nil, v)
		if err != nil {
			if ok {
				t.Fatalf("%v: accepted what json.Marshal refuses (%v)", v, err)
			}
			return
		}
		if !ok || string(got) != string(want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

func TestTimeOrNilCache(t *testing.T) {
	if timeOrNil(time.Time{}) != nil {
		t.Fatal("zero time must be null")
	}
	base := time.Date(2026, 11, 23, 8, 34, 19, 999, time.FixedZone("CST", 8*3600))
	for i := range 1000 {
		tm := base.Add(time.Duration(i*37) * time.Second)
		for range 2 { // a miss, then a hit
			if got, want := *timeOrNil(tm), tm.UTC().Format(time.RFC3339); got != want {
				t.Fatalf("%v: %s, want %s", tm, got, want)
			}
		}
	}
	if got := *timeOrNil(time.Unix(-62135596799, 0)); got != "0001-01-01T00:00:01Z" {
		t.Fatalf("year 1: %s", got)
	}
}

// fillForTest sets every field of v: variant 0 leaves it zero, 1 sets
// every field (pointers to filled values), 2 sets scalars and leaves
// pointers nil.
func fillForTest(v reflect.Value, variant int) {
	if variant == 0 {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		v.SetString("s <&> \u2028 张*")
	case reflect.Int, reflect.Int64:
		v.SetInt(364)
	case reflect.Float64:
		v.SetFloat(98.25)
	case reflect.Pointer:
		if variant == 1 {
			p := reflect.New(v.Type().Elem())
			fillForTest(p.Elem(), variant)
			v.Set(p)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fillForTest(v.Field(i), variant)
		}
	default:
		panic("fillForTest: add kind " + v.Kind().String())
	}
}
