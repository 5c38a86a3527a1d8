package authority

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// testAudience is the deployment the tests' requests are signed for.
const testAudience = "realname.example.cn"

// memStore is an in-memory AuthorityStore.
type memStore struct {
	mu       sync.Mutex
	auths    map[string]realname.Authority
	nonces   map[string]time.Time
	audit    []realname.AuditEntry
	unlisted bool // Authorities lists none (as if registered meanwhile)
}

func newMemStore() *memStore {
	return &memStore{auths: map[string]realname.Authority{}, nonces: map[string]time.Time{}}
}

func (m *memStore) CreateAuthority(_ context.Context, a realname.Authority) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.auths[a.ID]; ok {
		return realname.ErrConflict
	}
	for _, o := range m.auths { // the unique index on public_key
		if bytes.Equal(o.PublicKey, a.PublicKey) {
			return realname.ErrConflict
		}
	}
	m.auths[a.ID] = a
	return nil
}

func (m *memStore) Authority(_ context.Context, id string) (realname.Authority, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.auths[id]
	if !ok {
		return a, realname.ErrNotFound
	}
	return a, nil
}

func (m *memStore) Authorities(context.Context) ([]realname.Authority, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unlisted {
		return nil, nil
	}
	out := make([]realname.Authority, 0, len(m.auths))
	for _, a := range m.auths {
		out = append(out, a)
	}
	return out, nil
}

func (m *memStore) RevokeAuthority(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.auths[id]
	if !ok {
		return realname.ErrNotFound
	}
	a.RevokedAt = at
	m.auths[id] = a
	return nil
}

func (m *memStore) UseNonce(_ context.Context, id, nonce string, now, exp time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := id + "|" + nonce
	if e, ok := m.nonces[k]; ok && !now.After(e) {
		return realname.ErrConflict
	}
	m.nonces[k] = exp
	return nil
}

func (m *memStore) Audit(_ context.Context, e realname.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.audit = append(m.audit, e)
	return nil
}

func TestVerify(t *testing.T) {
	st := newMemStore()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	a, err := Register(t.Context(), st, "某公证处", pub, "alice", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.audit) != 1 || st.audit[0].Action != "authority.add" || st.audit[0].Actor != "alice" {
		t.Fatalf("audit %+v", st.audit)
	}
	v := &Verifier{Store: st, Audience: testAudience, Now: func() time.Time { return testNow }}
	body := []byte(`{"a":1}`)
	const path = "/api/v1/authority/requests"
	good := Sign(key, a.ID, testAudience, "POST", path, body, testNow)
	got, err := v.Verify(t.Context(), "POST", path, good, body)
	if err != nil || got.Authority.ID != a.ID || len(got.BodyHash) != 32 {
		t.Fatalf("good: %v %+v", err, got)
	}
	for _, tc := range []struct {
		name, method, path, header string
		body                       []byte
		want                       error
	}{
		{"replay", "POST", path, good, body, ErrReplayed},
		{"empty", "POST", path, "", body, ErrNoHeader},
		{"malformed", "POST", path, good + ",x=1", body, ErrBadHeader},
		{"wrong key", "POST", path, Sign(other, a.ID, testAudience, "POST", path, body, testNow), body, ErrBadSignature},
		{"tampered body", "POST", path, Sign(key, a.ID, testAudience, "POST", path, body, testNow), []byte(`{"a":2}`), ErrBadSignature},
		{"tampered path", "POST", path + "?q", Sign(key, a.ID, testAudience, "POST", path, body, testNow), body, ErrBadSignature},
		{"other audience", "POST", path, Sign(key, a.ID, "staging.realname.example.cn", "POST", path, body, testNow), body, ErrBadSignature},
		{"audience with port", "POST", path, Sign(key, a.ID, testAudience+":443", "POST", path, body, testNow), body, ErrBadSignature},
		{"stale", "POST", path, Sign(key, a.ID, testAudience, "POST", path, body, testNow.Add(-Window-time.Second)), body, ErrStale},
		{"edge of window", "POST", path, Sign(key, a.ID, testAudience, "POST", path, body, testNow.Add(-Window)), body, nil},
		{"unknown", "POST", path, Sign(key, NewID(), testAudience, "POST", path, body, testNow), body, ErrUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tc.method, tc.path, tc.header, tc.body)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if err := Revoke(t.Context(), st, a.ID, "alice", testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), "POST", path, Sign(key, a.ID, testAudience, "POST", path, body, testNow), body); !errors.Is(err, ErrUnknown) {
		t.Fatalf("revoked: %v", err)
	}
}

