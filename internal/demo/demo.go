// Package demo is the backend of the platform demo at /demo/: a small
// letter-writing platform that lets only verified people send a letter.
//
// It is a reference integration. It does what a real platform's backend
// does, and nothing more:
//
//   - it keeps the API key on the server and never gives it to a browser;
//   - it knows who the person is from its own session (here: a random demo
//     user in an HMAC-signed cookie — no passwords);
//   - it mints a short-lived user token for that person by calling realname's
//     REST API over HTTP (POST /api/v1/auth/token with the API key), so the
//     browser SDK can start and watch the verification itself;
//   - before it acts (sends a letter) it asks realname again, server to
//     server (POST /api/v1/auth/verify), instead of trusting the browser.
//
// The person's rights need nothing from it: the page's "我的数据 / My data"
// section calls realname's /api/v1/auth/me… routes (export, withdrawal,
// erasure) through the SDK with the same user token, which acts only for
// that person.
//
// Routes, all JSON, under /demo/api/:
//
//	POST /demo/api/signin   → {success, user_id}           a new demo user, session cookie set
//	GET  /demo/api/me       → {success, user_id} or 401    who is signed in
//	POST /demo/api/token    → {success, token, expires_at} a user token for the SDK
//	POST /demo/api/letters  {text} → {success, sent: true} or 403 NOT_VERIFIED
//	POST /demo/api/signout  → {success}                    cookie cleared
//
// CSRF: the session cookie is SameSite=Strict, every POST must carry
// Content-Type: application/json (which a cross-site form cannot send
// without a CORS preflight this server never grants), and a browser's
// Sec-Fetch-Site other than same-origin is refused.
package demo

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// CookieName is the demo's session cookie.
const CookieName = "realname_demo"

// MaxLetterRunes bounds a letter's length (characters).
const MaxLetterRunes = 2000

const (
	sessionTTL   = 12 * time.Hour
	maxBody      = 16 << 10 // a letter of 2000 Han characters is ~6 KiB of JSON
	maxLetters   = 1000     // letters kept in memory, oldest dropped first
	upstreamWait = 10 * time.Second
)

// Config is what the demo backend needs: where realname is and the
// platform's API key.
type Config struct {
	// RealnameURL is the base URL of realname's REST API, e.g.
	// http://127.0.0.1:8001.
	RealnameURL string
	// APIKey is the platform's API key. It never leaves the server.
	APIKey string
	// SessionKey signs the session cookie. Empty: derived from APIKey, so
	// sessions survive a restart with the same key.
	SessionKey []byte
	// SecureCookie sets the cookie's Secure flag (serve over https).
	SecureCookie bool
	// Client calls realname; nil: a client with a 10 s timeout.
	Client *http.Client
	Logger *slog.Logger
	Now    func() time.Time
}

// Letter is a letter the demo "sent" (kept in memory only).
type Letter struct {
	UserID string
	Text   string
	SentAt time.Time
}

// Server is the demo backend. It serves the /demo/api/ routes.
type Server struct {
	cfg  Config
	mux  *http.ServeMux
	mu   sync.Mutex
	sent []Letter
}

// New returns the demo backend.
func New(cfg Config) (*Server, error) {
	if cfg.RealnameURL == "" || cfg.APIKey == "" {
		return nil, errors.New("demo: RealnameURL and APIKey are required")
	}
	cfg.RealnameURL = strings.TrimRight(cfg.RealnameURL, "/")
	if len(cfg.SessionKey) == 0 {
		m := hmac.New(sha256.New, []byte(cfg.APIKey))
		m.Write([]byte("realname demo session v1"))
		cfg.SessionKey = m.Sum(nil)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: upstreamWait}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /demo/api/signin", s.post(s.signin))
	s.mux.HandleFunc("GET /demo/api/me", s.me)
	s.mux.HandleFunc("POST /demo/api/token", s.post(s.signedIn(s.token)))
	s.mux.HandleFunc("POST /demo/api/letters", s.post(s.signedIn(s.letter)))
	s.mux.HandleFunc("POST /demo/api/signout", s.post(s.signout))
	s.mux.HandleFunc("/demo/api/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "NOT_FOUND", "没有这个接口")
	})
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// Letters returns the letters sent so far (for tests).
func (s *Server) Letters() []Letter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Letter(nil), s.sent...)
}

// Disabled answers every /demo/api/ request with 404 and says why: the
// demo's backend runs only in sandbox mode, where the server has a
// development API key to act as the platform.
func Disabled() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "DEMO_DISABLED",
			"演示后台只在沙箱模式下运行（REALNAME_PROVIDER=sandbox）/ the demo backend runs only in sandbox mode")
	})
}

// --- handlers ---

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	user := "demo_" + hex.EncodeToString(b)
	s.setSession(w, user)
	reply(w, http.StatusOK, map[string]any{"success": true, "user_id": user})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	user, ok := s.session(r)
	if !ok {
		fail(w, http.StatusUnauthorized, "NOT_SIGNED_IN", "请先登录")
		return
	}
	reply(w, http.StatusOK, map[string]any{"success": true, "user_id": user})
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/demo", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.SecureCookie, SameSite: http.SameSiteStrictMode})
	reply(w, http.StatusOK, map[string]any{"success": true})
}

// token mints a user token for the signed-in person: the browser SDK uses
// it to call init, query and status for this user only.
func (s *Server) token(w http.ResponseWriter, r *http.Request, user string) {
	var ans struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	if !s.callRealname(w, r, "/api/v1/auth/token", map[string]string{"user_id": user}, &ans) {
		return
	}
	reply(w, http.StatusOK, map[string]any{"success": true, "token": ans.Token, "expires_at": ans.ExpiresAt})
}

