package realname

import (
	"context"
	"time"
)

// Cache keeps short-lived answers for the hot path (/verify, /status).
// Implementations MUST be safe for concurrent use. A miss is never an error.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, bool)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration)
	Delete(ctx context.Context, key string)
}

// Metrics receives the domain's events. Implementations MUST be cheap and
// safe for concurrent use.
type Metrics interface {
	InitStarted()
	// Finished is called once per session that reached a terminal state.
	Finished(status Status, took time.Duration)
	CacheHit()
	CacheMiss()
}

// Limiter enforces one rate limit (internal/ratelimit implements it; its
// Limiter interface has the same method). Allow reports whether one more
// event for key is allowed at now and, if not, when to come back.
type Limiter interface {
	Allow(ctx context.Context, key string, now time.Time) (ok bool, retryAfter time.Duration)
}

// Notifier tells a platform that a session ended (the init's callback_url).
// The notice is a hint carrying no personal data; the platform confirms with
// a query. Notify MUST NOT block: implementations queue and retry.
type Notifier interface {
	Notify(ctx context.Context, n Notice)
}

// Notice is what a platform is told.
type Notice struct {
	URL       string
	CertifyID string
	UserID    string
	Status    Status
}

// nopMetrics ignores everything.
type nopMetrics struct{}

func (nopMetrics) InitStarted()                   {}
func (nopMetrics) Finished(Status, time.Duration) {}
func (nopMetrics) CacheHit()                      {}
func (nopMetrics) CacheMiss()                     {}

// nopCache remembers nothing.
type nopCache struct{}

func (nopCache) Get(context.Context, string) ([]byte, bool)         { return nil, false }
func (nopCache) Set(context.Context, string, []byte, time.Duration) {}
func (nopCache) Delete(context.Context, string)                     {}
