package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

// putUser stores a user record in its own transaction.
func putUser(s realname.Store, u realname.UserRecord) error {
	ctx := context.Background()
	return s.InTx(ctx, func(tx realname.Tx) error { return tx.PutUserRecord(ctx, u) })
}

// checkUser reads a user record back and compares it with want.
func checkUser(t *testing.T, s realname.Store, what string, want realname.UserRecord) {
	t.Helper()
	got, err := s.UserRecord(t.Context(), want.UserID)
	if err != nil {
		t.Fatalf("%s: UserRecord: %v", what, err)
	}
	checkEqual(t, what, got, want)
	got, err = s.UserByPerson(t.Context(), want.PersonID)
	if err != nil {
		t.Fatalf("%s: UserByPerson: %v", what, err)
	}
	checkEqual(t, what+" (by person)", got, want)
}

func testUserRecord(t *testing.T, s realname.Store) {
	ctx := t.Context()
	u := sampleUser(newID("usr_"), newID("pn_"))
	must(t, "PutUserRecord", putUser(s, u))
	checkUser(t, s, "UserRecord", u)

	// Replace: every field but the user id, the person too.
	replaced := sampleUser(u.UserID, newID("pn_"))
	replaced.Status, replaced.Evidence = realname.StatusExpired, realname.EvidenceAuthorityDeposit
	replaced.VerifiedAt, replaced.ExpiresAt = base.Add(time.Hour+3), time.Time{}
	must(t, "PutUserRecord(replace)", putUser(s, replaced))
	checkUser(t, s, "replaced UserRecord", replaced)
	_, err := s.UserByPerson(ctx, u.PersonID)
	wantErr(t, "UserByPerson(released person)", err, realname.ErrNotFound)

	// The released person may be bound to someone else.
	other := sampleUser(newID("usr_"), u.PersonID)
	must(t, "PutUserRecord(released person)", putUser(s, other))
	checkUser(t, s, "UserRecord of the released person", other)

	inTx(t, s, func(ctx context.Context, tx realname.Tx) error { return tx.DeleteUserRecord(ctx, u.UserID) })
	_, err = s.UserRecord(ctx, u.UserID)
	wantErr(t, "UserRecord(deleted)", err, realname.ErrNotFound)
	_, err = s.UserByPerson(ctx, replaced.PersonID)
	wantErr(t, "UserByPerson(deleted)", err, realname.ErrNotFound)
	err = s.InTx(ctx, func(tx realname.Tx) error { return tx.DeleteUserRecord(ctx, u.UserID) })
	wantErr(t, "DeleteUserRecord(deleted)", err, realname.ErrNotFound)
	checkUser(t, s, "other UserRecord after delete", other)

	_, err = s.UserRecord(ctx, newID("usr_"))
	wantErr(t, "UserRecord(unknown)", err, realname.ErrNotFound)
	_, err = s.UserByPerson(ctx, newID("pn_"))
	wantErr(t, "UserByPerson(unknown)", err, realname.ErrNotFound)
}

func testUserRecordConflict(t *testing.T, s realname.Store) {
	ctx := t.Context()
	first := sampleUser(newID("usr_"), newID("pn_"))
	must(t, "PutUserRecord", putUser(s, first))

	second := sampleUser(newID("usr_"), first.PersonID)
	wantErr(t, "PutUserRecord(person bound to another user)", putUser(s, second), realname.ErrConflict)
	checkUser(t, s, "first UserRecord after the conflict", first)
	_, err := s.UserRecord(ctx, second.UserID)
	wantErr(t, "UserRecord(refused)", err, realname.ErrNotFound)

	// A user moving onto a taken person is refused too, and keeps its record.
	third := sampleUser(newID("usr_"), newID("pn_"))
	must(t, "PutUserRecord(third)", putUser(s, third))
	moved := third
	moved.PersonID = first.PersonID
	wantErr(t, "PutUserRecord(move onto a bound person)", putUser(s, moved), realname.ErrConflict)
	checkUser(t, s, "third UserRecord after the conflict", third)
	checkUser(t, s, "first UserRecord after the second conflict", first)
}

