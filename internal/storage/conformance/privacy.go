package conformance

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

func testErasePerson(t *testing.T, s realname.Store) {
	ctx := t.Context()
	gone := erasedPerson()
	insertPersons(t, s, gone)
	got, err := s.Person(ctx, gone.ID)
	must(t, "Person(erased fixture)", err)
	checkEqual(t, "erased fixture round trip", got, gone)

	p, other := samplePerson(), samplePerson()
	insertPersons(t, s, p, other)
	idx := randomBytes(32)
	at := base.Add(time.Minute)
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error { return tx.ErasePerson(ctx, p.ID, idx, at) })
	got, err = s.Person(ctx, p.ID)
	must(t, "Person(erased)", err)
	want := p
	want.WrappedKey, want.NameCT, want.NumberCT, want.Index, want.ErasedAt = nil, nil, nil, idx, at
	checkEqual(t, "Person after ErasePerson", got, want)
	if !got.Erased() {
		t.Error("Erased() = false after ErasePerson")
	}
	_, err = s.PersonByIndex(ctx, p.Index)
	wantErr(t, "PersonByIndex(old index)", err, realname.ErrNotFound)

	// Nothing writes an erased person again.
	revived := p
	err = s.InTx(ctx, func(tx realname.Tx) error { return tx.UpdatePerson(ctx, revived) })
	wantErr(t, "UpdatePerson(erased)", err, realname.ErrNotFound)
	wantErr(t, "UpdatePersonKey(erased)", s.UpdatePersonKey(ctx, p.ID, "k", randomBytes(40)), realname.ErrNotFound)
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		return tx.ErasePerson(ctx, p.ID, randomBytes(32), at.Add(time.Hour))
	})
	got, err = s.Person(ctx, p.ID)
	must(t, "Person(erased twice)", err)
	if !got.ErasedAt.Equal(at.Truncate(time.Microsecond)) || got.WrappedKey != nil {
		t.Errorf("erasing again: ErasedAt = %v (want the first, %v), key %x", got.ErasedAt, at, got.WrappedKey)
	}
	err = s.InTx(ctx, func(tx realname.Tx) error { return tx.ErasePerson(ctx, newID("pn_"), randomBytes(32), at) })
	wantErr(t, "ErasePerson(unknown)", err, realname.ErrNotFound)

	got, err = s.Person(ctx, other.ID)
	must(t, "Person(other)", err)
	checkEqual(t, "other person", got, other)
}

func sampleReview(certifyID string) realname.Review {
	return realname.Review{CertifyID: certifyID, FilesCT: randomBytes(100), SubmittedAt: base.Add(-time.Hour + 31)}
}

func manualSession(userID string, created time.Time) realname.Verification {
	v := openVerification(userID, realname.StatusProcessing, created)
	v.Provider, v.Evidence = realname.ProviderManual, realname.EvidenceManualReview
	return v
}

