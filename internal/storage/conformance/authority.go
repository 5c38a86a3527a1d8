package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

func authorityStore(t *testing.T, s realname.Store) realname.AuthorityStore {
	t.Helper()
	as, ok := s.(realname.AuthorityStore)
	if !ok {
		t.Fatalf("%T does not implement realname.AuthorityStore", s)
	}
	return as
}

func sampleAuthority() realname.Authority {
	return realname.Authority{ID: newID("au"), Name: "北京市某公证处", PublicKey: randomBytes(32),
		CreatedBy: "alice", CreatedAt: base}
}

func testAuthorities(t *testing.T, s realname.Store) {
	ctx := t.Context()
	as := authorityStore(t, s)
	a, b := sampleAuthority(), sampleAuthority()
	b.CreatedAt = base.Add(time.Second)
	must(t, "create a", as.CreateAuthority(ctx, a))
	must(t, "create b", as.CreateAuthority(ctx, b))
	wantErr(t, "create a again", as.CreateAuthority(ctx, a), realname.ErrConflict)
	// One public key, one id (migration 0009's unique index).
	sameKey := sampleAuthority()
	sameKey.PublicKey = append([]byte(nil), a.PublicKey...)
	wantErr(t, "create with a's key", as.CreateAuthority(ctx, sameKey), realname.ErrConflict)
	got, err := as.Authority(ctx, a.ID)
	must(t, "authority", err)
	checkEqual(t, "authority", got, a)
	_, err = as.Authority(ctx, "au-missing")
	wantErr(t, "missing authority", err, realname.ErrNotFound)
	list, err := as.Authorities(ctx)
	must(t, "authorities", err)
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("Authorities = %+v, want a then b", list)
	}
	must(t, "revoke", as.RevokeAuthority(ctx, a.ID, base.Add(time.Hour)))
	must(t, "revoke again", as.RevokeAuthority(ctx, a.ID, base.Add(2*time.Hour)))
	got, err = as.Authority(ctx, a.ID)
	must(t, "authority", err)
	if !got.RevokedAt.Equal(base.Add(time.Hour).UTC().Truncate(time.Microsecond)) {
		t.Errorf("RevokedAt = %v, want the first revocation", got.RevokedAt)
	}
	wantErr(t, "revoke missing", as.RevokeAuthority(ctx, "au-missing", base), realname.ErrNotFound)
	wantErr(t, "create with revoked a's key", as.CreateAuthority(ctx, sameKey), realname.ErrConflict)
	if list, err = as.Authorities(ctx); err != nil || len(list) != 2 {
		t.Fatalf("Authorities after refused keys = %d, %v; want 2", len(list), err)
	}
}

func testAuthorityNonces(t *testing.T, s realname.Store) {
	ctx := t.Context()
	as := authorityStore(t, s)
	exp := base.Add(5 * time.Minute)
	must(t, "first use", as.UseNonce(ctx, "au1", "nonce-aaaaaaaaaaaa", base, exp))
	wantErr(t, "replay", as.UseNonce(ctx, "au1", "nonce-aaaaaaaaaaaa", base.Add(time.Minute), exp), realname.ErrConflict)
	must(t, "other authority", as.UseNonce(ctx, "au2", "nonce-aaaaaaaaaaaa", base, exp))
	// After expiry the nonce is purged and may be recorded again.
	must(t, "after expiry", as.UseNonce(ctx, "au1", "nonce-aaaaaaaaaaaa", exp.Add(time.Second), exp.Add(6*time.Minute)))
}

func depositTx(t *testing.T, tx realname.Tx) realname.DepositTx {
	t.Helper()
	d, ok := tx.(realname.DepositTx)
	if !ok {
		t.Fatalf("%T does not implement realname.DepositTx", tx)
	}
	return d
}

