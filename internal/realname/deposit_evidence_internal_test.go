package realname

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/realname/realname/internal/pii"
)

func evidenceKeys(t *testing.T) *keyState {
	t.Helper()
	secret := sha256.Sum256([]byte("kek"))
	ring, err := pii.NewKeyRing([]pii.Key{{ID: "k1", Secret: secret[:], Created: time.Now()}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	ik := sha256.Sum256([]byte("index"))
	idx, err := pii.NewBlindIndex(ik[:])
	if err != nil {
		t.Fatal(err)
	}
	return newKeyState(Keys{Ring: ring, Index: idx})
}

// TestDepositEvidenceSealing: the body's bytes are sealed after its hash
// and open again; evidence sealed before the body was kept (the hash
// alone) still opens, with no body.
func TestDepositEvidenceSealing(t *testing.T) {
	k := evidenceKeys(t)
	p, err := k.newPerson("IDENTITY_CARD", "张三", "11010519491231002X", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"real_name":"张三","id_card_number":"11010519491231002X"}`)
	sum := sha256.Sum256(body)
	d := Deposit{ID: "dp1", Signature: bytes.Repeat([]byte{1}, 64), BodyHash: sum[:], SignedMessage: []byte("msg"), Body: body}
	if err := k.sealDepositEvidence(p, &d); err != nil {
		t.Fatal(err)
	}
	if d.Body != nil || bytes.Contains(d.BodyHash, body) || bytes.Contains(d.BodyHash, sum[:]) {
		t.Fatalf("body or hash in the clear: %+v", d)
	}
	if err := k.openDepositEvidence(p, &d); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Body, body) || !bytes.Equal(d.BodyHash, sum[:]) || string(d.SignedMessage) != "msg" ||
		!bytes.Equal(d.Signature, bytes.Repeat([]byte{1}, 64)) {
		t.Fatalf("opened %+v", d)
	}

	// The format before: the hash alone in body_hash.
	old := Deposit{ID: "dp2", Signature: []byte("sig"), BodyHash: sum[:], SignedMessage: []byte("msg")}
	for _, f := range []struct {
		name string
		v    *[]byte
	}{{"signature", &old.Signature}, {"body_hash", &old.BodyHash}, {"signed_message", &old.SignedMessage}} {
		if *f.v, err = k.sealWith(p, *f.v, "deposit|"+old.ID+"|"+f.name); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.openDepositEvidence(p, &old); err != nil {
		t.Fatal(err)
	}
	if old.Body != nil || !bytes.Equal(old.BodyHash, sum[:]) || string(old.Signature) != "sig" {
		t.Fatalf("old evidence opened to %+v", old)
	}
	// A wrong-sized hash is not sealed.
	bad := Deposit{ID: "dp3", BodyHash: []byte("short")}
	if err := k.sealDepositEvidence(p, &bad); err == nil {
		t.Fatal("sealed a 5-byte body hash")
	}
}
