package pii

import (
	"errors"
	"slices"
	"testing"
	"unicode/utf8"
)

// The fuzz targets use deterministic keys so that inputs saved under
// testdata/fuzz stay meaningful across runs: a genuine wrapped key or
// ciphertext saved there still opens, and anything else must not.

var fuzzContexts = []string{"person/1", "", "person/2|x"}

func FuzzUnwrapKey(f *testing.F) {
	ring := mustRing(f, "k2", "k1", "k2")
	seedDEK := fixedDataKey(f, "fuzz")
	other := mustRing(f, "k3", "k3") // a key this ring does not have

	for _, ctx := range fuzzContexts {
		for _, r := range []*KeyRing{ring, mustRing(f, "k1", "k1"), other} {
			w, err := r.WrapKey(seedDEK, ctx)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(w, ctx)
			f.Add(w, ctx+"x")
			f.Add(w[:len(w)-1], ctx)
			f.Add(append(slices.Clone(w), 0), ctx)
		}
	}
	f.Add([]byte{}, "")
	f.Add([]byte{wrapVersion}, "")
	f.Add([]byte{wrapVersion, 0}, "")
	f.Add([]byte{wrapVersion, 255, 'k'}, "")
	f.Add([]byte{wrapVersion, 2, 'k', '1'}, "person/1")
	f.Add(make([]byte, MaxWrappedKeySize+1), "")

	f.Fuzz(func(t *testing.T, wrapped []byte, context string) {
		in := slices.Clone(wrapped)
		dek, err := ring.UnwrapKey(wrapped, context)
		needs := ring.NeedsRewrap(wrapped)
		if !slices.Equal(in, wrapped) {
			t.Fatal("UnwrapKey modified its input")
		}
		if err != nil {
			if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("unexpected error class: %v", err)
			}
			if dek.state() != nil {
				t.Fatal("usable DataKey returned with an error")
			}
			if _, err := ring.Rewrap(wrapped, context); err == nil {
				t.Fatal("Rewrap succeeded where UnwrapKey failed")
			}
			return
		}
		// Only genuine wraps (made above, or saved from an earlier run with
		// the same deterministic keys) can decrypt. Random input never does.
		if !dek.Equal(seedDEK) || !slices.Contains(fuzzContexts, context) {
			t.Fatalf("forged wrapped key decrypted (len %d)", len(wrapped))
		}
		id := string(wrapped[2 : 2+int(wrapped[1])])
		if needs != (id != ring.PrimaryID()) {
			t.Fatalf("NeedsRewrap = %v for key id %q", needs, id)
		}
		re, err := ring.Rewrap(wrapped, context)
		if err != nil || ring.NeedsRewrap(re) {
			t.Fatalf("Rewrap of a valid wrap: %v", err)
		}
		if back, err := ring.UnwrapKey(re, context); err != nil || !back.Equal(seedDEK) {
			t.Fatalf("rewrapped key does not round-trip: %v", err)
		}
	})
}

func FuzzOpen(f *testing.F) {
	dek := fixedDataKey(f, "fuzz")
	type pair struct{ plaintext, aad string }
	seeds := []pair{
		{"", ""},
		{"11010519491231002X", "person/1/idnum"},
		{"欧阳娜娜", "person/1/name"},
		{"x", "a\x00b"},
	}
	for _, s := range seeds {
		ct, err := dek.Seal([]byte(s.plaintext), s.aad)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ct, s.aad)
		f.Add(ct, s.aad+"!")
		f.Add(ct[:len(ct)-1], s.aad)
		f.Add(append([]byte{0x02}, ct[1:]...), s.aad)
		other, _ := fixedDataKey(f, "other").Seal([]byte(s.plaintext), s.aad)
		f.Add(other, s.aad)
	}
	f.Add([]byte{}, "")
	f.Add([]byte{dataVersion}, "")
	f.Add(make([]byte, sealOverhead), "")

	f.Fuzz(func(t *testing.T, ciphertext []byte, aad string) {
		in := slices.Clone(ciphertext)
		pt, err := dek.Open(ciphertext, aad)
		if !slices.Equal(in, ciphertext) {
			t.Fatal("Open modified its input")
		}
		if err != nil {
			if err != ErrDecrypt {
				t.Fatalf("error = %v, want exactly ErrDecrypt", err)
			}
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			return
		}
		if !slices.Contains(seeds, pair{string(pt), aad}) {
			t.Fatalf("forged ciphertext opened (len %d)", len(ciphertext))
		}
		if len(ciphertext) != len(pt)+sealOverhead {
			t.Fatalf("opened ciphertext of unexpected length %d", len(ciphertext))
		}
	})
}

// FuzzParseRing checks that key ring JSON from files or the environment
// never panics the parser and that its errors never echo the input.
func FuzzParseRing(f *testing.F) {
	f.Add([]byte(`{"primary":"k1","keys":[{"id":"k1","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","created":"2025-01-02T03:04:05Z"}]}`))
	f.Add([]byte(`{"primary":"k1","keys":[{"id":"k1","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}]}`))
	f.Add([]byte(`{"primary":"k1","keys":[]}`))
	f.Add([]byte(`{"primary":"k1","keys":[{"id":"k1","secret":12}]}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRing(data)
		if err != nil {
			if r != nil {
				t.Fatal("ring returned with error")
			}
			return
		}
		if !slices.Contains(r.IDs(), r.PrimaryID()) {
			t.Fatal("parsed ring's primary is not in the ring")
		}
	})
}

func FuzzMaskName(f *testing.F) {
	for _, s := range []string{"张三", "John Smith", "买买提·艾力", "", " \t", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := MaskName(name)
		if !utf8.ValidString(got) && utf8.ValidString(name) {
			t.Fatalf("MaskName(%q) = %q is invalid UTF-8", name, got)
		}
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(name) {
			t.Fatalf("MaskName(%q) = %q changes the rune count", name, got)
		}
		shown := 0
		for _, r := range got {
			if r != '*' && !isNameSeparator(r) {
				shown++
			}
		}
		if shown > 1 {
			t.Fatalf("MaskName(%q) = %q reveals %d runes", name, got, shown)
		}
	})
}