func testReviews(t *testing.T, s realname.Store) {
	ctx := t.Context()
	older := manualSession(newID("usr_"), base.Add(-2*time.Hour))
	newer := manualSession(newID("usr_"), base.Add(-time.Hour))
	face := openVerification(newID("usr_"), realname.StatusProcessing, base.Add(-3*time.Hour))
	done := manualSession(newID("usr_"), base.Add(-4*time.Hour))
	done.Status, done.CompletedAt = realname.StatusFailed, base
	insertVerifications(t, s, older, newer, face, done)
	for _, v := range []realname.Verification{older, newer, done} {
		rv := sampleReview(v.CertifyID)
		inTx(t, s, func(ctx context.Context, tx realname.Tx) error { return tx.InsertReview(ctx, rv) })
	}
	rv := sampleReview(older.CertifyID)
	err := s.InTx(ctx, func(tx realname.Tx) error { return tx.InsertReview(ctx, rv) })
	wantErr(t, "InsertReview(duplicate)", err, realname.ErrConflict)

	got, err := s.Review(ctx, newer.CertifyID)
	must(t, "Review", err)
	if got.CertifyID != newer.CertifyID || len(got.FilesCT) != 100 || !got.SubmittedAt.Equal(base.Add(-time.Hour+31).Truncate(time.Microsecond)) {
		t.Errorf("Review = %+v", got)
	}
	decided := got
	decided.FilesCT, decided.DecidedAt, decided.DecidedBy, decided.Decision, decided.Reason = nil, base, "op 张", "approved", "documents match"
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error { return tx.UpdateReview(ctx, decided) })
	got, err = s.Review(ctx, newer.CertifyID)
	must(t, "Review(decided)", err)
	checkEqual(t, "Review after UpdateReview", got, decided)
	_, err = s.Review(ctx, newID("vf_"))
	wantErr(t, "Review(unknown)", err, realname.ErrNotFound)
	err = s.InTx(ctx, func(tx realname.Tx) error { return tx.UpdateReview(ctx, sampleReview(newID("vf_"))) })
	wantErr(t, "UpdateReview(unknown)", err, realname.ErrNotFound)

	open, err := s.OpenReviews(ctx, 10)
	must(t, "OpenReviews", err)
	if len(open) != 2 || open[0].CertifyID != older.CertifyID || open[1].CertifyID != newer.CertifyID {
		t.Errorf("OpenReviews = %d sessions, want the two open manual ones, oldest first", len(open))
	}
	stale, err := s.StaleReviewFiles(ctx, 10)
	must(t, "StaleReviewFiles", err)
	if len(stale) != 1 || stale[0] != done.CertifyID {
		t.Errorf("StaleReviewFiles = %v, want only the finished review with files %s", stale, done.CertifyID)
	}
}

func testAudit(t *testing.T, s realname.Store) {
	ctx := t.Context()
	subject := newID("usr_")
	first := realname.AuditEntry{At: base, ActorKind: realname.ActorOperator, Actor: "操作员 a", Action: "review.view",
		Subject: subject, Target: newID("vf_"), Fields: []string{realname.FieldName, realname.FieldIDNumber},
		Masked: true, Reason: ""}
	must(t, "Audit", s.Audit(ctx, first))
	second := realname.AuditEntry{At: base.Add(time.Second), ActorKind: realname.ActorPerson, Actor: subject,
		Action: "data.export", Subject: subject, Fields: []string{realname.FieldDocuments}, Reason: "own request"}
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error { return tx.Audit(ctx, second) })
	must(t, "Audit(other subject)", s.Audit(ctx, realname.AuditEntry{At: base, ActorKind: realname.ActorSystem,
		Actor: "retention", Action: "retention.run", Subject: newID("usr_")}))

	got, err := s.AuditFor(ctx, subject, 10)
	must(t, "AuditFor", err)
	if len(got) != 2 {
		t.Fatalf("AuditFor = %d entries, want 2", len(got))
	}
	if got[0].ID <= 0 || got[1].ID <= got[0].ID {
		t.Errorf("ids %d, %d: want increasing positive ids", got[0].ID, got[1].ID)
	}
	first.ID, second.ID = got[0].ID, got[1].ID
	checkEqual(t, "first entry", got[0], first)
	checkEqual(t, "second entry", got[1], second)

	all, err := s.AuditLog(ctx, 0, 2)
	must(t, "AuditLog", err)
	rest, err := s.AuditLog(ctx, all[len(all)-1].ID, 10)
	must(t, "AuditLog(next page)", err)
	if len(all) != 2 || len(rest) != 1 {
		t.Errorf("AuditLog pages: %d then %d entries, want 2 then 1", len(all), len(rest))
	}
	n, err := s.DeleteAudit(ctx, base.Add(time.Millisecond))
	must(t, "DeleteAudit", err)
	if n != 2 {
		t.Errorf("DeleteAudit removed %d entries, want the 2 at base", n)
	}
	got, err = s.AuditFor(ctx, subject, 10)
	must(t, "AuditFor after DeleteAudit", err)
	if len(got) != 1 || got[0].Action != "data.export" {
		t.Errorf("AuditFor after DeleteAudit = %+v", got)
	}
}

