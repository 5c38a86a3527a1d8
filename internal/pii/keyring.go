package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Sizes and limits of the key-wrapping format.
const (
	// KEKSize is the size in bytes of a key-encryption key (AES-256).
	KEKSize = 32
	// MaxKeyIDLen is the maximum length of a key id.
	MaxKeyIDLen = 32
	// MaxWrappedKeySize bounds the input accepted by UnwrapKey, NeedsRewrap
	// and Rewrap; anything larger is rejected before parsing.
	MaxWrappedKeySize = 1024

	wrapVersion   = 0x01
	wrapAADPrefix = "realname/pii/wrap/v1|"
	gcmNonceSize  = 12
	gcmTagSize    = 16
	// wrapBodySize is nonce + encrypted data key + tag.
	wrapBodySize = gcmNonceSize + DataKeySize + gcmTagSize
)

// Key is a key-encryption key (KEK) as configured: a short non-secret id, a
// 32-byte secret, and its creation time. Key is a transient configuration
// value: NewKeyRing copies what it needs, after which the caller may clear
// Secret (best effort; see the package documentation). Key's String, Format,
// LogValue and MarshalJSON methods never reveal Secret, but the Secret field
// itself is exported, so do not keep Keys around.
type Key struct {
	ID      string
	Secret  []byte
	Created time.Time
}

// KeyRing holds key-encryption keys, each identified by a short id. One of
// them is primary: WrapKey always uses it, while UnwrapKey accepts any key in
// the ring, so that data keys wrapped before a rotation remain readable.
// A KeyRing is immutable and safe for concurrent use. It does not retain the
// raw secrets, only the initialised AES-GCM ciphers derived from them, and
// it prints and logs only its key ids.
type KeyRing struct {
	primary string
	ids     []string                // sorted
	keks    opaque[map[string]*kek] // by id
}

// kek is one key-encryption key, ready for use.
type kek struct {
	id   string
	aead cipher.AEAD // AES-256-GCM with random 96-bit nonces
}

// NewKeyRing builds a key ring from keys. Ids must be unique, 1 to
// MaxKeyIDLen characters of [a-zA-Z0-9_-]; secrets must be exactly KEKSize
// bytes and not all zero; primary must be one of the ids.
func NewKeyRing(keys []Key, primary string) (*KeyRing, error) {
	if len(keys) == 0 {
		return nil, errors.New("pii: key ring has no keys")
	}
	keks := make(map[string]*kek, len(keys))
	r := &KeyRing{primary: primary, keks: hide(&keks)}
	for i, k := range keys {
		if !validKeyID(k.ID) {
			return nil, fmt.Errorf("pii: key ring: key #%d: id must be 1-%d characters of [a-zA-Z0-9_-]", i, MaxKeyIDLen)
		}
		if _, dup := keks[k.ID]; dup {
			return nil, fmt.Errorf("pii: key ring: duplicate key id %q", k.ID)
		}
		if len(k.Secret) != KEKSize {
			return nil, fmt.Errorf("pii: key ring: key %q: secret must be %d bytes, got %d", k.ID, KEKSize, len(k.Secret))
		}
		if isZero(k.Secret) {
			return nil, fmt.Errorf("pii: key ring: key %q: secret is all zero bytes", k.ID)
		}
		aead, err := newRandomNonceGCM(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("pii: key ring: key %q: %w", k.ID, err)
		}
		keks[k.ID] = &kek{id: k.ID, aead: aead}
		r.ids = append(r.ids, k.ID)
	}
	if _, ok := keks[primary]; !ok {
		if !validKeyID(primary) {
			return nil, errors.New("pii: key ring: primary key id is missing or invalid")
		}
		return nil, fmt.Errorf("pii: key ring: primary key %q is not in the ring", primary)
	}
	slices.Sort(r.ids)
	return r, nil
}

// PrimaryID returns the id of the key used by WrapKey.
func (r *KeyRing) PrimaryID() string { return r.primary }

// IDs returns the ids of all keys in the ring, sorted.
func (r *KeyRing) IDs() []string { return slices.Clone(r.ids) }

