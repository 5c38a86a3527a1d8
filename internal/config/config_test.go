package config

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/trail"
)

func TestLayersFileThenEnvThenFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "realname.yaml")
	yaml := "addr: 127.0.0.1:9000\ndata_dir: /from/file\nprovider: sandbox\nvalidity: 720h\naliyun:\n  scene_id: 7\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"REALNAME_DATA_DIR": "/from/env", "REALNAME_SESSION_TTL": "10m", "REALNAME_ACCESS_LOG": "false"}
	c, err := Load("serve", []string{"--config", file, "--addr", "127.0.0.1:9100"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" || c.DataDir != "/from/env" || c.Validity != 720*time.Hour ||
		c.SessionTTL != 10*time.Minute || c.AccessLog || c.Aliyun.SceneID != 7 || c.TokenTTL != 15*time.Minute {
		t.Fatalf("layers: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.Database(); got != filepath.Join("/from/env", "realname.db") || !c.Embedded() {
		t.Fatalf("Database() = %s", got)
	}
}

func TestLoadRefusesUnknownKeysAndArguments(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(file, []byte("adress: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	none := func(string) string { return "" }
	if _, err := Load("serve", []string{"--config", file}, none); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Fatalf("unknown YAML key: %v", err)
	}
	if _, err := Load("serve", []string{"extra"}, none); err == nil {
		t.Fatal("a stray argument was accepted")
	}
	if _, err := Load("serve", nil, func(k string) string {
		return map[string]string{"REALNAME_VALIDITY": "a year", "ALIYUN_SCENE_ID": "x"}[k]
	}); err == nil || !strings.Contains(err.Error(), "REALNAME_VALIDITY") || !strings.Contains(err.Error(), "ALIYUN_SCENE_ID") {
		t.Fatalf("bad env values: %v", err)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	c := Default()
	c.Addr = "nope"
	c.Provider = "aliyun"
	c.PublicURL = "http://realname.example.com"
	c.APIKey = "short"
	c.SessionTTL = time.Second
	c.LogLevel = "loud"
	c.Keys.RingFile = "/only/one"
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"addr", "ALIYUN_ACCESS_KEY_ID", "ALIYUN_SCENE_ID", "https", "REALNAME_API_KEY", "session_ttl", "log_level", "REALNAME_INDEX_KEY_FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	ok := Default()
	ok.Provider = "aliyun"
	ok.Aliyun = Aliyun{AccessKeyID: "a", AccessKeySecret: "b", SceneID: 1}
	ok.PublicURL = "http://127.0.0.1:8001" // loopback: allowed for staging
	if err := ok.Validate(); err != nil {
		t.Fatalf("staging config refused: %v", err)
	}
	if got := ok.BaseURL("x"); got != "http://127.0.0.1:8001" {
		t.Fatalf("BaseURL = %s", got)
	}
}

func TestRateAndProxySettings(t *testing.T) {
	d := Default()
	if d.Rate != (Rate{IP: 600, APIKey: 6000, UserInit: 10, Authority: 600, Window: time.Minute, MaxKeys: 100_000}) || d.TrustedProxies != "" {
		t.Fatalf("defaults: %+v %q", d.Rate, d.TrustedProxies)
	}
	file := filepath.Join(t.TempDir(), "realname.yaml")
	if err := os.WriteFile(file, []byte("rate:\n  ip: 100\n  window: 30s\ntrusted_proxies: 10.0.0.0/8\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"REALNAME_RATE_USER_INIT": "5", "REALNAME_RATE_API_KEY": "0", "REALNAME_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1 ,fd00::/8"}
	c, err := Load("serve", []string{"--config", file}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Rate != (Rate{IP: 100, APIKey: 0, UserInit: 5, Authority: 600, Window: 30 * time.Second, MaxKeys: 100_000}) {
		t.Fatalf("rate: %+v", c.Rate)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := ParseTrustedProxies(c.TrustedProxies)
	if err != nil || len(p) != 3 || p[1].String() != "192.0.2.1/32" {
		t.Fatalf("proxies %v %v", p, err)
	}
	if _, err := Load("serve", nil, func(k string) string {
		return map[string]string{"REALNAME_RATE_IP": "many", "REALNAME_RATE_WINDOW": "soon"}[k]
	}); err == nil || !strings.Contains(err.Error(), "REALNAME_RATE_IP") || !strings.Contains(err.Error(), "REALNAME_RATE_WINDOW") {
		t.Fatalf("bad env values: %v", err)
	}
	bad := Default()
	bad.Rate = Rate{IP: -1, Window: time.Millisecond, MaxKeys: 10}
	bad.TrustedProxies = "10.0.0.0/33,nonsense"
	err = bad.Validate()
	for _, want := range []string{"negative", "rate window", "max_keys", "trusted_proxies"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to mention %q", err, want)
		}
	}
}

func TestCORSOriginsSetting(t *testing.T) {
	if d := Default(); d.CORSOrigins != "" {
		t.Fatalf("default cors_origins %q, want none", d.CORSOrigins)
	}
	file := filepath.Join(t.TempDir(), "realname.yaml")
	if err := os.WriteFile(file, []byte("cors_origins: https://from.file.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load("serve", []string{"--config", file}, func(string) string { return "" })
	if err != nil || c.CORSOrigins != "https://from.file.example" {
		t.Fatalf("yaml: %q %v", c.CORSOrigins, err)
	}
	env := map[string]string{"REALNAME_CORS_ORIGINS": "https://Letters.Example.CN:443, http://localhost:3000"}
	c, err = Load("serve", []string{"--config", file}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := ParseCORSOrigins(c.CORSOrigins)
	if err != nil || strings.Join(got, " ") != "https://letters.example.cn http://localhost:3000" {
		t.Fatalf("env over yaml, normalised: %q %v", got, err)
	}
}

func TestParseCORSOrigins(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // origins joined by a space
	}{
		{"", ""},
		{" , ,", ""},
		{"https://letters.example.cn", "https://letters.example.cn"},
		{"HTTPS://LETTERS.example.CN", "https://letters.example.cn"},
		{"https://a.example:443,http://a.example:80", "https://a.example http://a.example"},
		{"https://a.example:8443", "https://a.example:8443"},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000"},
		{"http://[::1]:3000", "http://[::1]:3000"},
		{"https://[2001:DB8::1]:443", "https://[2001:db8::1]"},
		{"https://a.example, https://A.example:443", "https://a.example"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseCORSOrigins(tc.in)
			if err != nil || strings.Join(got, " ") != tc.want {
				t.Fatalf("ParseCORSOrigins(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{
		"*", "https://*.example.cn", "https://a.example,*", "letters.example.cn", "ftp://a.example",
		"https://", "https:///x", "https://a.example/", "https://a.example/app", "https://a.example?x=1",
		"https://a.example#top", "https://a.example?", "https://user:pw@a.example", "https://a.example:99999",
		"https://a.example:x", "mailto:x@a.example", "//a.example", "https://a b.example",
	} {
		t.Run("bad "+bad, func(t *testing.T) {
			if got, err := ParseCORSOrigins(bad); err == nil {
				t.Fatalf("ParseCORSOrigins(%q) = %q, want an error", bad, got)
			}
		})
	}
	c := Default()
	c.CORSOrigins = "*"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "cors_origins") || !strings.Contains(err.Error(), "wildcard") {
		t.Fatalf("Validate with *: %v", err)
	}
}

// TestTrailSettings: the witness needs both its URL (https, or http on
// loopback) and a cosignature key; the origin and interval are bounded.
func TestTrailSettings(t *testing.T) {
	w, err := trail.GenerateCosigner(rand.Reader, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	wkey := w.VerifierKey()
	for name, edit := range map[string]func(*Config){
		"url without key":    func(c *Config) { c.Trail.WitnessURL = "https://w.example" },
		"key without url":    func(c *Config) { c.Trail.WitnessKey = wkey },
		"plain http remote":  func(c *Config) { c.Trail.WitnessURL, c.Trail.WitnessKey = "http://w.example", wkey },
		"bad key":            func(c *Config) { c.Trail.WitnessURL, c.Trail.WitnessKey = "https://w.example", "nope" },
		"origin with space":  func(c *Config) { c.Trail.Origin = "a b" },
		"interval too short": func(c *Config) { c.Trail.CheckpointInterval = time.Millisecond },
	} {
		c := Default()
		edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "trail") {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := Default()
	c.Trail.WitnessURL, c.Trail.WitnessKey = "https://w.example/prefix", wkey
	if err := c.Validate(); err != nil {
		t.Fatalf("a good witness: %v", err)
	}
	c.Trail.WitnessURL = "http://127.0.0.1:9999"
	if err := c.Validate(); err != nil {
		t.Fatalf("a loopback witness over http: %v", err)
	}
	c = Default()
	if got := c.TrailOrigin("127.0.0.1:8001"); got != "127.0.0.1:8001/trail" {
		t.Errorf("default origin %q", got)
	}
	c.PublicURL = "https://rn.example.cn/base/"
	if got := c.TrailOrigin("x"); got != "rn.example.cn/base/trail" {
		t.Errorf("origin from the public URL %q", got)
	}
}
