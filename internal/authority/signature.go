package authority

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/realname/realname/internal/idnum"
	"github.com/realname/realname/internal/realname"
)

// Scheme is the Authorization scheme of a signed request.
const Scheme = "Realname-Authority"

// messagePrefix starts every signed message (the version of the scheme).
// Version 1 signed neither the authority id nor the deployment, so a
// request could be replayed under another id registered with the same key,
// or against another deployment; it is no longer accepted.
const messagePrefix = "realname-authority-v2\n"

// Window is how far a request's time stamp may be from the server's clock.
const Window = 300 * time.Second

// Bounds of the header's parts.
const (
	maxHeader   = 512
	minNonce    = 16
	maxNonce    = 64
	maxTSDigits = 12
)

// Header is a parsed Authorization header of a signed request.
type Header struct {
	AuthorityID string
	Timestamp   int64  // unix seconds
	TS          string // the time stamp as sent (it is signed as sent)
	Nonce       string
	Signature   []byte // 64 bytes
}

// ErrMalformed reports an Authorization header that is not a well-formed
// signed request header.
var ErrMalformed = errors.New("authority: malformed Authorization header")

// ParseHeader parses `Realname-Authority id=…,ts=…,nonce=…,sig=…`
// strictly: the scheme, one space, exactly these four parameters in this
// order, separated by single commas without spaces; id an authority id,
// ts 1–12 decimal digits, nonce 16–64 characters of [A-Za-z0-9_-], sig
// the standard (padded) base64 of a 64-byte Ed25519 signature.
func ParseHeader(h string) (Header, error) {
	if len(h) > maxHeader || !strings.HasPrefix(h, Scheme+" ") {
		return Header{}, ErrMalformed
	}
	parts := strings.Split(h[len(Scheme)+1:], ",")
	keys := [...]string{"id", "ts", "nonce", "sig"}
	if len(parts) != len(keys) {
		return Header{}, ErrMalformed
	}
	var vals [4]string
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k != keys[i] || v == "" {
			return Header{}, ErrMalformed
		}
		vals[i] = v
	}
	out := Header{AuthorityID: vals[0], TS: vals[1], Nonce: vals[2]}
	if !ValidID(out.AuthorityID) {
		return Header{}, ErrMalformed
	}
	if len(out.TS) > maxTSDigits || !idnum.AllDigits(out.TS) {
		return Header{}, ErrMalformed
	}
	ts, err := strconv.ParseInt(out.TS, 10, 64)
	if err != nil {
		return Header{}, ErrMalformed
	}
	out.Timestamp = ts
	if !validNonce(out.Nonce) {
		return Header{}, ErrMalformed
	}
	if len(vals[3]) != base64.StdEncoding.EncodedLen(ed25519.SignatureSize) {
		return Header{}, ErrMalformed
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(vals[3])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Header{}, ErrMalformed
	}
	out.Signature = sig
	return out, nil
}

// String formats the header (the inverse of ParseHeader).
func (h Header) String() string {
	return Scheme + " id=" + h.AuthorityID + ",ts=" + h.TS + ",nonce=" + h.Nonce +
		",sig=" + base64.StdEncoding.EncodeToString(h.Signature)
}

