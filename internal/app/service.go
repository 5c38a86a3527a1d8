package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/realname"
	sqlstore "github.com/realname/realname/internal/storage/sql"
	"github.com/realname/realname/internal/trail"
)

// serviceConfig maps the configuration onto the domain's. The domain reads
// a zero duration as "the default" and a negative one as "off"; the
// configuration's 0 means off.
func serviceConfig(cfg config.Config, callbackURL string, supported []string) realname.Config {
	off := func(d time.Duration) time.Duration {
		if d == 0 {
			return -1
		}
		return d
	}
	lockout := cfg.Privacy.LockoutFailures
	if lockout == 0 {
		lockout = -1
	}
	return realname.Config{
		Validity: cfg.Validity, SessionTTL: cfg.SessionTTL, CallbackURL: callbackURL, SupportedDocs: supported,
		LockoutFailures: lockout, LockoutWindow: cfg.Privacy.LockoutWindow, DailyBudget: cfg.Privacy.DailyBudget,
		ReviewTTL: cfg.Privacy.ReviewTTL, Trail: true,
		Retention: realname.Retention{
			Identity: off(cfg.Privacy.RetainIdentity), Faces: cfg.Privacy.RetainFaces,
			Idempotency: off(cfg.Privacy.RetainIdempotency), Audit: off(cfg.Privacy.RetainAudit),
		},
	}
}

// runRetention runs the retention job every interval until ctx ends (and
// once shortly after start).
func runRetention(ctx context.Context, svc *realname.Service, interval time.Duration, log *slog.Logger) {
	first := time.NewTimer(30 * time.Second)
	defer first.Stop()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-first.C:
		case <-t.C:
		}
		if _, err := svc.RunRetention(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "retention job", "err", err)
		}
	}
}

// Offline is the service without a server, for operator commands: it
// reads and writes the database with the keys, and reaches the provider
// (to delete its copies) when one is configured.
type Offline struct {
	Store   *sqlstore.Store
	Service *realname.Service
	cfg     config.Config
	log     *slog.Logger
}

// OpenOffline opens the database and the keys of cfg and builds the
// service. In sandbox mode there is no provider to reach: provider
// deletions are left to the running server's poller.
func OpenOffline(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger) (*Offline, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	store, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	keys, err := loadKeys(ctx, cfg, getenv, store, log)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	var provider realname.Provider = offlineProvider{} // sandbox
	if cfg.Provider == "aliyun" {
		a := &App{cfg: cfg, log: log}
		if provider, err = a.provider(); err != nil {
			_ = store.Close()
			return nil, err
		}
	}
	svc, err := realname.New(serviceConfig(cfg, cfg.BaseURL(cfg.Addr)+"/api/v1/auth/callback", nil), realname.Deps{
		Store: store, Provider: provider, Logger: log,
		Keys: realname.Keys{Ring: keys.Ring, Index: keys.Index, Reload: ringReloader(cfg, getenv)},
	})
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	return &Offline{Store: store, Service: svc, cfg: cfg, log: log}, nil
}

// Trail opens the trail with its signing key, for the commands that
// append to it or build evidence packages. The others need neither: the
// service queues its trail events in the database, and the server appends
// them.
func (o *Offline) Trail(ctx context.Context) (*trail.Log, error) {
	return openTrail(ctx, o.cfg, o.Store, o.cfg.Addr, o.log)
}

// TrailWitness is the configured witness (nil without one), for packages
// built offline.
func (o *Offline) TrailWitness() (*trail.Witnessing, error) { return trailWitness(o.cfg) }

// Close closes the database.
func (o *Offline) Close() error { return o.Store.Close() }

// offlineProvider stands in for the sandbox's simulator, which lives only
// in the server's process: it starts nothing, and its deletions are left
// to the server's poller.
type offlineProvider struct{}

func (offlineProvider) Name() string { return SandboxProviderName }
func (offlineProvider) CheckIdentity(context.Context, realname.IdentityInput) (realname.IdentityMatch, error) {
	return 0, fmt.Errorf("offline: %w", realname.ErrProviderUnavailable)
}
func (offlineProvider) StartFaceCheck(context.Context, realname.FaceCheckRequest) (realname.FaceCheckSession, error) {
	return realname.FaceCheckSession{}, fmt.Errorf("offline: %w", realname.ErrProviderUnavailable)
}
func (offlineProvider) FaceCheckResult(context.Context, string) (realname.FaceResult, error) {
	return realname.FaceResult{}, fmt.Errorf("offline: %w", realname.ErrProviderUnavailable)
}
