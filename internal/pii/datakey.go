package pii

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// Sizes and limits of the data encryption format.
const (
	// DataKeySize is the size in bytes of a data key (AES-256).
	DataKeySize = 32
	// MaxCiphertextSize bounds the input accepted by DataKey.Open; larger
	// input is rejected with ErrDecrypt before any work is done.
	MaxCiphertextSize = 1 << 20
	// MaxPlaintextSize is the largest plaintext DataKey.Seal accepts, so
	// that every ciphertext it produces fits in MaxCiphertextSize.
	MaxPlaintextSize = MaxCiphertextSize - sealOverhead

	dataVersion   = 0x01
	dataAADPrefix = "realname/pii/data/v1|"
	sealOverhead  = 1 + gcmNonceSize + gcmTagSize
)

var errNoDataKey = errors.New("pii: data key is uninitialised or destroyed")

// DataKey is a per-person 32-byte AES-256-GCM data encryption key (DEK).
// Everything stored about one person is sealed with that person's DataKey,
// and the DataKey itself is stored only in wrapped form (KeyRing.WrapKey).
// Deleting the wrapped key crypto-shreds the person: every ciphertext sealed
// with it becomes permanently unreadable, including copies in backups.
//
// Copies of a DataKey share the same underlying key, so Destroy on one
// affects all copies. The zero DataKey is unusable. A DataKey is safe for
// concurrent Seal and Open, but not concurrently with Destroy. It never
// prints or logs its bytes: String, GoString, Format and LogValue all
// produce "[redacted]".
type DataKey struct {
	s opaque[dataKeyState] // nil for the zero DataKey
}

type dataKeyState struct {
	key  [DataKeySize]byte
	aead cipher.AEAD // AES-256-GCM with random 96-bit nonces
}

// NewDataKey returns a fresh random data key.
func NewDataKey() (DataKey, error) {
	var raw [DataKeySize]byte
	defer clear(raw[:])
	if _, err := rand.Read(raw[:]); err != nil {
		return DataKey{}, errors.New("pii: reading random bytes failed")
	}
	return dataKeyFromBytes(raw[:])
}

// dataKeyFromBytes copies raw (which must be DataKeySize bytes) into a new
// DataKey. The caller remains responsible for clearing raw.
func dataKeyFromBytes(raw []byte) (DataKey, error) {
	if len(raw) != DataKeySize {
		return DataKey{}, errors.New("pii: data key must be 32 bytes")
	}
	s := &dataKeyState{}
	copy(s.key[:], raw)
	aead, err := newRandomNonceGCM(s.key[:])
	if err != nil {
		return DataKey{}, errors.New("pii: data key: " + err.Error())
	}
	s.aead = aead
	return DataKey{s: hide(s)}, nil
}

// state returns the key's state, or nil if the key is zero or destroyed.
func (k DataKey) state() *dataKeyState {
	if k.s == nil || k.s().aead == nil {
		return nil
	}
	return k.s()
}

// Seal encrypts plaintext with AES-256-GCM under a random 96-bit nonce. The
// additional data is "realname/pii/data/v1|" + aad: pass something that
// binds the ciphertext to where it is stored (for example
// "person/<id>/name"), so a ciphertext copied to another row or column
// fails to open. The output is version byte (1), nonce, ciphertext and tag:
// len(plaintext)+29 bytes. Plaintexts over MaxPlaintextSize are rejected
// with an error wrapping ErrTooLarge.
func (k DataKey) Seal(plaintext []byte, aad string) ([]byte, error) {
	s := k.state()
	if s == nil {
		return nil, errNoDataKey
	}
	if len(plaintext) > MaxPlaintextSize {
		return nil, ErrTooLarge
	}
	out := make([]byte, 1, sealOverhead+len(plaintext))
	out[0] = dataVersion
	return s.aead.Seal(out, nil, plaintext, []byte(dataAADPrefix+aad)), nil
}

// Open decrypts a ciphertext produced by Seal with the same key and aad.
// Any failure (malformed or oversized input, tampering, wrong key, wrong
// aad, unusable key) returns ErrDecrypt and no plaintext.
func (k DataKey) Open(ciphertext []byte, aad string) ([]byte, error) {
	s := k.state()
	if s == nil {
		return nil, ErrDecrypt
	}
	if len(ciphertext) < sealOverhead || len(ciphertext) > MaxCiphertextSize || ciphertext[0] != dataVersion {
		return nil, ErrDecrypt
	}
	pt, err := s.aead.Open(nil, nil, ciphertext[1:], []byte(dataAADPrefix+aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// Derive returns 32 bytes derived from the key for one purpose:
// HMAC-SHA256(key, "realname/pii/derive/v1|" + purpose). Nothing of the
// key can be learnt from the output, and the output is gone with the key:
// an identifier derived from a person's data key (their trail handle) can
// no longer be linked to them once the wrapped key is erased.
func (k DataKey) Derive(purpose string) ([]byte, error) {
	s := k.state()
	if s == nil {
		return nil, errNoDataKey
	}
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte("realname/pii/derive/v1|" + purpose))
	return m.Sum(nil), nil
}

// Equal reports, in constant time, whether k and other are the same key.
// Two unusable keys are equal to each other and to nothing else.
func (k DataKey) Equal(other DataKey) bool {
	a, b := k.state(), other.state()
	if a == nil || b == nil {
		return a == b
	}
	return subtle.ConstantTimeCompare(a.key[:], b.key[:]) == 1
}

// Destroy overwrites the raw key bytes and makes k (and all its copies)
// unusable. This is best effort only: Go may have copied the bytes (stack
// moves, GC), the AES key schedule inside the cipher cannot be cleared and
// is merely released to the garbage collector, and wrapped or plaintext
// copies elsewhere are unaffected. It does not crypto-shred anything by
// itself; deleting the stored wrapped key does. Destroy must not run
// concurrently with Seal or Open on the same key.
func (k DataKey) Destroy() {
	if k.s == nil {
		return
	}
	s := k.s()
	clear(s.key[:])
	s.aead = nil
}
