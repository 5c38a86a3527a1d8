package realname

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	// Reload, if set, reads the key ring again. It is called when a
	// wrapped key names a key the ring does not know — another process
	// (realname keys rotate) added it — so rotation needs no restart.
	Reload func() (*pii.KeyRing, error)
}

// keyState is the service's live view of the keys.
type keyState struct {
	ring     atomic.Pointer[pii.KeyRing]
	index    *pii.BlindIndex
	reload   func() (*pii.KeyRing, error)
	mu       sync.Mutex
	reloaded time.Time
}

func newKeyState(k Keys) *keyState {
	ks := &keyState{index: k.Index, reload: k.Reload}
	ks.ring.Store(k.Ring)
	return ks
}

// unwrap opens a person's data key, reloading the ring once (at most every
// few seconds) if the key that wrapped it is unknown.
func (k *keyState) unwrap(p Person) (pii.DataKey, error) {
	dek, err := k.ring.Load().UnwrapKey(p.WrappedKey, wrapContext(p.ID))
	if !errors.Is(err, pii.ErrUnknownKey) || k.reload == nil {
		return dek, err
	}
	k.mu.Lock()
	if time.Since(k.reloaded) > 2*time.Second {
		k.reloaded = time.Now()
		if ring, rerr := k.reload(); rerr == nil {
			k.ring.Store(ring)
		}
	}
	k.mu.Unlock()
	return k.ring.Load().UnwrapKey(p.WrappedKey, wrapContext(p.ID))
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
func (k *keyState) sealPerson(p *Person, name, number string) error {
	var dek pii.DataKey
	var err error
	if len(p.WrappedKey) == 0 {
		if dek, err = pii.NewDataKey(); err != nil {
			return fmt.Errorf("new data key: %w", err)
		}
		ring := k.ring.Load()
		if p.WrappedKey, err = ring.WrapKey(dek, wrapContext(p.ID)); err != nil {
			return fmt.Errorf("wrap data key: %w", err)
		}
		p.KeyID = ring.PrimaryID()
	} else if dek, err = k.unwrap(*p); err != nil {
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
func (k *keyState) openPerson(p Person) (IdentityInput, error) {
	dek, err := k.unwrap(p)
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
func (k *keyState) newPerson(certType, name, number string, now time.Time) (Person, error) {
	p := Person{
		ID:        newID("ps"),
		Index:     k.index.Sum(indexPurposeNumber, number),
		CertType:  certType,
		CreatedAt: now,
	}
	if err := k.sealPerson(&p, name, number); err != nil {
		return Person{}, err
	}
	return p, nil
}

// sealWith encrypts other data of a person (a review's files) with the
// person's data key, so that erasure makes it unreadable too.
func (k *keyState) sealWith(p Person, plaintext []byte, aad string) ([]byte, error) {
	dek, err := k.unwrap(p)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of %s: %w", p.ID, err)
	}
	ct, err := dek.Seal(plaintext, p.ID+"|"+aad)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", aad, err)
	}
	return ct, nil
}

// openWith decrypts what sealWith encrypted.
func (k *keyState) openWith(p Person, ciphertext []byte, aad string) ([]byte, error) {
	dek, err := k.unwrap(p)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of %s: %w", p.ID, err)
	}
	plain, err := dek.Open(ciphertext, p.ID+"|"+aad)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", aad, err)
	}
	return plain, nil
}
