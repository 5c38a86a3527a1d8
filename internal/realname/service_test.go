package realname_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realname/realname/internal/cache"
	"github.com/realname/realname/internal/pii"
	"github.com/realname/realname/internal/realname"
	sqlstore "github.com/realname/realname/internal/storage/sql"
)

// Valid test identities (MOD 11-2 check characters are right).
const (
	numberA = "11010519491231002X"
	numberB = "440524188001010014"
	nameA   = "张三"
)

// fakeProvider is a hand-written provider with function fields and call
// counters.
type fakeProvider struct {
	mu        sync.Mutex
	check     func(realname.IdentityInput) (realname.IdentityMatch, error)
	start     func(realname.FaceCheckRequest) (realname.FaceCheckSession, error)
	result    func(ref string) (realname.FaceResult, error)
	tokens    map[string]string // ref → callback token
	calls     map[string]int
	deletions atomic.Int32
	deleteErr atomic.Pointer[error] // when set, DeleteResult fails with it
	failedDel atomic.Int32          // DeleteResult calls that failed
}

func newFakeProvider() *fakeProvider {
	return &fakeProvider{tokens: map[string]string{}, calls: map[string]int{}}
}

func (f *fakeProvider) count(name string) {
	f.mu.Lock()
	f.calls[name]++
	f.mu.Unlock()
}

func (f *fakeProvider) Calls(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakeProvider) Name() string { return "fake" }

func (f *fakeProvider) CheckIdentity(_ context.Context, id realname.IdentityInput) (realname.IdentityMatch, error) {
	f.count("check")
	if f.check != nil {
		return f.check(id)
	}
	return realname.IdentityMatches, nil
}

func (f *fakeProvider) StartFaceCheck(_ context.Context, r realname.FaceCheckRequest) (realname.FaceCheckSession, error) {
	f.count("start")
	if f.start != nil {
		if s, err := f.start(r); err != nil {
			return s, err
		}
	}
	ref := "ref-" + r.OrderNo
	f.mu.Lock()
	f.tokens[ref] = r.CallbackToken
	f.mu.Unlock()
	return realname.FaceCheckSession{Ref: ref, VerifyURL: "https://provider.example/verify/" + ref}, nil
}

func (f *fakeProvider) FaceCheckResult(_ context.Context, ref string) (realname.FaceResult, error) {
	f.count("result")
	if f.result != nil {
		return f.result(ref)
	}
	return realname.FaceResult{Passed: true, SubCode: "200", Score: 97}, nil
}

// CompareFace passes for a picture "same" and fails for any other, and
// checks that the identity it gets is decrypted.
func (f *fakeProvider) CompareFace(_ context.Context, r realname.CompareRequest) (realname.FaceResult, error) {
	f.count("compare")
	if r.Identity.Name == "" || r.Identity.Number == "" {
		return realname.FaceResult{}, errors.New("fake: compare without the identity")
	}
	if string(r.Picture) == "same" {
		return realname.FaceResult{Passed: true, SubCode: "200", Score: 91}, nil
	}
	return realname.FaceResult{SubCode: "205", Score: 12}, nil
}

func (f *fakeProvider) DeleteResult(context.Context, string) error {
	if err := f.deleteErr.Load(); err != nil {
		f.failedDel.Add(1)
		return *err
	}
	f.deletions.Add(1)
	return nil
}

func (f *fakeProvider) token(ref string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens[ref]
}

// countingMetrics counts Finished calls and cache hits and misses.
type countingMetrics struct{ finished, hits, misses atomic.Int32 }

func (*countingMetrics) InitStarted()                              {}
func (m *countingMetrics) Finished(realname.Status, time.Duration) { m.finished.Add(1) }
func (m *countingMetrics) CacheHit()                               { m.hits.Add(1) }
func (m *countingMetrics) CacheMiss()                              { m.misses.Add(1) }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	svc     *realname.Service
	store   *sqlstore.Store
	prov    *fakeProvider
	clock   *clock
	metrics *countingMetrics
}

