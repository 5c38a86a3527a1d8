package authority

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/realname/realname/internal/realname"
)

// Store is what registration needs: the authorities and the audit log.
// sqlstore.Store implements it.
type Store interface {
	realname.AuthorityStore
	Audit(ctx context.Context, e realname.AuditEntry) error
}

// NewID returns a new authority id: "au" and 30 hex digits.
func NewID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "au" + hex.EncodeToString(b[:])
}

// ErrKeyRegistered reports a public key that is registered already, under
// another id (revoked or not).
var ErrKeyRegistered = errors.New("this public key is registered already")

// Register stores a new authority with its public key, recorded in the
// audit log under the operator's name. A key is registered once only, even
// after its authority was revoked (ErrKeyRegistered): two ids with one key
// would each accept what the institution signed for the other; the
// database's unique index on public_key (migration 0009) enforces it too.
func Register(ctx context.Context, st Store, name string, pub ed25519.PublicKey, operator string, now time.Time) (realname.Authority, error) {
	if !realname.ValidOperatorName(operator) {
		return realname.Authority{}, errors.New("the operator's name must be 1–64 printable characters (--operator)")
	}
	if !realname.ValidLabel(name, 2, 100) {
		return realname.Authority{}, errors.New("the authority's name must be 2–100 printable characters")
	}
	if len(pub) != ed25519.PublicKeySize {
		return realname.Authority{}, fmt.Errorf("the public key must be %d bytes of Ed25519", ed25519.PublicKeySize)
	}
	known, err := st.Authorities(ctx)
	if err != nil {
		return realname.Authority{}, err
	}
	for _, k := range known {
		if bytes.Equal(k.PublicKey, pub) {
			state := "active"
			if k.Revoked() {
				state = "revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
			}
			return realname.Authority{}, fmt.Errorf("%w as authority %s (%s, %s): each registration needs a key pair of its own",
				ErrKeyRegistered, k.ID, k.Name, state)
		}
	}
	now = now.UTC().Truncate(time.Microsecond)
	a := realname.Authority{ID: NewID(), Name: name, PublicKey: append([]byte(nil), pub...), CreatedBy: operator, CreatedAt: now}
	if err := st.CreateAuthority(ctx, a); errors.Is(err, realname.ErrConflict) {
		// Registered meanwhile by another process (the unique index).
		return realname.Authority{}, fmt.Errorf("%w: %w", ErrKeyRegistered, err)
	} else if err != nil {
		return realname.Authority{}, err
	}
	if err := st.Audit(ctx, realname.AuditEntry{At: now, ActorKind: realname.ActorOperator, Actor: operator,
		Action: "authority.add", Subject: a.ID, Target: a.ID, Reason: "registered authority " + name}); err != nil {
		return realname.Authority{}, err
	}
	return a, nil
}

// Revoke revokes an authority: its requests are refused from now on. A
// store whose transactions can (sqlstore.Store) also voids the unused
// claim codes of the authority's deposits, in the same transaction as the
// revocation and its audit entry; Claim refuses a revoked authority's
// codes in any case.
func Revoke(ctx context.Context, st Store, id, operator string, now time.Time) error {
	if !realname.ValidOperatorName(operator) {
		return errors.New("the operator's name must be 1–64 printable characters (--operator)")
	}
	if !ValidID(id) {
		return fmt.Errorf("%q is not an authority id (au…)", id)
	}
	now = now.UTC().Truncate(time.Microsecond)
	entry := realname.AuditEntry{At: now, ActorKind: realname.ActorOperator, Actor: operator,
		Action: "authority.revoke", Subject: id, Target: id}
	if txs, ok := st.(interface {
		InTx(ctx context.Context, fn func(realname.Tx) error) error
	}); ok {
		return txs.InTx(ctx, func(tx realname.Tx) error {
			rt, ok := tx.(realname.AuthorityRevokeTx)
			if !ok {
				return errors.New("authority: the store's transactions cannot revoke an authority")
			}
			if err := rt.RevokeAuthority(ctx, id, now); err != nil {
				return err
			}
			n, err := rt.VoidClaimCodes(ctx, id, now)
			if err != nil {
				return err
			}
			entry.Reason = fmt.Sprintf("revoked; %d unused claim codes voided", n)
			return tx.Audit(ctx, entry)
		})
	}
	if err := st.RevokeAuthority(ctx, id, now); err != nil {
		return err
	}
	return st.Audit(ctx, entry)
}