func testDepositsAndClaims(t *testing.T, s realname.Store) {
	as := authorityStore(t, s)
	a := sampleAuthority()
	must(t, "create authority", as.CreateAuthority(t.Context(), a))
	p := samplePerson()
	insertPersons(t, s, p)
	d := realname.Deposit{ID: newID("dp"), AuthorityID: a.ID, PersonID: p.ID, Method: "in_person",
		VerifiedAt: base.Add(-time.Hour), CreatedAt: base, Signature: randomBytes(64), BodyHash: randomBytes(32),
		SignedMessage: []byte("realname-authority-v2\nau1\nrealname.example.cn\nPOST\n/x\n1\nn\nab")}
	hash := randomBytes(32)
	c := realname.ClaimCode{Hash: hash, DepositID: d.ID, CreatedAt: base, ExpiresAt: base.Add(30 * 24 * time.Hour)}
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		dt := depositTx(t, tx)
		if err := dt.InsertDeposit(ctx, d); err != nil {
			return err
		}
		return dt.InsertClaimCode(ctx, c)
	})
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		dt := depositTx(t, tx)
		got, err := dt.Deposit(ctx, d.ID)
		must(t, "deposit", err)
		checkEqual(t, "deposit", got, d)
		gc, err := dt.ClaimCode(ctx, hash)
		must(t, "claim code", err)
		checkEqual(t, "claim code", gc, c)
		_, err = dt.ClaimCode(ctx, randomBytes(32))
		wantErr(t, "unknown claim code", err, realname.ErrNotFound)
		must(t, "use", dt.UseClaimCode(ctx, hash, "user-1", base.Add(time.Hour)))
		wantErr(t, "use again", dt.UseClaimCode(ctx, hash, "user-2", base.Add(2*time.Hour)), realname.ErrConflict)
		wantErr(t, "use unknown", dt.UseClaimCode(ctx, randomBytes(32), "user-2", base), realname.ErrNotFound)
		gc, err = dt.ClaimCode(ctx, hash)
		must(t, "claim code", err)
		if gc.UsedBy != "user-1" || gc.UsedAt.IsZero() {
			t.Errorf("used code = %+v, want used by user-1", gc)
		}
		must(t, "set user", dt.SetDepositUser(ctx, d.ID, "user-1", "vf1"))
		got, err = dt.Deposit(ctx, d.ID)
		must(t, "deposit", err)
		if got.UserID != "user-1" || got.CertifyID != "vf1" {
			t.Errorf("deposit user = %q %q", got.UserID, got.CertifyID)
		}
		wantErr(t, "set user of unknown", dt.SetDepositUser(ctx, "dp-missing", "u", "v"), realname.ErrNotFound)
		ga, err := dt.Authority(ctx, a.ID)
		must(t, "authority in a transaction", err)
		checkEqual(t, "authority in a transaction", ga, a)
		_, err = dt.Authority(ctx, "au-missing")
		wantErr(t, "missing authority in a transaction", err, realname.ErrNotFound)
		return nil
	})
	testVoidClaimCodes(t, s, a, d, hash)
}

// testVoidClaimCodes: revoking in a transaction voids the authority's
// unused codes only (not a used one, not another authority's).
func testVoidClaimCodes(t *testing.T, s realname.Store, a realname.Authority, used realname.Deposit, usedHash []byte) {
	as := authorityStore(t, s)
	other := sampleAuthority()
	must(t, "create other authority", as.CreateAuthority(t.Context(), other))
	p := samplePerson()
	insertPersons(t, s, p)
	dep := func(auth string) realname.Deposit {
		return realname.Deposit{ID: newID("dp"), AuthorityID: auth, PersonID: p.ID, Method: "in_person",
			VerifiedAt: base.Add(-time.Hour), CreatedAt: base, Signature: randomBytes(64), BodyHash: randomBytes(32),
			SignedMessage: []byte("m")}
	}
	mine, theirs := dep(a.ID), dep(other.ID)
	mineHash, theirHash := randomBytes(32), randomBytes(32)
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		dt := depositTx(t, tx)
		for _, x := range []struct {
			d realname.Deposit
			h []byte
		}{{mine, mineHash}, {theirs, theirHash}} {
			if err := dt.InsertDeposit(ctx, x.d); err != nil {
				return err
			}
			if err := dt.InsertClaimCode(ctx, realname.ClaimCode{Hash: x.h, DepositID: x.d.ID, CreatedAt: base,
				ExpiresAt: base.Add(24 * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	at := base.Add(3 * time.Hour)
	inTx(t, s, func(ctx context.Context, tx realname.Tx) error {
		rt, ok := tx.(realname.AuthorityRevokeTx)
		if !ok {
			t.Fatalf("%T does not implement realname.AuthorityRevokeTx", tx)
		}
		must(t, "revoke in a transaction", rt.RevokeAuthority(ctx, a.ID, at))
		wantErr(t, "revoke missing in a transaction", rt.RevokeAuthority(ctx, "au-missing", at), realname.ErrNotFound)
		n, err := rt.VoidClaimCodes(ctx, a.ID, at)
		must(t, "void", err)
		if n != 1 {
			t.Errorf("voided %d codes, want 1 (the unused one of this authority)", n)
		}
		dt := depositTx(t, tx)
		for _, x := range []struct {
			name   string
			h      []byte
			voided bool
		}{{"unused", mineHash, true}, {"other authority's", theirHash, false}} {
			c, err := dt.ClaimCode(ctx, x.h)
			must(t, x.name, err)
			if got := !c.UsedAt.IsZero(); got != x.voided || x.voided && (!c.UsedAt.Equal(at.Truncate(time.Microsecond)) || c.UsedBy != "") {
				t.Errorf("%s code after revoke: %+v", x.name, c)
			}
		}
		c, err := dt.ClaimCode(ctx, usedHash)
		must(t, "used", err)
		if c.UsedBy != "user-1" || c.UsedAt.Equal(at.Truncate(time.Microsecond)) {
			t.Errorf("a used code was voided again: %+v", c)
		}
		ga, err := dt.Authority(ctx, a.ID)
		must(t, "revoked authority", err)
		if !ga.Revoked() {
			t.Error("not revoked")
		}
		return nil
	})
}
