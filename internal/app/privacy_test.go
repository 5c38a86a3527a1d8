package app_test

import (
	"context"
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
