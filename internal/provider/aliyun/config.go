package aliyun

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultEndpoint   = "cloudauth.aliyuncs.com"
	DefaultScheme     = "https"
	DefaultRegionID   = "cn-hangzhou"
	DefaultTimeout    = 10 * time.Second
	DefaultMaxRetries = 3
	DefaultPoolSize   = 16
)

// Backoff bounds of the retries: exponential from backoffBase, capped at
// backoffCap, with jitter.
const (
	backoffBase = 200 * time.Millisecond
	backoffCap  = 2 * time.Second
)

// maxPoolSize bounds PoolSize; every pooled client owns a connection pool.
const maxPoolSize = 1024

// Config configures the Cloudauth adapter. Zero values take the defaults
// documented on each field.
type Config struct {
	// AccessKeyID and AccessKeySecret are the RAM user's key. Required.
	AccessKeyID, AccessKeySecret string
	// SceneID is the Cloudauth scene ("认证场景ID"). Required, > 0.
	SceneID int64
	// Endpoint is host[:port][/path/prefix], without scheme. "" means
	// DefaultEndpoint. A path prefix is allowed so that a simulator can be
	// mounted under a path of another server.
	Endpoint string
	// Scheme is "https" (default) or "http". Plain http is only accepted for
	// loopback endpoints (127.0.0.0/8, ::1, localhost).
	Scheme string
	// RegionID defaults to DefaultRegionID.
	RegionID string
	// Timeout bounds every HTTP attempt (the SDK's read and connect
	// timeouts). Defaults to DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt, on
	// throttling, 5xx and network failures only. 0 means DefaultMaxRetries;
	// a negative value disables retries.
	MaxRetries int
	// PoolSize is the number of SDK clients, hence the number of calls that
	// may run at once. Defaults to DefaultPoolSize.
	PoolSize int
	// Logger receives operational logs (action, attempt, status, error
	// code, duration), never personal data or secrets. nil discards.
	Logger *slog.Logger
	// Name is the provider name stored with every session. "" means
	// ProviderName; the sandbox passes "sandbox" so that its results can
	// be told apart from real ones.
	Name string
}

// withDefaults returns cfg with the zero fields filled in.
func (cfg Config) withDefaults() Config {
	cfg.Endpoint = strings.TrimSpace(cfg.Endpoint)
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	cfg.Scheme = strings.ToLower(strings.TrimSpace(cfg.Scheme))
	if cfg.Scheme == "" {
		cfg.Scheme = DefaultScheme
	}
	if cfg.RegionID == "" {
		cfg.RegionID = DefaultRegionID
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.PoolSize == 0 {
		cfg.PoolSize = DefaultPoolSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Validate reports whether cfg (after defaults) is usable. It never
// mentions the secret.
func (cfg Config) Validate() error {
	cfg = cfg.withDefaults()
	var errs []error
	if strings.TrimSpace(cfg.AccessKeyID) == "" {
		errs = append(errs, errors.New("AccessKeyID is required"))
	}
	if strings.TrimSpace(cfg.AccessKeySecret) == "" {
		errs = append(errs, errors.New("AccessKeySecret is required"))
	}
	if cfg.SceneID <= 0 {
		errs = append(errs, errors.New("SceneID must be > 0"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("Timeout must not be negative"))
	}
	if cfg.PoolSize < 0 || cfg.PoolSize > maxPoolSize {
		errs = append(errs, fmt.Errorf("PoolSize must be between 1 and %d", maxPoolSize))
	}
	if !validRegion(cfg.RegionID) {
		errs = append(errs, errors.New("RegionID may only hold letters, digits, '-' and '_'"))
	}
	host, err := endpointHost(cfg.Endpoint)
	if err != nil {
		errs = append(errs, err)
	}
	switch cfg.Scheme {
	case "https":
	case "http":
		if err == nil && !isLoopback(host) {
			errs = append(errs, fmt.Errorf("scheme http is only allowed for loopback endpoints, not %q", host))
		}
	default:
		errs = append(errs, fmt.Errorf("Scheme must be https or http, not %q", cfg.Scheme))
	}
	if len(errs) > 0 {
		return fmt.Errorf("aliyun: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// validRegion mirrors the SDK's check (^[a-zA-Z0-9_-]+$).
func validRegion(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// endpointHost checks the shape host[:port][/path] of an endpoint and
// returns its host (without port or IPv6 brackets).
func endpointHost(ep string) (string, error) {
	if strings.Contains(ep, "://") {
		return "", fmt.Errorf("Endpoint must not contain a scheme (use Scheme): %q", ep)
	}
	for _, c := range ep {
		if c <= ' ' || c == 0x7f || strings.ContainsRune("?#@\\", c) {
			return "", fmt.Errorf("Endpoint contains a forbidden character: %q", ep)
		}
	}
	hostport, path, _ := strings.Cut(ep, "/")
	if strings.Contains(path, "//") || strings.Contains("/"+path+"/", "/../") {
		return "", fmt.Errorf("Endpoint has a malformed path: %q", ep)
	}
	host := hostport
	if strings.HasPrefix(hostport, "[") || strings.Count(hostport, ":") == 1 {
		h, port, err := net.SplitHostPort(hostport)
		if err != nil || !validPort(port) {
			return "", fmt.Errorf("Endpoint has a malformed host:port: %q", ep)
		}
		host = h
	} else if strings.Contains(hostport, ":") {
		return "", fmt.Errorf("Endpoint: IPv6 addresses need brackets: %q", ep)
	}
	if host == "" {
		return "", fmt.Errorf("Endpoint has no host: %q", ep)
	}
	return host, nil
}

// validPort accepts 1–65535 in decimal.
func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n <= 65535 && s[0] != '+' && s[0] != '-'
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