// letter "sends" a letter: only after realname confirms, server to server,
// that this person is verified right now.
func (s *Server) letter(w http.ResponseWriter, r *http.Request, user string) {
	var in struct {
		Text string `json:"text"`
	}
	if !decode(w, r, &in) {
		return
	}
	text := strings.TrimSpace(in.Text)
	if n := utf8.RuneCountInString(text); n == 0 || n > MaxLetterRunes || !utf8.ValidString(text) {
		fail(w, http.StatusBadRequest, "INVALID_LETTER", fmt.Sprintf("信的内容需要 1–%d 个字", MaxLetterRunes))
		return
	}
	var ans struct {
		Passed     bool   `json:"passed"`
		Reason     string `json:"reason"`
		ReasonCode string `json:"reason_code"`
	}
	if !s.callRealname(w, r, "/api/v1/auth/verify", map[string]string{"user_id": user}, &ans) {
		return
	}
	if !ans.Passed {
		code := ans.ReasonCode
		if code == "" {
			code = "NOT_VERIFIED"
		}
		writeJSON(w, http.StatusForbidden, map[string]any{"success": false, "code": "NOT_VERIFIED", "reason_code": code,
			"error": notVerifiedMessage(code)})
		return
	}
	s.mu.Lock()
	s.sent = append(s.sent, Letter{UserID: user, Text: text, SentAt: s.cfg.Now().UTC()})
	if len(s.sent) > maxLetters {
		s.sent = append(s.sent[:0:0], s.sent[len(s.sent)-maxLetters:]...)
	}
	s.mu.Unlock()
	s.cfg.Logger.Info("demo letter sent", "user_id", user, "chars", utf8.RuneCountInString(text))
	reply(w, http.StatusOK, map[string]any{"success": true, "sent": true})
}

func notVerifiedMessage(code string) string {
	switch code {
	case "PENDING":
		return "您的实名认证还在进行中，完成后才能寄信。"
	case "EXPIRED":
		return "您的实名认证已过期，请重新认证后再寄信。"
	default:
		return "只有通过实名认证的用户才能寄信，请先完成实名认证。"
	}
}

// --- calling realname, as a platform backend does ---

// callRealname POSTs body to realname with the API key and decodes a
// successful answer into out. On failure it answers the browser itself
// and returns false.
func (s *Server) callRealname(w http.ResponseWriter, r *http.Request, path string, body, out any) bool {
	ctx, cancel := context.WithTimeout(r.Context(), upstreamWait)
	defer cancel()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.RealnameURL+path, bytes.NewReader(b))
	if err != nil {
		fail(w, http.StatusInternalServerError, "INTERNAL", "内部错误")
		return false
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.APIKey)
	req.Header.Set("Content-Type", "application/json")
	if id := r.Header.Get("X-Request-Id"); id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		s.cfg.Logger.Warn("demo: realname unreachable", "path", path, "err", err)
		fail(w, http.StatusBadGateway, "UPSTREAM_UNAVAILABLE", "实名认证服务暂时无法访问，请稍后再试")
		return false
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(raw, out)
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		var e struct {
			Code  string `json:"code"`
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		s.cfg.Logger.Warn("demo: realname refused", "path", path, "status", resp.StatusCode, "code", e.Code)
		if resp.StatusCode == http.StatusTooManyRequests {
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			fail(w, http.StatusTooManyRequests, "RATE_LIMITED", "请求过于频繁，请稍后再试")
			return false
		}
		fail(w, http.StatusBadGateway, "UPSTREAM_ERROR", "实名认证服务出错，请稍后再试")
		return false
	}
	return true
}

// --- the session cookie ---

// The cookie is "<user>.<expiry unix>.<base64url HMAC-SHA256 of both>".
// User ids hold only [A-Za-z0-9_], so "." separates safely.

func (s *Server) sign(payload string) string {
	m := hmac.New(sha256.New, s.cfg.SessionKey)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) setSession(w http.ResponseWriter, user string) {
	payload := user + "." + strconv.FormatInt(s.cfg.Now().Add(sessionTTL).Unix(), 10)
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: payload + "." + s.sign(payload), Path: "/demo",
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, Secure: s.cfg.SecureCookie,
		SameSite: http.SameSiteStrictMode,
	})
}

func (s *Server) session(r *http.Request) (string, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", false
	}
	i := strings.LastIndexByte(c.Value, '.')
	if i < 0 {
		return "", false
	}
	payload, mac := c.Value[:i], c.Value[i+1:]
	if !hmac.Equal([]byte(mac), []byte(s.sign(payload))) {
		return "", false
	}
	user, exp, ok := strings.Cut(payload, ".")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || s.cfg.Now().Unix() >= unix || user == "" {
		return "", false
	}
	return user, true
}

// --- request guards and JSON ---

// post guards a state-changing route against cross-site requests.
func (s *Server) post(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			fail(w, http.StatusForbidden, "CROSS_SITE", "不接受来自其他网站的请求")
			return
		}
		if o := r.Header.Get("Origin"); o != "" {
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				fail(w, http.StatusForbidden, "CROSS_SITE", "不接受来自其他网站的请求")
				return
			}
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			fail(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "请求需要 Content-Type: application/json")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h(w, r)
	}
}

func (s *Server) signedIn(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, ok := s.session(r)
		if !ok {
			fail(w, http.StatusUnauthorized, "NOT_SIGNED_IN", "请先登录")
			return
		}
		h(w, r, user)
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			fail(w, http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", "内容太长")
			return false
		}
		fail(w, http.StatusBadRequest, "INVALID_JSON", "请求格式不正确")
		return false
	}
	return true
}

func reply(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

func fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"success": false, "error": msg, "code": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
