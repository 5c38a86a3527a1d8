package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/realname/realname/internal/trail"
)

// Config is every setting of the service.
type Config struct {
	Addr        string `yaml:"addr"`         // REALNAME_ADDR, --addr
	DataDir     string `yaml:"data_dir"`     // REALNAME_DATA_DIR, --data
	DatabaseURL string `yaml:"database_url"` // DATABASE_URL: a SQLite path or postgres://…
	RedisURL    string `yaml:"redis_url"`    // REDIS_URL (accepted; this build keeps cache in-process)
	PublicURL   string `yaml:"public_url"`   // REALNAME_PUBLIC_URL
	Provider    string `yaml:"provider"`     // REALNAME_PROVIDER: sandbox | aliyun
	APIKey      string `yaml:"api_key"`      // REALNAME_API_KEY: one key accepted as given

	Aliyun Aliyun `yaml:"aliyun"`
	Keys   Keys   `yaml:"keys"`

	Validity   time.Duration `yaml:"validity"`    // REALNAME_VALIDITY, default 8760h (365 days)
	SessionTTL time.Duration `yaml:"session_ttl"` // REALNAME_SESSION_TTL, default 30m
	TokenTTL   time.Duration `yaml:"token_ttl"`   // REALNAME_TOKEN_TTL, default 15m: user tokens for browsers
	// PollInterval is how often the poller looks for sessions whose
	// callback never came (REALNAME_POLL_INTERVAL, default 5s).
	PollInterval time.Duration `yaml:"poll_interval"`
	// PollMinIdle: a session must be idle this long before the poller asks
	// the provider about it (REALNAME_POLL_MIN_IDLE, default 10s).
	PollMinIdle time.Duration `yaml:"poll_min_idle"`
	LogLevel    string        `yaml:"log_level"`  // REALNAME_LOG_LEVEL: debug | info | warn | error
	AccessLog   bool          `yaml:"access_log"` // REALNAME_ACCESS_LOG: one log line per request (default true)

	Rate Rate `yaml:"rate"`
	// TrustedProxies: comma-separated CIDRs (or addresses) of the proxies
	// whose X-Forwarded-For is believed (REALNAME_TRUSTED_PROXIES; default
	// none: the connection's address is the client).
	TrustedProxies string `yaml:"trusted_proxies"`
	// CORSOrigins: comma-separated exact origins (scheme://host[:port])
	// whose browser pages may call the API (REALNAME_CORS_ORIGINS; default
	// none: no CORS headers at all). "*" is refused.
	CORSOrigins string `yaml:"cors_origins"`

	// AdminKey guards the admin API (/api/v1/admin/…) of operators
	// (REALNAME_ADMIN_KEY, at least 32 characters; empty: the admin API is
	// off and operators use the CLI).
	AdminKey string  `yaml:"admin_key"`
	Privacy  Privacy `yaml:"privacy"`
	Trail    Trail   `yaml:"trail"`
}

// Trail configures the tamper-evident log.
type Trail struct {
	// Origin names the log in its checkpoints and is the name of its
	// signing key (REALNAME_TRAIL_ORIGIN; default: the public URL's host
	// and path + "/trail", e.g. "realname.example.cn/trail").
	Origin string `yaml:"origin"`
	// KeyFile holds the log's Ed25519 signing key as a signed-note private
	// key, mode 0600 (REALNAME_TRAIL_KEY_FILE; default DATA_DIR/keys/trail.key,
	// generated for the embedded default while the trail is empty).
	KeyFile string `yaml:"key_file"`
	// CheckpointInterval is how often a new checkpoint is signed while
	// there are new entries (REALNAME_TRAIL_CHECKPOINT_INTERVAL, default 10s).
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// WitnessURL is a C2SP tlog-witness's submission prefix: each new
	// checkpoint is sent to WitnessURL/add-checkpoint to be cosigned
	// (REALNAME_TRAIL_WITNESS_URL; default none).
	WitnessURL string `yaml:"witness_url"`
	// WitnessKey is that witness's cosignature/v1 verifier key
	// (REALNAME_TRAIL_WITNESS_KEY); required with WitnessURL.
	WitnessKey string `yaml:"witness_key"`
}

// TrailOrigin is the configured origin or the default one.
func (c Config) TrailOrigin(listen string) string {
	if c.Trail.Origin != "" {
		return c.Trail.Origin
	}
	u, err := url.Parse(c.BaseURL(listen))
	if err != nil || u.Host == "" {
		return "realname.localhost/trail"
	}
	return strings.TrimSuffix(u.Host+u.EscapedPath(), "/") + "/trail"
}

