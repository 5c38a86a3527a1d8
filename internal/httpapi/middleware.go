package httpapi

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/realname/realname/internal/ratelimit"
	"github.com/realname/realname/internal/realname"
)

// reqState is one request's bookkeeping, allocated once per request: the
// status writer, the request id, once authenticated the principal, and the
// reader of a JSON body (decodeJSON). It travels in the request's context
// under reqStateKey.
type reqState struct {
	statusWriter
	id   string
	idv  [1]string // the X-Request-Id header value
	p    principal
	body depthReader
}

type reqStateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(reqStateKey{}).(*reqState)
	return st
}

// requestID returns the request's id.
func requestID(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.id
	}
	return ""
}

// saneRequestID accepts a caller's X-Request-Id of up to 64 safe characters.
func saneRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// newRequestID returns 96 random bits in hex. A request id only correlates
// log lines (a caller may choose its own), it guards nothing, so it comes
// from math/rand/v2's per-thread ChaCha8 generator (seeded by the OS)
// rather than from a system call per request.
func newRequestID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	var h [24]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// securityHeaders go on every answer of the API. The value slices are
// shared between answers: they are only ever replaced, never modified in
// place (len == cap, so an Add copies).
var securityHeaders = [...]struct {
	key   string // canonical form
	value []string
}{
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Cache-Control", []string{"no-store"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'"}},
}

// instrument wraps one route of the API: request id, panic recovery,
// security headers, the per-IP limit, metrics and an access log line
// without PII (the path of /status carries a user id, which is the
// platform's pseudonymous id, not PII of ours).
func (s *Server) instrument(route string, h http.HandlerFunc) http.Handler {
	return s.wrap(route, h, true)
}

// instrumentAuth is instrument for routes behind authenticated, which
// applies the per-IP limit itself: to everything but a valid API key. A
// platform's backend calls from a few addresses on behalf of all its users;
// its key's own limit governs it.
func (s *Server) instrumentAuth(route string, h http.HandlerFunc) http.Handler {
	return s.wrap(route, h, false)
}

// instrumentUnlimited is instrument without the per-IP limit, for the
// probes of the orchestrator (/health, /ready).
func (s *Server) instrumentUnlimited(route string, h http.HandlerFunc) http.Handler {
	return s.wrap(route, h, false)
}

// ipAllowed applies the per-IP limit; it answers 429 and reports false
// when the client's address is over it.
func (s *Server) ipAllowed(w http.ResponseWriter, r *http.Request) bool {
	if s.ipLimit == nil {
		return true
	}
	return s.within(w, r, s.ipLimit, limitKeyIP(s.proxies.clientIP(r)), ruleIP, "too many requests from this address")
}

// within applies one limit to key; over it, it counts the rule, answers 429
// and reports false.
func (s *Server) within(w http.ResponseWriter, r *http.Request, l ratelimit.Limiter, key, rule, what string) bool {
	ok, retry := l.Allow(r.Context(), key, s.now())
	if !ok {
		s.metrics.limited(rule)
		renderError(w, r, s.log, realname.RateLimited(what, retry))
	}
	return ok
}

func (s *Server) wrap(route string, h http.HandlerFunc, limitIP bool) http.Handler {
	obs := s.metrics.route(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqState{statusWriter: statusWriter{ResponseWriter: w}}
		st.id = r.Header.Get("X-Request-Id")
		if !saneRequestID(st.id) {
			st.id = newRequestID()
		}
		st.idv[0] = st.id
		ctx := context.WithValue(r.Context(), reqStateKey{}, st)
		r = r.WithContext(ctx)
		hdr := w.Header()
		hdr["X-Request-Id"] = st.idv[:1:1]
		for _, sh := range securityHeaders {
			hdr[sh.key] = sh.value
		}
		if s.cors != nil {
			s.cors.apply(hdr, r)
		}
		sw := &st.statusWriter
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "panic in handler", "route", route, "panic", p, "request_id", st.id)
				if sw.status == 0 {
					writeJSON(sw, http.StatusInternalServerError, errorBody{Error: "internal error", Code: realname.CodeInternal})
				}
			}
			took := time.Since(start)
			obs.observe(sw.status, took)
			if s.accessLog {
				s.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", st.id),
					slog.String("method", r.Method), slog.String("route", route),
					slog.Int("status", sw.status), slog.Duration("took", took))
			}
		}()
		if limitIP && !s.ipAllowed(sw, r) {
			return
		}
		h(sw, r)
	})
}

// Rules, as the label of realname_rate_limited_total.
const (
	ruleIP       = "ip"
	ruleAPIKey   = "api_key"
	ruleUserInit = "user_init"
)

// authenticated requires an API key or (when users is true) a user token.
func (s *Server) authenticated(users bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cred := bearer(r)
		if cred == "" {
			if s.ipAllowed(w, r) {
				renderError(w, r, s.log, realname.E(realname.KindUnauthorized, "UNAUTHORIZED", "send Authorization: Bearer <API key or user token>", nil))
			}
			return
		}
		var p principal
		if len(cred) > len(tokenPrefix) && cred[:len(tokenPrefix)] == tokenPrefix {
			if !s.ipAllowed(w, r) { // browsers: limited by address
				return
			}
			ut, ok := s.tokens.Verify(cred)
			if !ok {
				renderError(w, r, s.log, realname.E(realname.KindUnauthorized, "INVALID_TOKEN", "the user token is invalid or expired", nil))
				return
			}
			if !users {
				renderError(w, r, s.log, realname.E(realname.KindPermission, "API_KEY_REQUIRED", "this call needs the platform's API key", nil))
				return
			}
			p.userID, p.mintedBy = ut.userID, ut.clientID
		} else {
			id, ok, err := s.keys.check(r.Context(), cred)
			if err != nil {
				renderError(w, r, s.log, err)
				return
			}
			if !ok {
				if s.ipAllowed(w, r) { // guessing keys is limited by address
					renderError(w, r, s.log, realname.E(realname.KindUnauthorized, "INVALID_API_KEY", "the API key is invalid or revoked", nil))
				}
				return
			}
			p.clientID = id
			if s.keyLimit != nil && !s.within(w, r, s.keyLimit, id, ruleAPIKey, "too many requests with this API key") {
				return
			}
		}
		if st := stateFrom(r.Context()); st != nil {
			st.p = p // instrument's per-request state: no second context copy
		} else {
			r = r.WithContext(context.WithValue(r.Context(), reqStateKey{}, &reqState{p: p}))
		}
		h(w, r)
	}
}
