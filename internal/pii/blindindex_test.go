package pii

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
)

func mustIndex(t testing.TB, label string) *BlindIndex {
	t.Helper()
	b, err := NewBlindIndex(testSecret("index|" + label))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewBlindIndexKeySize(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  []byte
		ok   bool
	}{
		{"32 bytes", testSecret("a"), true},
		{"nil", nil, false},
		{"31 bytes", make([]byte, 31), false},
		{"33 bytes", bytes.Repeat([]byte{1}, 33), false},
		{"all zero", make([]byte, 32), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewBlindIndex(tc.key)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestBlindIndexSum(t *testing.T) {
	key := testSecret("index|a")
	b, _ := NewBlindIndex(key)
	clear(key) // b must hold its own copy
	want := hmac.New(sha256.New, testSecret("index|a"))
	want.Write([]byte("idnum\x0011010519491231002X"))

	got := b.Sum("idnum", "11010519491231002X")
	if !bytes.Equal(got, want.Sum(nil)) {
		t.Fatal("Sum is not HMAC-SHA256(key, purpose||0x00||value)")
	}
	if len(got) != BlindIndexSize {
		t.Fatalf("len = %d", len(got))
	}

	tests := []struct {
		name             string
		idx              *BlindIndex
		purpose, value   string
		sameAsFirstEntry bool
	}{
		{"deterministic", b, "idnum", "11010519491231002X", true},
		{"other index key", mustIndex(t, "b"), "idnum", "11010519491231002X", false},
		{"other purpose", b, "name", "11010519491231002X", false},
		{"other value", b, "idnum", "110105194912310021", false},
		{"empty value", b, "idnum", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.idx.Sum(tc.purpose, tc.value)
			if bytes.Equal(s, got) != tc.sameAsFirstEntry {
				t.Fatalf("equal = %v, want %v", !tc.sameAsFirstEntry, tc.sameAsFirstEntry)
			}
		})
	}
}

func TestBlindIndexMatch(t *testing.T) {
	b := mustIndex(t, "a")
	s := b.Sum("idnum", "X")
	if !b.Match("idnum", "X", s) {
		t.Fatal("Match of own sum = false")
	}
	if b.Match("idnum", "Y", s) || b.Match("name", "X", s) || b.Match("idnum", "X", s[:31]) || b.Match("idnum", "X", nil) {
		t.Fatal("Match accepted a wrong value, purpose or sum")
	}
}

func TestBlindIndexBadPurposePanics(t *testing.T) {
	b := mustIndex(t, "a")
	for _, purpose := range []string{"", "a\x00b"} {
		t.Run(strings.ReplaceAll(purpose, "\x00", `\0`), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			b.Sum(purpose, "v")
		})
	}
}

func TestBlindIndexConcurrent(t *testing.T) {
	b := mustIndex(t, "a")
	want := b.Sum("p", "v")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if !bytes.Equal(b.Sum("p", "v"), want) {
					t.Error("concurrent Sum differs")
					return
				}
				b.Sum("q", strings.Repeat("w", 100))
			}
		})
	}
	wg.Wait()
}