// Privacy holds the abuse controls and retention periods.
type Privacy struct {
	// LockoutFailures failed verifications within LockoutWindow lock a
	// user out of new starts until an operator lifts it (realname user
	// unlock) or the window passes (REALNAME_LOCKOUT_FAILURES, default 5;
	// 0 turns the lockout off).
	LockoutFailures int           `yaml:"lockout_failures"`
	LockoutWindow   time.Duration `yaml:"lockout_window"` // REALNAME_LOCKOUT_WINDOW, default 24h
	// DailyBudget caps the paid provider calls per day, China time
	// (REALNAME_PROVIDER_DAILY_BUDGET, default 10000; 0: no cap).
	DailyBudget int `yaml:"daily_budget"`
	// ReviewTTL: a manual review undecided this long is cancelled and its
	// files deleted (REALNAME_REVIEW_TTL, default 720h = 30 days).
	ReviewTTL time.Duration `yaml:"review_ttl"`
	// RetainIdentity: the encrypted identity of a person no user is
	// verified with any more is erased this long after its last session
	// ended or expired (REALNAME_RETAIN_IDENTITY, default 720h; 0 keeps it).
	RetainIdentity time.Duration `yaml:"retain_identity"`
	// RetainFaces: how long the provider may keep its copy of a face check
	// after the result (REALNAME_RETAIN_FACES, default 0: deleted at once).
	RetainFaces time.Duration `yaml:"retain_faces"`
	// RetainIdempotency: stored answers to Idempotency-Keys
	// (REALNAME_RETAIN_IDEMPOTENCY, default 24h).
	RetainIdempotency time.Duration `yaml:"retain_idempotency"`
	// RetainAudit: the audit log of accesses and operator actions
	// (REALNAME_RETAIN_AUDIT, default 26280h = 3 years).
	RetainAudit time.Duration `yaml:"retain_audit"`
	// RetentionInterval: how often the server runs the retention job
	// (REALNAME_RETENTION_INTERVAL, default 1h).
	RetentionInterval time.Duration `yaml:"retention_interval"`
}

// Rate holds the rate limits: at most so many requests per Window (0 turns
// a limit off).
type Rate struct {
	IP       int `yaml:"ip"`        // REALNAME_RATE_IP: API requests per client IP (default 600)
	APIKey   int `yaml:"api_key"`   // REALNAME_RATE_API_KEY: requests per API key (default 6000)
	UserInit int `yaml:"user_init"` // REALNAME_RATE_USER_INIT: verification starts per user (default 10)
	// Authority is REALNAME_RATE_AUTHORITY: signed requests per authority
	// institution (default 600).
	Authority int           `yaml:"authority"`
	Window    time.Duration `yaml:"window"`   // REALNAME_RATE_WINDOW (default 1m)
	MaxKeys   int           `yaml:"max_keys"` // REALNAME_RATE_MAX_KEYS: keys remembered per limit (default 100000)
}

// Aliyun holds the Cloudauth settings.
type Aliyun struct {
	AccessKeyID     string `yaml:"access_key_id"`     // ALIYUN_ACCESS_KEY_ID
	AccessKeySecret string `yaml:"access_key_secret"` // ALIYUN_ACCESS_KEY_SECRET
	SceneID         int64  `yaml:"scene_id"`          // ALIYUN_SCENE_ID
	Endpoint        string `yaml:"endpoint"`          // ALIYUN_ENDPOINT (optional)
}

// Keys says where the key material lives. With nothing set, keys live in
// DataDir/keys and are generated on the first start of an empty data
// directory only.
type Keys struct {
	RingFile  string `yaml:"ring_file"`  // REALNAME_KEYRING_FILE
	IndexFile string `yaml:"index_file"` // REALNAME_INDEX_KEY_FILE
}

// Default is the embedded default: everything on this machine.
func Default() Config {
	return Config{
		Addr:         "127.0.0.1:8001",
		DataDir:      "realname-data",
		Provider:     "sandbox",
		Validity:     365 * 24 * time.Hour,
		SessionTTL:   30 * time.Minute,
		TokenTTL:     15 * time.Minute,
		PollInterval: 5 * time.Second,
		PollMinIdle:  10 * time.Second,
		LogLevel:     "info",
		AccessLog:    true,
		Rate:         Rate{IP: 600, APIKey: 6000, UserInit: 10, Authority: 600, Window: time.Minute, MaxKeys: 100_000},
		Privacy: Privacy{LockoutFailures: 5, LockoutWindow: 24 * time.Hour, DailyBudget: 10_000,
			ReviewTTL: 30 * 24 * time.Hour, RetainIdentity: 30 * 24 * time.Hour, RetainIdempotency: 24 * time.Hour,
			RetainAudit: 3 * 365 * 24 * time.Hour, RetentionInterval: time.Hour},
		Trail: Trail{CheckpointInterval: 10 * time.Second},
	}
}