func TestParseHeaderStrict(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	good := Sign(key, NewID(), testAudience, "POST", "/x", nil, testNow)
	if _, err := ParseHeader(good); err != nil {
		t.Fatalf("good header refused: %v", err)
	}
	h, _ := ParseHeader(good)
	for name, bad := range map[string]string{
		"lower-case scheme": "realname-authority" + good[len(Scheme):],
		"two spaces":        Scheme + "  " + good[len(Scheme)+1:],
		"space after comma": Scheme + " id=" + h.AuthorityID + ", ts=" + h.TS + ",nonce=" + h.Nonce + ",sig=" + good[len(good)-88:],
		"reordered":         Scheme + " ts=" + h.TS + ",id=" + h.AuthorityID + ",nonce=" + h.Nonce + ",sig=" + good[len(good)-88:],
		"short nonce":       Scheme + " id=" + h.AuthorityID + ",ts=" + h.TS + ",nonce=abc,sig=" + good[len(good)-88:],
		"signed ts":         Scheme + " id=" + h.AuthorityID + ",ts=+" + h.TS + ",nonce=" + h.Nonce + ",sig=" + good[len(good)-88:],
		"duplicate":         good + ",sig=" + good[len(good)-88:],
		"trailing":          good + ",",
		"bad id":            Scheme + " id=AU" + h.AuthorityID[2:] + ",ts=" + h.TS + ",nonce=" + h.Nonce + ",sig=" + good[len(good)-88:],
	} {
		if _, err := ParseHeader(bad); err == nil {
			t.Errorf("%s: %q accepted", name, bad)
		}
	}
}

