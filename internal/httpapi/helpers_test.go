package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/realname/realname/internal/pii"
	"github.com/realname/realname/internal/realname"
	sqlstore "github.com/realname/realname/internal/storage/sql"
)

var discard = slog.New(slog.DiscardHandler)

// stubProvider never finishes anything.
type stubProvider struct{}

func (stubProvider) Name() string { return "stub" }
func (stubProvider) CheckIdentity(context.Context, realname.IdentityInput) (realname.IdentityMatch, error) {
	return realname.IdentityMatches, nil
}
func (stubProvider) StartFaceCheck(_ context.Context, r realname.FaceCheckRequest) (realname.FaceCheckSession, error) {
	return realname.FaceCheckSession{Ref: "ref-" + r.OrderNo, VerifyURL: "https://stub.example/v"}, nil
}
func (stubProvider) FaceCheckResult(context.Context, string) (realname.FaceResult, error) {
	return realname.FaceResult{}, realname.ErrNotFinished
}

// testServer is a Server on a fresh SQLite store with a stub provider.
func testServer(t testing.TB) *Server {
	t.Helper()
	return testServerWith(t, nil)
}

// testServerWith is testServer with options edited by edit (if not nil).
func testServerWith(t testing.TB, edit func(*Options)) *Server {
	t.Helper()
	return testServerConfig(t, nil, edit)
}

// testServerConfig is testServerWith with the service's Config edited by
// config (if not nil); the service reports to the server's Metrics.
func testServerConfig(t testing.TB, config func(*realname.Config), edit func(*Options)) *Server {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	secret := sha256.Sum256([]byte("kek"))
	ring, err := pii.NewKeyRing([]pii.Key{{ID: "k1", Secret: secret[:], Created: time.Now()}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	idx, err := pii.NewBlindIndex(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := realname.Config{CallbackURL: "https://rn.example/api/v1/auth/callback"}
	if config != nil {
		config(&cfg)
	}
	metrics := NewMetrics(nil, nil)
	svc, err := realname.New(cfg,
		realname.Deps{Store: store, Provider: stubProvider{}, Keys: realname.Keys{Ring: ring, Index: idx}, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Service: svc, Keys: store.APIKeyByHash, APIKey: "rk_test_0123456789abcdefghijkl",
		TokenKey: bytes.Repeat([]byte{9}, 32), Metrics: metrics, SupportedDocs: []string{"IDENTITY_CARD"}}
	if edit != nil {
		edit(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