func testAnonymiseUser(t *testing.T, s realname.Store) {
	ctx := t.Context()
	user, other := newID("usr_"), newID("usr_")
	p, q := samplePerson(), samplePerson()
	insertPersons(t, s, p, q)
	v1, v2 := sampleVerification(user, p.ID), openVerification(user, realname.StatusProcessing, base)
	w := sampleVerification(other, q.ID)
	insertVerifications(t, s, v1, v2, w)
	must(t, "putUser", putUser(s, sampleUser(user, p.ID)))
	must(t, "putUser(other)", putUser(s, sampleUser(other, q.ID)))
	must(t, "Unlock", s.Unlock(ctx, user, base))
	must(t, "Unlock(other)", s.Unlock(ctx, other, base))
	a, b := sampleAnswer(), sampleAnswer()
	a.CertifyID, b.CertifyID = v1.CertifyID, w.CertifyID
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		if err := tx.PutIdempotentAnswer(ctx, a); err != nil {
			return err
		}
		return tx.PutIdempotentAnswer(ctx, b)
	})
	must(t, "Audit", s.Audit(ctx, realname.AuditEntry{At: base, ActorKind: realname.ActorPerson, Actor: user, Action: "data.export", Subject: user}))

	pseudonym := "erased-" + newID("")
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error { return tx.AnonymiseUser(ctx, user, pseudonym) })

	if vs, err := s.UserVerifications(ctx, user, 10); err != nil || len(vs) != 0 {
		t.Errorf("UserVerifications(user) = %d, %v; want none", len(vs), err)
	}
	vs, err := s.UserVerifications(ctx, pseudonym, 10)
	must(t, "UserVerifications(pseudonym)", err)
	if len(vs) != 2 {
		t.Fatalf("UserVerifications(pseudonym) = %d, want 2", len(vs))
	}
	for _, v := range vs {
		if v.VerifyURL != "" || v.NotifyURL != "" || v.CallbackTokenHash != nil {
			t.Errorf("session %s keeps verify URL %q, notify URL %q or token hash %x", v.CertifyID, v.VerifyURL, v.NotifyURL, v.CallbackTokenHash)
		}
		if v.PersonID == "" || v.Status == "" || v.Consent.NoticeVersion == "" {
			t.Errorf("session %s lost the fact: %+v", v.CertifyID, v)
		}
	}
	_, err = s.UserRecord(ctx, user)
	wantErr(t, "UserRecord(user)", err, realname.ErrNotFound)
	if at, err := s.UnlockedAt(ctx, user); err != nil || !at.IsZero() {
		t.Errorf("UnlockedAt(user) = %v, %v; want zero", at, err)
	}
	_, err = s.IdempotentAnswer(ctx, a.Scope, a.Key)
	wantErr(t, "IdempotentAnswer(user's)", err, realname.ErrNotFound)
	if es, err := s.AuditFor(ctx, pseudonym, 10); err != nil || len(es) != 1 {
		t.Errorf("AuditFor(pseudonym) = %d, %v; want the user's 1 entry", len(es), err)
	}

	// The other user is untouched.
	if _, err := s.UserRecord(ctx, other); err != nil {
		t.Errorf("UserRecord(other): %v", err)
	}
	if at, err := s.UnlockedAt(ctx, other); err != nil || at.IsZero() {
		t.Errorf("UnlockedAt(other) = %v, %v", at, err)
	}
	if _, err := s.IdempotentAnswer(ctx, b.Scope, b.Key); err != nil {
		t.Errorf("IdempotentAnswer(other): %v", err)
	}
	checkVerification(t, s, "other's session", w)
}