// Load builds the config from the file named by --config (if any), the
// environment (through getenv) and the flags in args. It does not validate.
func Load(name string, args []string, getenv func(string) string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	file := fs.String("config", "", "YAML configuration `file`")
	addr := fs.String("addr", "", "listen address `host:port` (REALNAME_ADDR)")
	data := fs.String("data", "", "data `directory` (REALNAME_DATA_DIR)")
	db := fs.String("database-url", "", "SQLite path or postgres:// URL (DATABASE_URL)")
	provider := fs.String("provider", "", "sandbox or aliyun (REALNAME_PROVIDER)")
	public := fs.String("public-url", "", "externally visible base URL (REALNAME_PUBLIC_URL)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return c, fmt.Errorf("read config file: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config file %s: %w", *file, err)
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	for _, f := range []struct {
		v   string
		dst *string
	}{{*addr, &c.Addr}, {*data, &c.DataDir}, {*db, &c.DatabaseURL}, {*provider, &c.Provider}, {*public, &c.PublicURL}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	return c, nil
}

func (c *Config) applyEnv(getenv func(string) string) error {
	strs := map[string]*string{
		"REALNAME_ADDR": &c.Addr, "REALNAME_DATA_DIR": &c.DataDir, "DATABASE_URL": &c.DatabaseURL,
		"REDIS_URL": &c.RedisURL, "REALNAME_PUBLIC_URL": &c.PublicURL, "REALNAME_PROVIDER": &c.Provider,
		"REALNAME_API_KEY": &c.APIKey, "ALIYUN_ACCESS_KEY_ID": &c.Aliyun.AccessKeyID,
		"ALIYUN_ACCESS_KEY_SECRET": &c.Aliyun.AccessKeySecret, "ALIYUN_ENDPOINT": &c.Aliyun.Endpoint,
		"REALNAME_KEYRING_FILE": &c.Keys.RingFile, "REALNAME_INDEX_KEY_FILE": &c.Keys.IndexFile,
		"REALNAME_LOG_LEVEL": &c.LogLevel, "REALNAME_TRUSTED_PROXIES": &c.TrustedProxies,
		"REALNAME_CORS_ORIGINS": &c.CORSOrigins, "REALNAME_ADMIN_KEY": &c.AdminKey,
		"REALNAME_TRAIL_ORIGIN": &c.Trail.Origin, "REALNAME_TRAIL_KEY_FILE": &c.Trail.KeyFile,
		"REALNAME_TRAIL_WITNESS_URL": &c.Trail.WitnessURL, "REALNAME_TRAIL_WITNESS_KEY": &c.Trail.WitnessKey,
	}
	for k, dst := range strs {
		if v := getenv(k); v != "" {
			*dst = v
		}
	}
	var errs []error
	durs := map[string]*time.Duration{
		"REALNAME_VALIDITY": &c.Validity, "REALNAME_SESSION_TTL": &c.SessionTTL, "REALNAME_TOKEN_TTL": &c.TokenTTL,
		"REALNAME_POLL_INTERVAL": &c.PollInterval, "REALNAME_POLL_MIN_IDLE": &c.PollMinIdle,
		"REALNAME_RATE_WINDOW":    &c.Rate.Window,
		"REALNAME_LOCKOUT_WINDOW": &c.Privacy.LockoutWindow, "REALNAME_REVIEW_TTL": &c.Privacy.ReviewTTL,
		"REALNAME_RETAIN_IDENTITY": &c.Privacy.RetainIdentity, "REALNAME_RETAIN_FACES": &c.Privacy.RetainFaces,
		"REALNAME_RETAIN_IDEMPOTENCY": &c.Privacy.RetainIdempotency, "REALNAME_RETAIN_AUDIT": &c.Privacy.RetainAudit,
		"REALNAME_RETENTION_INTERVAL":        &c.Privacy.RetentionInterval,
		"REALNAME_TRAIL_CHECKPOINT_INTERVAL": &c.Trail.CheckpointInterval,
	}
	for k, dst := range durs {
		if v := getenv(k); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
				continue
			}
			*dst = d
		}
	}
	if v := getenv("ALIYUN_SCENE_ID"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("ALIYUN_SCENE_ID: not a number"))
		}
		c.Aliyun.SceneID = n
	}
	ints := map[string]*int{
		"REALNAME_RATE_IP": &c.Rate.IP, "REALNAME_RATE_API_KEY": &c.Rate.APIKey,
		"REALNAME_RATE_USER_INIT": &c.Rate.UserInit, "REALNAME_RATE_MAX_KEYS": &c.Rate.MaxKeys,
		"REALNAME_RATE_AUTHORITY":   &c.Rate.Authority,
		"REALNAME_LOCKOUT_FAILURES": &c.Privacy.LockoutFailures, "REALNAME_PROVIDER_DAILY_BUDGET": &c.Privacy.DailyBudget,
	}
	for k, dst := range ints {
		if v := getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: not a whole number", k))
				continue
			}
			*dst = n
		}
	}
	if v := getenv("REALNAME_ACCESS_LOG"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("REALNAME_ACCESS_LOG: %w", err))
		}
		c.AccessLog = b
	}
	return errors.Join(errs...)
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr %q: want host:port", c.Addr)
	}
	if c.DataDir == "" {
		bad("data_dir is empty")
	}
	switch c.Provider {
	case "sandbox":
	case "aliyun":
		if c.Aliyun.AccessKeyID == "" || c.Aliyun.AccessKeySecret == "" {
			bad("provider aliyun needs ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET")
		}
		if c.Aliyun.SceneID <= 0 {
			bad("provider aliyun needs ALIYUN_SCENE_ID (a positive number)")
		}
		if c.PublicURL == "" {
			bad("provider aliyun needs REALNAME_PUBLIC_URL: Cloudauth must reach the callback")
		}
	default:
		bad("provider %q: want sandbox or aliyun", c.Provider)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("public_url %q: want an absolute http(s) URL without query", c.PublicURL)
		} else if c.Provider == "aliyun" && u.Scheme != "https" && !loopback(u.Hostname()) {
			bad("public_url must be https with provider aliyun (http only for a loopback address)")
		}
	}
	if c.APIKey != "" && len(c.APIKey) < 24 {
		bad("REALNAME_API_KEY is too short (at least 24 characters)")
	}
	if c.AdminKey != "" && (len(c.AdminKey) < 32 || len(c.AdminKey) > 128) {
		bad("REALNAME_ADMIN_KEY must have 32–128 characters (make one with: openssl rand -base64 32)")
	}
	if c.AdminKey != "" && c.AdminKey == c.APIKey {
		bad("REALNAME_ADMIN_KEY must differ from REALNAME_API_KEY")
	}
	p := c.Privacy
	if p.LockoutFailures < 0 || p.LockoutFailures > 1000 {
		bad("lockout_failures %d: between 0 (off) and 1000", p.LockoutFailures)
	}
	if p.LockoutWindow < time.Minute || p.LockoutWindow > 30*24*time.Hour {
		bad("lockout_window %s: between 1m and 720h", p.LockoutWindow)
	}
	if p.DailyBudget < 0 {
		bad("daily_budget %d: must not be negative (0: no cap)", p.DailyBudget)
	}
	if p.ReviewTTL < time.Hour || p.ReviewTTL > 90*24*time.Hour {
		bad("review_ttl %s: between 1h and 2160h (90 days)", p.ReviewTTL)
	}
	if p.RetainIdentity < 0 || p.RetainFaces < 0 || p.RetainIdempotency < 0 || p.RetainAudit < 0 {
		bad("retention periods must not be negative")
	}
	if p.RetainFaces > 30*24*time.Hour {
		bad("retain_faces %s: at most 720h; face data should not be kept", p.RetainFaces)
	}
	if p.RetainIdempotency > 0 && p.RetainIdempotency < time.Hour {
		bad("retain_idempotency %s: at least 1h (a platform retries within it)", p.RetainIdempotency)
	}
	if p.RetentionInterval < time.Minute || p.RetentionInterval > 24*time.Hour {
		bad("retention_interval %s: between 1m and 24h", p.RetentionInterval)
	}
	if c.Trail.CheckpointInterval < time.Second || c.Trail.CheckpointInterval > time.Hour {
		bad("trail checkpoint_interval %s: between 1s and 1h", c.Trail.CheckpointInterval)
	}
	if c.Trail.Origin != "" && !trail.ValidOrigin(c.Trail.Origin) {
		bad("trail origin %q: printable ASCII without spaces or '+', at most 255 bytes", c.Trail.Origin)
	}
	if (c.Trail.WitnessURL == "") != (c.Trail.WitnessKey == "") {
		bad("trail witness: set both REALNAME_TRAIL_WITNESS_URL and REALNAME_TRAIL_WITNESS_KEY, or neither")
	} else if c.Trail.WitnessURL != "" {
		if u, err := url.Parse(c.Trail.WitnessURL); err != nil || u.Host == "" || u.RawQuery != "" ||
			(u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			bad("trail witness_url %q: want an https URL (http only for a loopback address)", c.Trail.WitnessURL)
		}
		if _, err := trail.NewCosignatureVerifier(c.Trail.WitnessKey); err != nil {
			bad("trail witness_key: %v", err)
		}
	}
	if c.Validity < time.Hour {
		bad("validity %s: at least 1h", c.Validity)
	}
	if c.SessionTTL < time.Minute || c.SessionTTL > 24*time.Hour {
		bad("session_ttl %s: between 1m and 24h", c.SessionTTL)
	}
	if c.TokenTTL < time.Minute || c.TokenTTL > 24*time.Hour {
		bad("token_ttl %s: between 1m and 24h", c.TokenTTL)
	}
	if c.Rate.IP < 0 || c.Rate.APIKey < 0 || c.Rate.UserInit < 0 || c.Rate.Authority < 0 {
		bad("rate limits must not be negative (0 turns one off)")
	}
	if c.Rate.Window < time.Second || c.Rate.Window > 24*time.Hour {
		bad("rate window %s: between 1s and 24h", c.Rate.Window)
	}
	if c.Rate.MaxKeys < 1000 || c.Rate.MaxKeys > 10_000_000 {
		bad("rate max_keys %d: between 1000 and 10000000", c.Rate.MaxKeys)
	}
	if _, err := ParseTrustedProxies(c.TrustedProxies); err != nil {
		bad("trusted_proxies %q: %v (want comma-separated CIDRs such as 10.0.0.0/8)", c.TrustedProxies, err)
	}
	if _, err := ParseCORSOrigins(c.CORSOrigins); err != nil {
		bad("cors_origins %q: %v", c.CORSOrigins, err)
	}
	if c.PollInterval <= 0 || c.PollMinIdle < 0 {
		bad("poll_interval must be positive and poll_min_idle not negative")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	if (c.Keys.RingFile == "") != (c.Keys.IndexFile == "") {
		bad("set both REALNAME_KEYRING_FILE and REALNAME_INDEX_KEY_FILE, or neither")
	}
	return errors.Join(errs...)
}

