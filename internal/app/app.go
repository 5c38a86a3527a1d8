package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/realname/realname/internal/authority"
	"github.com/realname/realname/internal/cache"
	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/demo"
	"github.com/realname/realname/internal/httpapi"
	"github.com/realname/realname/internal/notify"
	"github.com/realname/realname/internal/provider/aliyun"
	"github.com/realname/realname/internal/provider/cloudauthsim"
	"github.com/realname/realname/internal/ratelimit"
	"github.com/realname/realname/internal/realname"
	sqlstore "github.com/realname/realname/internal/storage/sql"
	"github.com/realname/realname/internal/trail"
	"github.com/realname/realname/web"
)

// SandboxPrefix is where the Cloudauth simulator is mounted in sandbox mode.
const SandboxPrefix = "/sandbox/cloudauth"

// Options are the process-level inputs of New.
type Options struct {
	Logger *slog.Logger
	Getenv func(string) string // default os.Getenv
	Stdout io.Writer           // where the start banner goes (nil: nowhere)
}

// App is a running realname.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	listener net.Listener
	server   *http.Server
	store    *sqlstore.Store
	svc      *realname.Service
	sim      *cloudauthsim.Simulator // nil unless sandbox
	notifier *notify.Notifier
	baseURL  string
	audience string // what authorities sign for (authority.Audience)
	apiKey   string // the development key printed at start (sandbox only)
	trail    *trail.Log
	witness  *trail.Witnessing // nil: no witness configured
}

