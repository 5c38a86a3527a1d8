package app_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/realname/realname/internal/pii"
	"github.com/realname/realname/internal/storage/conformance"
)

// TestPostgresBehavesTheSame runs a verification with DATABASE_URL pointing
// at PostgreSQL. Keys must be supplied there: realname never generates keys
// for a database other than the embedded SQLite file.
func TestPostgresBehavesTheSame(t *testing.T) {
	dbURL := conformance.PostgresURL(t)
	cfg := testConfig(t)
	cfg.DatabaseURL = dbURL

	_, err := newApp(cfg)
	if err == nil || !strings.Contains(err.Error(), "no keys found") {
		t.Fatalf("start on PostgreSQL without keys: %v", err)
	}

	keyDir := t.TempDir()
	files := pii.KeyFiles{RingPath: filepath.Join(keyDir, "ring.json"), IndexPath: filepath.Join(keyDir, "index.key")}
	if _, err := pii.Generate(files); err != nil {
		t.Fatal(err)
	}
	cfg.Keys.RingFile, cfg.Keys.IndexFile = files.RingPath, files.IndexPath
	r := start(t, cfg, nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	code, a := c.init("pg-user", testName, testNumber)
	if code != 200 {
		t.Fatalf("init: %d %+v", code, a)
	}
	complete(t, a.VerifyURL, "pass")
	c.waitStatus(a.CertifyID, "success")
	if code, again := c.init("pg-other", testName, testNumber); code != 409 || again.Code != "IDENTITY_BOUND_TO_OTHER_USER" {
		t.Fatalf("second user with the same number: %d %+v", code, again)
	}
	r.stop()

	// A restart reads the same data with the same keys.
	r2 := start(t, cfg, nil)
	var st struct {
		Status   string `json:"status"`
		RealName string `json:"real_name"`
	}
	c2 := client{t: t, base: r2.URL(), key: r2.DevAPIKey()}
	if code := c2.call("GET", "/api/v1/auth/status/pg-user", nil, &st); code != 200 || st.Status != "success" || st.RealName != "张*" {
		t.Fatalf("status after restart: %d %+v", code, st)
	}
}
