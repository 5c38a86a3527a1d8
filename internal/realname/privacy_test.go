package realname_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/cache"
	"github.com/realname/realname/internal/idnum"
	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/storage/conformance"
)

// residentID builds a valid resident ID number for a birth date.
func residentID(birth time.Time, seq int) string {
	body := fmt.Sprintf("110105%s%03d", birth.Format("20060102"), seq)
	c, _ := idnum.CheckCharacter(body)
	return body + string(c)
}

func newPrivacyHarness(t *testing.T, edit func(*realname.Config)) *harness {
	if edit == nil {
		edit = func(*realname.Config) {}
	}
	return newHarnessConfig(t, cache.NewMemory(0), func(s realname.Store) realname.Store { return s }, edit)
}

var op = realname.Operator{Name: "审核员 li", Reason: "ticket 42: documents checked"}

// failVerification runs one face check for user that the provider fails.
func failVerification(t *testing.T, h *harness, user string) {
	t.Helper()
	res := h.mustInit(t, user, nameA, numberA)
	if v, err := h.callback(t, res.CertifyID); err != nil || v.Status != realname.StatusFailed {
		t.Fatalf("callback: %v, %v; want failed", v.Status, err)
	}
}

func TestLockoutAfterFailedVerifications(t *testing.T) {
	h := newPrivacyHarness(t, func(c *realname.Config) { c.LockoutFailures = 3; c.LockoutWindow = 24 * time.Hour })
	h.prov.result = func(string) (realname.FaceResult, error) {
		return realname.FaceResult{Passed: false, SubCode: "205"}, nil
	}
	for range 3 {
		failVerification(t, h, "u1")
		h.clock.Add(time.Hour)
	}
	before := h.prov.Calls("check") + h.prov.Calls("start")
	_, err := h.init(t, "u1", nameA, numberA)
	wantCode(t, err, realname.CodeUserLocked)
	var e *realname.Error
	if !errors.As(err, &e) || e.Kind != realname.KindPermission {
		t.Fatalf("kind = %v, want Permission", realname.KindOf(err))
	}
	// The lock lifts when the oldest of the last 3 failures leaves the
	// window: 24 h after the first, which was 3 h ago.
	if want := 21 * time.Hour; e.RetryAfter != want {
		t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, want)
	}
	if n := h.prov.Calls("check") + h.prov.Calls("start"); n != before {
		t.Errorf("a locked user caused %d provider calls", n-before)
	}
	// Another user is not affected.
	h.prov.result = nil
	h.mustInit(t, "u2", "李四", numberB)

	// An operator lifts it; the action is recorded.
	wantCode(t, h.svc.Unlock(context.Background(), realname.Operator{Name: "li"}, "u1"), realname.CodeReasonRequired)
	if err := h.svc.Unlock(context.Background(), op, "u1"); err != nil {
		t.Fatal(err)
	}
	h.mustInit(t, "u1", nameA, numberA)
	audit, err := h.store.AuditFor(context.Background(), "u1", 10)
	if err != nil || len(audit) != 1 || audit[0].Action != "user.unlock" || audit[0].Actor != op.Name || audit[0].Reason != op.Reason {
		t.Fatalf("audit = %+v, %v", audit, err)
	}
}

