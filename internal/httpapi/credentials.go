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
// "ut2." + base64url(expiry unix seconds, 8 bytes BE ‖ len(client id), 1 byte ‖
// client id ‖ user id) + "." + base64url(HMAC-SHA256(key, "ut2." + payload)).
// The client id is the API key that minted the token, so whatever the token
// does (an export of the person's data above all) is recorded against the
// platform that asked for it as well as against the person.
type userTokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

const tokenPrefix = "ut2."

// userToken is what a valid token says.
type userToken struct {
	userID   string
	clientID string // the API key id that minted it
}

// Mint returns a token acting for userID until the returned time, minted
// by the API key clientID (at most 255 bytes; longer ids are cut, which
// cannot happen with the ids this package hands out).
func (t *userTokens) Mint(clientID, userID string) (string, time.Time) {
	if len(clientID) > 255 {
		clientID = clientID[:255]
	}
	exp := t.now().Add(t.ttl).Truncate(time.Second)
	raw := make([]byte, 9, 9+len(clientID)+len(userID))
	binary.BigEndian.PutUint64(raw, uint64(exp.Unix()))
	raw[8] = byte(len(clientID))
	raw = append(raw, clientID...)
	raw = append(raw, userID...)
	payload := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	return payload + "." + base64.RawURLEncoding.EncodeToString(t.mac(payload)), exp
}

func (t *userTokens) mac(payload string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Verify returns what a valid, unexpired token says.
func (t *userTokens) Verify(token string) (userToken, bool) {
	if len(token) > 512 || !strings.HasPrefix(token, tokenPrefix) {
		return userToken{}, false
	}
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(tokenPrefix) {
		return userToken{}, false
	}
	payload, sig := token[:dot], token[dot+1:]
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.mac(payload)) {
		return userToken{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload[len(tokenPrefix):])
	if err != nil || len(raw) < 9 || len(raw) < 9+int(raw[8]) {
		return userToken{}, false
	}
	if !t.now().Before(time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)) {
		return userToken{}, false
	}
	n := 9 + int(raw[8])
	ut := userToken{clientID: string(raw[9:n]), userID: string(raw[n:])}
	if !realname.ValidUserID(ut.userID) {
		return userToken{}, false
	}
	return ut, true
}

// principal is who is calling.
type principal struct {
	clientID string // API key id; empty for a user token
	userID   string // set for a user token: it may act only for this user
	mintedBy string // for a user token: the API key id that minted it
}

// mayActFor reports whether the caller may act for userID.
func (p principal) mayActFor(userID string) bool {
	return p.clientID != "" || p.userID == userID
}

// actor is the caller as the domain records it: the person with their
// token (and the key that minted it), or the platform with its API key.
func (p principal) actor() realname.Actor {
	if p.userID != "" {
		return realname.Actor{Kind: realname.ActorPerson, Name: p.userID, Via: p.mintedBy}
	}
	return realname.Actor{Kind: realname.ActorPlatform, Name: p.clientID}
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