func TestParseDepositBounds(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field": `{"real_name":"张三","id_card_number":"1","method":"in_person","verified_at":"2026-11-01T00:00:00Z","x":1}`,
		"bad method":    `{"real_name":"张三","id_card_number":"1","method":"In Person","verified_at":"2026-11-01T00:00:00Z"}`,
		"bad time":      `{"real_name":"张三","id_card_number":"1","method":"in_person","verified_at":"yesterday"}`,
		"bad user":      `{"real_name":"张三","id_card_number":"1","method":"in_person","verified_at":"2026-11-01T00:00:00Z","user_id":"a b"}`,
		"two objects":   `{} {}`,
	} {
		if _, err := ParseDeposit([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, body := range map[string]string{
		"short basis":     `{"id_card_number":"1","legal_basis":"x","case_reference":"c-1"}`,
		"control in case": `{"id_card_number":"1","legal_basis":"basis","case_reference":"c\u0000"}`,
	} {
		if _, err := ParseRequest([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestMessageV2 pins the signed message byte for byte (docs/authority.md
// shows it to institutions).
func TestMessageV2(t *testing.T) {
	got := string(Message("au0123456789abcdef0123456789abcd", "rn.example.cn:8443", "POST", "/api/v1/authority/deposits?x=1",
		"1795428000", "0123456789abcdef", []byte("{}")))
	want := "realname-authority-v2\n" +
		"au0123456789abcdef0123456789abcd\n" +
		"rn.example.cn:8443\n" +
		"POST\n" +
		"/api/v1/authority/deposits?x=1\n" +
		"1795428000\n" +
		"0123456789abcdef\n" +
		"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" // SHA-256 of "{}"
	if got != want {
		t.Fatalf("Message =\n%q\nwant\n%q", got, want)
	}
}

// TestSignatureBindsAuthority: a request signed by authority A does not
// verify as authority B, even were the same key registered for both (the
// registry refuses that; the store here does not, to test the signature).
func TestSignatureBindsAuthority(t *testing.T) {
	st := newMemStore()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	a := realname.Authority{ID: NewID(), Name: "甲公证处", PublicKey: pub, CreatedBy: "alice", CreatedAt: testNow}
	b := realname.Authority{ID: NewID(), Name: "乙公证处", PublicKey: pub, CreatedBy: "alice", CreatedAt: testNow}
	st.auths[a.ID], st.auths[b.ID] = a, b // CreateAuthority would refuse b
	const path = "/api/v1/authority/deposits"
	body := []byte(`{"a":1}`)
	// At the message level: A's message is not B's.
	ma := Message(a.ID, testAudience, "POST", path, "1", "0123456789abcdef", body)
	mb := Message(b.ID, testAudience, "POST", path, "1", "0123456789abcdef", body)
	if ed25519.Verify(pub, mb, ed25519.Sign(key, ma)) {
		t.Fatal("a signature over A's message verifies over B's")
	}
	// At the Verifier: A's header with B's id is a bad signature.
	v := &Verifier{Store: st, Audience: testAudience, Now: func() time.Time { return testNow }}
	signedForA := Sign(key, a.ID, testAudience, "POST", path, body, testNow)
	h, err := ParseHeader(signedForA)
	if err != nil {
		t.Fatal(err)
	}
	h.AuthorityID = b.ID
	if _, err := v.Verify(t.Context(), "POST", path, h.String(), body); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("A's signature under B's id: %v, want %v", err, ErrBadSignature)
	}
	// And A's own request still verifies (its nonce was not used up).
	if got, err := v.Verify(t.Context(), "POST", path, signedForA, body); err != nil || got.Authority.ID != a.ID {
		t.Fatalf("A's request: %v", err)
	}
}

// TestSignatureBindsAudience: a request signed for another deployment
// (staging) does not verify here; neither does a version-1 signature,
// which named no deployment; a Verifier without an audience verifies
// nothing.
func TestSignatureBindsAudience(t *testing.T) {
	st := newMemStore()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	a, err := Register(t.Context(), st, "某公证处", pub, "alice", testNow)
	if err != nil {
		t.Fatal(err)
	}
	const path = "/api/v1/authority/deposits"
	body := []byte(`{"a":1}`)
	prod := &Verifier{Store: st, Audience: "realname.example.cn", Now: func() time.Time { return testNow }}
	staging := &Verifier{Store: st, Audience: "staging.realname.example.cn", Now: func() time.Time { return testNow }}
	forStaging := Sign(key, a.ID, "staging.realname.example.cn", "POST", path, body, testNow)
	if _, err := prod.Verify(t.Context(), "POST", path, forStaging, body); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("staging's request at production: %v, want %v", err, ErrBadSignature)
	}
	if _, err := staging.Verify(t.Context(), "POST", path, forStaging, body); err != nil {
		t.Fatalf("staging's request at staging: %v", err)
	}

	h, _ := ParseHeader(Sign(key, a.ID, "realname.example.cn", "POST", path, body, testNow))
	sum := sha256.Sum256(body)
	v1 := "realname-authority-v1\nPOST\n" + path + "\n" + h.TS + "\n" + h.Nonce + "\n" + hex.EncodeToString(sum[:])
	h.Signature = ed25519.Sign(key, []byte(v1))
	if _, err := prod.Verify(t.Context(), "POST", path, h.String(), body); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a v1 signature: %v, want %v", err, ErrBadSignature)
	}

	none := &Verifier{Store: st, Now: func() time.Time { return testNow }}
	if _, err := none.Verify(t.Context(), "POST", path, Sign(key, a.ID, "", "POST", path, body, testNow), body); err == nil {
		t.Fatal("a Verifier without an audience verified a request")
	}
}

func TestAudience(t *testing.T) {
	for in, want := range map[string]string{
		"https://rn.example.cn":            "rn.example.cn",
		"https://RN.Example.cn/":           "rn.example.cn",
		"https://rn.example.cn:443/base/":  "rn.example.cn",
		"https://rn.example.cn:8443":       "rn.example.cn:8443",
		"http://rn.example.cn:80":          "rn.example.cn",
		"http://rn.example.cn:443":         "rn.example.cn:443",
		"http://127.0.0.1:8001":            "127.0.0.1:8001",
		"http://[::1]:8001":                "[::1]:8001",
		"https://[2001:db8::1]:443/x":      "[2001:db8::1]",
		"https://user@rn.example.cn/":      "rn.example.cn",
		"https://xn--fiqs8s.example.cn:80": "xn--fiqs8s.example.cn:80",
	} {
		if got, err := Audience(in); err != nil || got != want {
			t.Errorf("Audience(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "rn.example.cn", "/path", "ftp://rn.example.cn", "https://", "https:///x"} {
		if got, err := Audience(bad); err == nil {
			t.Errorf("Audience(%q) = %q, want an error", bad, got)
		}
	}
}

// TestRegisterRefusesKnownKey: a public key is registered once, also when
// its authority was revoked since.
func TestRegisterRefusesKnownKey(t *testing.T) {
	st := newMemStore()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	a, err := Register(t.Context(), st, "甲公证处", pub, "alice", testNow)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Register(t.Context(), st, "乙公证处", append(ed25519.PublicKey(nil), pub...), "alice", testNow)
	if !errors.Is(err, ErrKeyRegistered) || !strings.Contains(err.Error(), a.ID) {
		t.Fatalf("the same key again: %v, want %v naming %s", err, ErrKeyRegistered, a.ID)
	}
	if err := Revoke(t.Context(), st, a.ID, "bob", testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := Register(t.Context(), st, "甲公证处", pub, "alice", testNow); !errors.Is(err, ErrKeyRegistered) ||
		!strings.Contains(err.Error(), "revoked") {
		t.Fatalf("the key of a revoked authority: %v, want %v", err, ErrKeyRegistered)
	}
	if n := len(st.auths); n != 1 {
		t.Fatalf("%d authorities stored, want 1", n)
	}
	// Another process registered the key between the check and the
	// insert: the store's unique key refuses it, with the same error.
	st.unlisted = true
	if _, err := Register(t.Context(), st, "丙公证处", pub, "alice", testNow); !errors.Is(err, ErrKeyRegistered) ||
		!errors.Is(err, realname.ErrConflict) {
		t.Fatalf("the key refused by the store: %v, want %v", err, ErrKeyRegistered)
	}
}

// TestNonceClockSkew: two replicas on one store, the fast one 10 s ahead.
// The slow one accepts a request near the end of its window; the fast
// one's purge (by its own clock) must not forget the nonce, so a replay
// on the slow one is still refused.
func TestNonceClockSkew(t *testing.T) {
	st := newMemStore()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	a, err := Register(t.Context(), st, "某公证处", pub, "alice", testNow)
	if err != nil {
		t.Fatal(err)
	}
	nonceClockSkew(t, st, a.ID, key)
}

// nonceClockSkew runs the skew scenario on st for authority id.
func nonceClockSkew(t *testing.T, st realname.AuthorityStore, id string, key ed25519.PrivateKey) {
	t.Helper()
	slowNow := testNow.Add(Window - 5*time.Second) // 295 s after the request's ts
	slow := &Verifier{Store: st, Audience: testAudience, Now: func() time.Time { return slowNow }}
	fast := &Verifier{Store: st, Audience: testAudience, Now: func() time.Time { return slowNow.Add(10 * time.Second) }}
	body := []byte(`{"a":1}`)
	const path = "/api/v1/authority/requests"
	h := Sign(key, id, testAudience, "POST", path, body, testNow)
	if _, err := slow.Verify(t.Context(), "POST", path, h, body); err != nil {
		t.Fatalf("first use on the slow replica: %v", err)
	}
	// Any request on the fast replica purges by its clock.
	if _, err := fast.Verify(t.Context(), "POST", path, Sign(key, id, testAudience, "POST", path, body, slowNow.Add(10*time.Second)), body); err != nil {
		t.Fatalf("request on the fast replica: %v", err)
	}
	slowNow = slowNow.Add(time.Second)
	if _, err := slow.Verify(t.Context(), "POST", path, h, body); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay on the slow replica: %v, want %v", err, ErrReplayed)
	}
}
