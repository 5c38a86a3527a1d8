package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

// insertVerifications stores sessions in one transaction.
func insertVerifications(t *testing.T, s realname.Store, vs ...realname.Verification) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		for _, v := range vs {
			if err := tx.InsertVerification(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// updateVerification stores v over the session with its id.
func updateVerification(t *testing.T, s realname.Store, v realname.Verification) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error { return tx.UpdateVerification(ctx, v) })
}

// checkVerification reads a session back and compares it with want.
func checkVerification(t *testing.T, s realname.Store, what string, want realname.Verification) {
	t.Helper()
	got, err := s.Verification(t.Context(), want.CertifyID)
	if err != nil {
		t.Fatalf("%s: Verification: %v", what, err)
	}
	checkEqual(t, what, got, want)
}

func testVerificationInsertGet(t *testing.T, s realname.Store) {
	ctx := t.Context()
	p := samplePerson()
	insertPersons(t, s, p)
	v := sampleVerification(newID("usr_"), p.ID)
	insertVerifications(t, s, v)

	checkVerification(t, s, "Verification", v)
	got, err := s.VerificationByProviderRef(ctx, v.Provider, v.ProviderRef)
	must(t, "VerificationByProviderRef", err)
	checkEqual(t, "VerificationByProviderRef", got, v)
	got, err = s.LatestVerification(ctx, v.UserID)
	must(t, "LatestVerification", err)
	checkEqual(t, "LatestVerification", got, v)

	_, err = s.Verification(ctx, newID("vf_"))
	wantErr(t, "Verification(unknown)", err, realname.ErrNotFound)
	_, err = s.VerificationByProviderRef(ctx, v.Provider, newID("sha"))
	wantErr(t, "VerificationByProviderRef(unknown)", err, realname.ErrNotFound)
	_, err = s.VerificationByProviderRef(ctx, "other", v.ProviderRef)
	wantErr(t, "VerificationByProviderRef(other provider)", err, realname.ErrNotFound)
	_, err = s.LatestVerification(ctx, newID("usr_"))
	wantErr(t, "LatestVerification(unknown user)", err, realname.ErrNotFound)
	_, err = s.OpenVerificationForUser(ctx, newID("usr_"))
	wantErr(t, "OpenVerificationForUser(unknown user)", err, realname.ErrNotFound)

	// A session without a provider reference is never found by an empty one.
	open := openVerification(newID("usr_"), realname.StatusPending, base)
	insertVerifications(t, s, open)
	_, err = s.VerificationByProviderRef(ctx, open.Provider, "")
	wantErr(t, "VerificationByProviderRef(empty ref)", err, realname.ErrNotFound)
}

func testVerificationDuplicate(t *testing.T, s realname.Store) {
	ctx := t.Context()
	v := sampleVerification(newID("usr_"), newID("pn_"))
	insertVerifications(t, s, v)
	insert := func(v realname.Verification) error {
		return s.InTx(ctx, func(tx realname.Tx) error { return tx.InsertVerification(ctx, v) })
	}

	sameID := sampleVerification(newID("usr_"), newID("pn_"))
	sameID.CertifyID = v.CertifyID
	wantErr(t, "InsertVerification(same id)", insert(sameID), realname.ErrConflict)

	sameRef := sampleVerification(newID("usr_"), newID("pn_"))
	sameRef.Provider, sameRef.ProviderRef = v.Provider, v.ProviderRef
	wantErr(t, "InsertVerification(same provider ref)", insert(sameRef), realname.ErrConflict)
	_, err := s.Verification(ctx, sameRef.CertifyID)
	wantErr(t, "Verification(refused)", err, realname.ErrNotFound)

	otherProvider := sampleVerification(newID("usr_"), newID("pn_"))
	otherProvider.Provider, otherProvider.ProviderRef = "other", v.ProviderRef
	must(t, "InsertVerification(same ref, other provider)", insert(otherProvider))

	// Any number of sessions may wait without a provider reference.
	for range 3 {
		must(t, "InsertVerification(empty ref)", insert(openVerification(v.UserID, realname.StatusPending, base)))
	}
	checkVerification(t, s, "Verification after refused inserts", v)
}

func testVerificationLatestAndOpen(t *testing.T, s realname.Store) {
	ctx := t.Context()
	user := newID("usr_")
	old := sampleVerification(user, newID("pn_"))
	old.CreatedAt = base.Add(-3 * time.Hour)
	waiting := openVerification(user, realname.StatusProcessing, base.Add(-2*time.Hour))
	older := openVerification(user, realname.StatusPending, base.Add(-2*time.Hour-time.Second))
	// Two sessions created at the same instant: the larger CertifyID is newer.
	tieA := openVerification(user, realname.StatusFailed, base.Add(-time.Hour))
	tieB := openVerification(user, realname.StatusCancelled, base.Add(-time.Hour))
	tieA.CertifyID, tieB.CertifyID = "vf_tie_a_"+newID(""), "vf_tie_b_"+newID("")
	stranger := openVerification(newID("usr_"), realname.StatusPending, base)
	insertVerifications(t, s, tieB, old, waiting, tieA, older, stranger)

	got, err := s.LatestVerification(ctx, user)
	must(t, "LatestVerification", err)
	checkEqual(t, "LatestVerification", got, tieB)
	got, err = s.OpenVerificationForUser(ctx, user)
	must(t, "OpenVerificationForUser", err)
	checkEqual(t, "OpenVerificationForUser", got, waiting)

	// Once nothing is open there is no open session.
	for _, v := range []realname.Verification{waiting, older} {
		v.Status, v.CompletedAt = realname.StatusCancelled, base
		updateVerification(t, s, v)
	}
	_, err = s.OpenVerificationForUser(ctx, user)
	wantErr(t, "OpenVerificationForUser(all closed)", err, realname.ErrNotFound)
}

