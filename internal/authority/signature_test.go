package authority

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// memStore is an in-memory AuthorityStore.
type memStore struct {
	mu     sync.Mutex
	auths  map[string]realname.Authority
	nonces map[string]time.Time
	audit  []realname.AuditEntry
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

func (m *memStore) Authorities(context.Context) ([]realname.Authority, error) { return nil, nil }

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
	v := &Verifier{Store: st, Now: func() time.Time { return testNow }}
	body := []byte(`{"a":1}`)
	const path = "/api/v1/authority/requests"
	good := Sign(key, a.ID, "POST", path, body, testNow)
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
		{"wrong key", "POST", path, Sign(other, a.ID, "POST", path, body, testNow), body, ErrBadSignature},
		{"tampered body", "POST", path, Sign(key, a.ID, "POST", path, body, testNow), []byte(`{"a":2}`), ErrBadSignature},
		{"tampered path", "POST", path + "?q", Sign(key, a.ID, "POST", path, body, testNow), body, ErrBadSignature},
		{"stale", "POST", path, Sign(key, a.ID, "POST", path, body, testNow.Add(-Window-time.Second)), body, ErrStale},
		{"edge of window", "POST", path, Sign(key, a.ID, "POST", path, body, testNow.Add(-Window)), body, nil},
		{"unknown", "POST", path, Sign(key, NewID(), "POST", path, body, testNow), body, ErrUnknown},
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
	if _, err := v.Verify(t.Context(), "POST", path, Sign(key, a.ID, "POST", path, body, testNow), body); !errors.Is(err, ErrUnknown) {
		t.Fatalf("revoked: %v", err)
	}
}

func TestParseHeaderStrict(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	good := Sign(key, NewID(), "POST", "/x", nil, testNow)
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
