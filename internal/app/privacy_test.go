package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/realname"
)

// An erased person has no data key left: key rotation skips it instead of
// failing, and re-wraps the others.
func TestRotateKeysSkipsErasedPersons(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	getenv := func(string) string { return "" }
	o, err := app.OpenOffline(ctx, cfg, getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	consent := &realname.Consent{NoticeVersion: realname.NoticeVersion, AcceptedAt: time.Now().Add(-time.Minute),
		Scopes: []string{realname.ScopeIDNumber, realname.ScopeDocuments}}
	file := realname.ReviewFile{Kind: realname.FileIDFront, ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\nx")}
	for _, u := range []struct{ user, name, number string }{
		{"u1", "张三", "11010519491231002X"}, {"u2", "李四", "440524188001010014"},
	} {
		if _, err := o.Service.SubmitReview(ctx, realname.ReviewRequest{UserID: u.user, RealName: u.name, IDNumber: u.number,
			Consent: consent, Files: []realname.ReviewFile{file}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.Service.Erase(ctx, realname.Actor{Kind: realname.ActorPerson, Name: "u1"}, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := app.RotateKeys(ctx, cfg, getenv, nil)
	if err != nil {
		t.Fatalf("rotate with an erased person: %v", err)
	}
	if res.Checked != 2 || res.Rewrapped != 1 {
		t.Fatalf("rotation checked %d, re-wrapped %d; want 2 and 1", res.Checked, res.Rewrapped)
	}
}

// End to end over HTTP: a person verified through the sandbox erases
// themselves; their export then shows nothing readable, and their status is
// gone.
func TestEraseThenExportEndToEnd(t *testing.T) {
	r := start(t, testConfig(t), nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	code, a := c.init("alice", testName, testNumber)
	if code != 200 {
		t.Fatalf("init: %d %+v", code, a)
	}
	complete(t, a.VerifyURL, "pass")
	c.waitStatus(a.CertifyID, "success")

	var tok struct {
		Token string `json:"token"`
	}
	if code := c.call("POST", "/api/v1/auth/token", map[string]any{"user_id": "alice"}, &tok); code != 200 {
		t.Fatalf("token: %d", code)
	}
	me := client{t: t, base: r.URL(), key: tok.Token}
	var raw json.RawMessage
	if code := me.call("GET", "/api/v1/auth/me/data", nil, &raw); code != 200 ||
		!strings.Contains(string(raw), testName) || !strings.Contains(string(raw), testNumber) {
		t.Fatalf("export before erasure: %d %s", code, raw)
	}
	var erased struct {
		Success bool `json:"success"`
		Erasure struct {
			PersonsErased int    `json:"persons_erased"`
			Pseudonym     string `json:"pseudonym"`
		} `json:"erasure"`
	}
	if code := me.call("DELETE", "/api/v1/auth/me", nil, &erased); code != 200 || !erased.Success || erased.Erasure.PersonsErased != 1 {
		t.Fatalf("erase: %d %+v", code, erased)
	}
	var after struct {
		Data struct {
			Identities    []any `json:"identities"`
			Verifications []any `json:"verifications"`
			Access        []struct {
				Action string `json:"action"`
			} `json:"access_records"`
		} `json:"data"`
	}
	raw = nil
	if code := me.call("GET", "/api/v1/auth/me/data", nil, &raw); code != 200 {
		t.Fatalf("export after erasure: %d %s", code, raw)
	}
	for _, s := range []string{testName, testNumber, "张", "1101051949"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("the export after erasure shows %q: %s", s, raw)
		}
	}
	if err := json.Unmarshal(raw, &after); err != nil || len(after.Data.Identities) != 0 || len(after.Data.Verifications) != 0 {
		t.Fatalf("export after erasure: %s (%v)", raw, err)
	}
	if code := c.call("GET", "/api/v1/auth/status/alice", nil, &raw); code != 404 {
		t.Fatalf("status after erasure: %d %s", code, raw)
	}
	// The person can verify again: a new, readable record.
	if code, a := c.init("alice", testName, testNumber); code != 200 {
		t.Fatalf("init after erasure: %d %+v", code, a)
	}
}