// WrapKey encrypts dek under the primary key with AES-256-GCM and a random
// 96-bit nonce. The additional data is "realname/pii/wrap/v1|" + keyID + "|"
// + context, so a wrapped key only unwraps under the same context; use
// something that names its owner, such as "person/<id>". The output is
// self-describing: version byte (1), key-id length byte, key id, nonce,
// ciphertext and tag. It is at most 2+MaxKeyIDLen+60 bytes.
func (r *KeyRing) WrapKey(dek DataKey, context string) ([]byte, error) {
	d := dek.state()
	if d == nil {
		return nil, errNoDataKey
	}
	k := r.kek(r.primary)
	if k == nil {
		return nil, errNoKeyRing
	}
	out := make([]byte, 0, 2+len(k.id)+wrapBodySize)
	out = append(out, wrapVersion, byte(len(k.id)))
	out = append(out, k.id...)
	return k.aead.Seal(out, nil, d.key[:], wrapAAD(k.id, context)), nil
}

// UnwrapKey decrypts a key produced by WrapKey with any key in the ring. It
// returns an error wrapping ErrUnknownKey if the wrapping key's id is not in
// the ring, and ErrDecrypt if the input is malformed, larger than
// MaxWrappedKeySize, tampered with, or was wrapped under a different context.
func (r *KeyRing) UnwrapKey(wrapped []byte, context string) (DataKey, error) {
	id, body, ok := parseWrapped(wrapped)
	if !ok {
		return DataKey{}, ErrDecrypt
	}
	k := r.kek(id)
	if k == nil {
		return DataKey{}, fmt.Errorf("%w: %q", ErrUnknownKey, id)
	}
	raw, err := k.aead.Open(nil, nil, body, wrapAAD(id, context))
	if err != nil || len(raw) != DataKeySize {
		return DataKey{}, ErrDecrypt
	}
	defer clear(raw)
	return dataKeyFromBytes(raw)
}

// NeedsRewrap reports whether wrapped was not wrapped by the primary key,
// including when it cannot be parsed at all. It does not decrypt.
func (r *KeyRing) NeedsRewrap(wrapped []byte) bool {
	id, _, ok := parseWrapped(wrapped)
	return !ok || id != r.primary
}

// Rewrap unwraps wrapped with whichever ring key it names and wraps the
// data key again with the primary key under the same context. Use it with
// NeedsRewrap to migrate stored keys after a rotation, before the old key is
// removed from the ring.
func (r *KeyRing) Rewrap(wrapped []byte, context string) ([]byte, error) {
	dek, err := r.UnwrapKey(wrapped, context)
	if err != nil {
		return nil, err
	}
	defer dek.Destroy()
	return r.WrapKey(dek, context)
}

var errNoKeyRing = errors.New("pii: key ring is not initialised (use NewKeyRing)")

// kek returns the key with the given id, or nil if there is none (including
// for a nil or zero KeyRing).
func (r *KeyRing) kek(id string) *kek {
	if r == nil || r.keks == nil {
		return nil
	}
	return (*r.keks())[id]
}

// parseWrapped splits a wrapped key into its key id and the GCM body
// (nonce || ciphertext || tag). It validates every length before slicing.
func parseWrapped(b []byte) (id string, body []byte, ok bool) {
	if len(b) < 2 || len(b) > MaxWrappedKeySize || b[0] != wrapVersion {
		return "", nil, false
	}
	n := int(b[1])
	if n == 0 || n > MaxKeyIDLen || len(b) != 2+n+wrapBodySize {
		return "", nil, false
	}
	id = string(b[2 : 2+n])
	if !validKeyID(id) {
		return "", nil, false
	}
	return id, b[2+n:], true
}

func wrapAAD(id, context string) []byte {
	return []byte(wrapAADPrefix + id + "|" + context)
}

// validKeyID reports whether id is 1..MaxKeyIDLen characters of [a-zA-Z0-9_-].
// Because '|' is excluded, the wrap AAD is unambiguous.
func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > MaxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// newRandomNonceGCM returns AES-256-GCM that generates a random 96-bit
// nonce per Seal and prepends it to the output.
func newRandomNonceGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errors.New("invalid AES key") // never echo the key
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// isZero reports, in constant time, whether b is all zero bytes.
func isZero(b []byte) bool {
	return subtle.ConstantTimeCompare(b, make([]byte, len(b))) == 1
}