func testKeys(t testing.TB) realname.Keys {
	t.Helper()
	secret := sha256.Sum256([]byte("kek"))
	ring, err := pii.NewKeyRing([]pii.Key{{ID: "k1", Secret: secret[:], Created: time.Now()}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	ik := sha256.Sum256([]byte("index"))
	idx, err := pii.NewBlindIndex(ik[:])
	if err != nil {
		t.Fatal(err)
	}
	return realname.Keys{Ring: ring, Index: idx}
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessCache(t, cache.NewMemory(0))
}

func newHarnessCache(t testing.TB, c realname.Cache) *harness {
	t.Helper()
	return newHarnessWith(t, c, func(s realname.Store) realname.Store { return s })
}

// newHarnessWith lets a test wrap the store the service uses (h.store is
// the real one underneath).
func newHarnessWith(t testing.TB, c realname.Cache, wrap func(realname.Store) realname.Store) *harness {
	t.Helper()
	return newHarnessConfig(t, c, wrap, func(*realname.Config) {})
}

// newHarnessConfig is newHarnessWith with a change to the service's
// configuration.
func newHarnessConfig(t testing.TB, c realname.Cache, wrap func(realname.Store) realname.Store, edit func(*realname.Config)) *harness {
	t.Helper()
	return newHarnessDB(t, filepath.Join(t.TempDir(), "t.db"), c, wrap, edit)
}

// newHarnessDB is newHarnessConfig on the database dsn (a SQLite path or a
// postgres:// URL).
func newHarnessDB(t testing.TB, dsn string, c realname.Cache, wrap func(realname.Store) realname.Store, edit func(*realname.Config)) *harness {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h := &harness{store: store, prov: newFakeProvider(), clock: &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}, metrics: &countingMetrics{}}
	cfg := realname.Config{CallbackURL: "https://rn.example/api/v1/auth/callback"}
	edit(&cfg)
	h.svc, err = realname.New(cfg, realname.Deps{
		Store: wrap(store), Provider: h.prov, Keys: testKeys(t), Cache: c, Metrics: h.metrics, Now: h.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) consent() *realname.Consent {
	return &realname.Consent{NoticeVersion: realname.NoticeVersion, AcceptedAt: h.clock.Now().Add(-time.Minute),
		Scopes: []string{realname.ScopeIDNumber, realname.ScopeFace}}
}

func (h *harness) init(t *testing.T, user, name, number string) (realname.InitResult, error) {
	t.Helper()
	return h.svc.Init(context.Background(), realname.InitRequest{ClientID: "c1", UserID: user, RealName: name, IDNumber: number, Consent: h.consent()})
}

func (h *harness) mustInit(t *testing.T, user, name, number string) realname.InitResult {
	t.Helper()
	res, err := h.init(t, user, name, number)
	if err != nil {
		t.Fatalf("Init(%s): %v", user, err)
	}
	return res
}

func (h *harness) callback(t *testing.T, certifyID string) (realname.Verification, error) {
	t.Helper()
	ref := "ref-" + certifyID
	return h.svc.HandleCallback(context.Background(), realname.Callback{Ref: ref, Token: h.prov.token(ref), Hint: "200"})
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", code)
	}
	if got := realname.CodeOf(err); got != code {
		t.Fatalf("code = %s (%v), want %s", got, err, code)
	}
}

func TestInitRejectsBadInputWithoutProviderCalls(t *testing.T) {
	h := newHarness(t)
	good := realname.InitRequest{UserID: "u1", RealName: nameA, IDNumber: numberA, Consent: h.consent()}
	noFace := *h.consent()
	noFace.Scopes = []string{realname.ScopeIDNumber}
	oldVersion := *h.consent()
	oldVersion.NoticeVersion = "1999-01-01"
	for _, tc := range []struct {
		name string
		edit func(r *realname.InitRequest)
		code string
	}{
		{"bad user id", func(r *realname.InitRequest) { r.UserID = "u 1" }, realname.CodeInvalidRequest},
		{"empty user id", func(r *realname.InitRequest) { r.UserID = "" }, realname.CodeInvalidRequest},
		{"bad checksum", func(r *realname.InitRequest) { r.IDNumber = "110105194912310021" }, realname.CodeInvalidIDNumber},
		{"short number", func(r *realname.InitRequest) { r.IDNumber = "1101" }, realname.CodeInvalidIDNumber},
		{"bad name", func(r *realname.InitRequest) { r.RealName = "张" }, realname.CodeInvalidName},
		{"name with digits", func(r *realname.InitRequest) { r.RealName = "张3" }, realname.CodeInvalidName},
		{"unknown cert type", func(r *realname.InitRequest) { r.CertType = "LIBRARY_CARD" }, realname.CodeInvalidCertType},
		{"unsupported cert type", func(r *realname.InitRequest) { r.CertType = "PASSPORT"; r.IDNumber = "E12345678" }, realname.CodeUnsupportedDocument},
		{"no consent", func(r *realname.InitRequest) { r.Consent = nil }, realname.CodeConsentRequired},
		{"consent without face", func(r *realname.InitRequest) { r.Consent = &noFace }, realname.CodeConsentRequired},
		{"consent to an unknown notice", func(r *realname.InitRequest) { r.Consent = &oldVersion }, realname.CodeConsentRequired},
		{"return url not http", func(r *realname.InitRequest) { r.ReturnURL = "javascript:alert(1)" }, realname.CodeInvalidRequest},
		{"bad url type", func(r *realname.InitRequest) { r.URLType = "APP" }, realname.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.edit(&r)
			_, err := h.svc.Init(context.Background(), r)
			wantCode(t, err, tc.code)
			if realname.KindOf(err) != realname.KindInvalid {
				t.Fatalf("kind = %v, want Invalid", realname.KindOf(err))
			}
		})
	}
	if n := h.prov.Calls("check") + h.prov.Calls("start"); n != 0 {
		t.Fatalf("provider calls for bad input: %d", n)
	}
}

func TestVerificationSucceedsThroughCallback(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	res := h.mustInit(t, "u1", nameA, numberA)
	if res.VerifyURL == "" || res.Resumed {
		t.Fatalf("Init = %+v", res)
	}
	v, err := h.svc.Verification(ctx, res.CertifyID)
	if err != nil || v.Status != realname.StatusProcessing || !v.IdentityChecked || v.Consent.NoticeVersion != realname.NoticeVersion {
		t.Fatalf("after init: %+v, %v", v, err)
	}
	if c, _ := h.svc.Check(ctx, realname.Actor{}, "u1", nil); c.Passed || c.ReasonCode != "PENDING" {
		t.Fatalf("Check while processing = %+v", c)
	}
	// A wrong token is refused and changes nothing.
	_, err = h.svc.HandleCallback(ctx, realname.Callback{Ref: "ref-" + res.CertifyID, Token: "wrong", Hint: "200"})
	if realname.KindOf(err) != realname.KindUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}
	if h.prov.Calls("result") != 0 {
		t.Fatal("a callback with a wrong token reached the provider")
	}
	v, err = h.callback(t, res.CertifyID)
	if err != nil || v.Status != realname.StatusSuccess {
		t.Fatalf("callback: %+v, %v", v, err)
	}
	if want := h.clock.Now().Add(365 * 24 * time.Hour); !v.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt = %v, want %v", v.ExpiresAt, want)
	}
	if h.prov.deletions.Load() != 0 || v.ResultDeleted {
		t.Fatal("the callback deleted the provider's copy itself; that is the background worker's job")
	}
	c, err := h.svc.Check(ctx, realname.Actor{}, "u1", nil)
	if err != nil || !c.Passed || c.Status.MaskedName != "张*" {
		t.Fatalf("Check = %+v, %v", c, err)
	}
	st, err := h.svc.Status(ctx, "u1")
	if err != nil || st.Status != realname.StatusSuccess || !st.IsValid(h.clock.Now()) || st.DaysRemaining(h.clock.Now()) != 365 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	// Already verified: 409 and no paid call.
	before := h.prov.Calls("check") + h.prov.Calls("start")
	_, err = h.init(t, "u1", nameA, numberA)
	wantCode(t, err, realname.CodeAlreadyAuthenticated)
	if after := h.prov.Calls("check") + h.prov.Calls("start"); after != before {
		t.Fatal("a verified user's init called the provider")
	}
	// A repeated callback is fine and changes nothing.
	if v2, err := h.callback(t, res.CertifyID); err != nil || v2.Status != realname.StatusSuccess {
		t.Fatalf("repeat callback: %+v, %v", v2, err)
	}
	if h.metrics.finished.Load() != 1 {
		t.Fatalf("finished %d times", h.metrics.finished.Load())
	}
}

func TestFailedOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		match   realname.IdentityMatch
		result  realname.FaceResult
		code    string // init error code, if init fails
		reason  string
		noStart bool
	}{
		{name: "name mismatch", match: realname.IdentityMismatch, code: realname.CodeIdentityMismatch, reason: realname.CodeIdentityMismatch, noStart: true},
		{name: "no record", match: realname.IdentityNoRecord, code: realname.CodeIdentityNoRecord, reason: realname.CodeIdentityNoRecord, noStart: true},
		{name: "face mismatch", match: realname.IdentityMatches, result: realname.FaceResult{SubCode: "204", Score: 31}, reason: "FACE_MISMATCH"},
		{name: "liveness attack", match: realname.IdentityMatches, result: realname.FaceResult{SubCode: "205", Reason: "LIVENESS_ATTACK"}, reason: "LIVENESS_ATTACK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.prov.check = func(realname.IdentityInput) (realname.IdentityMatch, error) { return tc.match, nil }
			h.prov.result = func(string) (realname.FaceResult, error) { return tc.result, nil }
			res, err := h.init(t, "u1", nameA, numberA)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				if h.prov.Calls("start") != 0 {
					t.Fatal("a mismatch paid for a face check")
				}
				st, err := h.svc.Status(context.Background(), "u1")
				if err != nil || st.Status != realname.StatusFailed {
					t.Fatalf("Status = %+v, %v", st, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, err := h.callback(t, res.CertifyID)
			if err != nil || v.Status != realname.StatusFailed || v.FailReason != tc.reason {
				t.Fatalf("callback: %+v, %v", v, err)
			}
			if c, _ := h.svc.Check(context.Background(), realname.Actor{}, "u1", nil); c.Passed {
				t.Fatal("a failed user passed the check")
			}
			// Trying again is allowed and opens a new session.
			res2 := h.mustInit(t, "u1", nameA, numberA)
			if res2.CertifyID == res.CertifyID {
				t.Fatal("a finished session was reused")
			}
		})
	}
}

