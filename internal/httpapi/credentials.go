package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/realname/realname/internal/realname"
)

// APIKeyPrefix starts every API key realname issues.
const APIKeyPrefix = "rk_"

// NewAPIKey returns a fresh API key secret and its hash.
func NewAPIKey() (secret string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("random key: %w", err)
	}
	secret = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashAPIKey(secret), nil
}

// HashAPIKey is how keys are stored: SHA-256 of the secret. Keys are 256-bit
// random, so a fast hash is enough; no password hashing is needed.
func HashAPIKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// KeyLookup finds an API key by its hash.
type KeyLookup func(ctx context.Context, hash []byte) (realname.APIKey, error)

// apiKeys checks API keys against the store and the bootstrap key, keeping
// recent answers in memory for the hot path.
type apiKeys struct {
	lookup    KeyLookup
	bootstrap []byte // hash of REALNAME_API_KEY, or nil
	now       func() time.Time
	mu        sync.RWMutex
	known     map[[32]byte]knownKey
}

type knownKey struct {
	id      string
	ok      bool
	checked time.Time
}

// keyCacheTTL bounds how long a revoked key keeps working on a replica.
const keyCacheTTL = 30 * time.Second

func newAPIKeys(lookup KeyLookup, bootstrap string, now func() time.Time) *apiKeys {
	k := &apiKeys{lookup: lookup, now: now, known: make(map[[32]byte]knownKey)}
	if bootstrap != "" {
		k.bootstrap = HashAPIKey(bootstrap)
	}
	return k
}

// check returns the key's id if secret is a valid, unrevoked API key.
func (k *apiKeys) check(ctx context.Context, secret string) (string, bool, error) {
	if len(secret) > 128 {
		return "", false, nil
	}
	var buf [128]byte // hashing a copy on the stack: no allocation per request
	h := sha256.Sum256(buf[:copy(buf[:], secret)])
	if k.bootstrap != nil && subtle.ConstantTimeCompare(k.bootstrap, h[:]) == 1 {
		return "env", true, nil
	}
	now := k.now()
	k.mu.RLock()
	c, hit := k.known[h]
	k.mu.RUnlock()
	if hit && now.Sub(c.checked) < keyCacheTTL {
		return c.id, c.ok, nil
	}
	key, err := k.lookup(ctx, append([]byte(nil), h[:]...)) // a copy, so h stays on the stack
	switch {
	case errors.Is(err, realname.ErrNotFound):
		c = knownKey{checked: now}
	case err != nil:
		return "", false, fmt.Errorf("look up API key: %w", err)
	default:
		c = knownKey{id: key.ID, ok: key.RevokedAt.IsZero(), checked: now}
	}
	k.mu.Lock()
	if len(k.known) > 10_000 {
		clear(k.known) // bound memory against key-guessing floods
	}
	k.known[h] = c
	k.mu.Unlock()
	return c.id, c.ok, nil
}

// userTokens mints and checks short-lived user tokens:
// "ut1." + base64url(expiry unix seconds, 8 bytes BE ‖ user id) + "." +
// base64url(HMAC-SHA256(key, "ut1." + payload)).
type userTokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

const tokenPrefix = "ut1."

// Mint returns a token acting for userID until the returned time.
func (t *userTokens) Mint(userID string) (string, time.Time) {
	exp := t.now().Add(t.ttl).Truncate(time.Second)
	raw := make([]byte, 8, 8+len(userID))
	binary.BigEndian.PutUint64(raw, uint64(exp.Unix()))
	raw = append(raw, userID...)
	payload := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	return payload + "." + base64.RawURLEncoding.EncodeToString(t.mac(payload)), exp
}

func (t *userTokens) mac(payload string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Verify returns the user id of a valid, unexpired token.
func (t *userTokens) Verify(token string) (string, bool) {
	if len(token) > 512 || !strings.HasPrefix(token, tokenPrefix) {
		return "", false
	}
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(tokenPrefix) {
		return "", false
	}
	payload, sig := token[:dot], token[dot+1:]
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.mac(payload)) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload[len(tokenPrefix):])
	if err != nil || len(raw) < 9 {
		return "", false
	}
	if !t.now().Before(time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)) {
		return "", false
	}
	user := string(raw[8:])
	if !realname.ValidUserID(user) {
		return "", false
	}
	return user, true
}

// principal is who is calling.
type principal struct {
	clientID string // API key id; empty for a user token
	userID   string // set for a user token: it may act only for this user
}

// mayActFor reports whether the caller may act for userID.
func (p principal) mayActFor(userID string) bool {
	return p.clientID != "" || p.userID == userID
}

// principalFrom returns the caller set by authenticated (the zero
// principal, who may act for nobody, if there is none).
func principalFrom(ctx context.Context) principal {
	if st := stateFrom(ctx); st != nil {
		return st.p
	}
	return principal{}
}

// bearer extracts the bearer credential.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
