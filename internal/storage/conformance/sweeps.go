package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

func testOpenVerifications(t *testing.T, s realname.Store) {
	ctx := t.Context()
	cutoff := base
	at := func(status realname.Status, d time.Duration) realname.Verification {
		v := openVerification(newID("usr_"), status, cutoff.Add(-time.Hour))
		v.UpdatedAt = cutoff.Add(d)
		if status.Terminal() {
			v.CompletedAt = v.UpdatedAt
		}
		return v
	}
	first := at(realname.StatusPending, -3*time.Minute)
	second := at(realname.StatusProcessing, -2*time.Minute)
	third := at(realname.StatusPending, -time.Minute)
	insertVerifications(t, s,
		third,
		at(realname.StatusSuccess, -5*time.Minute),
		at(realname.StatusFailed, -4*time.Minute),
		at(realname.StatusCancelled, -6*time.Minute),
		at(realname.StatusExpired, -7*time.Minute),
		first,
		at(realname.StatusProcessing, time.Minute), // updated after the cutoff
		at(realname.StatusPending, 0),              // exactly at the cutoff: not before it
		second,
	)

	got, err := s.OpenVerifications(ctx, cutoff, 10)
	must(t, "OpenVerifications", err)
	want := []realname.Verification{first, second, third}
	if len(got) != len(want) {
		ids := make([]string, len(got))
		for i, v := range got {
			ids[i] = string(v.Status) + " " + v.UpdatedAt.String()
		}
		t.Fatalf("OpenVerifications = %d sessions %v, want %d", len(got), ids, len(want))
	}
	for i := range want {
		checkEqual(t, "OpenVerifications["+want[i].CertifyID+"]", got[i], want[i])
	}

	got, err = s.OpenVerifications(ctx, cutoff, 2)
	must(t, "OpenVerifications(limit 2)", err)
	if len(got) != 2 || got[0].CertifyID != first.CertifyID || got[1].CertifyID != second.CertifyID {
		t.Errorf("OpenVerifications(limit 2) = %d sessions, want the two oldest", len(got))
	}
	got, err = s.OpenVerifications(ctx, cutoff.Add(-time.Hour), 10)
	must(t, "OpenVerifications(early cutoff)", err)
	if len(got) != 0 {
		t.Errorf("OpenVerifications(early cutoff) = %d sessions, want none", len(got))
	}
}

func testCountOpenVerifications(t *testing.T, s realname.Store) {
	ctx := t.Context()
	n, err := s.CountOpenVerifications(ctx)
	must(t, "CountOpenVerifications", err)
	if n != 0 {
		t.Fatalf("CountOpenVerifications on an empty store = %d", n)
	}
	var vs []realname.Verification
	for _, st := range []realname.Status{realname.StatusPending, realname.StatusPending,
		realname.StatusProcessing, realname.StatusSuccess, realname.StatusFailed,
		realname.StatusCancelled, realname.StatusExpired} {
		vs = append(vs, openVerification(newID("usr_"), st, base))
	}
	insertVerifications(t, s, vs...)
	n, err = s.CountOpenVerifications(ctx)
	must(t, "CountOpenVerifications", err)
	if n != 3 {
		t.Errorf("CountOpenVerifications = %d, want 3", n)
	}
}

func testExpireVerifications(t *testing.T, s realname.Store) {
	ctx := t.Context()
	now := base
	session := func(status realname.Status, expires time.Time) realname.Verification {
		v := sampleVerification(newID("usr_"), newID("pn_"))
		v.Status, v.ExpiresAt = status, expires
		return v
	}
	past := session(realname.StatusSuccess, now.Add(-time.Second))
	exact := session(realname.StatusSuccess, now) // expires_at <= now
	future := session(realname.StatusSuccess, now.Add(time.Hour))
	never := session(realname.StatusSuccess, time.Time{})
	failed := session(realname.StatusFailed, now.Add(-time.Hour))
	open := openVerification(newID("usr_"), realname.StatusProcessing, now.Add(-time.Hour))
	insertVerifications(t, s, past, exact, future, never, failed, open)

	user := func(status realname.Status, expires time.Time) realname.UserRecord {
		u := sampleUser(newID("usr_"), newID("pn_"))
		u.Status, u.ExpiresAt = status, expires
		return u
	}
	uPast := user(realname.StatusSuccess, now.Add(-time.Minute))
	uExact := user(realname.StatusSuccess, now)
	uFuture := user(realname.StatusSuccess, now.Add(time.Minute))
	uNever := user(realname.StatusSuccess, time.Time{})
	uExpired := user(realname.StatusExpired, now.Add(-time.Hour))
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		for _, u := range []realname.UserRecord{uPast, uExact, uFuture, uNever, uExpired} {
			if err := tx.PutUserRecord(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})

	n, err := s.ExpireVerifications(ctx, now)
	must(t, "ExpireVerifications", err)
	if n != 2 {
		t.Errorf("ExpireVerifications moved %d sessions, want 2", n)
	}
	for _, v := range []realname.Verification{past, exact} {
		v.Status, v.UpdatedAt = realname.StatusExpired, now
		checkVerification(t, s, "expired Verification", v)
	}
	for _, v := range []realname.Verification{future, never, failed, open} {
		checkVerification(t, s, "untouched Verification", v)
	}
	for _, u := range []realname.UserRecord{uPast, uExact} {
		u.Status = realname.StatusExpired
		checkUser(t, s, "expired UserRecord", u)
	}
	for _, u := range []realname.UserRecord{uFuture, uNever, uExpired} {
		checkUser(t, s, "untouched UserRecord", u)
	}

	n, err = s.ExpireVerifications(ctx, now)
	must(t, "ExpireVerifications(again)", err)
	if n != 0 {
		t.Errorf("ExpireVerifications again moved %d sessions, want 0", n)
	}
}