func TestLockoutLiftsWhenTheWindowPasses(t *testing.T) {
	h := newPrivacyHarness(t, func(c *realname.Config) { c.LockoutFailures = 2; c.LockoutWindow = time.Hour })
	h.prov.result = func(string) (realname.FaceResult, error) { return realname.FaceResult{SubCode: "205"}, nil }
	failVerification(t, h, "u1")
	failVerification(t, h, "u1")
	_, err := h.init(t, "u1", nameA, numberA)
	wantCode(t, err, realname.CodeUserLocked)
	h.clock.Add(time.Hour)
	if _, err := h.init(t, "u1", nameA, numberA); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestDailyProviderBudget(t *testing.T) {
	h := newPrivacyHarness(t, func(c *realname.Config) { c.DailyBudget = 4 })
	first := h.mustInit(t, "u1", nameA, numberA) // 2 paid calls: record check and face check
	h.mustInit(t, "u2", "李四", numberB)           // 4
	calls := h.prov.Calls("check") + h.prov.Calls("start")
	_, err := h.init(t, "u3", "王五", residentID(time.Date(1990, 5, 6, 0, 0, 0, 0, time.UTC), 11))
	wantCode(t, err, realname.CodeBudgetExhausted)
	var e *realname.Error
	if !errors.As(err, &e) || e.Kind != realname.KindUnavailable || e.RetryAfter <= 0 || e.RetryAfter > 24*time.Hour {
		t.Fatalf("err = %#v; want Unavailable with a Retry-After until tomorrow", err)
	}
	if n := h.prov.Calls("check") + h.prov.Calls("start"); n != calls {
		t.Errorf("refused start made %d provider calls", n-calls)
	}
	// A running session still finishes.
	if v, err := h.callback(t, first.CertifyID); err != nil || v.Status != realname.StatusSuccess {
		t.Fatalf("running session: %v, %v", v.Status, err)
	}
	// The next day (China time: 08:00 UTC + 16 h is midnight) has a new budget.
	h.clock.Add(16 * time.Hour)
	if _, err := h.init(t, "u3", "王五", residentID(time.Date(1990, 5, 6, 0, 0, 0, 0, time.UTC), 11)); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

// TestFaceCompareIsRecordedAndBudgeted: a re-check with a picture reads the
// decrypted identity and the face, so it is recorded against the caller
// before the read, and it is a paid call within the daily budget.
func TestFaceCompareIsRecordedAndBudgeted(t *testing.T) {
	h := newPrivacyHarness(t, func(c *realname.Config) { c.DailyBudget = 3 })
	ctx := context.Background()
	first := h.mustInit(t, "u1", nameA, numberA) // 2 paid calls
	if v, err := h.callback(t, first.CertifyID); err != nil || v.Status != realname.StatusSuccess {
		t.Fatalf("verify u1: %v, %v", v.Status, err)
	}
	platform := realname.Actor{Kind: realname.ActorPlatform, Name: "k_letters"}
	if _, err := h.svc.Check(ctx, realname.Actor{Kind: realname.ActorPlatform}, "u1", []byte("same")); err == nil {
		t.Fatal("a compare without a caller was made")
	}
	res, err := h.svc.Check(ctx, platform, "u1", []byte("same")) // the third paid call
	if err != nil || !res.Passed || res.Similarity == nil || *res.Similarity != 91 {
		t.Fatalf("compare: %+v, %v", res, err)
	}
	audit, err := h.store.AuditFor(ctx, "u1", 10)
	if err != nil || len(audit) != 1 {
		t.Fatalf("audit = %+v, %v", audit, err)
	}
	a := audit[0]
	if a.ActorKind != realname.ActorPlatform || a.Actor != "k_letters" || a.Action != "face.compare" ||
		strings.Join(a.Fields, ",") != "name,id_number,face" || a.Reason == "" {
		t.Fatalf("audit entry %+v", a)
	}
	// Past the budget: refused, no provider call, nothing recorded.
	_, err = h.svc.Check(ctx, platform, "u1", []byte("same"))
	wantCode(t, err, realname.CodeBudgetExhausted)
	if n := h.prov.Calls("compare"); n != 1 {
		t.Fatalf("%d compares, want 1", n)
	}
	if audit, _ := h.store.AuditFor(ctx, "u1", 10); len(audit) != 1 {
		t.Fatalf("a refused compare was recorded: %+v", audit)
	}
	// Without a picture nothing is paid or recorded.
	if res, err := h.svc.Check(ctx, platform, "u1", nil); err != nil || !res.Passed {
		t.Fatalf("plain check: %+v, %v", res, err)
	}
}

func TestUnder14NeedsGuardianConsent(t *testing.T) {
	h := newPrivacyHarness(t, nil)
	now := h.clock.Now()
	child := residentID(now.AddDate(-10, 0, 0), 21)
	almost := residentID(now.AddDate(-14, 0, 1), 31) // turns 14 tomorrow
	grown := residentID(now.AddDate(-14, 0, 0), 41)  // 14 today
	ctx := context.Background()
	req := func(user, number string, c *realname.Consent) realname.InitRequest {
		return realname.InitRequest{UserID: user, RealName: nameA, IDNumber: number, Consent: c}
	}
	_, err := h.svc.Init(ctx, req("c1", child, h.consent()))
	wantCode(t, err, realname.CodeGuardianConsentRequired)
	_, err = h.svc.Init(ctx, req("c2", almost, h.consent()))
	wantCode(t, err, realname.CodeGuardianConsentRequired)
	if h.prov.Calls("check") != 0 {
		t.Fatal("a refused minor reached the provider")
	}
	if _, err := h.svc.Init(ctx, req("c3", grown, h.consent())); err != nil {
		t.Fatalf("14 today: %v", err)
	}
	bad := h.consent()
	bad.Guardian = &realname.Guardian{Relation: "friend", AcceptedAt: now}
	_, err = h.svc.Init(ctx, req("c1", child, bad))
	wantCode(t, err, realname.CodeGuardianConsentRequired)
	stale := h.consent()
	stale.Guardian = &realname.Guardian{Relation: realname.RelationParent, AcceptedAt: now.Add(-48 * time.Hour)}
	_, err = h.svc.Init(ctx, req("c1", child, stale))
	wantCode(t, err, realname.CodeGuardianConsentRequired)
	ok := h.consent()
	ok.Guardian = &realname.Guardian{Relation: realname.RelationParent, AcceptedAt: now.Add(-time.Minute)}
	res, err := h.svc.Init(ctx, req("c1", child, ok))
	if err != nil {
		t.Fatalf("with a guardian's consent: %v", err)
	}
	v, err := h.svc.Verification(ctx, res.CertifyID)
	if err != nil || v.Consent.Guardian == nil || v.Consent.Guardian.Relation != realname.RelationParent {
		t.Fatalf("guardian not recorded: %+v, %v", v.Consent, err)
	}
}

var pngFile = realname.ReviewFile{Kind: realname.FileIDFront, ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\nfront")}

func (h *harness) reviewRequest(user string) realname.ReviewRequest {
	c := h.consent()
	c.Scopes = []string{realname.ScopeIDNumber, realname.ScopeDocuments}
	return realname.ReviewRequest{UserID: user, RealName: nameA, IDNumber: numberA, Consent: c, Note: "请审核",
		Files: []realname.ReviewFile{pngFile}}
}

func TestManualReviewApproved(t *testing.T) {
	h := newPrivacyHarness(t, nil)
	ctx := context.Background()
	v, err := h.svc.SubmitReview(ctx, h.reviewRequest("u1"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != realname.StatusProcessing || v.Provider != realname.ProviderManual || v.Evidence != realname.EvidenceManualReview {
		t.Fatalf("submitted: %+v", v)
	}
	if n := h.prov.Calls("check") + h.prov.Calls("start"); n != 0 {
		t.Fatalf("a review made %d provider calls", n)
	}
	queue, err := h.svc.ReviewQueue(ctx, "li", 10)
	if err != nil || len(queue) != 1 {
		t.Fatalf("queue: %d, %v", len(queue), err)
	}
	if q := queue[0]; q.Name == nameA || q.IDNumber == numberA || !q.Masked || q.Files != nil || q.Note != "" {
		t.Fatalf("queue shows unmasked data: %+v", q)
	}
	masked, err := h.svc.Review(ctx, realname.Operator{Name: "li"}, v.CertifyID)
	if err != nil || masked.Name == nameA || masked.Files != nil {
		t.Fatalf("view without a reason: %+v, %v", masked, err)
	}
	full, err := h.svc.Review(ctx, op, v.CertifyID)
	if err != nil || full.Name != nameA || full.IDNumber != numberA || full.Note != "请审核" || len(full.Files) != 1 ||
		string(full.Files[0].Data) != string(pngFile.Data) {
		t.Fatalf("view with a reason: %+v, %v", full, err)
	}
	_, err = h.svc.DecideReview(ctx, realname.Operator{Name: "li", Reason: " "}, v.CertifyID, true)
	wantCode(t, err, realname.CodeReasonRequired)
	got, err := h.svc.DecideReview(ctx, op, v.CertifyID, true)
	if err != nil || got.Status != realname.StatusSuccess {
		t.Fatalf("approve: %v, %v", got.Status, err)
	}
	st, err := h.svc.Status(ctx, "u1")
	if err != nil || st.Status != realname.StatusSuccess || st.Evidence != realname.EvidenceManualReview {
		t.Fatalf("status after approval: %+v, %v", st, err)
	}
	_, err = h.svc.DecideReview(ctx, op, v.CertifyID, false)
	wantCode(t, err, realname.CodeSessionClosed)
	after, err := h.svc.Review(ctx, op, v.CertifyID)
	if err != nil || after.Files != nil || after.Decision != "approved" || after.DecidedBy != op.Name {
		t.Fatalf("after the decision the files must be gone: %+v, %v", after, err)
	}
	audit, err := h.store.AuditFor(ctx, "u1", 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range audit {
		actions = append(actions, fmt.Sprintf("%s/%v", e.Action, e.Masked))
	}
	if want := "review.list/true review.view/true review.view/false review.approve/false review.view/false"; strings.Join(actions, " ") != want {
		t.Fatalf("audit = %s, want %s", strings.Join(actions, " "), want)
	}
}

func TestManualReviewRejectedAndTimedOut(t *testing.T) {
	h := newPrivacyHarness(t, func(c *realname.Config) { c.ReviewTTL = 48 * time.Hour })
	ctx := context.Background()
	v, err := h.svc.SubmitReview(ctx, h.reviewRequest("u1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.svc.DecideReview(ctx, op, v.CertifyID, false)
	if err != nil || got.Status != realname.StatusFailed || got.FailReason != realname.CodeReviewRejected {
		t.Fatalf("reject: %+v, %v", got, err)
	}
	// A second review waits past its deadline: the poller cancels it and
	// its files go.
	v2, err := h.svc.SubmitReview(ctx, h.reviewRequest("u1"))
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Add(49 * time.Hour)
	if _, err := h.svc.PollOnce(ctx, 0, 100); err != nil {
		t.Fatal(err)
	}
	got, err = h.svc.Verification(ctx, v2.CertifyID)
	if err != nil || got.Status != realname.StatusCancelled || got.FailReason != "TIMEOUT" {
		t.Fatalf("timed-out review: %+v, %v", got, err)
	}
	rv, err := h.store.Review(ctx, v2.CertifyID)
	if err != nil || rv.FilesCT != nil {
		t.Fatalf("files of a timed-out review kept: %v", err)
	}
}

func TestManualReviewRejectsBadInput(t *testing.T) {
	h := newPrivacyHarness(t, nil)
	for _, tc := range []struct {
		name string
		edit func(r *realname.ReviewRequest)
		code string
	}{
		{"no files", func(r *realname.ReviewRequest) { r.Files = nil }, realname.CodeInvalidRequest},
		{"five files", func(r *realname.ReviewRequest) { r.Files = make([]realname.ReviewFile, 5) }, realname.CodeInvalidRequest},
		{"bad kind", func(r *realname.ReviewRequest) { r.Files[0].Kind = "selfie" }, realname.CodeInvalidRequest},
		{"bad type", func(r *realname.ReviewRequest) { r.Files[0].ContentType = "image/gif" }, realname.CodeInvalidRequest},
		{"bytes not png", func(r *realname.ReviewRequest) { r.Files[0].Data = []byte("GIF89a") }, realname.CodeInvalidRequest},
		{"too big", func(r *realname.ReviewRequest) {
			r.Files[0].Data = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, realname.MaxReviewFileBytes)...)
		}, "BODY_TOO_LARGE"},
		{"face consent", func(r *realname.ReviewRequest) {
			r.Consent.Scopes = []string{realname.ScopeIDNumber, realname.ScopeFace}
		}, realname.CodeConsentRequired},
		{"control in note", func(r *realname.ReviewRequest) { r.Note = "a\x00b" }, realname.CodeInvalidRequest},
		{"bad number", func(r *realname.ReviewRequest) { r.IDNumber = "110105194912310021" }, realname.CodeInvalidIDNumber},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.reviewRequest("u1")
			r.Files = append([]realname.ReviewFile(nil), r.Files...)
			tc.edit(&r)
			_, err := h.svc.SubmitReview(context.Background(), r)
			wantCode(t, err, tc.code)
		})
	}
}

func TestEraseThenExportShowsNothingReadable(t *testing.T) {
	h := newPrivacyHarness(t, nil)
	ctx := context.Background()
	res := h.mustInit(t, "u1", nameA, numberA)
	if _, err := h.callback(t, res.CertifyID); err != nil {
		t.Fatal(err)
	}
	me := realname.Actor{Kind: realname.ActorPerson, Name: "u1"}
	data, err := h.svc.Data(ctx, me, "u1")
	if err != nil || len(data.Identities) != 1 || data.Identities[0].Name != nameA || data.Identities[0].IDNumber != numberA ||
		data.Standing == nil || len(data.Verifications) != 1 {
		t.Fatalf("export before erasure: %+v, %v", data, err)
	}
	if len(data.Access) != 1 || data.Access[0].Action != "data.export" {
		t.Fatalf("the export does not list itself: %+v", data.Access)
	}
	v, _ := h.svc.Verification(ctx, res.CertifyID)
	rep, err := h.svc.Erase(ctx, me, "u1")
	if err != nil || rep.PersonsErased != 1 || rep.Pseudonym == "" || rep.SessionsKept != 1 {
		t.Fatalf("erase: %+v, %v", rep, err)
	}
	p, err := h.store.Person(ctx, v.PersonID)
	if err != nil || !p.Erased() || p.WrappedKey != nil || p.NameCT != nil || p.NumberCT != nil {
		t.Fatalf("person after erasure: %+v, %v", p, err)
	}
	_, err = h.svc.Status(ctx, "u1")
	wantCode(t, err, realname.CodeUserNotFound)
	data, err = h.svc.Data(ctx, me, "u1")
	if err != nil || len(data.Identities) != 0 || data.Standing != nil || len(data.Verifications) != 0 {
		t.Fatalf("export after erasure: %+v, %v", data, err)
	}
	// The fact stays under the pseudonym, without identity.
	kept, err := h.store.UserVerifications(ctx, rep.Pseudonym, 10)
	if err != nil || len(kept) != 1 || kept[0].Status != realname.StatusSuccess {
		t.Fatalf("kept fact: %+v, %v", kept, err)
	}
	// The number can be verified again, by a new person record.
	res2 := h.mustInit(t, "u9", nameA, numberA)
	v2, _ := h.svc.Verification(ctx, res2.CertifyID)
	if v2.PersonID == v.PersonID {
		t.Fatal("the erased person was reused")
	}
	// Erasing a user with nothing held is fine.
	if rep, err := h.svc.Erase(ctx, me, "nobody"); err != nil || !rep.NothingHeld {
		t.Fatalf("erase nobody: %+v, %v", rep, err)
	}
}

func TestErasureRacingCallbackLeavesNoReadablePII(t *testing.T) {
	testErasureRacingCallback(t, newPrivacyHarness(t, nil))
}

// On PostgreSQL transactions really overlap (READ COMMITTED, row locks).
func TestErasureRacingCallbackLeavesNoReadablePIIPostgres(t *testing.T) {
	h := newHarnessDB(t, conformance.PostgresURL(t), cache.NewMemory(0),
		func(s realname.Store) realname.Store { return s }, func(*realname.Config) {})
	testErasureRacingCallback(t, h)
}

func testErasureRacingCallback(t *testing.T, h *harness) {
	ctx := context.Background()
	for i := range 20 {
		user := fmt.Sprintf("race%d", i)
		number := residentID(time.Date(1980, 1, 1+i, 0, 0, 0, 0, time.UTC), 100+i)
		res := h.mustInit(t, user, nameA, number)
		v, _ := h.svc.Verification(ctx, res.CertifyID)
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = h.callback(t, res.CertifyID) })
		wg.Go(func() {
			if _, err := h.svc.Erase(ctx, realname.Actor{Kind: realname.ActorPerson, Name: user}, user); err != nil {
				t.Errorf("erase: %v", err)
			}
		})
		wg.Wait()
		p, err := h.store.Person(ctx, v.PersonID)
		if err != nil || !p.Erased() || p.NameCT != nil || p.NumberCT != nil || p.WrappedKey != nil {
			t.Fatalf("%s: readable person after erasure raced a callback: %v", user, err)
		}
		if _, err := h.store.UserRecord(ctx, user); !errors.Is(err, realname.ErrNotFound) {
			t.Fatalf("%s: user record after erasure: %v", user, err)
		}
		if _, err := h.svc.Status(ctx, user); realname.CodeOf(err) != realname.CodeUserNotFound {
			t.Fatalf("%s: status after erasure: %v", user, err)
		}
	}
}

func TestWithdrawConsent(t *testing.T) {
	h := newPrivacyHarness(t, nil)
	ctx := context.Background()
	res := h.mustInit(t, "u1", nameA, numberA) // left open
	rep, err := h.svc.WithdrawConsent(ctx, realname.Actor{Kind: realname.ActorPerson, Name: "u1"}, "u1")
	if err != nil || rep.SessionsCancelled != 1 || rep.ConsentsWithdrawn != 1 || rep.PersonsErased != 1 {
		t.Fatalf("withdraw: %+v, %v", rep, err)
	}
	v, err := h.svc.Verification(ctx, res.CertifyID)
	if err != nil || v.Status != realname.StatusCancelled || v.FailReason != realname.CodeConsentWithdrawn || v.Consent.WithdrawnAt.IsZero() {
		t.Fatalf("session after withdrawal: %+v, %v", v, err)
	}
	// A late callback binds nothing.
	if v, _ := h.callback(t, res.CertifyID); v.Status == realname.StatusSuccess {
		t.Fatal("a callback after withdrawal verified the user")
	}
	if cs, err := h.svc.Consents(ctx, "u1"); err != nil || len(cs) != 0 {
		t.Fatalf("consents under the old user id: %d, %v", len(cs), err)
	}
	cs, err := h.svc.Consents(ctx, rep.Pseudonym)
	if err != nil || len(cs) != 1 || cs[0].Consent.WithdrawnAt.IsZero() {
		t.Fatalf("consent record kept, marked withdrawn: %+v, %v", cs, err)
	}
}

func TestRetentionJob(t *testing.T) {
	h := newPrivacyHarness(t, func(c *realname.Config) {
		c.Validity = 24 * time.Hour
		c.Retention = realname.Retention{Identity: 48 * time.Hour, Idempotency: time.Hour, Audit: 72 * time.Hour}
	})
	ctx := context.Background()
	res := h.mustInit(t, "u1", nameA, numberA)
	if _, err := h.callback(t, res.CertifyID); err != nil {
		t.Fatal(err)
	}
	h.prov.check = func(realname.IdentityInput) (realname.IdentityMatch, error) { return realname.IdentityMismatch, nil }
	_, err := h.svc.Init(ctx, realname.InitRequest{ClientID: "c", IdempotencyKey: "k1", UserID: "u2", RealName: "李四", IDNumber: numberB, Consent: h.consent()})
	wantCode(t, err, realname.CodeIdentityMismatch)
	if _, err := h.svc.Data(ctx, realname.Actor{Kind: realname.ActorPerson, Name: "u1"}, "u1"); err != nil {
		t.Fatal(err)
	}
	rep, err := h.svc.RunRetention(ctx)
	if err != nil || rep.Total() != 0 {
		t.Fatalf("nothing is due yet: %+v, %v", rep, err)
	}
	h.clock.Add(2 * time.Hour)
	if rep, err = h.svc.RunRetention(ctx); err != nil || rep.Idempotency != 1 {
		t.Fatalf("after 2 h: %+v, %v", rep, err)
	}
	// u1 expires after 24 h; 48 h later its identity goes. u2's failed
	// person goes 48 h after its failure.
	h.clock.Add(24 * time.Hour)
	if _, err := h.svc.PollOnce(ctx, time.Hour, 100); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(49 * time.Hour)
	rep, err = h.svc.RunRetention(ctx)
	if err != nil || rep.ExpiredRecords != 1 || rep.Persons != 1 || rep.Audit != 2 { // the export and the 2 h run's record
		t.Fatalf("after 75 h: %+v, %v", rep, err)
	}
	v, _ := h.svc.Verification(ctx, res.CertifyID)
	if p, err := h.store.Person(ctx, v.PersonID); err != nil || !p.Erased() {
		t.Fatalf("u1's person not erased: %v", err)
	}
	if _, err := h.store.UserRecord(ctx, "u1"); !errors.Is(err, realname.ErrNotFound) {
		t.Fatalf("u1's expired record kept: %v", err)
	}
	if rep, err = h.svc.RunRetention(ctx); err != nil || rep.Total() != 0 {
		t.Fatalf("a second run removes nothing more: %+v, %v", rep, err)
	}
}