func testFailuresAndUnlock(t *testing.T, s realname.Store) {
	ctx := t.Context()
	user := newID("usr_")
	var want []time.Time
	for i, st := range []realname.Status{realname.StatusFailed, realname.StatusFailed, realname.StatusCancelled, realname.StatusFailed, realname.StatusSuccess} {
		v := sampleVerification(user, newID("pn_"))
		v.Status, v.CompletedAt = st, base.Add(time.Duration(i)*time.Hour)
		insertVerifications(t, s, v)
		if st == realname.StatusFailed && i > 0 {
			want = append(want, v.CompletedAt.UTC().Truncate(time.Microsecond))
		}
	}
	other := sampleVerification(newID("usr_"), newID("pn_"))
	other.Status, other.CompletedAt = realname.StatusFailed, base.Add(2*time.Hour)
	insertVerifications(t, s, other)

	got, err := s.FailuresSince(ctx, user, base.Add(time.Hour), 10)
	must(t, "FailuresSince", err)
	checkEqual(t, "FailuresSince", struct{ T []time.Time }{got}, struct{ T []time.Time }{want})
	got, err = s.FailuresSince(ctx, user, base, 1)
	must(t, "FailuresSince(limit 1)", err)
	if len(got) != 1 || !got[0].Equal(base.Truncate(time.Microsecond)) {
		t.Errorf("FailuresSince(limit 1) = %v, want the oldest, %v", got, base)
	}

	at, err := s.UnlockedAt(ctx, user)
	if err != nil || !at.IsZero() {
		t.Errorf("UnlockedAt(never) = %v, %v; want zero, nil", at, err)
	}
	must(t, "Unlock", s.Unlock(ctx, user, base))
	must(t, "Unlock(again)", s.Unlock(ctx, user, base.Add(time.Hour)))
	// Failures up to the lift no longer count.
	got, err = s.FailuresSince(ctx, user, base, 10)
	must(t, "FailuresSince after Unlock", err)
	checkEqual(t, "FailuresSince after Unlock", struct{ T []time.Time }{got}, struct{ T []time.Time }{want[1:]})
	at, err = s.UnlockedAt(ctx, user)
	must(t, "UnlockedAt", err)
	if !at.Equal(base.Add(time.Hour).Truncate(time.Microsecond)) {
		t.Errorf("UnlockedAt = %v, want the latest unlock %v", at, base.Add(time.Hour))
	}
}

func testSpendBudget(t *testing.T, s realname.Store) {
	ctx := t.Context()
	used, ok, err := s.SpendBudget(ctx, "aliyun", "2026-11-23", 2, 5)
	if err != nil || !ok || used != 2 {
		t.Fatalf("first spend = %d, %v, %v; want 2, true", used, ok, err)
	}
	used, ok, err = s.SpendBudget(ctx, "aliyun", "2026-11-23", 2, 5)
	if err != nil || !ok || used != 4 {
		t.Errorf("second spend = %d, %v, %v; want 4, true", used, ok, err)
	}
	_, ok, err = s.SpendBudget(ctx, "aliyun", "2026-11-23", 2, 5)
	if err != nil || ok {
		t.Errorf("spend past the limit allowed (err %v)", err)
	}
	used, ok, err = s.SpendBudget(ctx, "aliyun", "2026-11-23", 1, 5)
	if err != nil || !ok || used != 5 {
		t.Errorf("a refused spend added calls: now %d, %v, %v; want 5, true", used, ok, err)
	}
	if _, ok, _ := s.SpendBudget(ctx, "aliyun", "2026-11-24", 6, 5); ok {
		t.Error("a spend larger than the limit was allowed")
	}
	if used, ok, err := s.SpendBudget(ctx, "aliyun", "2026-11-24", 1, 5); err != nil || !ok || used != 1 {
		t.Errorf("a new day = %d, %v, %v; want 1, true", used, ok, err)
	}
	if used, ok, err := s.SpendBudget(ctx, "other", "2026-11-23", 1, 5); err != nil || !ok || used != 1 {
		t.Errorf("another provider = %d, %v, %v; want 1, true", used, ok, err)
	}

	// Concurrent spends never pass the limit together.
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, ok, err := s.SpendBudget(ctx, "race", "2026-11-23", 1, 7)
			if err != nil {
				t.Errorf("concurrent spend: %v", err)
			}
			if ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 7 {
		t.Errorf("20 concurrent spends with a limit of 7: %d allowed", n)
	}
}

