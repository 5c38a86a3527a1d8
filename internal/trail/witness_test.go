package trail_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
	"github.com/realname/realname/internal/trail/trailtest"
	"github.com/realname/realname/internal/trail/witnesstest"
)

const (
	origin      = trailtest.Origin
	witnessName = "witness.test/w1"
)

// fixture is a log, a stand-in witness that trusts it, and a client.
type fixture struct {
	keys     trailtest.Key
	log      *trail.Log
	cosigner *trail.Cosigner
	cosV     *trail.CosignatureVerifier
	witness  *witnesstest.Witness
	requests atomic.Int64
	srv      *httptest.Server
	client   *trail.WitnessClient
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{keys: trailtest.NewKey(t)}
	f.log = newLog(t, f.keys)
	var err error
	if f.cosigner, err = trail.GenerateCosigner(rand.Reader, witnessName); err != nil {
		t.Fatal(err)
	}
	if f.cosV, err = trail.NewCosignatureVerifier(f.cosigner.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	f.witness = witnesstest.New(f.cosigner, f.keys.Verifier)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		f.witness.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	f.client = &trail.WitnessClient{URL: f.srv.URL, Verifier: f.cosV, Timeout: 5 * time.Second}
	return f
}

func newLog(t *testing.T, k trailtest.Key) *trail.Log {
	t.Helper()
	l, err := trail.New(trail.Config{Store: trail.NewMemoryStore(), Origin: origin, Signer: k.Signer})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// grow appends n entries (ref distinguishes histories) and publishes.
func grow(t *testing.T, l *trail.Log, n int, ref string) trail.StoredCheckpoint {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if _, err := l.Append(ctx, trail.Event{Kind: trail.KindDeposit, Ref: fmt.Sprintf("%s-%d", ref, i)}); err != nil {
			t.Fatal(err)
		}
	}
	cp, _, err := l.PublishCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func (f *fixture) witnessing(t *testing.T) *trail.Witnessing {
	t.Helper()
	w, err := trail.NewWitnessing(f.client)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// checkCosigned: the note verifies with the log's key and the witness's
// together, and with each alone.
func (f *fixture) checkCosigned(t *testing.T, msg []byte, size int64) {
	t.Helper()
	n, err := note.Open(msg, note.VerifierList(f.keys.Verifier, f.cosV))
	if err != nil {
		t.Fatalf("cosigned note: %v\n%s", err, msg)
	}
	if len(n.Sigs) != 2 || n.Sigs[0].Name != origin || n.Sigs[1].Name != witnessName {
		t.Fatalf("signatures %+v", n.Sigs)
	}
	c, _, err := trail.OpenCheckpoint(msg, note.VerifierList(f.keys.Verifier, f.cosV))
	if err != nil || c.Size != size {
		t.Fatalf("OpenCheckpoint: %+v %v", c, err)
	}
	if _, err := note.Open(msg, note.VerifierList(f.cosV)); err != nil {
		t.Fatalf("with the witness's key alone: %v", err)
	}
	if ts, err := f.cosV.CosignatureTime(n.Sigs[1].Base64); err != nil || time.Since(ts) > time.Minute {
		t.Fatalf("cosignature time %v %v", ts, err)
	}
}

// TestCosignatureFormat checks the wire format against the spec by hand:
// the key ID is SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4], the signature is
// key ID ‖ u64 big-endian time ‖ Ed25519 over "cosignature/v1\ntime
// <t>\n" ‖ checkpoint body (c2sp.org/tlog-cosignature).
func TestCosignatureFormat(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	when := time.Unix(1679315147, 0)
	cs, err := trail.NewCosigner(witnessName, priv, func() time.Time { return when })
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append([]byte(witnessName+"\n\x04"), pub...))
	wantID := binary.BigEndian.Uint32(sum[:4])
	if cs.KeyHash() != wantID {
		t.Fatalf("key ID %08x, want %08x", cs.KeyHash(), wantID)
	}
	wantVKey := fmt.Sprintf("%s+%08x+%s", witnessName, wantID, base64.StdEncoding.EncodeToString(append([]byte{4}, pub...)))
	if cs.VerifierKey() != wantVKey {
		t.Fatalf("vkey %s, want %s", cs.VerifierKey(), wantVKey)
	}
	text := trail.Checkpoint{Origin: origin, Size: 20852163, Hash: tlog.Hash{9}, Extensions: []string{"ext line"}}.Text()
	msg, err := note.Sign(&note.Note{Text: string(text)}, cs)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSuffix(string(msg[len(text)+1:]), "\n")
	b64, ok := strings.CutPrefix(line, "— "+witnessName+" ")
	if !ok {
		t.Fatalf("signature line %q", line)
	}
	sig, _ := base64.StdEncoding.DecodeString(b64)
	if len(sig) != 4+8+64 || binary.BigEndian.Uint32(sig) != wantID || binary.BigEndian.Uint64(sig[4:]) != 1679315147 {
		t.Fatalf("signature bytes %x", sig)
	}
	signed := "cosignature/v1\ntime 1679315147\n" + string(text)
	if !ed25519.Verify(pub, []byte(signed), sig[12:]) {
		t.Fatal("the signature is not over the cosignature/v1 message")
	}
	v, err := trail.NewCosignatureVerifier(wantVKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Fatal(err)
	}
	// The spec's example cosignature line has the same layout: key ID,
	// then time 1679315147 (0x641850cb) big-endian.
	ex, _ := base64.StdEncoding.DecodeString("jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==")
	if len(ex) != 76 || binary.BigEndian.Uint64(ex[4:]) != 1679315147 {
		t.Fatalf("spec example: %x", ex)
	}

	for _, bad := range []string{
		"",
		witnessName,
		fmt.Sprintf("%s+%08x+%s", witnessName, wantID+1, base64.StdEncoding.EncodeToString(append([]byte{4}, pub...))),
		fmt.Sprintf("%s+%08x+%s", witnessName, wantID, base64.StdEncoding.EncodeToString(append([]byte{1}, pub...))),
		fmt.Sprintf("%s+%08x+%s", witnessName, wantID, base64.StdEncoding.EncodeToString(append([]byte{4}, pub[:31]...))),
		fmt.Sprintf("other.test/w+%08x+%s", wantID, base64.StdEncoding.EncodeToString(append([]byte{4}, pub...))),
		fmt.Sprintf("%s+%x+%s", witnessName, wantID, "!!"),
	} {
		if _, err := trail.NewCosignatureVerifier(bad); err == nil {
			t.Errorf("NewCosignatureVerifier(%q) accepted", bad)
		}
	}
	if _, err := cs.Sign([]byte("not a checkpoint\n")); err == nil {
		t.Error("cosigned a note that is not a checkpoint")
	}
}

// TestWitnessCosigns: a first cosignature from size 0, then one with a
// consistency proof; both notes verify with the log's and the witness's
// keys.
func TestWitnessCosigns(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	w := f.witnessing(t)
	cp := grow(t, f.log, 5, "a")
	out, err := w.Cosign(ctx, f.log, cp)
	if err != nil {
		t.Fatal(err)
	}
	f.checkCosigned(t, out.Note, 5)
	cp = grow(t, f.log, 12, "b")
	out, err = w.Cosign(ctx, f.log, cp)
	if err != nil {
		t.Fatal(err)
	}
	f.checkCosigned(t, out.Note, 17)
	if got := w.Sizes()[witnessName]; got != 17 {
		t.Fatalf("remembered size %d", got)
	}
	if n, h := f.witness.Latest(origin); n != 17 || h != mustHash(t, f.log, 17) {
		t.Fatalf("witness at %d", n)
	}
	// The same checkpoint again: old = new, an empty proof.
	if out, err = w.Cosign(ctx, f.log, cp); err != nil {
		t.Fatal(err)
	}
	f.checkCosigned(t, out.Note, 17)
	if f.requests.Load() != 3 {
		t.Fatalf("%d requests", f.requests.Load())
	}
}

func mustHash(t *testing.T, l *trail.Log, n int64) tlog.Hash {
	t.Helper()
	h, err := l.TreeHash(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestWitnessRefusesSplitView: the operator signs a second history with
// the log's own key. At the same size the witness answers 409 and keeps
// the tree it cosigned; at a larger size the consistency proof from what
// it cosigned fails (422). The forked checkpoints are what a split view
// shows someone; without a witness's cosignature no client should accept
// them.
func TestWitnessRefusesSplitView(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	w := f.witnessing(t)
	cp := grow(t, f.log, 8, "honest")
	if _, err := w.Cosign(ctx, f.log, cp); err != nil {
		t.Fatal(err)
	}
	fork := newLog(t, f.keys) // same origin, same key, other entries
	forkCP := grow(t, fork, 8, "forked")
	if _, _, err := trail.OpenCheckpoint(forkCP.Note, note.VerifierList(f.keys.Verifier)); err != nil {
		t.Fatalf("the fork is validly signed by the log: %v", err)
	}

	_, err := f.client.AddCheckpoint(ctx, 8, nil, forkCP.Note)
	var conflict *trail.WitnessConflictError
	if !errors.As(err, &conflict) || conflict.Size != 8 {
		t.Fatalf("fork at the same size: %v", err)
	}
	if _, err := w.Cosign(ctx, fork, forkCP); !errors.As(err, &conflict) {
		t.Fatalf("Witnessing on the fork: %v", err)
	}
	if n, h := f.witness.Latest(origin); n != 8 || h != mustHash(t, f.log, 8) {
		t.Fatal("the witness moved to the fork")
	}

	forkCP = grow(t, fork, 4, "forked-more")
	proof, err := fork.ConsistencyProof(ctx, 8, 12)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.AddCheckpoint(ctx, 8, proof, forkCP.Note)
	var status *trail.WitnessStatusError
	if !errors.As(err, &status) || status.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("fork at a larger size: %v", err)
	}
	if len(f.witness.Evidence()) != 3 {
		t.Fatalf("evidence kept: %d", len(f.witness.Evidence()))
	}

	// The honest log goes on being cosigned.
	cp = grow(t, f.log, 4, "honest-more")
	out, err := w.Cosign(ctx, f.log, cp)
	if err != nil {
		t.Fatal(err)
	}
	f.checkCosigned(t, out.Note, 12)
}

// TestWitnessConflictRetry: a Witnessing that does not know the witness's
// size (after a restart) sends old 0, gets 409 with the size, and retries
// once with a proof from it. A witness ahead of the checkpoint is an
// error.
func TestWitnessConflictRetry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cp := grow(t, f.log, 3, "a")
	if _, err := f.witnessing(t).Cosign(ctx, f.log, cp); err != nil {
		t.Fatal(err)
	}
	_, err := f.client.AddCheckpoint(ctx, 0, nil, cp.Note)
	var conflict *trail.WitnessConflictError
	if !errors.As(err, &conflict) || conflict.Size != 3 {
		t.Fatalf("old 0 against a witness at 3: %v", err)
	}

	restarted := f.witnessing(t)
	cp = grow(t, f.log, 6, "b")
	before := f.requests.Load()
	out, err := restarted.Cosign(ctx, f.log, cp)
	if err != nil {
		t.Fatal(err)
	}
	f.checkCosigned(t, out.Note, 9)
	if n := f.requests.Load() - before; n != 2 {
		t.Fatalf("%d requests, want a 409 and a retry", n)
	}

	// An older checkpoint, with the witness already at 9.
	old, err := trail.SignCheckpoint(trail.Checkpoint{Origin: origin, Size: 3, Hash: mustHash(t, f.log, 3)}, f.keys.Signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.witnessing(t).Cosign(ctx, f.log, trail.StoredCheckpoint{Size: 3, Note: old}); !errors.Is(err, trail.ErrWitnessAhead) {
		t.Fatalf("stale checkpoint: %v", err)
	}
}

// TestWitnessRefusals: 403 for a checkpoint that no trusted key signed,
// 404 for a log the witness does not know, 400 for an old size past the
// checkpoint.
func TestWitnessRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cp := grow(t, f.log, 2, "a")
	impostor := trailtest.NewKey(t) // same origin, another key
	forged, err := trail.SignCheckpoint(trail.Checkpoint{Origin: origin, Size: 2, Hash: mustHash(t, f.log, 2)}, impostor.Signer)
	if err != nil {
		t.Fatal(err)
	}
	otherSkey, _, _ := note.GenerateKey(rand.Reader, "other.test/log")
	otherS, _ := note.NewSigner(otherSkey)
	other, err := trail.SignCheckpoint(trail.Checkpoint{Origin: "other.test/log", Size: 1, Hash: tlog.Hash{1}}, otherS)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		old    int64
		note   []byte
		status int
	}{
		{"bad log signature", 0, forged, http.StatusForbidden},
		{"unknown log", 0, other, http.StatusNotFound},
		{"old past the checkpoint", 3, cp.Note, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var proof tlog.TreeProof
			if tt.old > 0 {
				proof = tlog.TreeProof{{}}
			}
			_, err := f.client.AddCheckpoint(ctx, tt.old, proof, tt.note)
			var status *trail.WitnessStatusError
			if !errors.As(err, &status) || status.StatusCode != tt.status {
				t.Fatalf("got %v, want HTTP %d", err, tt.status)
			}
		})
	}
	if n, _ := f.witness.Latest(origin); n != 0 {
		t.Fatalf("witness moved to %d", n)
	}
}

