package providertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

// canceledBound is how fast a call with a cancelled context must return.
const canceledBound = time.Second

// testConcurrent runs whole flows from Goroutines goroutines at once; with
// -race it proves the provider is safe for concurrent use.
func testConcurrent(t *testing.T, h Harness) {
	ctx := h.ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, Goroutines)
	refs := make(chan string, Goroutines)
	for i := range Goroutines {
		wg.Go(func() {
			ref, err := flow(ctx, h, i)
			if err != nil {
				errs <- fmt.Errorf("goroutine %d: %w", i, err)
				return
			}
			refs <- ref
		})
	}
	wg.Wait()
	close(errs)
	close(refs)
	for err := range errs {
		t.Error(err)
	}
	seen := make(map[string]bool)
	for ref := range refs {
		if seen[ref] {
			t.Errorf("two concurrent checks got the same ref %q", ref)
		}
		seen[ref] = true
	}
}

// flow is one person's identity check and face check (passed for even i,
// face mismatch for odd i); it returns the check's ref.
func flow(ctx context.Context, h Harness, i int) (string, error) {
	match, err := h.Provider.CheckIdentity(ctx, h.Identity)
	if err != nil {
		return "", fmt.Errorf("CheckIdentity: %w", err)
	}
	if match != realname.IdentityMatches {
		return "", fmt.Errorf("CheckIdentity = %d, want a match", match)
	}
	s, err := h.Provider.StartFaceCheck(ctx, h.faceRequest())
	if err != nil {
		return "", fmt.Errorf("StartFaceCheck: %w", err)
	}
	outcome := OutcomePass
	if i%2 == 1 {
		outcome = OutcomeFaceMismatch
	}
	if err := h.Complete(s.Ref, outcome); err != nil {
		return "", fmt.Errorf("Complete: %w", err)
	}
	deadline := time.Now().Add(h.ResultWait)
	for {
		res, err := h.Provider.FaceCheckResult(ctx, s.Ref)
		switch {
		case errors.Is(err, realname.ErrNotFinished) && time.Now().Before(deadline):
			time.Sleep(50 * time.Millisecond)
			continue
		case err != nil:
			return "", fmt.Errorf("FaceCheckResult: %w", err)
		case res.Passed != (outcome == OutcomePass):
			return "", fmt.Errorf("outcome %s gave %+v", outcome, res)
		}
		return s.Ref, nil
	}
}

// testCanceledContext checks that every call with an already cancelled
// context returns at once with an error wrapping ErrProviderUnavailable.
func testCanceledContext(t *testing.T, h Harness) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"CheckIdentity": func() error {
			_, err := h.Provider.CheckIdentity(ctx, h.Identity)
			return err
		},
		"StartFaceCheck": func() error {
			_, err := h.Provider.StartFaceCheck(ctx, h.faceRequest())
			return err
		},
		"FaceCheckResult": func() error {
			_, err := h.Provider.FaceCheckResult(ctx, randomHex(16))
			return err
		},
	}
	if cmp, ok := h.Provider.(realname.FaceComparer); ok {
		calls["CompareFace"] = func() error {
			_, err := cmp.CompareFace(ctx, realname.CompareRequest{
				OrderNo: NewOrderNo("fc"), Identity: h.Identity, Picture: h.MatchPicture,
			})
			return err
		}
	}
	if del, ok := h.Provider.(realname.ResultDeleter); ok {
		calls["DeleteResult"] = func() error { return del.DeleteResult(ctx, randomHex(16)) }
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := call()
			if d := time.Since(start); d > canceledBound {
				t.Errorf("took %v with a cancelled context, want < %v", d, canceledBound)
			}
			if !errors.Is(err, realname.ErrProviderUnavailable) {
				t.Errorf("error = %v, want one wrapping ErrProviderUnavailable", err)
			}
		})
	}
}
