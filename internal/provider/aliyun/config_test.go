package aliyun

import (
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{AccessKeyID: testKeyID, AccessKeySecret: testSecret, SceneID: testScene}
}

func TestNewDefaults(t *testing.T) {
	p, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	c := p.cfg
	if c.Endpoint != DefaultEndpoint || c.Scheme != "https" || p.scheme != "HTTPS" || c.RegionID != DefaultRegionID ||
		c.Timeout != DefaultTimeout || c.MaxRetries != DefaultMaxRetries || c.PoolSize != DefaultPoolSize || c.Logger == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
	if len(p.clients) != DefaultPoolSize {
		t.Errorf("pool holds %d clients, want %d", len(p.clients), DefaultPoolSize)
	}
	if p.Name() != "aliyun" {
		t.Errorf("Name() = %q", p.Name())
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no key id", func(c *Config) { c.AccessKeyID = " " }, "AccessKeyID"},
		{"no secret", func(c *Config) { c.AccessKeySecret = "" }, "AccessKeySecret"},
		{"no scene", func(c *Config) { c.SceneID = 0 }, "SceneID"},
		{"negative scene", func(c *Config) { c.SceneID = -3 }, "SceneID"},
		{"bad scheme", func(c *Config) { c.Scheme = "ftp" }, "Scheme"},
		{"http to the real service", func(c *Config) { c.Scheme = "http" }, "loopback"},
		{"http to a private address", func(c *Config) { c.Scheme, c.Endpoint = "http", "10.0.0.8:8080" }, "loopback"},
		{"http to a name that looks local", func(c *Config) { c.Scheme, c.Endpoint = "http", "localhost.example.com" }, "loopback"},
		{"http to 127.0.0.1 with prefix", func(c *Config) { c.Scheme, c.Endpoint = "http", "127.0.0.1:8001/sandbox/cloudauth" }, ""},
		{"http to 127.3.4.5", func(c *Config) { c.Scheme, c.Endpoint = "http", "127.3.4.5" }, ""},
		{"http to ::1", func(c *Config) { c.Scheme, c.Endpoint = "HTTP", "[::1]:9000/x" }, ""},
		{"http to localhost", func(c *Config) { c.Scheme, c.Endpoint = "http", "localhost:9000" }, ""},
		{"https anywhere", func(c *Config) { c.Endpoint = "cloudauth-vpc.cn-shanghai.aliyuncs.com" }, ""},
		{"endpoint with scheme", func(c *Config) { c.Endpoint = "https://cloudauth.aliyuncs.com" }, "scheme"},
		{"endpoint with query", func(c *Config) { c.Endpoint = "host/p?x=1" }, "forbidden"},
		{"endpoint with userinfo", func(c *Config) { c.Endpoint = "user@host" }, "forbidden"},
		{"endpoint with space", func(c *Config) { c.Endpoint = "ho st" }, "forbidden"},
		{"endpoint bad port", func(c *Config) { c.Endpoint = "host:" }, "host:port"},
		{"endpoint non-numeric port", func(c *Config) { c.Endpoint = "host:abc" }, "host:port"},
		{"endpoint bare ipv6", func(c *Config) { c.Endpoint = "::1" }, "brackets"},
		{"endpoint dot-dot", func(c *Config) { c.Endpoint = "host/a/../b" }, "path"},
		{"endpoint no host", func(c *Config) { c.Endpoint = "/path" }, "no host"},
		{"bad region", func(c *Config) { c.RegionID = "cn hangzhou" }, "RegionID"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Timeout"},
		{"huge pool", func(c *Config) { c.PoolSize = 1 << 20 }, "PoolSize"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := validConfig()
			c.mutate(&cfg)
			err := cfg.Validate()
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := New(cfg); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Validate = %v, want an error about %q", err, c.wantErr)
			}
			if _, err := New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Error("the error shows the secret")
			}
		})
	}
}

func TestEndpointNormalised(t *testing.T) {
	cfg := validConfig()
	cfg.Endpoint = " 127.0.0.1:8001/sandbox/cloudauth/ "
	cfg.Scheme = "http"
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.cfg.Endpoint != "127.0.0.1:8001/sandbox/cloudauth" || p.scheme != "HTTP" {
		t.Errorf("endpoint %q scheme %q", p.cfg.Endpoint, p.scheme)
	}
}