// Database returns the database URL: DATABASE_URL, or the SQLite file in
// the data directory.
func (c Config) Database() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "realname.db")
}

// Embedded reports whether the database is the default SQLite file in the
// data directory (where keys may be generated on first start).
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// BaseURL is the externally visible base URL, without a trailing slash.
func (c Config) BaseURL(listen string) string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return "http://" + listen
}

// loopback reports whether host is a loopback name or address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseTrustedProxies reads REALNAME_TRUSTED_PROXIES: comma-separated
// CIDRs or single addresses.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ParseCORSOrigins reads REALNAME_CORS_ORIGINS: comma-separated exact
// origins such as https://letters.example.cn (scheme http or https, a host,
// an optional port; no path, query, fragment or user info). It returns them
// normalised as browsers send them in Origin: scheme and host in lower
// case, without a default port, without duplicates. The wildcard "*" is
// refused: only listed origins get CORS.
func ParseCORSOrigins(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		o, err := parseOrigin(f)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, nil
}

func parseOrigin(f string) (string, error) {
	if strings.Contains(f, "*") {
		return "", fmt.Errorf("%q: a wildcard is not allowed; list each origin exactly (scheme://host[:port])", f)
	}
	u, err := url.Parse(f)
	if err != nil {
		return "", fmt.Errorf("%q: not an origin (want scheme://host[:port])", f)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", fmt.Errorf("%q: scheme must be http or https", f)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%q: no host (want scheme://host[:port])", f)
	case u.User != nil:
		return "", fmt.Errorf("%q: an origin has no user info", f)
	case u.Path != "" || u.RawPath != "":
		return "", fmt.Errorf("%q: an origin has no path, not even \"/\"", f)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(f, "?#"):
		return "", fmt.Errorf("%q: an origin has no query or fragment", f)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: bad port", f)
		}
		port = strconv.Itoa(n)
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}
