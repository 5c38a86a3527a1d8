package realname

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/realname/realname/internal/pii"
)

// Blind-index purposes.
const (
	indexPurposeNumber      = "id_number"
	indexPurposeIdempotency = "idempotency"
)

// Keys is the key material the domain needs.
type Keys struct {
	Ring  *pii.KeyRing
	Index *pii.BlindIndex
}

// newID returns a random id: a two-letter prefix and 30 hex digits (120
// random bits), 32 letters and digits in all — the shape Cloudauth accepts
// as OuterOrderNo, so our certify id goes to the provider unchanged.
func newID(prefix string) string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

func wrapContext(personID string) string { return "person:" + personID }

// sealPerson encrypts name and number into p with a fresh data key when p has
// none, or with p's existing key.
func (k Keys) sealPerson(p *Person, name, number string) error {
	var dek pii.DataKey
	var err error
	if len(p.WrappedKey) == 0 {
		if dek, err = pii.NewDataKey(); err != nil {
			return fmt.Errorf("new data key: %w", err)
		}
		if p.WrappedKey, err = k.Ring.WrapKey(dek, wrapContext(p.ID)); err != nil {
			return fmt.Errorf("wrap data key: %w", err)
		}
		p.KeyID = k.Ring.PrimaryID()
	} else if dek, err = k.Ring.UnwrapKey(p.WrappedKey, wrapContext(p.ID)); err != nil {
		return fmt.Errorf("unwrap data key of %s: %w", p.ID, err)
	}
	if p.NameCT, err = dek.Seal([]byte(name), p.ID+"|name"); err != nil {
		return fmt.Errorf("seal name: %w", err)
	}
	if p.NumberCT, err = dek.Seal([]byte(number), p.ID+"|number"); err != nil {
		return fmt.Errorf("seal number: %w", err)
	}
	return nil
}

// openPerson decrypts a person's identity.
func (k Keys) openPerson(p Person) (IdentityInput, error) {
	dek, err := k.Ring.UnwrapKey(p.WrappedKey, wrapContext(p.ID))
	if err != nil {
		return IdentityInput{}, fmt.Errorf("unwrap data key of %s: %w", p.ID, err)
	}
	name, err := dek.Open(p.NameCT, p.ID+"|name")
	if err != nil {
		return IdentityInput{}, fmt.Errorf("open name of %s: %w", p.ID, err)
	}
	number, err := dek.Open(p.NumberCT, p.ID+"|number")
	if err != nil {
		return IdentityInput{}, fmt.Errorf("open number of %s: %w", p.ID, err)
	}
	return IdentityInput{CertType: p.CertType, Name: string(name), Number: string(number)}, nil
}

// newPerson builds an encrypted person record.
func (k Keys) newPerson(certType, name, number string, now time.Time) (Person, error) {
	p := Person{
		ID:        newID("ps"),
		Index:     k.Index.Sum(indexPurposeNumber, number),
		CertType:  certType,
		CreatedAt: now,
	}
	if err := k.sealPerson(&p, name, number); err != nil {
		return Person{}, err
	}
	return p, nil
}
