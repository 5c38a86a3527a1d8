package pii

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	dek := mustDataKey(t)
	tests := []struct {
		name      string
		plaintext []byte
		aad       string
	}{
		{"empty", []byte{}, "person/1/name"},
		{"nil", nil, "person/1/name"},
		{"id number", []byte("11010519491231002X"), "person/1/idnum"},
		{"name", []byte("欧阳娜娜"), "person/1/name"},
		{"empty aad", []byte("x"), ""},
		{"binary", []byte{0, 1, 2, 0xff}, "a\x00b"},
		{"64 KiB", bytes.Repeat([]byte{'a'}, 64<<10), "big"},
		{"max size", make([]byte, MaxPlaintextSize), "max"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct, err := dek.Seal(tc.plaintext, tc.aad)
			if err != nil {
				t.Fatal(err)
			}
			if len(ct) != len(tc.plaintext)+sealOverhead || ct[0] != dataVersion {
				t.Fatalf("ciphertext length %d / version %#x", len(ct), ct[0])
			}
			if len(tc.plaintext) >= 8 && bytes.Contains(ct, tc.plaintext) {
				t.Fatal("ciphertext contains plaintext")
			}
			pt, err := dek.Open(ct, tc.aad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pt, tc.plaintext) || pt == nil {
				t.Fatalf("Open = %q (nil=%v), want %q", pt, pt == nil, tc.plaintext)
			}
		})
	}
}

func TestSealIsRandomised(t *testing.T) {
	dek := mustDataKey(t)
	a, _ := dek.Seal([]byte("same"), "aad")
	b, _ := dek.Seal([]byte("same"), "aad")
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
}

func TestOpenWrongAADOrKey(t *testing.T) {
	dek := mustDataKey(t)
	ct, err := dek.Seal([]byte("张三"), "person/1/name")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  DataKey
		aad  string
	}{
		{"other row", dek, "person/2/name"},
		{"other column", dek, "person/1/idnum"},
		{"empty aad", dek, ""},
		{"prefix aad", dek, "person/1/nam"},
		{"other key", mustDataKey(t), "person/1/name"},
		{"zero key", DataKey{}, "person/1/name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := tc.key.Open(ct, tc.aad)
			wantErr(t, err, ErrDecrypt)
			if pt != nil {
				t.Fatal("plaintext returned with error")
			}
		})
	}
}

func TestOpenTamperEveryByte(t *testing.T) {
	dek := mustDataKey(t)
	ct, err := dek.Seal([]byte("11010519491231002X"), "aad")
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := slices.Clone(ct)
			bad[i] ^= flip
			if _, err := dek.Open(bad, "aad"); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("byte %d ^ %#x: error = %v, want ErrDecrypt", i, flip, err)
			}
		}
	}
}

func TestOpenMalformed(t *testing.T) {
	dek := mustDataKey(t)
	ct, _ := dek.Seal([]byte("x"), "a")
	tests := map[string][]byte{
		"nil":         nil,
		"version":     {dataVersion},
		"short":       ct[:sealOverhead-1],
		"truncated":   ct[:len(ct)-1],
		"extended":    append(slices.Clone(ct), 0),
		"bad version": append([]byte{0x02}, ct[1:]...),
		"over limit":  make([]byte, MaxCiphertextSize+1),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := dek.Open(in, "a")
			wantErr(t, err, ErrDecrypt)
		})
	}
}

func TestSealTooLarge(t *testing.T) {
	dek := mustDataKey(t)
	_, err := dek.Seal(make([]byte, MaxPlaintextSize+1), "a")
	wantErr(t, err, ErrTooLarge)
}

func TestDataKeyDestroyAndEqual(t *testing.T) {
	dek := mustDataKey(t)
	alias := dek
	ct, _ := dek.Seal([]byte("x"), "a")
	if !dek.Equal(alias) || dek.Equal(mustDataKey(t)) || dek.Equal(DataKey{}) {
		t.Fatal("Equal is wrong for live keys")
	}
	dek.Destroy()
	if !isZero(alias.s().key[:]) {
		t.Fatal("Destroy did not clear the key bytes")
	}
	if _, err := alias.Seal([]byte("x"), "a"); err == nil || !strings.Contains(err.Error(), "destroyed") {
		t.Fatalf("Seal with destroyed key: %v", err)
	}
	_, err := alias.Open(ct, "a")
	wantErr(t, err, ErrDecrypt)
	if !dek.Equal(DataKey{}) {
		t.Fatal("destroyed key should equal the zero key")
	}
	DataKey{}.Destroy() // must not panic
}