func testVerificationUpdate(t *testing.T, s realname.Store) {
	ctx := t.Context()
	v := openVerification(newID("usr_"), realname.StatusPending, base.Add(-time.Hour))
	other := sampleVerification(newID("usr_"), newID("pn_"))
	insertVerifications(t, s, v, other)

	// Every field but the key and the creation time changes.
	want := sampleVerification(newID("usr_"), newID("pn_"))
	want.CertifyID, want.CreatedAt = v.CertifyID, v.CreatedAt
	want.Provider, want.Status, want.CertType = "aliyun-sandbox", realname.StatusFailed, "PASSPORT"
	want.Attempts, want.Score, want.SubCode, want.FailReason = 5, 12.5, "205", "IDENTITY_MISMATCH"
	want.Evidence = realname.EvidenceManualReview
	updateVerification(t, s, want)
	checkVerification(t, s, "Verification after update", want)
	checkVerification(t, s, "other Verification after update", other)

	unknown := sampleVerification(newID("usr_"), newID("pn_"))
	err := s.InTx(ctx, func(tx realname.Tx) error { return tx.UpdateVerification(ctx, unknown) })
	wantErr(t, "UpdateVerification(unknown)", err, realname.ErrNotFound)

	taken := want
	taken.Provider, taken.ProviderRef = other.Provider, other.ProviderRef
	err = s.InTx(ctx, func(tx realname.Tx) error { return tx.UpdateVerification(ctx, taken) })
	wantErr(t, "UpdateVerification(provider ref of another)", err, realname.ErrConflict)
	checkVerification(t, s, "Verification after refused update", want)
}

func testTimesRoundTrip(t *testing.T, s realname.Store) {
	// Nanoseconds and a non-UTC zone go in; the same instants (to the
	// microsecond) come out. Zero CompletedAt/ExpiresAt stay zero.
	v := openVerification(newID("usr_"), realname.StatusProcessing, base)
	v.UpdatedAt = time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC) // before the epoch
	v.Deadline = time.Date(2262, 4, 11, 0, 0, 0, 1, time.FixedZone("X", -5*3600))
	insertVerifications(t, s, v)
	got, err := s.Verification(t.Context(), v.CertifyID)
	must(t, "Verification", err)
	checkEqual(t, "Verification", got, v)
	if !got.CompletedAt.IsZero() || !got.ExpiresAt.IsZero() {
		t.Errorf("zero times read back as CompletedAt=%v ExpiresAt=%v", got.CompletedAt, got.ExpiresAt)
	}
	for name, pair := range map[string][2]time.Time{
		"CreatedAt": {got.CreatedAt, v.CreatedAt}, "UpdatedAt": {got.UpdatedAt, v.UpdatedAt},
		"Deadline": {got.Deadline, v.Deadline},
	} {
		if !pair[0].Equal(pair[1].Truncate(time.Microsecond)) {
			t.Errorf("%s = %v, want %v", name, pair[0], pair[1].Truncate(time.Microsecond))
		}
	}

	v.Status = realname.StatusSuccess
	v.CompletedAt = base.Add(987)
	v.ExpiresAt = base.AddDate(1, 0, 0).Add(654)
	updateVerification(t, s, v)
	checkVerification(t, s, "Verification with CompletedAt/ExpiresAt", v)

	v.CompletedAt, v.ExpiresAt = time.Time{}, time.Time{}
	updateVerification(t, s, v)
	got, err = s.Verification(t.Context(), v.CertifyID)
	must(t, "Verification", err)
	if !got.CompletedAt.IsZero() || !got.ExpiresAt.IsZero() {
		t.Errorf("times set back to zero read back as CompletedAt=%v ExpiresAt=%v", got.CompletedAt, got.ExpiresAt)
	}
}

func testConsentRoundTrip(t *testing.T, s realname.Store) {
	v := sampleVerification(newID("usr_"), newID("pn_"))
	v.Consent.Scopes = []string{realname.ScopeFace, realname.ScopeIDNumber, "a \"quoted\" scope, with ünïcode"}
	empty := openVerification(newID("usr_"), realname.StatusPending, base)
	empty.Consent = realname.Consent{}
	insertVerifications(t, s, v, empty)
	checkVerification(t, s, "Verification with consent", v)
	checkVerification(t, s, "Verification with empty consent", empty)

	v.Consent = sampleConsent()
	v.Consent.NoticeVersion = "2027-01-01"
	v.Consent.AcceptedAt = base.Add(-time.Hour + 31)
	updateVerification(t, s, v)
	checkVerification(t, s, "Verification with updated consent", v)
}