func validNonce(s string) bool {
	if len(s) < minNonce || len(s) > maxNonce {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidID reports whether id has the shape of an authority id: "au" and
// 30 lower-case hex digits.
func ValidID(id string) bool {
	if len(id) != 32 || id[:2] != "au" {
		return false
	}
	for i := 2; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Message is what an authority signs: the scheme's version, the
// authority's id, the audience (the deployment's host, see Audience), the
// method, the request target (path and query exactly as sent), the time
// stamp and nonce as sent, and the hex SHA-256 of the body, one per line.
func Message(authorityID, audience, method, target, ts, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	return []byte(messagePrefix + authorityID + "\n" + audience + "\n" + method + "\n" + target + "\n" + ts + "\n" +
		nonce + "\n" + hex.EncodeToString(sum[:]))
}

// Audience returns the audience of the deployment whose public base URL is
// baseURL: its host in lower case, with ":port" only when the port is not
// the scheme's default — what an HTTP client sends as Host to that URL.
// (The path of the base URL, if any, is not part of it.)
func Audience(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("authority: audience of %q: want an absolute http(s) URL", baseURL)
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); u.Scheme == "https" && p == "443" || u.Scheme == "http" && p == "80" {
		host = strings.TrimSuffix(host, ":"+p)
	}
	if !validAudience(host) {
		return "", fmt.Errorf("authority: audience of %q: %q is not a host[:port]", baseURL, host)
	}
	return host, nil
}

// validAudience: printable ASCII without spaces, at most 255 bytes (a host
// name, an IPv4 address or a bracketed IPv6 address, and a port).
func validAudience(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// Sign returns the Authorization header of a request to the deployment
// named by audience (see Audience), signed with key, at now with a fresh
// random nonce. It is what an authority's client does.
func Sign(key ed25519.PrivateKey, authorityID, audience, method, target string, body []byte, now time.Time) string {
	var n [18]byte
	_, _ = rand.Read(n[:])
	h := Header{AuthorityID: authorityID, Timestamp: now.Unix(), TS: strconv.FormatInt(now.Unix(), 10),
		Nonce: base64.RawURLEncoding.EncodeToString(n[:])}
	h.Signature = ed25519.Sign(key, Message(authorityID, audience, method, target, h.TS, h.Nonce, body))
	return h.String()
}

// Verified is a request whose signature checked out.
type Verified struct {
	Authority realname.Authority
	Signature []byte
	BodyHash  []byte
	Message   []byte // the signed message
}

// Verifier checks signed requests.
type Verifier struct {
	Store realname.AuthorityStore
	// Audience is this deployment's audience (Audience of its public base
	// URL); a request signed for another deployment does not verify.
	// Required.
	Audience string
	Now      func() time.Time // default time.Now
}

// The errors of Verify (all KindUnauthorized).
var (
	ErrNoHeader     = realname.E(realname.KindUnauthorized, "AUTHORITY_SIGNATURE_REQUIRED", "send Authorization: "+Scheme+" id=…,ts=…,nonce=…,sig=… (see docs/authority.md)", nil)
	ErrBadHeader    = realname.E(realname.KindUnauthorized, "MALFORMED_AUTHORIZATION", "the Authorization header is not a well-formed "+Scheme+" header (see docs/authority.md)", nil)
	ErrStale        = realname.E(realname.KindUnauthorized, "STALE_TIMESTAMP", "ts is more than 300 seconds from the server's clock; check the client's clock", nil)
	ErrUnknown      = realname.E(realname.KindUnauthorized, "INVALID_AUTHORITY", "unknown or revoked authority", nil)
	ErrBadSignature = realname.E(realname.KindUnauthorized, "BAD_SIGNATURE", "the signature does not verify with the authority's key over realname-authority-v2, this authority id, this deployment's host, method, path, ts, nonce and body (see docs/authority.md)", nil)
	ErrReplayed     = realname.E(realname.KindUnauthorized, "REPLAYED_NONCE", "this nonce was used before; send each request with a new nonce", nil)
)

// Verify checks the Authorization header of a request with the given
// method, target (path?query as sent) and body: its shape, its time stamp,
// the authority (known, not revoked), the signature (over the authority's
// id and v.Audience too) and, last, that the nonce is new (recorded then,
// so a replay within the window fails).
func (v *Verifier) Verify(ctx context.Context, method, target, header string, body []byte) (Verified, error) {
	if v.Audience == "" {
		return Verified{}, errors.New("authority: the verifier has no audience")
	}
	if header == "" {
		return Verified{}, ErrNoHeader
	}
	h, err := ParseHeader(header)
	if err != nil {
		return Verified{}, ErrBadHeader
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	ts := time.Unix(h.Timestamp, 0)
	if d := t.Sub(ts); d > Window || d < -Window {
		return Verified{}, ErrStale
	}
	a, err := v.Store.Authority(ctx, h.AuthorityID)
	if errors.Is(err, realname.ErrNotFound) || err == nil && a.Revoked() {
		return Verified{}, ErrUnknown
	}
	if err != nil {
		return Verified{}, fmt.Errorf("load authority: %w", err)
	}
	if len(a.PublicKey) != ed25519.PublicKeySize {
		return Verified{}, ErrUnknown
	}
	msg := Message(h.AuthorityID, v.Audience, method, target, h.TS, h.Nonce, body)
	if !ed25519.Verify(ed25519.PublicKey(a.PublicKey), msg, h.Signature) {
		return Verified{}, ErrBadSignature
	}
	// Kept until no replica, even one whose clock (which purges) runs up
	// to a minute fast, can accept a request with this ts any more.
	if err := v.Store.UseNonce(ctx, a.ID, h.Nonce, t, ts.Add(2*Window+time.Minute)); errors.Is(err, realname.ErrConflict) {
		return Verified{}, ErrReplayed
	} else if err != nil {
		return Verified{}, fmt.Errorf("record nonce: %w", err)
	}
	sum := sha256.Sum256(body)
	return Verified{Authority: a, Signature: h.Signature, BodyHash: sum[:], Message: msg}, nil
}
