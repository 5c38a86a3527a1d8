package realname

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"
)

// Config holds the domain's settings.
type Config struct {
	// Validity is how long a success stays valid (default 365 days).
	Validity time.Duration
	// SessionTTL is how long an open session waits for the person before it
	// is cancelled (default 30 minutes).
	SessionTTL time.Duration
	// CallbackURL is the absolute URL the provider calls back
	// (…/api/v1/auth/callback).
	CallbackURL string
	// AnswerTTL bounds how long /verify and /status answers are cached
	// (default 30 s). Writes on this process drop them at once.
	AnswerTTL time.Duration
	// ProviderTimeout bounds each provider call made on behalf of a request
	// (default 15 s).
	ProviderTimeout time.Duration
	// SupportedDocs are the document types init accepts.
	SupportedDocs []string
	// LockoutFailures is how many failed verifications within LockoutWindow
	// lock a user out of new starts (default 5; negative: no lockout).
	// An operator lifts a lockout with Unlock.
	LockoutFailures int
	// LockoutWindow is the lockout's window (default 24 hours).
	LockoutWindow time.Duration
	// DailyBudget caps the paid provider calls per day (China time) of the
	// provider; past it new starts are refused with BUDGET_EXHAUSTED and
	// open sessions finish. 0: no cap.
	DailyBudget int
	// ReviewTTL is how long a manual review may wait for a decision before
	// it is cancelled and its files deleted (default 30 days).
	ReviewTTL time.Duration
	// Retention says how long each kind of data is kept (see Retention).
	Retention Retention
	// Trail, when set, records every change of a session's status and
	// every erasure in the trail: each transaction that makes one queues
	// an event in the store's outbox (the store's transactions must then
	// implement TrailQueue), and the trail's sequencer appends it.
	Trail bool
}

func (c *Config) defaults() {
	if c.Validity <= 0 {
		c.Validity = 365 * 24 * time.Hour
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 30 * time.Minute
	}
	if c.AnswerTTL <= 0 {
		c.AnswerTTL = 30 * time.Second
	}
	if c.ProviderTimeout <= 0 {
		c.ProviderTimeout = 15 * time.Second
	}
	if len(c.SupportedDocs) == 0 {
		c.SupportedDocs = []string{"IDENTITY_CARD"}
	}
	if c.LockoutFailures == 0 {
		c.LockoutFailures = 5
	}
	if c.LockoutWindow <= 0 {
		c.LockoutWindow = 24 * time.Hour
	}
	if c.ReviewTTL <= 0 {
		c.ReviewTTL = 30 * 24 * time.Hour
	}
	c.Retention.defaults()
}

// Deps are the service's collaborators.
type Deps struct {
	Store    Store
	Provider Provider
	Keys     Keys
	Cache    Cache    // optional
	Metrics  Metrics  // optional
	Notifier Notifier // optional: without one, callback_url is refused
	// StartLimiter limits verification starts per user (Init), whoever
	// calls: an API key or the user's own token. Optional: nil, no limit.
	StartLimiter Limiter
	Logger       *slog.Logger     // optional
	Now          func() time.Time // optional
}

// Service runs verifications. It is safe for concurrent use.
type Service struct {
	cfg      Config
	store    Store
	provider Provider
	keys     *keyState
	cache    Cache
	metrics  Metrics
	notifier Notifier
	starts   Limiter // nil: no per-user limit of starts
	log      *slog.Logger
	now      func() time.Time
	// deletions queues finished sessions whose copy at the provider is to
	// be deleted; RunPoller drains it. Nothing is lost when it is full or
	// not drained: the poller finds such sessions by their ResultDeleted.
	deletions chan Verification
	// cacheEpoch counts forgetUser calls (see Status).
	cacheEpoch atomic.Uint64
}

// deletionQueue bounds the deletions waiting for the background worker.
const deletionQueue = 1024

// New builds a Service.
func New(cfg Config, d Deps) (*Service, error) {
	cfg.defaults()
	if d.Store == nil || d.Provider == nil || d.Keys.Ring == nil || d.Keys.Index == nil {
		return nil, errors.New("realname.New: store, provider and keys are required")
	}
	if u, err := url.Parse(cfg.CallbackURL); err != nil || !u.IsAbs() {
		return nil, fmt.Errorf("realname.New: callback URL %q is not absolute", cfg.CallbackURL)
	}
	s := &Service{cfg: cfg, store: d.Store, provider: d.Provider, keys: newKeyState(d.Keys),
		cache: d.Cache, metrics: d.Metrics, notifier: d.Notifier, starts: d.StartLimiter, log: d.Logger, now: d.Now,
		deletions: make(chan Verification, deletionQueue)}
	if s.cache == nil {
		s.cache = nopCache{}
	}
	if s.metrics == nil {
		s.metrics = nopMetrics{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Now is the service's clock, truncated to microseconds (what storage keeps).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// ProviderName is the name of the configured provider.
func (s *Service) ProviderName() string { return s.provider.Name() }

// Verification returns a session by certify id, with its effective status.
func (s *Service) Verification(ctx context.Context, certifyID string) (Verification, error) {
	if !validCertifyID(certifyID) {
		return Verification{}, E(KindInvalid, CodeInvalidRequest, "certify_id is malformed", nil)
	}
	v, err := s.store.Verification(ctx, certifyID)
	if errors.Is(err, ErrNotFound) {
		return Verification{}, E(KindNotFound, CodeNotFound, "no verification with this certify_id", err)
	}
	if err != nil {
		return Verification{}, fmt.Errorf("load verification: %w", err)
	}
	v.Status = v.EffectiveStatus(s.clock())
	return v, nil
}

// validCertifyID checks the shape of our ids ("vf" + 30 hex digits).
func validCertifyID(id string) bool {
	if len(id) != 32 || id[:2] != "vf" {
		return false
	}
	for _, c := range id[2:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// providerCtx bounds a provider call made for a request.
func (s *Service) providerCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.ProviderTimeout)
}

// unavailable wraps a provider failure for the caller.
func unavailable(err error) error {
	e := E(KindUnavailable, CodeProviderUnavailable, "the verification provider is unavailable; the session is kept, try again shortly", err)
	e.RetryAfter = 5 * time.Second
	return e
}
