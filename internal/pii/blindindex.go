package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// BlindIndexKeySize is the size in bytes of a blind-index key.
const BlindIndexKeySize = 32

// BlindIndexSize is the size in bytes of a blind-index value (HMAC-SHA256).
const BlindIndexSize = sha256.Size

// BlindIndex computes keyed HMAC-SHA256 digests of normalised values, so that
// a database can answer equality look-ups ("is this ID number already
// registered?") without decrypting anything and without storing an unkeyed
// hash, which for low-entropy data such as PRC ID numbers would be trivially
// reversible by enumeration. Inputs must already be normalised by the caller
// (for example, ID numbers upper-cased with whitespace removed); Sum does no
// normalisation of its own.
//
// Anyone holding the index key can still enumerate low-entropy values, so the
// index key must be protected like the key ring. A BlindIndex is safe for
// concurrent use and never prints or logs its key.
type BlindIndex struct {
	pool opaque[sync.Pool] // of keyed HMAC-SHA256 hash.Hash, reset before reuse
}

// NewBlindIndex returns a BlindIndex using a copy of key, which must be
// exactly 32 bytes and not all zero.
func NewBlindIndex(key []byte) (*BlindIndex, error) {
	if len(key) != BlindIndexKeySize {
		return nil, fmt.Errorf("pii: blind index key must be %d bytes, got %d", BlindIndexKeySize, len(key))
	}
	if isZero(key) {
		return nil, errors.New("pii: blind index key is all zero bytes")
	}
	k := new([BlindIndexKeySize]byte)
	copy(k[:], key)
	return &BlindIndex{pool: hide(&sync.Pool{New: func() any { return hmac.New(sha256.New, k[:]) }})}, nil
}

// Sum returns HMAC-SHA256(key, purpose + 0x00 + value), BlindIndexSize bytes.
// The purpose domain-separates indexes, so the same value indexed for
// different purposes (say "idnum" and "name") produces unrelated digests
// and the columns cannot be joined. Purpose must be a non-empty constant
// without NUL bytes; Sum panics otherwise, since that is a programming error
// that would make the domain separation ambiguous.
func (b *BlindIndex) Sum(purpose, value string) []byte {
	if purpose == "" || strings.IndexByte(purpose, 0) >= 0 {
		panic("pii: BlindIndex.Sum: purpose must be non-empty and contain no NUL byte")
	}
	if b == nil || b.pool == nil {
		panic("pii: BlindIndex used without NewBlindIndex")
	}
	pool := b.pool()
	h := pool.Get().(hash.Hash)
	h.Reset()
	msg := make([]byte, 0, len(purpose)+1+len(value))
	msg = append(append(append(msg, purpose...), 0), value...)
	h.Write(msg)
	clear(msg) // holds the plaintext value; best effort
	sum := h.Sum(make([]byte, 0, BlindIndexSize))
	pool.Put(h)
	return sum
}

// Match reports whether sum is the blind index of value for purpose,
// comparing in constant time.
func (b *BlindIndex) Match(purpose, value string, sum []byte) bool {
	return hmac.Equal(b.Sum(purpose, value), sum)
}