func TestProviderDownKeepsSessionAndResumes(t *testing.T) {
	h := newHarness(t)
	down := true
	h.prov.start = func(realname.FaceCheckRequest) (realname.FaceCheckSession, error) {
		if down {
			return realname.FaceCheckSession{}, fmt.Errorf("dial: %w", realname.ErrProviderUnavailable)
		}
		return realname.FaceCheckSession{}, nil
	}
	_, err := h.init(t, "u1", nameA, numberA)
	wantCode(t, err, realname.CodeProviderUnavailable)
	var rerr *realname.Error
	if !errors.As(err, &rerr) || rerr.RetryAfter <= 0 {
		t.Fatalf("no Retry-After hint: %v", err)
	}
	v, err := h.store.LatestVerification(context.Background(), "u1")
	if err != nil || v.Status != realname.StatusPending || !v.IdentityChecked || v.Attempts != 1 {
		t.Fatalf("kept session: %+v, %v", v, err)
	}
	down = false
	res := h.mustInit(t, "u1", nameA, numberA)
	if res.CertifyID != v.CertifyID || !res.Resumed {
		t.Fatalf("resume opened %s (resumed %v), want %s", res.CertifyID, res.Resumed, v.CertifyID)
	}
	if h.prov.Calls("check") != 1 {
		t.Fatalf("identity checked %d times, want once", h.prov.Calls("check"))
	}
	// A second init while processing returns the same session without paying.
	res3 := h.mustInit(t, "u1", nameA, numberA)
	if res3.CertifyID != v.CertifyID || res3.VerifyURL != res.VerifyURL || h.prov.Calls("start") != 2 {
		t.Fatalf("processing resume: %+v, start calls %d", res3, h.prov.Calls("start"))
	}
}

