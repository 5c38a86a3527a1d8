package aliyun

import (
	"log/slog"
	"testing"

	"github.com/realname/realname/internal/provider/cloudauthsim"
	"github.com/realname/realname/internal/provider/providertest"
	"github.com/realname/realname/internal/realname"
)

// benchRef opens and passes a hosted check on the simulator.
func benchRef(b *testing.B, env *simEnv, p *Provider) string {
	b.Helper()
	s, err := p.StartFaceCheck(b.Context(), realname.FaceCheckRequest{
		OrderNo: providertest.NewOrderNo("vf"), Identity: testIdentity,
		CallbackURL: "https://callback.example.com/cb", CallbackToken: "token0123456789",
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := env.sim.Complete(s.Ref, cloudauthsim.OutcomePass); err != nil {
		b.Fatal(err)
	}
	return s.Ref
}

// BenchmarkFaceCheckResult measures one DescribeFaceVerify round trip
// against the simulator over loopback (signing, HTTP, decoding, mapping).
func BenchmarkFaceCheckResult(b *testing.B) {
	env := newSimEnv(b)
	cfg := env.config()
	cfg.Logger = slog.New(slog.DiscardHandler)
	p := env.provider(b, cfg)
	ref := benchRef(b, env, p)
	b.ReportAllocs()
	for b.Loop() {
		res, err := p.FaceCheckResult(b.Context(), ref)
		if err != nil || !res.Passed {
			b.Fatalf("FaceCheckResult = %+v, %v", res, err)
		}
	}
}

// BenchmarkFaceCheckResultParallel is the same from GOMAXPROCS goroutines
// sharing the client pool.
func BenchmarkFaceCheckResultParallel(b *testing.B) {
	env := newSimEnv(b)
	cfg := env.config()
	cfg.Logger = slog.New(slog.DiscardHandler)
	p := env.provider(b, cfg)
	ref := benchRef(b, env, p)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.FaceCheckResult(b.Context(), ref); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
