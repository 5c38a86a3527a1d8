package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/realname/realname/internal/realname"
)

type requestIDKey struct{}

// requestID returns the request's id.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
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

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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

// instrument wraps one route: request id, panic recovery, security headers,
// metrics and an access log line without PII (the path of /status carries a
// user id, which is the platform's pseudonymous id, not PII of ours).
func (s *Server) instrument(route string, h http.HandlerFunc) http.Handler {
	obs := s.metrics.route(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			id = newRequestID()
		}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		r = r.WithContext(ctx)
		hdr := w.Header()
		hdr.Set("X-Request-Id", id)
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "panic in handler", "route", route, "panic", p, "request_id", id)
				if sw.status == 0 {
					writeJSON(sw, http.StatusInternalServerError, errorBody{Error: "internal error", Code: realname.CodeInternal})
				}
			}
			took := time.Since(start)
			obs.observe(sw.status, took)
			if s.accessLog {
				s.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", id),
					slog.String("method", r.Method), slog.String("route", route),
					slog.Int("status", sw.status), slog.Duration("took", took))
			}
		}()
		h(sw, r)
	})
}

// authenticated requires an API key or (when users is true) a user token.
func (s *Server) authenticated(users bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cred := bearer(r)
		if cred == "" {
			renderError(w, r, s.log, realname.E(realname.KindUnauthorized, "UNAUTHORIZED", "send Authorization: Bearer <API key or user token>", nil))
			return
		}
		var p principal
		if len(cred) > len(tokenPrefix) && cred[:len(tokenPrefix)] == tokenPrefix {
			user, ok := s.tokens.Verify(cred)
			if !ok {
				renderError(w, r, s.log, realname.E(realname.KindUnauthorized, "INVALID_TOKEN", "the user token is invalid or expired", nil))
				return
			}
			if !users {
				renderError(w, r, s.log, realname.E(realname.KindPermission, "API_KEY_REQUIRED", "this call needs the platform's API key", nil))
				return
			}
			p.userID = user
		} else {
			id, ok, err := s.keys.check(r.Context(), cred)
			if err != nil {
				renderError(w, r, s.log, err)
				return
			}
			if !ok {
				renderError(w, r, s.log, realname.E(realname.KindUnauthorized, "INVALID_API_KEY", "the API key is invalid or revoked", nil))
				return
			}
			p.clientID = id
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}