// Restart replaces an open session with a new face check; without it the
// open session is resumed at no cost.
func TestInitRestartReplacesOpenSession(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	first := h.mustInit(t, "u1", nameA, numberA)
	again := h.mustInit(t, "u1", nameA, numberA)
	if again.CertifyID != first.CertifyID || !again.Resumed || h.prov.Calls("start") != 1 {
		t.Fatalf("plain re-init: %+v, start calls %d; want the open session resumed", again, h.prov.Calls("start"))
	}
	fresh, err := h.svc.Init(ctx, realname.InitRequest{ClientID: "c1", UserID: "u1", RealName: nameA, IDNumber: numberA,
		Consent: h.consent(), Restart: true})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.CertifyID == first.CertifyID || fresh.Resumed || h.prov.Calls("start") != 2 {
		t.Fatalf("restart: %+v, start calls %d; want a new session and a new face check", fresh, h.prov.Calls("start"))
	}
	old, err := h.svc.Verification(ctx, first.CertifyID)
	if err != nil || old.Status != realname.StatusCancelled || old.FailReason != "REPLACED" {
		t.Fatalf("replaced session: %s %s, %v", old.Status, old.FailReason, err)
	}
	// The new session finishes normally; the old one's callback changes nothing.
	if v, err := h.callback(t, fresh.CertifyID); err != nil || v.Status != realname.StatusSuccess {
		t.Fatalf("callback of the new session: %+v, %v", v, err)
	}
	if v, err := h.callback(t, first.CertifyID); err != nil || v.Status != realname.StatusCancelled {
		t.Fatalf("callback of the replaced session: %+v, %v", v, err)
	}
}

func TestConcurrentCallbacksFinishOnce(t *testing.T) {
	h := newHarness(t)
	res := h.mustInit(t, "u1", nameA, numberA)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			v, err := h.callback(t, res.CertifyID)
			if err == nil && v.Status != realname.StatusSuccess {
				err = fmt.Errorf("status %s", v.Status)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := h.metrics.finished.Load(); n != 1 {
		t.Fatalf("finished %d times, want 1", n)
	}
}

func TestTerminalStateNeverMovesBack(t *testing.T) {
	h := newHarness(t)
	res := h.mustInit(t, "u1", nameA, numberA)
	if _, err := h.callback(t, res.CertifyID); err != nil {
		t.Fatal(err)
	}
	h.prov.result = func(string) (realname.FaceResult, error) { return realname.FaceResult{SubCode: "204"}, nil }
	v, err := h.callback(t, res.CertifyID)
	if err != nil || v.Status != realname.StatusSuccess {
		t.Fatalf("late contrary callback: %+v, %v", v, err)
	}
	for _, tc := range []struct{ from, to realname.Status }{
		{realname.StatusSuccess, realname.StatusFailed}, {realname.StatusFailed, realname.StatusSuccess},
		{realname.StatusCancelled, realname.StatusProcessing}, {realname.StatusProcessing, realname.StatusPending},
		{realname.StatusExpired, realname.StatusSuccess},
	} {
		if realname.CanMove(tc.from, tc.to) {
			t.Errorf("CanMove(%s, %s) = true", tc.from, tc.to)
		}
	}
	if !realname.CanMove(realname.StatusSuccess, realname.StatusExpired) || !realname.CanMove(realname.StatusPending, realname.StatusProcessing) {
		t.Error("an allowed move is refused")
	}
}

func TestPollerFinishesLostCallbackAndCancelsTimeouts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	finished := h.mustInit(t, "u1", nameA, numberA)
	h.prov.result = func(ref string) (realname.FaceResult, error) {
		if ref == "ref-"+finished.CertifyID {
			return realname.FaceResult{Passed: true, SubCode: "200", Score: 90}, nil
		}
		return realname.FaceResult{}, realname.ErrNotFinished
	}
	abandoned := h.mustInit(t, "u2", "李四", numberB)
	h.clock.Add(time.Minute)
	n, err := h.svc.PollOnce(ctx, 10*time.Second, 100)
	if err != nil || n != 1 {
		t.Fatalf("PollOnce = %d, %v; want 1 finished", n, err)
	}
	if v, _ := h.svc.Verification(ctx, finished.CertifyID); v.Status != realname.StatusSuccess {
		t.Fatalf("lost callback: status %s", v.Status)
	}
	if v, _ := h.svc.Verification(ctx, abandoned.CertifyID); v.Status != realname.StatusProcessing {
		t.Fatalf("unfinished session: status %s", v.Status)
	}
	h.clock.Add(31 * time.Minute)
	if _, err := h.svc.PollOnce(ctx, 10*time.Second, 100); err != nil {
		t.Fatal(err)
	}
	v, _ := h.svc.Verification(ctx, abandoned.CertifyID)
	if v.Status != realname.StatusCancelled || v.FailReason != "TIMEOUT" {
		t.Fatalf("timed-out session: %s %s", v.Status, v.FailReason)
	}
}

