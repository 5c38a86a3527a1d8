package trail

import (
	"bytes"
	crand "crypto/rand"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// FuzzParseEntry: whatever ParseEntry accepts is canonical (it encodes
// back to the same bytes) and valid as an event; nothing panics.
func FuzzParseEntry(f *testing.F) {
	good := Entry{V: 1, Kind: KindVerificationSucceeded, Time: time.Date(2026, 11, 23, 8, 0, 0, 123e6, time.UTC),
		Subject: "h_" + "0123456789abcdef0123456789abcdef", Seq: 2, Prev: encodeHash(LeafHash([]byte("x"))),
		Ref: "vf0123", Attrs: map[string]string{"evidence": "face", "provider": "aliyun"}}
	b, _ := good.Marshal()
	f.Add(b)
	first := good
	first.Seq, first.Prev = 1, ""
	b, _ = first.Marshal()
	f.Add(b)
	f.Add([]byte(`{"v":1,"kind":"log.key","time":"2026-11-23T08:00:00Z"}`))
	f.Add([]byte(`{"v":1,"kind":"x","time":"2026-11-23T08:00:00Z","seq":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEntry(data)
		if err != nil {
			return
		}
		again, err := e.Marshal()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted %q, which encodes to %q (%v)", data, again, err)
		}
		if err := (Event{Kind: e.Kind, Subject: e.Subject, Ref: e.Ref, Attrs: e.Attrs}).validate(); err != nil {
			t.Fatalf("accepted an invalid event %q: %v", data, err)
		}
	})
}

// FuzzOpenCheckpoint: a checkpoint text round-trips through
// ParseCheckpoint and Text, and a note that opens with the log's key is
// one the key signed (its text unchanged).
func FuzzOpenCheckpoint(f *testing.F) {
	skey, vkey, err := note.GenerateKey(crand.Reader, "fuzz.test/trail")
	if err != nil {
		f.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	signed := Checkpoint{Origin: "fuzz.test/trail", Size: 7, Hash: LeafHash([]byte("root"))}
	msg, err := SignCheckpoint(signed, signer)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg)
	f.Add([]byte("fuzz.test/trail\n7\nAAAA\n\n— fuzz.test/trail AAAA\n"))
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := ParseCheckpoint(data); err == nil && !bytes.Equal(c.Text(), data) {
			t.Fatalf("checkpoint text %q parses but encodes to %q", data, c.Text())
		}
		c, n, err := OpenCheckpoint(data, note.VerifierList(verifier))
		if err != nil {
			return
		}
		// Only one text was ever signed: a fuzzer cannot forge Ed25519.
		if n.Text != string(signed.Text()) || c.Size != signed.Size || c.Hash != signed.Hash {
			t.Fatalf("opened %q as %+v", data, c)
		}
	})
}
