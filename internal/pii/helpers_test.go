package pii

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

// testSecret returns a deterministic 32-byte secret derived from label.
func testSecret(label string) []byte {
	s := sha256.Sum256([]byte("pii-test|" + label))
	return s[:]
}

func testKey(id string) Key {
	return Key{ID: id, Secret: testSecret(id), Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func mustRing(t testing.TB, primary string, ids ...string) *KeyRing {
	t.Helper()
	keys := make([]Key, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, testKey(id))
	}
	r, err := NewKeyRing(keys, primary)
	if err != nil {
		t.Fatalf("NewKeyRing: %v", err)
	}
	return r
}

func mustDataKey(t testing.TB) DataKey {
	t.Helper()
	k, err := NewDataKey()
	if err != nil {
		t.Fatalf("NewDataKey: %v", err)
	}
	return k
}

// fixedDataKey returns a deterministic data key (for fuzz seeds).
func fixedDataKey(t testing.TB, label string) DataKey {
	t.Helper()
	k, err := dataKeyFromBytes(testSecret("dek|" + label))
	if err != nil {
		t.Fatalf("dataKeyFromBytes: %v", err)
	}
	return k
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want errors.Is(_, %v)", err, want)
	}
}