// The provider's copy of a finished check is deleted off the callback's
// path: by RunPoller's worker as the session finishes, and by the poller
// when that failed.
func TestProviderCopyDeleted(t *testing.T) {
	h := newHarness(t)
	ctx, stop := context.WithCancel(context.Background())
	poller := make(chan struct{})
	go func() {
		defer close(poller)
		h.svc.RunPoller(ctx, time.Hour, time.Minute) // only the worker acts within the test
	}()
	defer func() { stop(); <-poller }()

	res := h.mustInit(t, "u1", nameA, numberA)
	if _, err := h.callback(t, res.CertifyID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the worker deletes the provider's copy", func() bool {
		v, err := h.store.Verification(ctx, res.CertifyID)
		return err == nil && v.ResultDeleted
	})
	if n := h.prov.deletions.Load(); n != 1 {
		t.Fatalf("provider deletions = %d, want 1", n)
	}

	// The provider fails: the flag stays false and the poller retries.
	down := error(realname.ErrProviderUnavailable)
	h.prov.deleteErr.Store(&down)
	res2 := h.mustInit(t, "u2", "李四", numberB)
	if _, err := h.callback(t, res2.CertifyID); err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	// The worker's attempt fails and leaves the flag false; the poller
	// skips sessions younger than minIdle.
	waitFor(t, "the worker tries", func() bool { return h.prov.failedDel.Load() == 1 })
	if _, err := h.svc.PollOnce(bg, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if v, _ := h.store.Verification(bg, res2.CertifyID); v.ResultDeleted {
		t.Fatal("ResultDeleted set although the provider failed")
	}
	h.prov.deleteErr.Store(nil)
	if _, err := h.svc.PollOnce(bg, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if v, _ := h.store.Verification(bg, res2.CertifyID); v.ResultDeleted {
		t.Fatal("the poller retried a session completed less than minIdle ago")
	}
	h.clock.Add(2 * time.Minute)
	if _, err := h.svc.PollOnce(bg, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if v, _ := h.store.Verification(bg, res2.CertifyID); !v.ResultDeleted {
		t.Fatal("the poller did not retry the deletion")
	}
	if n := h.prov.deletions.Load(); n != 2 {
		t.Fatalf("provider deletions = %d, want 2", n)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

func TestOnePersonOneUser(t *testing.T) {
	h := newHarness(t)
	res := h.mustInit(t, "u1", nameA, numberA)
	if _, err := h.callback(t, res.CertifyID); err != nil {
		t.Fatal(err)
	}
	calls := h.prov.Calls("check")
	_, err := h.init(t, "u2", nameA, numberA)
	wantCode(t, err, realname.CodeIdentityBound)
	if realname.KindOf(err) != realname.KindConflict || h.prov.Calls("check") != calls {
		t.Fatalf("kind %v, provider calls %d → %d", realname.KindOf(err), calls, h.prov.Calls("check"))
	}
	// Full-width input and a lower-case x are the same person.
	_, err = h.init(t, "u3", nameA, "11010519491231002x")
	wantCode(t, err, realname.CodeIdentityBound)
}

func TestSuccessRaceBindsOneUser(t *testing.T) {
	h := newHarness(t)
	a := h.mustInit(t, "u1", nameA, numberA)
	b := h.mustInit(t, "u2", nameA, numberA) // neither is verified yet: both may try
	va, err := h.callback(t, a.CertifyID)
	if err != nil || va.Status != realname.StatusSuccess {
		t.Fatalf("first: %+v, %v", va, err)
	}
	vb, err := h.callback(t, b.CertifyID)
	if err != nil || vb.Status != realname.StatusFailed || vb.FailReason != realname.CodeIdentityBound {
		t.Fatalf("second: %+v, %v", vb, err)
	}
}

func TestExpiry(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	res := h.mustInit(t, "u1", nameA, numberA)
	if _, err := h.callback(t, res.CertifyID); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(366 * 24 * time.Hour)
	c, err := h.svc.Check(ctx, realname.Actor{}, "u1", nil)
	if err != nil || c.Passed || c.ReasonCode != "EXPIRED" {
		t.Fatalf("Check after expiry = %+v, %v", c, err)
	}
	if _, err := h.svc.PollOnce(ctx, time.Second, 10); err != nil {
		t.Fatal(err)
	}
	if v, _ := h.store.Verification(ctx, res.CertifyID); v.Status != realname.StatusExpired {
		t.Fatalf("stored status %s, want expired", v.Status)
	}
	// Verifying again is allowed, also for another user of the same person.
	h.mustInit(t, "u2", nameA, numberA)
}

func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	req := realname.InitRequest{ClientID: "c1", IdempotencyKey: "k-1", UserID: "u1", RealName: nameA, IDNumber: numberA, Consent: h.consent()}
	first, err := h.svc.Init(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.svc.Init(ctx, req)
	if err != nil || again.CertifyID != first.CertifyID || again.VerifyURL != first.VerifyURL {
		t.Fatalf("retry = %+v, %v; want %+v", again, err, first)
	}
	if h.prov.Calls("start") != 1 {
		t.Fatalf("start calls = %d, want 1", h.prov.Calls("start"))
	}
	other := req
	other.UserID = "u2"
	_, err = h.svc.Init(ctx, other)
	wantCode(t, err, realname.CodeIdempotencyConflict)
	// The same key from another client is another request.
	other.ClientID = "c2"
	if _, err := h.svc.Init(ctx, other); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentFirstInitsForOnePerson(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Go(func() {
			_, err := h.init(t, fmt.Sprintf("u%d", i), nameA, numberA)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	persons, err := h.store.Persons(context.Background(), "", 100)
	if err != nil || len(persons) != 1 {
		t.Fatalf("persons = %d, %v; want 1", len(persons), err)
	}
}

func TestUnknownUserAnswerIsCachedAndDroppedByInit(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for range 3 {
		if _, err := h.svc.Status(ctx, "u1"); realname.CodeOf(err) != realname.CodeUserNotFound {
			t.Fatalf("Status of an unknown user: %v", err)
		}
	}
	if c, err := h.svc.Check(ctx, realname.Actor{}, "u1", nil); err != nil || c.Passed || c.ReasonCode != "NOT_VERIFIED" {
		t.Fatalf("Check of an unknown user: %+v, %v", c, err)
	}
	h.mustInit(t, "u1", nameA, numberA)
	st, err := h.svc.Status(ctx, "u1")
	if err != nil || st.Status != realname.StatusProcessing {
		t.Fatalf("Status after init: %+v, %v (a stale cached miss?)", st, err)
	}
}

// bytesOnly hides cache.Memory's GetValue/SetValue: a cache that keeps
// bytes only, like one shared by several replicas.
type bytesOnly struct{ m *cache.Memory }

func (b bytesOnly) Get(ctx context.Context, k string) ([]byte, bool) { return b.m.Get(ctx, k) }
func (b bytesOnly) Set(ctx context.Context, k string, v []byte, ttl time.Duration) {
	b.m.Set(ctx, k, v, ttl)
}
func (b bytesOnly) Delete(ctx context.Context, k string) { b.m.Delete(ctx, k) }

// Status answers from the cache, whether it keeps decoded values or bytes,
// with the same answers as from the database.
func TestStatusCache(t *testing.T) {
	for name, c := range map[string]func() realname.Cache{
		"values": func() realname.Cache { return cache.NewMemory(0) },
		"bytes":  func() realname.Cache { return bytesOnly{cache.NewMemory(0)} },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarnessCache(t, c())
			ctx := context.Background()
			status := func(wantHit bool) (realname.UserStatus, error) {
				t.Helper()
				hits, misses := h.metrics.hits.Load(), h.metrics.misses.Load()
				st, err := h.svc.Status(ctx, "u1")
				if gotHit := h.metrics.hits.Load() == hits+1 && h.metrics.misses.Load() == misses; gotHit != wantHit {
					t.Fatalf("cache hit = %v, want %v", gotHit, wantHit)
				}
				return st, err
			}
			for _, hit := range []bool{false, true} {
				if _, err := status(hit); realname.CodeOf(err) != realname.CodeUserNotFound {
					t.Fatalf("unknown user (hit %v): %v", hit, err)
				}
			}
			res := h.mustInit(t, "u1", nameA, numberA)
			if _, err := h.callback(t, res.CertifyID); err != nil {
				t.Fatal(err)
			}
			fromDB, err := status(false)
			if err != nil || fromDB.Status != realname.StatusSuccess || fromDB.MaskedName != "张*" {
				t.Fatalf("Status = %+v, %v", fromDB, err)
			}
			fromCache, err := status(true)
			if err != nil || fromCache != fromDB {
				t.Fatalf("cached Status = %+v, %v; want %+v", fromCache, err, fromDB)
			}
			// A cached success past its validity reads as expired.
			h.clock.Add(366 * 24 * time.Hour)
			if st, err := status(true); err != nil || st.Status != realname.StatusExpired || st.IsValid(h.clock.Now()) {
				t.Fatalf("cached Status after expiry = %+v, %v", st, err)
			}
			// The cached value is not changed by that answer.
			h.clock.Add(-366 * 24 * time.Hour)
			if st, err := status(true); err != nil || st != fromDB {
				t.Fatalf("cached Status after an expired answer = %+v, %v; want %+v", st, err, fromDB)
			}
		})
	}
}

// pausingStore holds LatestVerification until released, once armed.
type pausingStore struct {
	realname.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (p *pausingStore) LatestVerification(ctx context.Context, userID string) (realname.Verification, error) {
	v, err := p.Store.LatestVerification(ctx, userID)
	if p.armed.CompareAndSwap(true, false) {
		p.entered <- struct{}{}
		<-p.release
	}
	return v, err
}

// A Status that read the database before a change committed must not put
// its old answer in the cache after the change dropped it.
func TestStatusCacheNotStaleAfterConcurrentChange(t *testing.T) {
	ps := &pausingStore{entered: make(chan struct{}), release: make(chan struct{})}
	h := newHarnessWith(t, cache.NewMemory(0), func(s realname.Store) realname.Store { ps.Store = s; return ps })
	ctx := context.Background()
	res := h.mustInit(t, "u1", nameA, numberA)
	ps.armed.Store(true)
	old := make(chan realname.UserStatus)
	go func() {
		st, _ := h.svc.Status(ctx, "u1") // reads "processing", then waits
		old <- st
	}()
	<-ps.entered
	if _, err := h.callback(t, res.CertifyID); err != nil { // success commits and drops the cache
		t.Fatal(err)
	}
	close(ps.release)
	if st := <-old; st.Status != realname.StatusProcessing {
		t.Fatalf("the paused read saw %s; the test needs it to see processing", st.Status)
	}
	if st, err := h.svc.Status(ctx, "u1"); err != nil || st.Status != realname.StatusSuccess {
		t.Fatalf("Status after the change = %s, %v; want success, not the old answer from the cache", st.Status, err)
	}
}

// fakeNotifier records notices.
type fakeNotifier struct {
	mu      sync.Mutex
	notices []realname.Notice
}

func (f *fakeNotifier) Notify(_ context.Context, n realname.Notice) {
	f.mu.Lock()
	f.notices = append(f.notices, n)
	f.mu.Unlock()
}

func TestPlatformIsToldOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	req := realname.InitRequest{UserID: "u1", RealName: nameA, IDNumber: numberA, Consent: h.consent(), NotifyURL: "https://platform.example/hook"}
	_, err := h.svc.Init(ctx, req)
	wantCode(t, err, realname.CodeInvalidRequest) // no notifier configured

	n := &fakeNotifier{}
	svc, err := realname.New(realname.Config{CallbackURL: "https://rn.example/cb"}, realname.Deps{
		Store: h.store, Provider: h.prov, Keys: testKeys(t), Notifier: n, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	bad := req
	bad.NotifyURL = "https://user:pw@platform.example/hook"
	_, err = svc.Init(ctx, bad)
	wantCode(t, err, realname.CodeInvalidRequest)
	res, err := svc.Init(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	ref := "ref-" + res.CertifyID
	for range 3 {
		if _, err := svc.HandleCallback(ctx, realname.Callback{Ref: ref, Token: h.prov.token(ref)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(n.notices) != 1 || n.notices[0] != (realname.Notice{URL: req.NotifyURL, CertifyID: res.CertifyID, UserID: "u1", Status: realname.StatusSuccess}) {
		t.Fatalf("notices %+v", n.notices)
	}
}
