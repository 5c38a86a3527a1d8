package httpapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/realname/realname/internal/authority"
	"github.com/realname/realname/internal/idnum"
	"github.com/realname/realname/internal/ratelimit"
	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/trail"
)

// Options configure the API.
type Options struct {
	Service   *realname.Service
	Keys      KeyLookup // API keys by hash
	APIKey    string    // REALNAME_API_KEY, accepted as given ("" for none)
	TokenKey  []byte    // HMAC key for user tokens (≥ 32 bytes)
	TokenTTL  time.Duration
	Ready     func(ctx context.Context) error // readiness: the database answers
	Metrics   *Metrics
	Logger    *slog.Logger
	AccessLog bool
	// SupportedDocs are the document types init accepts.
	SupportedDocs []string
	Now           func() time.Time
	// IPLimit limits requests to the API per client IP (nil: no limit);
	// KeyLimit limits requests per API key (nil: no limit). The per-user
	// limit of starts lives in the service (realname.Deps.StartLimiter).
	IPLimit, KeyLimit ratelimit.Limiter
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client (REALNAME_TRUSTED_PROXIES); none: the remote address is the
	// client.
	TrustedProxies []netip.Prefix
	// CORSOrigins are the exact origins (scheme://host[:port], as browsers
	// send them in Origin) whose pages may call the API
	// (REALNAME_CORS_ORIGINS); none: no CORS headers.
	CORSOrigins []string
	// AdminKey guards the operators' admin API, /api/v1/admin/…
	// (REALNAME_ADMIN_KEY); "": the admin API is off (404).
	AdminKey string
	// Trail is served under /trail/ (nil: those routes answer 404).
	Trail *trail.Log
	// Authority checks the signatures of authority institutions; nil:
	// the authority routes and the claim of deposits answer 404.
	Authority *authority.Verifier
	// AuthorityPackages builds the evidence packages authorities ask for.
	AuthorityPackages *authority.Packager
	// AuthorityLimit limits requests per authority (nil: no limit).
	AuthorityLimit ratelimit.Limiter
}

// Server is the REST API. It is an http.Handler.
type Server struct {
	svc       *realname.Service
	keys      *apiKeys
	tokens    *userTokens
	ready     func(ctx context.Context) error
	metrics   *Metrics
	log       *slog.Logger
	accessLog bool
	docs      []documentInfo
	mux       *http.ServeMux
	now       func() time.Time
	ipLimit   ratelimit.Limiter // nil: none
	keyLimit  ratelimit.Limiter // nil: none
	proxies   trustedProxies
	cors      corsOrigins // nil: no CORS
	adminKey  []byte      // SHA-256 of the admin key; nil: no admin API
	trail     *trail.Log  // nil: no trail routes
	// authority: nil, no authority routes.
	authority      *authority.Verifier
	packager       *authority.Packager
	authorityLimit ratelimit.Limiter
}

// New builds the API.
func New(o Options) (*Server, error) {
	if o.Service == nil || o.Keys == nil || o.Metrics == nil {
		return nil, errors.New("httpapi.New: service, key lookup and metrics are required")
	}
	if len(o.TokenKey) < 32 {
		return nil, errors.New("httpapi.New: token key must be at least 32 bytes")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 15 * time.Minute
	}
	cors, err := newCORSOrigins(o.CORSOrigins)
	if err != nil {
		return nil, err
	}
	s := &Server{
		svc: o.Service, keys: newAPIKeys(o.Keys, o.APIKey, o.Now),
		tokens: &userTokens{key: o.TokenKey, ttl: o.TokenTTL, now: o.Now},
		ready:  o.Ready, metrics: o.Metrics, log: o.Logger, accessLog: o.AccessLog,
		docs: documents(o.SupportedDocs), mux: http.NewServeMux(),
		now: o.Now, ipLimit: o.IPLimit, keyLimit: o.KeyLimit, proxies: trustedProxies(o.TrustedProxies),
		cors: cors, trail: o.Trail,
		authority: o.Authority, packager: o.AuthorityPackages, authorityLimit: o.AuthorityLimit,
	}
	if o.AdminKey != "" {
		h := sha256.Sum256([]byte(o.AdminKey))
		s.adminKey = h[:]
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := s.mux
	m.Handle("POST /api/v1/auth/init", s.instrumentAuth("init", s.authenticated(true, s.handleInit)))
	m.Handle("POST /api/v1/auth/query", s.instrumentAuth("query", s.authenticated(true, s.handleQuery)))
	m.Handle("POST /api/v1/auth/verify", s.instrumentAuth("verify", s.authenticated(true, s.handleVerify)))
	m.Handle("GET /api/v1/auth/status/{user_id}", s.instrumentAuth("status", s.authenticated(true, s.handleStatus)))
	m.Handle("POST /api/v1/auth/token", s.instrumentAuth("token", s.authenticated(false, s.handleToken)))
	m.Handle("GET /api/v1/auth/supported_documents", s.instrument("supported_documents", s.handleDocuments))
	m.Handle("GET /api/v1/auth/notices", s.instrument("notices", s.handleNotices))
	m.Handle("GET /api/v1/auth/notices/{version}", s.instrument("notice", s.handleNotice))
	m.Handle("GET /api/v1/auth/callback", s.instrument("callback", s.handleCallback))
	m.Handle("POST /api/v1/auth/callback", s.instrument("callback", s.handleCallback))
	s.privacyRoutes()
	s.trailRoutes()
	s.authorityRoutes()
	m.Handle("OPTIONS /api/", s.instrument("preflight", s.handlePreflight))
	m.Handle("/api/", s.instrument("unknown", s.handleUnknown))
	m.Handle("GET /health", s.instrumentUnlimited("health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "status": "ok"})
	}))
	m.Handle("GET /ready", s.instrumentUnlimited("ready", s.handleReady))
	m.Handle("GET /metrics", s.metrics.Handler())
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// errUnknownRoute answers a path or method the API does not have.
var errUnknownRoute = realname.E(realname.KindNotFound, realname.CodeNotFound, "no such API route (or wrong method)", nil)

func (s *Server) handleUnknown(w http.ResponseWriter, r *http.Request) {
	renderError(w, r, s.log, errUnknownRoute)
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the database does not answer", Code: "NOT_READY"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "status": "ready"})
}

// documentInfo is one entry of supported_documents.
type documentInfo struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Supported   bool   `json:"supported"`
}

func documents(supported []string) []documentInfo {
	var out []documentInfo
	for _, d := range idnum.Documents() {
		ok := false
		for _, s := range supported {
			ok = ok || s == string(d.Type)
		}
		desc := d.Description
		if !ok {
			desc += " — number format is checked, but a face check with this document is not offered here"
		}
		out = append(out, documentInfo{Type: string(d.Type), Name: d.Name, Description: desc, Supported: ok})
	}
	return out
}

func (s *Server) handleDocuments(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "documents": s.docs})
}