// New builds everything from cfg and starts listening (but not serving).
func New(ctx context.Context, cfg config.Config, o Options) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.closeAll()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if a.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	a.baseURL = cfg.BaseURL(a.listener.Addr().String())
	if a.store, err = OpenStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	keys, err := loadKeys(ctx, cfg, o.Getenv, a.store, log)
	if err != nil {
		return nil, err
	}
	provider, err := a.provider()
	if err != nil {
		return nil, err
	}
	if a.trail, err = openTrail(ctx, cfg, a.store, a.listener.Addr().String(), log); err != nil {
		return nil, err
	}
	if a.witness, err = trailWitness(cfg); err != nil {
		return nil, err
	}
	metrics := httpapi.NewMetrics(a.store.CountOpenVerifications, a.store.Stats)
	// Platforms on this machine may be told only in sandbox mode.
	a.notifier = notify.New(notify.Config{AllowLoopback: cfg.Provider == "sandbox", Logger: log.With("component", "notify")})
	a.notifier.Start()
	// Only resident ID cards: Id2MetaVerify checks those, and Cloudauth's
	// ID_PRO support for other documents is not confirmed.
	supported := []string{"IDENTITY_CARD"}
	proxies, err := config.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	corsOrigins, err := config.ParseCORSOrigins(cfg.CORSOrigins)
	if err != nil {
		return nil, fmt.Errorf("CORS origins: %w", err)
	}
	limiter := func(n int) ratelimit.Limiter {
		if n <= 0 {
			return nil
		}
		return ratelimit.NewMemory(ratelimit.Rule{Limit: n, Window: cfg.Rate.Window}, cfg.Rate.MaxKeys)
	}
	a.svc, err = realname.New(serviceConfig(cfg, a.baseURL+"/api/v1/auth/callback", supported), realname.Deps{
		Store: a.store, Provider: provider, Keys: realname.Keys{Ring: keys.Ring, Index: keys.Index, Reload: ringReloader(cfg, o.Getenv)},
		Cache: cache.NewMemory(0), Metrics: metrics, Notifier: a.notifier, Logger: log, StartLimiter: limiter(cfg.Rate.UserInit),
	})
	if err != nil {
		return nil, err
	}
	// Authorities sign for this deployment: the host of its public URL.
	if a.audience, err = authority.Audience(a.baseURL); err != nil {
		return nil, err
	}
	api, err := httpapi.New(httpapi.Options{
		Service: a.svc, Keys: a.store.APIKeyByHash, APIKey: cfg.APIKey,
		TokenKey: keys.Index.Sum("user-token-key", "v1"), TokenTTL: cfg.TokenTTL,
		Ready: a.store.Ping, Metrics: metrics, Logger: log, AccessLog: cfg.AccessLog, SupportedDocs: supported,
		IPLimit: limiter(cfg.Rate.IP), KeyLimit: limiter(cfg.Rate.APIKey), TrustedProxies: proxies,
		CORSOrigins: corsOrigins,
		AdminKey:    cfg.AdminKey,
		Trail:       a.trail,
		// Authority routes always exist: without a registered authority
		// they answer 401.
		Authority:         &authority.Verifier{Store: a.store, Audience: a.audience},
		AuthorityPackages: &authority.Packager{Log: a.trail, Reader: a.store, Witness: a.witness},
		AuthorityLimit:    limiter(cfg.Rate.Authority),
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	pages := web.Handler()
	mux.Handle("GET /sdk/", pages)
	mux.Handle("GET /sdk/realname.global.js", web.SDKGlobalHandler())
	mux.Handle("GET /demo/", pages)
	if a.sim != nil {
		mux.Handle(SandboxPrefix+"/", http.StripPrefix(SandboxPrefix, a.sim))
		if a.apiKey, err = devAPIKey(ctx, cfg.DataDir, a.store, httpapi.NewAPIKey); err != nil {
			return nil, err
		}
	}
	// The platform demo's backend acts as a platform with the development
	// API key, so it runs only in sandbox mode; elsewhere its API says so.
	var demoAPI http.Handler = demo.Disabled()
	if a.apiKey != "" {
		if demoAPI, err = demo.New(demo.Config{
			RealnameURL: a.loopbackURL(), APIKey: a.apiKey,
			SecureCookie: strings.HasPrefix(a.baseURL, "https://"), Logger: log.With("component", "demo"),
		}); err != nil {
			return nil, err
		}
	}
	mux.Handle("GET /demo/api/", demoAPI)
	mux.Handle("POST /demo/api/", demoAPI)
	a.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if o.Stdout != nil {
		a.banner(o.Stdout)
	}
	return a, nil
}

// SandboxProviderName is the provider name stored with the sessions of a
// sandbox server, so that nothing it verified passes for a real check.
const SandboxProviderName = "sandbox"

// provider builds the configured provider. In sandbox mode it is the real
// Cloudauth adapter talking through the official SDK to the simulator
// mounted in this server, with a key pair made up for this process.
func (a *App) provider() (realname.Provider, error) {
	if a.cfg.Provider == "aliyun" {
		endpoint, scheme := a.cfg.Aliyun.Endpoint, "https"
		if rest, ok := strings.CutPrefix(endpoint, "http://"); ok {
			endpoint, scheme = rest, "http" // the adapter allows this for loopback only
		}
		endpoint = strings.TrimPrefix(endpoint, "https://")
		return aliyun.New(aliyun.Config{
			AccessKeyID: a.cfg.Aliyun.AccessKeyID, AccessKeySecret: a.cfg.Aliyun.AccessKeySecret,
			SceneID: a.cfg.Aliyun.SceneID, Endpoint: endpoint, Scheme: scheme, Logger: a.log,
		})
	}
	id, secret := "sandbox-"+randomHex(8), randomHex(24)
	var err error
	a.sim, err = cloudauthsim.New(cloudauthsim.Config{
		AccessKeyID: id, AccessKeySecret: secret, PublicURL: a.baseURL + SandboxPrefix,
		Logger: a.log.With("component", "cloudauth-sim"), SessionTTL: a.cfg.SessionTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox simulator: %w", err)
	}
	// The adapter reaches the simulator over loopback, whatever address the
	// server listens on.
	tcp, ok := a.listener.Addr().(*net.TCPAddr)
	if !ok || !(tcp.IP.IsLoopback() || tcp.IP.IsUnspecified()) {
		return nil, fmt.Errorf("sandbox mode needs a loopback or wildcard listen address, not %s", a.listener.Addr())
	}
	host := "127.0.0.1"
	if tcp.IP.IsLoopback() {
		host = tcp.IP.String()
	}
	return aliyun.New(aliyun.Config{
		AccessKeyID: id, AccessKeySecret: secret, SceneID: 1000000001,
		Endpoint: net.JoinHostPort(host, strconv.Itoa(tcp.Port)) + SandboxPrefix, Scheme: "http", Logger: a.log,
		Name: SandboxProviderName,
	})
}

// loopbackURL is how this process reaches its own API (the demo backend
// calls it over HTTP, as a platform would), whatever the public URL is.
func (a *App) loopbackURL() string {
	tcp, ok := a.listener.Addr().(*net.TCPAddr)
	if !ok {
		return a.baseURL
	}
	host := "127.0.0.1"
	if tcp.IP.IsLoopback() {
		host = tcp.IP.String()
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *App) banner(w io.Writer) {
	fmt.Fprintf(w, "realname listening on %s (provider %s, database %s)\n", a.baseURL, a.cfg.Provider, a.store.Dialect())
	if a.apiKey != "" {
		fmt.Fprintf(w, "development API key: %s\n", a.apiKey)
		fmt.Fprintf(w, "demo: %s/demo/\n", a.baseURL)
		fmt.Fprintf(w, "try: curl -H 'Authorization: Bearer %s' %s/api/v1/auth/supported_documents\n", a.apiKey, a.baseURL)
	}
}

// URL is the service's base URL.
func (a *App) URL() string { return a.baseURL }

// DevAPIKey is the development API key (sandbox mode only).
func (a *App) DevAPIKey() string { return a.apiKey }

// Simulator is the mounted simulator (nil unless sandbox), for tests.
func (a *App) Simulator() *cloudauthsim.Simulator { return a.sim }

// Service is the domain service, for tests and commands.
func (a *App) Service() *realname.Service { return a.svc }

// Run serves until ctx ends, then shuts down gracefully: it stops accepting,
// lets in-flight requests finish (up to 30 s), stops the poller and closes
// the database.
func (a *App) Run(ctx context.Context) error {
	pollCtx, stopPoll := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.svc.RunPoller(pollCtx, a.cfg.PollInterval, a.cfg.PollMinIdle) })
	wg.Go(func() { runRetention(pollCtx, a.svc, a.cfg.Privacy.RetentionInterval, a.log) })
	wg.Go(func() { runTrail(pollCtx, a.trail, a.witness, a.cfg.Trail.CheckpointInterval, a.log) })
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(a.listener) }()
	a.log.Info("serving", "url", a.baseURL, "authority_audience", a.audience)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		a.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = a.server.Shutdown(sctx)
		cancel()
	}
	stopPoll()
	wg.Wait()
	a.closeAll()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// closeAll releases what New opened.
func (a *App) closeAll() {
	if a.notifier != nil {
		a.notifier.Close()
	}
	if a.sim != nil {
		_ = a.sim.Close()
	}
	if a.listener != nil && a.server == nil {
		_ = a.listener.Close()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
}

func createAPIKey(ctx context.Context, store realname.Store, name string, hash []byte) (string, error) {
	k := realname.APIKey{ID: "key_" + randomHex(8), Name: name, Hash: hash, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := store.CreateAPIKey(ctx, k); err != nil {
		return "", fmt.Errorf("store API key: %w", err)
	}
	return k.ID, nil
}

// CreateAPIKey makes a new API key, stores its hash and returns the secret
// and the key's id (what `apikey list` and `apikey revoke` name it by).
func CreateAPIKey(ctx context.Context, store realname.Store, name string) (secret, id string, err error) {
	secret, hash, err := httpapi.NewAPIKey()
	if err != nil {
		return "", "", err
	}
	id, err = createAPIKey(ctx, store, name, hash)
	return secret, id, err
}

// DataDir is the data directory in use.
func (a *App) DataDir() string { return a.cfg.DataDir }

// OpenStore opens the configured database and applies the migrations.
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, cfg.Database(), sqlstore.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return store, nil
}
