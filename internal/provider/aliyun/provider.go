package aliyun

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/cloudauth"

	"github.com/realname/realname/internal/realname"
)

// ProviderName is the name stored with sessions handled by this adapter.
const ProviderName = "aliyun"

// The static capabilities of the adapter.
var (
	_ realname.Provider      = (*Provider)(nil)
	_ realname.FaceComparer  = (*Provider)(nil)
	_ realname.ResultDeleter = (*Provider)(nil)
)

// newClientMu serialises SDK client creation: cloudauth.NewClientWithOptions
// writes the package-level cloudauth.EndpointMap the first time it runs.
var newClientMu sync.Mutex

// Provider is the Alibaba Cloud Cloudauth adapter. It is safe for concurrent
// use: every call checks an SDK client out of a fixed pool (see the package
// documentation for why).
type Provider struct {
	cfg     Config
	scheme  string // the SDK's spelling: "HTTPS" or "HTTP"
	log     *slog.Logger
	clients chan *cloudauth.Client

	// backoffBase and backoffCap are the retry delays; tests shorten them.
	backoffBase, backoffCap time.Duration
}

// New validates cfg, fills in the defaults and builds the client pool.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	p := &Provider{
		cfg:         cfg,
		scheme:      "HTTPS",
		log:         cfg.Logger.With(slog.String("provider", ProviderName)),
		clients:     make(chan *cloudauth.Client, cfg.PoolSize),
		backoffBase: backoffBase,
		backoffCap:  backoffCap,
	}
	if cfg.Scheme == "http" {
		p.scheme = "HTTP"
	}
	newClientMu.Lock()
	defer newClientMu.Unlock()
	for range cfg.PoolSize {
		c, err := p.newClient()
		if err != nil {
			return nil, err
		}
		p.clients <- c
	}
	return p, nil
}

// newClient builds one SDK client with its own transport. The SDK mutates
// the transport on every call, so transports must not be shared either.
func (p *Provider) newClient() (*cloudauth.Client, error) {
	conf := sdk.NewConfig()
	conf.AutoRetry = false // we retry ourselves, with backoff and classification
	conf.MaxRetryTime = 0
	conf.Scheme = p.scheme
	conf.Timeout = p.cfg.Timeout
	conf.HttpTransport = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: p.cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   p.cfg.Timeout,
		ResponseHeaderTimeout: p.cfg.Timeout,
		MaxIdleConns:          4,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	cred := &credentials.AccessKeyCredential{
		AccessKeyId:     p.cfg.AccessKeyID,
		AccessKeySecret: p.cfg.AccessKeySecret,
	}
	c, err := cloudauth.NewClientWithOptions(p.cfg.RegionID, conf, cred)
	if err != nil {
		// The SDK's error cannot hold the secret; keep only its kind.
		return nil, fmt.Errorf("aliyun: creating SDK client: %T", err)
	}
	c.SetReadTimeout(p.cfg.Timeout)
	c.SetConnectTimeout(p.cfg.Timeout)
	c.SetCloseTrace(true)
	return c, nil
}

// Name returns Config.Name, by default "aliyun".
func (p *Provider) Name() string {
	if p.cfg.Name != "" {
		return p.cfg.Name
	}
	return ProviderName
}

// acquire checks a client out of the pool, waiting until one is free or ctx
// is done.
func (p *Provider) acquire(ctx context.Context) (*cloudauth.Client, error) {
	select {
	case c := <-p.clients:
		return c, nil
	default:
	}
	select {
	case c := <-p.clients:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release returns a client to the pool.
func (p *Provider) release(c *cloudauth.Client) { p.clients <- c }

// sceneID is the scene as the SDK's requests.Integer.
func (p *Provider) sceneID() requests.Integer { return requests.NewInteger64(p.cfg.SceneID) }
