package cloudauthsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config configures a Simulator. Zero durations take their defaults.
type Config struct {
	// AccessKeyID and AccessKeySecret are the one key pair the simulator
	// accepts. Both are required.
	AccessKeyID, AccessKeySecret string
	// PublicURL is the absolute base URL where the handler is reachable from
	// browsers, without trailing slash, e.g.
	// "http://127.0.0.1:8001/sandbox/cloudauth". Verify URLs are
	// PublicURL + "/verify/" + certifyId; the page's form and stylesheet use
	// PublicURL's path. Required; a trailing slash is trimmed.
	PublicURL string
	// HTTPClient sends callbacks. Default: a client with a 5 s timeout.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives operational logs; it never gets names, ID numbers,
	// images or tokens. Default: discard.
	Logger *slog.Logger
	// CallbackRetryDelay is the pause between callback attempts: the first
	// is sent at once, then up to 2 retries while the answer is not HTTP 200.
	// Default 1 s.
	CallbackRetryDelay time.Duration
	// MaxClockSkew is how far Timestamp may be from Now, and how long a
	// SignatureNonce is remembered. Default 15 min.
	MaxClockSkew time.Duration
	// SessionTTL is how long an unfinished session may be completed.
	// Default 30 min.
	SessionTTL time.Duration
}

// Outcomes of the hosted verify page (form field "outcome") and Complete.
const (
	// OutcomePass: Passed "T", SubCode "200".
	OutcomePass = "pass"
	// OutcomeFaceMismatch: Passed "F", SubCode "204", low verifyScore.
	OutcomeFaceMismatch = "face_mismatch"
	// OutcomeLivenessAttack: Passed "F", SubCode "205", faceAttack "T".
	OutcomeLivenessAttack = "liveness_attack"
	// OutcomeCancel: the person gave up; no callback, DescribeFaceVerify
	// keeps answering Code "424".
	OutcomeCancel = "cancel"
)

// Errors of Complete (and of the page's POST .../complete).
var (
	// ErrUnknownSession: no session has this CertifyId (HTTP 404).
	ErrUnknownSession = errors.New("cloudauthsim: unknown certify id")
	// ErrUnknownOutcome: the outcome is not one of the Outcome constants
	// (HTTP 400).
	ErrUnknownOutcome = errors.New("cloudauthsim: unknown outcome")
	// ErrAlreadyFinished: the session was already completed or cancelled
	// (HTTP 409).
	ErrAlreadyFinished = errors.New("cloudauthsim: session already finished")
	// ErrSessionExpired: the session outlived SessionTTL unfinished
	// (HTTP 410).
	ErrSessionExpired = errors.New("cloudauthsim: session expired")
)

// verdictFor returns the verdict of a non-cancel outcome.
func verdictFor(outcome string) verdict {
	switch outcome {
	case OutcomePass:
		return verdict{outcome: outcome, passed: "T", subCode: "200", faceAttack: "F", verifyScore: 96.1, qualityScore: 88.5}
	case OutcomeFaceMismatch:
		return verdict{outcome: outcome, passed: "F", subCode: "204", faceAttack: "F", verifyScore: 30.2, qualityScore: 87.4}
	case OutcomeLivenessAttack:
		return verdict{outcome: outcome, passed: "F", subCode: "205", faceAttack: "T", verifyScore: 12.7, qualityScore: 41.3}
	}
	return verdict{}
}

// Simulator is a wire-compatible Alibaba Cloud Cloudauth (2019-03-07)
// simulator and an http.Handler. Create it with New; it is safe for
// concurrent use.
type Simulator struct {
	cfg      Config
	basePath string // PublicURL's path, no trailing slash
	log      *slog.Logger
	nonces   *nonceSet
	sessions *sessionStore

	mu    sync.Mutex // guards calls and fails
	calls map[string]int
	fails map[string]failRule

	cbMu     sync.Mutex // guards closed and wg.Add
	closed   bool
	wg       sync.WaitGroup
	cbCtx    context.Context
	cbCancel context.CancelFunc
}

type failRule struct {
	remaining int
	status    int
}