func testRetentionQueries(t *testing.T, s realname.Store) {
	ctx := t.Context()
	cutoff := base.Add(-30 * 24 * time.Hour)
	old := func() realname.Person { p := samplePerson(); p.CreatedAt = cutoff.Add(-time.Hour); return p }
	stale, bound, recent, open, young, erased := old(), old(), old(), old(), samplePerson(), old()
	erased.ErasedAt = base
	insertPersons(t, s, stale, bound, recent, open, young, erased)
	vStale := sampleVerification(newID("usr_"), stale.ID)
	vStale.Status, vStale.CompletedAt = realname.StatusFailed, cutoff.Add(-time.Minute)
	vRecent := sampleVerification(newID("usr_"), recent.ID)
	vRecent.Status, vRecent.CompletedAt = realname.StatusFailed, cutoff.Add(time.Minute)
	vOpen := openVerification(newID("usr_"), realname.StatusPending, cutoff.Add(-time.Hour))
	vOpen.PersonID = open.ID
	insertVerifications(t, s, vStale, vRecent, vOpen)
	must(t, "putUser", putUser(s, sampleUser(newID("usr_"), bound.ID)))

	ids, err := s.StalePersons(ctx, cutoff, 10)
	must(t, "StalePersons", err)
	if len(ids) != 1 || ids[0] != stale.ID {
		t.Errorf("StalePersons = %v, want only %s (not bound, not recent, not open, not young, not erased)", ids, stale.ID)
	}

	expired := sampleUser(newID("usr_"), newID("pn_"))
	expired.Status, expired.ExpiresAt = realname.StatusExpired, cutoff.Add(-time.Hour)
	lately := sampleUser(newID("usr_"), newID("pn_"))
	lately.Status, lately.ExpiresAt = realname.StatusExpired, cutoff.Add(time.Hour)
	must(t, "putUser(expired)", putUser(s, expired))
	must(t, "putUser(lately)", putUser(s, lately))
	us, err := s.ExpiredUserRecords(ctx, cutoff, 10)
	must(t, "ExpiredUserRecords", err)
	if len(us) != 1 || us[0].UserID != expired.UserID {
		t.Errorf("ExpiredUserRecords = %+v, want only %s", us, expired.UserID)
	}

	a, b := sampleAnswer(), sampleAnswer()
	a.CreatedAt, b.CreatedAt = base.Add(-25*time.Hour), base
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		if err := tx.PutIdempotentAnswer(ctx, a); err != nil {
			return err
		}
		return tx.PutIdempotentAnswer(ctx, b)
	})
	n, err := s.DeleteIdempotentAnswers(ctx, base.Add(-24*time.Hour))
	must(t, "DeleteIdempotentAnswers", err)
	if n != 1 {
		t.Errorf("DeleteIdempotentAnswers = %d, want 1", n)
	}
	if _, err := s.IdempotentAnswer(ctx, b.Scope, b.Key); err != nil {
		t.Errorf("the young answer went too: %v", err)
	}
}

func testUserVerifications(t *testing.T, s realname.Store) {
	ctx := t.Context()
	user := newID("usr_")
	var ids []string
	for i := range 3 {
		v := openVerification(user, realname.StatusPending, base.Add(time.Duration(i)*time.Minute))
		insertVerifications(t, s, v)
		ids = append([]string{v.CertifyID}, ids...)
	}
	insertVerifications(t, s, sampleVerification(newID("usr_"), newID("pn_")))
	vs, err := s.UserVerifications(ctx, user, 10)
	must(t, "UserVerifications", err)
	if len(vs) != 3 || vs[0].CertifyID != ids[0] || vs[2].CertifyID != ids[2] {
		t.Errorf("UserVerifications: %d sessions, want the user's 3, newest first", len(vs))
	}
	if vs, _ := s.UserVerifications(ctx, user, 2); len(vs) != 2 {
		t.Errorf("UserVerifications(limit 2) = %d", len(vs))
	}
}
