package realname_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/cache"
	"github.com/realname/realname/internal/ratelimit"
	"github.com/realname/realname/internal/realname"
)

// limitedHarness is a harness whose service limits starts per user.
func limitedHarness(t *testing.T, rule ratelimit.Rule) *harness {
	t.Helper()
	h := newHarness(t)
	var err error
	h.svc, err = realname.New(realname.Config{CallbackURL: "https://rn.example/api/v1/auth/callback"}, realname.Deps{
		Store: h.store, Provider: h.prov, Keys: testKeys(t), Cache: cache.NewMemory(0), Metrics: h.metrics, Now: h.clock.Now,
		StartLimiter: ratelimit.NewMemory(rule, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// parallelStarts sends n concurrent restarts for one user (each would be
// a new face check: the worst case for cost) and returns the paid calls
// made and the errors by code.
func parallelStarts(t *testing.T, h *harness, n int) (paid int, codes map[string]int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes = map[string]int{}
	for range n {
		wg.Go(func() {
			_, err := h.svc.Init(context.Background(), realname.InitRequest{ClientID: "c1", UserID: "u1", RealName: nameA, IDNumber: numberA,
				Consent: h.consent(), Restart: true})
			code := "OK"
			if err != nil {
				code = realname.CodeOf(err)
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return h.prov.Calls("check") + h.prov.Calls("start"), codes
}

// TestParallelStartsForOneUserAreLimited: 50 parallel starts for one user
// make at most as many paid provider calls as the limit allows (10 starts
// a minute; each start makes at most an identity check and a face check).
func TestParallelStartsForOneUserAreLimited(t *testing.T) {
	h := limitedHarness(t, ratelimit.Rule{Limit: 10, Window: time.Minute})
	paid, codes := parallelStarts(t, h, 50)
	if codes[realname.CodeRateLimited] != 40 {
		t.Fatalf("answers %v: want 40 × RATE_LIMITED", codes)
	}
	if paid > 2*10 || h.prov.Calls("start") > 10 {
		t.Fatalf("%d paid calls (%d face checks) for 10 allowed starts", paid, h.prov.Calls("start"))
	}
	// A minute later the user may start again.
	h.clock.Add(time.Minute)
	if _, err := h.init(t, "u1", nameA, numberA); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
}

// TestParallelStartsWithoutLimit shows the test above has teeth: without
// the limiter, restarts make more than 10 face checks.
func TestParallelStartsWithoutLimit(t *testing.T) {
	h := newHarness(t)
	_, codes := parallelStarts(t, h, 50)
	if h.prov.Calls("start") <= 10 {
		t.Skipf("only %d face checks without a limit (answers %v): the limited test proves nothing here", h.prov.Calls("start"), codes)
	}
}

// TestStartLimitCountsInvalidRequests: a start that fails local validation
// makes no paid call but counts against the user's limit; a malformed user
// id counts against nobody.
func TestStartLimitCountsInvalidRequests(t *testing.T) {
	h := limitedHarness(t, ratelimit.Rule{Limit: 3, Window: time.Minute})
	for range 3 {
		_, err := h.init(t, "u1", nameA, "110105194912310021") // bad checksum
		wantCode(t, err, realname.CodeInvalidIDNumber)
	}
	_, err := h.init(t, "u1", nameA, numberA)
	wantCode(t, err, realname.CodeRateLimited)
	if realname.KindOf(err) != realname.KindRateLimited {
		t.Fatalf("kind %v", realname.KindOf(err))
	}
	var e *realname.Error
	if !errors.As(err, &e) || e.RetryAfter < time.Second {
		t.Fatalf("RetryAfter %v, want ≥ 1s (one start per 20 s)", e)
	}
	if n := h.prov.Calls("check") + h.prov.Calls("start"); n != 0 {
		t.Fatalf("%d paid calls", n)
	}
	if _, err := h.init(t, "u2", "李四", numberB); err != nil {
		t.Fatalf("another user: %v", err)
	}
}
