package providertest

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

// Run runs the conformance suite against h.Provider as subtests of t.
// Subtests of optional capabilities the provider lacks are skipped.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Provider == nil || h.Complete == nil {
		t.Fatal("providertest: Harness.Provider and Harness.Complete are required")
	}
	if h.MismatchName == "" || h.NoRecordName == "" {
		t.Fatal("providertest: Harness.MismatchName and Harness.NoRecordName are required")
	}
	h = h.withDefaults()

	t.Run("Name", func(t *testing.T) {
		if h.Provider.Name() == "" {
			t.Error("Name() is empty")
		}
	})
	t.Run("CheckIdentity", func(t *testing.T) { testCheckIdentity(t, h) })
	t.Run("StartFaceCheck", func(t *testing.T) { testStartFaceCheck(t, h) })
	t.Run("FaceCheckResult", func(t *testing.T) { testFaceCheckResult(t, h) })
	t.Run("CompareFace", func(t *testing.T) { testCompareFace(t, h) })
	t.Run("DeleteResult", func(t *testing.T) { testDeleteResult(t, h) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, h) })
	t.Run("CanceledContext", func(t *testing.T) { testCanceledContext(t, h) })
}

// ctx is a context bounded by the harness timeout, cancelled with the test.
func (h Harness) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), h.Timeout)
	t.Cleanup(cancel)
	return ctx
}

func testCheckIdentity(t *testing.T, h Harness) {
	cases := []struct {
		name string
		id   realname.IdentityInput
		want realname.IdentityMatch
	}{
		{"match", h.Identity, realname.IdentityMatches},
		{"mismatch", h.withName(h.MismatchName), realname.IdentityMismatch},
		{"no_record", h.withName(h.NoRecordName), realname.IdentityNoRecord},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := h.Provider.CheckIdentity(h.ctx(t), c.id)
			if err != nil {
				t.Fatalf("CheckIdentity: %v", err)
			}
			if got != c.want {
				t.Errorf("CheckIdentity = %d, want %d", got, c.want)
			}
		})
	}
}

// start opens a face check and fails the test if that does not work.
func (h Harness) start(t *testing.T, req realname.FaceCheckRequest) realname.FaceCheckSession {
	t.Helper()
	s, err := h.Provider.StartFaceCheck(h.ctx(t), req)
	if err != nil {
		t.Fatalf("StartFaceCheck: %v", err)
	}
	return s
}

func testStartFaceCheck(t *testing.T, h Harness) {
	t.Run("returns_ref_and_url", func(t *testing.T) {
		s := h.start(t, h.faceRequest())
		if s.Ref == "" {
			t.Error("Ref is empty")
		}
		u, err := url.Parse(s.VerifyURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			t.Errorf("VerifyURL %q is not an absolute http(s) URL", s.VerifyURL)
		}
	})
	t.Run("idempotent_on_order_no", func(t *testing.T) {
		req := h.faceRequest()
		first := h.start(t, req)
		again := h.start(t, req)
		if again.Ref != first.Ref {
			t.Errorf("repeat with the same OrderNo opened another check: %q, then %q", first.Ref, again.Ref)
		}
		other := h.start(t, h.faceRequest())
		if other.Ref == first.Ref {
			t.Errorf("two OrderNos share the ref %q", first.Ref)
		}
	})
}

// waitResult polls FaceCheckResult until it is no longer ErrNotFinished or
// ResultWait has passed, and returns the last answer.
func (h Harness) waitResult(t *testing.T, ref string) (realname.FaceResult, error) {
	t.Helper()
	ctx := h.ctx(t)
	deadline := time.Now().Add(h.ResultWait)
	for {
		res, err := h.Provider.FaceCheckResult(ctx, ref)
		if !errors.Is(err, realname.ErrNotFinished) || time.Now().After(deadline) {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// finished opens a check, completes it with outcome and returns the ref.
func (h Harness) finished(t *testing.T, outcome string) string {
	t.Helper()
	s := h.start(t, h.faceRequest())
	if err := h.Complete(s.Ref, outcome); err != nil {
		t.Fatalf("Complete(%s): %v", outcome, err)
	}
	return s.Ref
}

func testFaceCheckResult(t *testing.T, h Harness) {
	t.Run("not_finished", func(t *testing.T) {
		s := h.start(t, h.faceRequest())
		_, err := h.Provider.FaceCheckResult(h.ctx(t), s.Ref)
		if !errors.Is(err, realname.ErrNotFinished) {
			t.Errorf("FaceCheckResult before completion: %v, want ErrNotFinished", err)
		}
	})
	t.Run("pass", func(t *testing.T) {
		res, err := h.waitResult(t, h.finished(t, OutcomePass))
		if err != nil {
			t.Fatalf("FaceCheckResult: %v", err)
		}
		if !res.Passed || res.SubCode != "200" || res.Reason != "" {
			t.Errorf("result = %+v, want Passed, SubCode 200, no Reason", res)
		}
		if res.Score <= 0 || res.Score > 100 {
			t.Errorf("Score = %v, want in (0, 100]", res.Score)
		}
	})
	for outcome, reason := range map[string]string{
		OutcomeFaceMismatch:   "FACE_MISMATCH",
		OutcomeLivenessAttack: "LIVENESS_ATTACK",
	} {
		t.Run(outcome, func(t *testing.T) {
			res, err := h.waitResult(t, h.finished(t, outcome))
			if err != nil {
				t.Fatalf("FaceCheckResult: %v", err)
			}
			if res.Passed || res.Reason != reason || res.SubCode == "" || res.SubCode == "200" {
				t.Errorf("result = %+v, want not passed, Reason %s", res, reason)
			}
		})
	}
	t.Run("cancel", func(t *testing.T) {
		ref := h.finished(t, OutcomeCancel)
		for range 2 {
			_, err := h.Provider.FaceCheckResult(h.ctx(t), ref)
			if !errors.Is(err, realname.ErrNotFinished) {
				t.Fatalf("FaceCheckResult after cancel: %v, want ErrNotFinished", err)
			}
		}
	})
	t.Run("unknown_ref", func(t *testing.T) {
		_, err := h.Provider.FaceCheckResult(h.ctx(t), randomHex(16))
		if !errors.Is(err, realname.ErrUnknownSession) {
			t.Errorf("FaceCheckResult of an unknown ref: %v, want ErrUnknownSession", err)
		}
	})
}
