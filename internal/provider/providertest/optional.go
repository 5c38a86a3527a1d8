package providertest

import (
	"errors"
	"testing"

	"github.com/realname/realname/internal/realname"
)

func testCompareFace(t *testing.T, h Harness) {
	cmp, ok := h.Provider.(realname.FaceComparer)
	if !ok {
		t.Skip("provider is not a realname.FaceComparer")
	}
	compare := func(t *testing.T, picture []byte) realname.FaceResult {
		t.Helper()
		res, err := cmp.CompareFace(h.ctx(t), realname.CompareRequest{
			OrderNo: NewOrderNo("fc"), Identity: h.Identity, Picture: picture,
		})
		if err != nil {
			t.Fatalf("CompareFace: %v", err)
		}
		return res
	}
	t.Run("pass", func(t *testing.T) {
		res := compare(t, h.MatchPicture)
		if !res.Passed || res.SubCode != "200" || res.Reason != "" {
			t.Errorf("result = %+v, want Passed, SubCode 200, no Reason", res)
		}
		if res.Score <= 0 || res.Score > 100 {
			t.Errorf("Score = %v, want in (0, 100]", res.Score)
		}
	})
	t.Run("mismatch", func(t *testing.T) {
		if h.MismatchPicture == nil {
			t.Fatal("providertest: Harness.MismatchPicture is required for a FaceComparer")
		}
		res := compare(t, h.MismatchPicture)
		if res.Passed || res.Reason != "FACE_MISMATCH" {
			t.Errorf("result = %+v, want not passed, Reason FACE_MISMATCH", res)
		}
	})
}

func testDeleteResult(t *testing.T, h Harness) {
	del, ok := h.Provider.(realname.ResultDeleter)
	if !ok {
		t.Skip("provider is not a realname.ResultDeleter")
	}
	t.Run("verdict_survives", func(t *testing.T) {
		ref := h.finished(t, OutcomePass)
		if _, err := h.waitResult(t, ref); err != nil {
			t.Fatalf("FaceCheckResult before DeleteResult: %v", err)
		}
		if err := del.DeleteResult(h.ctx(t), ref); err != nil {
			t.Fatalf("DeleteResult: %v", err)
		}
		res, err := h.Provider.FaceCheckResult(h.ctx(t), ref)
		if err != nil {
			t.Fatalf("FaceCheckResult after DeleteResult: %v", err)
		}
		if !res.Passed || res.SubCode != "200" {
			t.Errorf("result after DeleteResult = %+v, want the verdict (Passed, SubCode 200)", res)
		}
	})
	t.Run("unknown_ref", func(t *testing.T) {
		err := del.DeleteResult(h.ctx(t), randomHex(16))
		if !errors.Is(err, realname.ErrUnknownSession) {
			t.Errorf("DeleteResult of an unknown ref: %v, want ErrUnknownSession", err)
		}
	})
}