func testIdempotentAnswers(t *testing.T, s realname.Store) {
	ctx := t.Context()
	put := func(a realname.IdempotentAnswer) error {
		return s.InTx(ctx, func(tx realname.Tx) error { return tx.PutIdempotentAnswer(ctx, a) })
	}
	a := sampleAnswer()
	must(t, "PutIdempotentAnswer", put(a))
	got, err := s.IdempotentAnswer(ctx, a.Scope, a.Key)
	must(t, "IdempotentAnswer", err)
	checkEqual(t, "IdempotentAnswer", got, a)

	again := sampleAnswer()
	again.Scope, again.Key = a.Scope, a.Key
	wantErr(t, "PutIdempotentAnswer(same scope and key)", put(again), realname.ErrConflict)
	got, err = s.IdempotentAnswer(ctx, a.Scope, a.Key)
	must(t, "IdempotentAnswer", err)
	checkEqual(t, "IdempotentAnswer after the conflict", got, a)

	otherScope := sampleAnswer()
	otherScope.Key = a.Key
	must(t, "PutIdempotentAnswer(same key, other scope)", put(otherScope))
	got, err = s.IdempotentAnswer(ctx, otherScope.Scope, a.Key)
	must(t, "IdempotentAnswer(other scope)", err)
	checkEqual(t, "IdempotentAnswer(other scope)", got, otherScope)

	_, err = s.IdempotentAnswer(ctx, a.Scope, newID("idem-"))
	wantErr(t, "IdempotentAnswer(unknown key)", err, realname.ErrNotFound)
	_, err = s.IdempotentAnswer(ctx, newID("ak_"), a.Key)
	wantErr(t, "IdempotentAnswer(unknown scope)", err, realname.ErrNotFound)
}

func testAPIKeys(t *testing.T, s realname.Store) {
	ctx := t.Context()
	active, revoked := sampleAPIKey(false), sampleAPIKey(true)
	for _, k := range []realname.APIKey{active, revoked} {
		must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
		got, err := s.APIKeyByHash(ctx, k.Hash)
		must(t, "APIKeyByHash", err)
		checkEqual(t, "APIKeyByHash", got, k)
	}
	got, err := s.APIKeyByHash(ctx, active.Hash)
	must(t, "APIKeyByHash", err)
	if !got.RevokedAt.IsZero() {
		t.Errorf("active key RevokedAt = %v, want zero", got.RevokedAt)
	}

	sameHash := sampleAPIKey(false)
	sameHash.Hash = active.Hash
	wantErr(t, "CreateAPIKey(same hash)", s.CreateAPIKey(ctx, sameHash), realname.ErrConflict)
	sameID := sampleAPIKey(false)
	sameID.ID = active.ID
	wantErr(t, "CreateAPIKey(same id)", s.CreateAPIKey(ctx, sameID), realname.ErrConflict)
	_, err = s.APIKeyByHash(ctx, sameID.Hash)
	wantErr(t, "APIKeyByHash(refused)", err, realname.ErrNotFound)
	_, err = s.APIKeyByHash(ctx, randomBytes(32))
	wantErr(t, "APIKeyByHash(unknown)", err, realname.ErrNotFound)

	// Listing (by creation time, then id) and revoking.
	older := sampleAPIKey(false)
	older.CreatedAt = active.CreatedAt.Add(-time.Hour)
	must(t, "CreateAPIKey(older)", s.CreateAPIKey(ctx, older))
	want := []realname.APIKey{older, active, revoked}
	if active.ID > revoked.ID {
		want[1], want[2] = revoked, active
	}
	list, err := s.APIKeys(ctx)
	must(t, "APIKeys", err)
	if len(list) != len(want) {
		t.Fatalf("APIKeys = %d keys, want %d", len(list), len(want))
	}
	for i := range want {
		checkEqual(t, "APIKeys["+want[i].ID+"]", list[i], want[i])
	}
	must(t, "RevokeAPIKey", s.RevokeAPIKey(ctx, active.ID, base))
	active.RevokedAt = base
	got, err = s.APIKeyByHash(ctx, active.Hash)
	must(t, "APIKeyByHash(after revoke)", err)
	checkEqual(t, "revoked key", got, active)
	must(t, "RevokeAPIKey(again)", s.RevokeAPIKey(ctx, revoked.ID, base.Add(time.Hour)))
	got, err = s.APIKeyByHash(ctx, revoked.Hash)
	must(t, "APIKeyByHash(revoked twice)", err)
	checkEqual(t, "a key revoked twice keeps its first time", got, revoked)
	wantErr(t, "RevokeAPIKey(unknown)", s.RevokeAPIKey(ctx, newID("ak_"), base), realname.ErrNotFound)
}