// TestWitnessClientRefusesBadResponses: what a broken or hostile witness
// answers is not taken for a cosignature.
func TestWitnessClientRefusesBadResponses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cp := grow(t, f.log, 2, "a")
	text := cp.Note[:strings.LastIndex(string(cp.Note), "\n\n")+1]
	cosignText := func(s note.Signer, text []byte) string {
		msg, err := note.Sign(&note.Note{Text: string(text)}, s)
		if err != nil {
			t.Fatal(err)
		}
		return string(msg[len(text)+1:])
	}
	good := cosignText(f.cosigner, text)
	otherText := trail.Checkpoint{Origin: origin, Size: 2, Hash: tlog.Hash{7}}.Text()
	impostor, _ := trail.GenerateCosigner(rand.Reader, witnessName) // same name, other key
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		ok          bool
		conflict    int64 // for a 409
	}{
		{"good", 200, "", good, true, 0},
		{"good and an unknown key", 200, "", good + "— other.test/w AAAAAQE=\n", true, 0},
		{"empty", 200, "", "", false, 0},
		{"garbage", 200, "", "hello\n", false, 0},
		{"no newline", 200, "", strings.TrimSuffix(good, "\n"), false, 0},
		{"blank line", 200, "", "\n" + good, false, 0},
		{"oversized", 200, "", good + strings.Repeat("x", trail.MaxWitnessResponseBytes), false, 0},
		{"other checkpoint", 200, "", cosignText(f.cosigner, otherText), false, 0},
		{"impostor key", 200, "", cosignText(impostor, text), false, 0},
		{"too many lines", 200, "", strings.Repeat("— other.test/w AAAAAQE=\n", 17) + good, false, 0},
		{"409 with size", 409, "text/x.tlog.size", "42\n", false, 42},
		{"409 without type", 409, "text/plain", "42\n", false, -1},
		{"409 bad size", 409, "text/x.tlog.size", "042\n", false, -1},
		{"500", 500, "", "boom", false, 0},
		{"redirect", 307, "", "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/add-checkpoint" || r.Method != http.MethodPost {
					http.NotFound(w, r)
					return
				}
				if tt.status == 307 {
					w.Header().Set("Location", f.srv.URL+"/add-checkpoint")
				}
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := &trail.WitnessClient{URL: srv.URL + "/", Verifier: f.cosV}
			out, err := c.AddCheckpoint(ctx, 0, nil, cp.Note)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				f.checkCosigned(t, out, 2)
				if strings.Contains(string(out), "other.test/w") {
					t.Fatal("kept a signature by an unknown key")
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %q", tt.body)
			}
			var conflict *trail.WitnessConflictError
			if tt.status == 409 && (!errors.As(err, &conflict) || conflict.Size != tt.conflict) {
				t.Fatalf("409: %v", err)
			}
		})
	}
	if n, _ := f.witness.Latest(origin); n != 0 {
		t.Fatal("the redirect was followed")
	}
}

