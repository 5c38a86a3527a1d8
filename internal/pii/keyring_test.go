package pii

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestNewKeyRingValidation(t *testing.T) {
	k1, k2 := testKey("k1"), testKey("k2")
	tests := []struct {
		name    string
		keys    []Key
		primary string
		wantErr string // substring; "" means success
	}{
		{"one key", []Key{k1}, "k1", ""},
		{"two keys", []Key{k1, k2}, "k2", ""},
		{"max id length", []Key{{ID: strings.Repeat("a", 32), Secret: testSecret("x")}}, strings.Repeat("a", 32), ""},
		{"id charset", []Key{{ID: "Ab_9-z", Secret: testSecret("x")}}, "Ab_9-z", ""},
		{"no keys", nil, "k1", "no keys"},
		{"empty id", []Key{{ID: "", Secret: testSecret("x")}}, "", "id must be"},
		{"id too long", []Key{{ID: strings.Repeat("a", 33), Secret: testSecret("x")}}, "k1", "id must be"},
		{"id with pipe", []Key{{ID: "k|1", Secret: testSecret("x")}}, "k|1", "id must be"},
		{"id with space", []Key{{ID: "k 1", Secret: testSecret("x")}}, "k 1", "id must be"},
		{"id non-ascii", []Key{{ID: "密钥", Secret: testSecret("x")}}, "密钥", "id must be"},
		{"duplicate id", []Key{k1, {ID: "k1", Secret: testSecret("other")}}, "k1", "duplicate"},
		{"short secret", []Key{{ID: "k1", Secret: make([]byte, 31)}}, "k1", "32 bytes"},
		{"long secret", []Key{{ID: "k1", Secret: make([]byte, 33)}}, "k1", "32 bytes"},
		{"nil secret", []Key{{ID: "k1"}}, "k1", "32 bytes"},
		{"zero secret", []Key{{ID: "k1", Secret: make([]byte, 32)}}, "k1", "all zero"},
		{"primary missing", []Key{k1}, "k2", "not in the ring"},
		{"primary empty", []Key{k1}, "", "primary"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewKeyRing(tc.keys, tc.primary)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if r.PrimaryID() != tc.primary {
					t.Errorf("PrimaryID = %q, want %q", r.PrimaryID(), tc.primary)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestKeyRingIDs(t *testing.T) {
	r := mustRing(t, "b", "c", "a", "b")
	ids := r.IDs()
	if want := []string{"a", "b", "c"}; !slices.Equal(ids, want) {
		t.Fatalf("IDs = %v, want %v", ids, want)
	}
	ids[0] = "mutated"
	if r.IDs()[0] != "a" {
		t.Fatal("IDs returned internal slice")
	}
}

func TestNewKeyRingDoesNotRetainSecret(t *testing.T) {
	k := testKey("k1")
	r, err := NewKeyRing([]Key{k}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	dek := mustDataKey(t)
	w, err := r.WrapKey(dek, "ctx")
	if err != nil {
		t.Fatal(err)
	}
	clear(k.Secret) // caller clears after construction
	got, err := r.UnwrapKey(w, "ctx")
	if err != nil || !got.Equal(dek) {
		t.Fatalf("unwrap after clearing caller's secret: %v", err)
	}
}

func TestWrapUnwrapRoundTrip(t *testing.T) {
	r := mustRing(t, "k1", "k1")
	for _, ctx := range []string{"", "person/1", "person/42|x", strings.Repeat("长", 500)} {
		t.Run(ctx[:min(len(ctx), 12)], func(t *testing.T) {
			dek := mustDataKey(t)
			w, err := r.WrapKey(dek, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(w) != 2+len("k1")+wrapBodySize || w[0] != wrapVersion || string(w[2:4]) != "k1" {
				t.Fatalf("unexpected wrapped layout: len %d, header %x", len(w), w[:4])
			}
			got, err := r.UnwrapKey(w, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(dek) {
				t.Fatal("unwrapped key differs")
			}
			w2, _ := r.WrapKey(dek, ctx)
			if bytes.Equal(w, w2) {
				t.Fatal("two wraps are identical: nonce not random")
			}
		})
	}
}

func TestUnwrapWrongContext(t *testing.T) {
	r := mustRing(t, "k1", "k1")
	w, err := r.WrapKey(mustDataKey(t), "person/1")
	if err != nil {
		t.Fatal(err)
	}
	for _, ctx := range []string{"person/2", "", "person/1 ", "Person/1", "k1|person/1"} {
		t.Run(ctx, func(t *testing.T) {
			_, err := r.UnwrapKey(w, ctx)
			wantErr(t, err, ErrDecrypt)
		})
	}
}

func TestUnwrapTamperEveryByte(t *testing.T) {
	r := mustRing(t, "k1", "k1", "k2")
	w, err := r.WrapKey(mustDataKey(t), "person/1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := slices.Clone(w)
			bad[i] ^= flip
			_, err := r.UnwrapKey(bad, "person/1")
			if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("byte %d ^ %#x: error = %v, want ErrDecrypt or ErrUnknownKey", i, flip, err)
			}
		}
	}
	// The id "k1" -> "k2" swap names a real key but must still fail.
	bad := slices.Clone(w)
	bad[3] = '2'
	_, err = r.UnwrapKey(bad, "person/1")
	wantErr(t, err, ErrDecrypt)
}

func TestUnwrapMalformed(t *testing.T) {
	r := mustRing(t, "k1", "k1")
	w, _ := r.WrapKey(mustDataKey(t), "c")
	tests := map[string][]byte{
		"nil":             nil,
		"one byte":        {wrapVersion},
		"bad version":     append([]byte{0x02}, w[1:]...),
		"zero id length":  append([]byte{wrapVersion, 0}, w[2:]...),
		"id length 33":    append([]byte{wrapVersion, 33}, w[2:]...),
		"id length 255":   append([]byte{wrapVersion, 255}, w[2:]...),
		"truncated":       w[:len(w)-1],
		"extended":        append(slices.Clone(w), 0),
		"header only":     w[:4],
		"too large":       append(slices.Clone(w), make([]byte, MaxWrappedKeySize)...),
		"invalid id char": append([]byte{wrapVersion, 2, 'k', '|'}, w[4:]...),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := r.UnwrapKey(in, "c")
			wantErr(t, err, ErrDecrypt)
			if !r.NeedsRewrap(in) {
				t.Error("NeedsRewrap(malformed) = false")
			}
			if _, err := r.Rewrap(in, "c"); err == nil {
				t.Error("Rewrap(malformed) succeeded")
			}
		})
	}
}

func TestUnwrapUnknownKey(t *testing.T) {
	old := mustRing(t, "gone", "gone")
	w, err := old.WrapKey(mustDataKey(t), "c")
	if err != nil {
		t.Fatal(err)
	}
	r := mustRing(t, "k1", "k1")
	_, err = r.UnwrapKey(w, "c")
	wantErr(t, err, ErrUnknownKey)
	if !strings.Contains(err.Error(), `"gone"`) {
		t.Errorf("error %q does not name the key id", err)
	}
	// Same id, different secret: that is tampering/wrong key, not unknown.
	other, _ := NewKeyRing([]Key{{ID: "gone", Secret: testSecret("different")}}, "gone")
	_, err = other.UnwrapKey(w, "c")
	wantErr(t, err, ErrDecrypt)
}

func TestRotationInRing(t *testing.T) {
	before := mustRing(t, "k1", "k1")
	dek := mustDataKey(t)
	oldWrap, err := before.WrapKey(dek, "person/7")
	if err != nil {
		t.Fatal(err)
	}
	after := mustRing(t, "k2", "k1", "k2")

	got, err := after.UnwrapKey(oldWrap, "person/7")
	if err != nil || !got.Equal(dek) {
		t.Fatalf("old wrap after rotation: %v", err)
	}
	if before.NeedsRewrap(oldWrap) {
		t.Error("NeedsRewrap under the wrapping primary = true")
	}
	if !after.NeedsRewrap(oldWrap) {
		t.Error("NeedsRewrap after rotation = false")
	}
	newWrap, err := after.WrapKey(dek, "person/7")
	if err != nil {
		t.Fatal(err)
	}
	if string(newWrap[2:2+newWrap[1]]) != "k2" || after.NeedsRewrap(newWrap) {
		t.Fatal("new wrap does not use the new primary")
	}
	rewrapped, err := after.Rewrap(oldWrap, "person/7")
	if err != nil {
		t.Fatal(err)
	}
	if after.NeedsRewrap(rewrapped) {
		t.Fatal("rewrapped key still needs rewrap")
	}
	// After rewrap, k1 can be retired.
	retired := mustRing(t, "k2", "k2")
	got, err = retired.UnwrapKey(rewrapped, "person/7")
	if err != nil || !got.Equal(dek) {
		t.Fatalf("rewrapped key under ring without k1: %v", err)
	}
	_, err = retired.UnwrapKey(oldWrap, "person/7")
	wantErr(t, err, ErrUnknownKey)
	_, err = after.Rewrap(oldWrap, "person/8")
	wantErr(t, err, ErrDecrypt)
}

func TestWrapZeroDataKey(t *testing.T) {
	r := mustRing(t, "k1", "k1")
	if _, err := r.WrapKey(DataKey{}, "c"); err == nil {
		t.Fatal("wrapping the zero DataKey succeeded")
	}
	dek := mustDataKey(t)
	dek.Destroy()
	if _, err := r.WrapKey(dek, "c"); err == nil {
		t.Fatal("wrapping a destroyed DataKey succeeded")
	}
}

func TestKeyRingConcurrentUse(t *testing.T) {
	r := mustRing(t, "k1", "k1")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				dek, _ := NewDataKey()
				ctx := strings.Repeat("x", g+i)
				w, err := r.WrapKey(dek, ctx)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := r.UnwrapKey(w, ctx)
				if err != nil || !got.Equal(dek) {
					t.Error("concurrent round trip failed")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestZeroKeyRing(t *testing.T) {
	var r KeyRing
	if _, err := r.WrapKey(mustDataKey(t), "c"); err == nil {
		t.Fatal("zero KeyRing wrapped a key")
	}
	w, _ := mustRing(t, "k1", "k1").WrapKey(mustDataKey(t), "c")
	_, err := r.UnwrapKey(w, "c")
	wantErr(t, err, ErrUnknownKey)
}