// New validates cfg, fills in defaults and returns a Simulator.
func New(cfg Config) (*Simulator, error) {
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, errors.New("cloudauthsim: AccessKeyID and AccessKeySecret are required")
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cloudauthsim: PublicURL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.ContainsAny(cfg.PublicURL, "?#") {
		return nil, fmt.Errorf("cloudauthsim: PublicURL %q must have no user info, query or fragment", cfg.PublicURL)
	}
	if cfg.CallbackRetryDelay < 0 || cfg.MaxClockSkew < 0 || cfg.SessionTTL < 0 {
		return nil, errors.New("cloudauthsim: durations must not be negative")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CallbackRetryDelay == 0 {
		cfg.CallbackRetryDelay = time.Second
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = 15 * time.Minute
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 30 * time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Simulator{
		cfg:      cfg,
		basePath: strings.TrimRight(u.EscapedPath(), "/"),
		log:      cfg.Logger,
		nonces:   newNonceSet(maxSessions),
		sessions: newSessionStore(maxSessions, cfg.SessionTTL+finishedRetention),
		calls:    make(map[string]int),
		fails:    make(map[string]failRule),
		cbCtx:    ctx,
		cbCancel: cancel,
	}, nil
}

func (s *Simulator) now() time.Time { return s.cfg.Now() }

// ServeHTTP routes: "/" is the RPC API, "/verify/{id}" the hosted page,
// "/verify/{id}/complete" its form target, "/static/sim.css" and
// "/static/sim.js" its stylesheet and script; everything else is 404.
// Paths are relative to the handler root, so the simulator can be mounted
// with http.StripPrefix.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "" || p == "/":
		s.serveRPC(w, r)
	case p == "/static/sim.css":
		s.serveCSS(w, r)
	case p == "/static/sim.js":
		s.serveJS(w, r)
	case strings.HasPrefix(p, "/verify/"):
		id, tail, hasTail := strings.Cut(p[len("/verify/"):], "/")
		switch {
		case !hasTail:
			s.servePage(w, r, id)
		case tail == "complete":
			s.serveComplete(w, r, id)
		default:
			http.NotFound(w, r)
		}
	default:
		http.NotFound(w, r)
	}
}

// Close stops pending callback deliveries and waits for their goroutines.
// The handler keeps answering afterwards but sends no more callbacks.
func (s *Simulator) Close() error {
	s.cbMu.Lock()
	s.closed = true
	s.cbMu.Unlock()
	s.cbCancel()
	s.wg.Wait()
	return nil
}

// Calls reports how many signature-valid calls of action reached the action
// itself (business failures included, FailNext failures excluded): tests use
// it to assert that no paid call was made.
func (s *Simulator) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// FailNext makes the next n signature-valid calls of action answer
// httpStatus with Alibaba Cloud's error envelope: 503 → ServiceUnavailable,
// 500 → InternalError, 429 → Throttling, 403 → Forbidden.RAM, any other 4xx
// → Throttling.User. A status outside 400–599 counts as 503; n <= 0 clears
// the rule.
func (s *Simulator) FailNext(action string, n int, httpStatus int) {
	if httpStatus < 400 || httpStatus > 599 {
		httpStatus = http.StatusServiceUnavailable
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.fails, action)
		return
	}
	s.fails[action] = failRule{remaining: n, status: httpStatus}
}

// takeFailure consumes one FailNext for action, or counts the call.
func (s *Simulator) takeFailure(action string) (status int, fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.fails[action]; ok {
		f.remaining--
		if f.remaining <= 0 {
			delete(s.fails, action)
		} else {
			s.fails[action] = f
		}
		return f.status, true
	}
	s.calls[action]++
	return 0, false
}

// Complete finishes a session as the page's POST .../complete does: outcome
// is one of the Outcome constants. Non-cancel outcomes trigger the callback
// asynchronously. It returns ErrUnknownSession, ErrUnknownOutcome,
// ErrAlreadyFinished or ErrSessionExpired.
func (s *Simulator) Complete(certifyID, outcome string) error {
	_, err := s.complete(certifyID, outcome)
	return err
}

func (s *Simulator) complete(certifyID, outcome string) (session, error) {
	cur, ok := s.sessions.get(certifyID)
	if !ok {
		return session{}, ErrUnknownSession
	}
	cancel := outcome == OutcomeCancel
	v := verdictFor(outcome)
	if !cancel && v.outcome == "" {
		return cur, ErrUnknownOutcome
	}
	ss, err := s.sessions.finish(certifyID, v, cancel, s.now())
	if err != nil {
		return ss, err
	}
	s.log.Info("cloudauthsim: session finished", "certify_id", certifyID, "outcome", outcome)
	if !cancel {
		s.startCallback(ss)
	}
	return ss, nil
}