// TestWitnessClientTimeout: a witness that does not answer does not hold
// the caller past the client's timeout.
func TestWitnessClientTimeout(t *testing.T) {
	f := newFixture(t)
	cp := grow(t, f.log, 1, "a")
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := &trail.WitnessClient{URL: srv.URL, Verifier: f.cosV, Timeout: 100 * time.Millisecond}
	start := time.Now()
	if _, err := c.AddCheckpoint(context.Background(), 0, nil, cp.Note); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

// TestWitnessingSeveralWitnesses: two witnesses, one down; the note
// carries the other's cosignature and the error names the failure.
func TestWitnessingSeveralWitnesses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	cs2, _ := trail.GenerateCosigner(rand.Reader, "witness.test/w2")
	v2, err := trail.NewCosignatureVerifier(cs2.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	w, err := trail.NewWitnessing(f.client, &trail.WitnessClient{URL: down.URL, Verifier: v2})
	if err != nil {
		t.Fatal(err)
	}
	cp := grow(t, f.log, 4, "a")
	out, err := w.Cosign(ctx, f.log, cp)
	var status *trail.WitnessStatusError
	if !errors.As(err, &status) || status.StatusCode != 503 || status.Witness != "witness.test/w2" {
		t.Fatalf("got %v", err)
	}
	f.checkCosigned(t, out.Note, 4)
	if !strings.Contains(err.Error(), strconv.Itoa(503)) {
		t.Fatal(err)
	}
}

// TestPackageCosignedByWitness: a package built with a witness carries a
// checkpoint the witness cosigned, which VerifyOptions.WitnessKeys checks;
// a package built without one, or checked against another witness's key,
// fails the checkpoint step. A checkpoint already cosigned is not sent
// again.
func TestPackageCosignedByWitness(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	st := trail.NewMemoryStore()
	l, err := trail.New(trail.Config{Store: st, Origin: origin, Signer: f.keys.Signer, VerifierKey: f.keys.VKey})
	if err != nil {
		t.Fatal(err)
	}
	subject := trailtest.Handle(4)
	for i := range 5 {
		if _, err := l.Append(ctx, trail.Event{Kind: trail.KindDeposit, Subject: subject, Ref: fmt.Sprint("d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	w := f.witnessing(t)
	opts := trail.PackageOptions{Keys: l.VerifierKeys(), Witness: w}
	p, err := trail.BuildPackage(ctx, l, st, subject, opts)
	if err != nil {
		t.Fatal(err)
	}
	vopts := trail.VerifyOptions{TrustedKeys: l.VerifierKeys(), WitnessKeys: []string{f.cosigner.VerifierKey()}}
	r, err := trail.VerifyPackage(p, vopts)
	if err != nil || len(r.Witnesses) != 1 || r.Witnesses[0] != witnessName {
		t.Fatalf("the cosigned package: %v, witnesses %v", err, r.Witnesses)
	}
	if !strings.Contains(strings.Join(r.Proves, " "), "cosigned this checkpoint") {
		t.Fatalf("the report does not say the witness cosigned: %v", r.Proves)
	}
	sent := f.requests.Load()
	if _, err := trail.BuildPackage(ctx, l, st, subject, opts); err != nil || f.requests.Load() != sent {
		t.Fatalf("a second package of the same size: %v, %d more requests to the witness", err, f.requests.Load()-sent)
	}

	if _, err := l.Append(ctx, trail.Event{Kind: trail.KindDeposit, Subject: subject, Ref: "d-late"}); err != nil {
		t.Fatal(err)
	}
	plain, err := trail.BuildPackage(ctx, l, st, subject, trail.PackageOptions{Keys: l.VerifierKeys()})
	if err != nil {
		t.Fatal(err)
	}
	var ve *trail.VerifyError
	if _, err := trail.VerifyPackage(plain, vopts); !errors.As(err, &ve) || ve.Step != trail.StepCheckpoint {
		t.Fatalf("a package without the witness's cosignature: %v", err)
	}
	other, err := trail.GenerateCosigner(rand.Reader, "witness.example/other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trail.VerifyPackage(p, trail.VerifyOptions{TrustedKeys: l.VerifierKeys(),
		WitnessKeys: []string{other.VerifierKey()}}); !errors.As(err, &ve) || ve.Step != trail.StepCheckpoint {
		t.Fatalf("checked against another witness: %v", err)
	}
	if _, err := trail.VerifyPackage(p, trail.VerifyOptions{TrustedKeys: l.VerifierKeys(),
		WitnessKeys: []string{"not a key"}}); !errors.As(err, &ve) || ve.Step != trail.StepCheckpoint {
		t.Fatalf("a malformed witness key: %v", err)
	}
}