func testPendingProviderDeletions(t *testing.T, s realname.Store) {
	ctx := t.Context()
	cutoff := base
	done := func(status realname.Status, d time.Duration) realname.Verification {
		v := sampleVerification(newID("usr_"), newID("pn_"))
		v.Status, v.ResultDeleted = status, false
		v.CompletedAt = cutoff.Add(d)
		return v
	}
	erased := done(realname.StatusCancelled, -150*time.Second) // cancelled by an erasure: its copy goes too
	erased.FailReason = realname.CodeErased
	first := done(realname.StatusFailed, -3*time.Minute)
	second := done(realname.StatusSuccess, -2*time.Minute)
	third := done(realname.StatusExpired, -time.Minute)
	deleted := done(realname.StatusSuccess, -4*time.Minute)
	deleted.ResultDeleted = true
	noRef := done(realname.StatusFailed, -5*time.Minute) // failed before the face check
	noRef.ProviderRef = ""
	insertVerifications(t, s,
		third, deleted, noRef,
		done(realname.StatusCancelled, -6*time.Minute), // nothing to delete after a cancel
		openVerification(newID("usr_"), realname.StatusProcessing, cutoff.Add(-time.Hour)),
		done(realname.StatusSuccess, 0),           // exactly at the cutoff: not before it
		done(realname.StatusSuccess, time.Minute), // completed after the cutoff
		first, second, erased,
	)

	got, err := s.PendingProviderDeletions(ctx, cutoff, 10)
	must(t, "PendingProviderDeletions", err)
	want := []realname.Verification{first, erased, second, third}
	if len(got) != len(want) {
		t.Fatalf("PendingProviderDeletions = %d sessions, want %d", len(got), len(want))
	}
	for i := range want {
		checkEqual(t, "PendingProviderDeletions["+want[i].CertifyID+"]", got[i], want[i])
	}
	got, err = s.PendingProviderDeletions(ctx, cutoff, 1)
	must(t, "PendingProviderDeletions(limit 1)", err)
	if len(got) != 1 || got[0].CertifyID != first.CertifyID {
		t.Errorf("PendingProviderDeletions(limit 1) = %d sessions, want the oldest", len(got))
	}
	if _, err := s.PendingProviderDeletions(ctx, cutoff, 0); err == nil {
		t.Error("PendingProviderDeletions(limit 0) succeeded")
	}

	must(t, "MarkResultDeleted", s.MarkResultDeleted(ctx, first.CertifyID))
	must(t, "MarkResultDeleted(again)", s.MarkResultDeleted(ctx, first.CertifyID))
	first.ResultDeleted = true
	checkVerification(t, s, "after MarkResultDeleted", first)
	checkVerification(t, s, "untouched by MarkResultDeleted", second)
	got, err = s.PendingProviderDeletions(ctx, cutoff, 10)
	must(t, "PendingProviderDeletions(after mark)", err)
	if len(got) != 3 || got[0].CertifyID != erased.CertifyID || got[1].CertifyID != second.CertifyID || got[2].CertifyID != third.CertifyID {
		t.Errorf("PendingProviderDeletions after MarkResultDeleted = %d sessions, want the erased one, second and third", len(got))
	}
	wantErr(t, "MarkResultDeleted(unknown)", s.MarkResultDeleted(ctx, newID("vf_")), realname.ErrNotFound)
}
