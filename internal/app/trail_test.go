package app_test

import (
	crand "crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/trail"
	"github.com/realname/realname/internal/trail/witnesstest"
)

// getPublic fetches a public path and returns its status and body.
func getPublic(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestTrailEndToEnd: a sandbox verification leaves its started, opened and
// succeeded entries in the trail, chained under one handle with no
// personal data; the query answer's receipt names the succeeded entry, and
// its inclusion proof checks against a checkpoint signed with the key the
// server publishes. An erasure is recorded under the same handle, which
// afterwards nothing links to the person any more.
func TestTrailEndToEnd(t *testing.T) {
	cfg := testConfig(t)
	cfg.Trail.CheckpointInterval = time.Second
	r := start(t, cfg, nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	_, a := c.init("trail-user", testName, testNumber)
	complete(t, a.VerifyURL, "pass")
	c.waitStatus(a.CertifyID, "success")

	// The receipt appears once the sequencer has drained the outbox.
	var q struct {
		Receipt *trail.Receipt `json:"receipt"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for q.Receipt == nil {
		if time.Now().After(deadline) {
			t.Fatal("no receipt in the query answer")
		}
		time.Sleep(50 * time.Millisecond)
		c.call("POST", "/api/v1/auth/query", map[string]any{"certify_id": a.CertifyID}, &q)
	}
	code, data := getPublic(t, r.URL()+"/trail/entry/"+strconv.FormatInt(q.Receipt.Index, 10))
	if code != 200 || trail.LeafHash(data) != q.Receipt.LeafHash {
		t.Fatalf("entry %d: %d, leaf hash differs from the receipt", q.Receipt.Index, code)
	}
	e, err := trail.ParseEntry(data)
	if err != nil || e.Kind != trail.KindVerificationSucceeded || e.Ref != a.CertifyID || e.Seq != 3 ||
		e.Attrs["evidence"] != "face" || e.Attrs["provider"] != "sandbox" || !trail.ValidHandle(e.Subject) {
		t.Fatalf("succeeded entry %+v, %v", e, err)
	}

	// A checkpoint covering it, signed by the published key.
	code, vkey := getPublic(t, r.URL()+"/trail/key")
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if code != 200 || err != nil {
		t.Fatalf("key: %d %v", code, err)
	}
	cp := waitCheckpoint(t, r.URL(), note.VerifierList(verifier), q.Receipt.Index+1)
	code, b := getPublic(t, r.URL()+"/trail/proof/inclusion?index="+strconv.FormatInt(q.Receipt.Index, 10)+"&size="+strconv.FormatInt(cp.Size, 10))
	var p struct {
		Proof []tlog.Hash `json:"proof"`
	}
	if err := json.Unmarshal(b, &p); err != nil || code != 200 {
		t.Fatalf("inclusion proof: %d %s", code, b)
	}
	if err := tlog.CheckRecord(p.Proof, cp.Size, cp.Hash, q.Receipt.Index, q.Receipt.LeafHash); err != nil {
		t.Fatal(err)
	}

	// The whole chain of the handle: started, opened, succeeded.
	chain := map[int64]trail.Entry{}
	for i := range cp.Size {
		_, d := getPublic(t, r.URL()+"/trail/entry/"+strconv.FormatInt(i, 10))
		if strings.Contains(string(d), testNumber) || strings.Contains(string(d), testName) || strings.Contains(string(d), "trail-user") {
			t.Fatalf("entry %d holds personal data: %s", i, d)
		}
		if en, err := trail.ParseEntry(d); err == nil && en.Subject == e.Subject {
			chain[en.Seq] = en
		}
	}
	if chain[1].Kind != trail.KindVerificationStarted || chain[2].Kind != trail.KindVerificationOpened || len(chain) != 3 {
		t.Fatalf("the handle's chain: %+v", chain)
	}

	// Erasure: recorded under the handle as its fourth entry.
	var rep struct {
		Success bool `json:"success"`
	}
	var tok struct {
		Token string `json:"token"`
	}
	c.call("POST", "/api/v1/auth/token", map[string]any{"user_id": "trail-user"}, &tok)
	person := client{t: t, base: r.URL(), key: tok.Token}
	if code := person.call("DELETE", "/api/v1/auth/me", nil, &rep); code != 200 || !rep.Success {
		t.Fatalf("erase: %d", code)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no erasure entry")
		}
		code, d := getPublic(t, r.URL()+"/trail/entry/"+strconv.FormatInt(cp.Size, 10))
		if code != 200 {
			continue
		}
		en, err := trail.ParseEntry(d)
		if err != nil || en.Kind != trail.KindErasure || en.Subject != e.Subject || en.Seq != 4 {
			t.Fatalf("entry after the erasure: %+v %v", en, err)
		}
		break
	}
}

// TestTrailKeyRotationAcrossRestart: checkpoints signed before "trail
// rotate-key" keep verifying with the old key, those after verify with
// both (the old key cosigns), the new tree extends the old one, and the
// server publishes both keys.
func TestTrailKeyRotationAcrossRestart(t *testing.T) {
	cfg := testConfig(t)
	cfg.Trail.CheckpointInterval = time.Second
	r := start(t, cfg, nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	_, a := c.init("rot-user", testName, testNumber)
	complete(t, a.VerifyURL, "pass")
	c.waitStatus(a.CertifyID, "success")
	_, oldKey := getPublic(t, r.URL()+"/trail/key")
	oldV, err := note.NewVerifier(strings.TrimSpace(string(oldKey)))
	if err != nil {
		t.Fatal(err)
	}
	before := waitCheckpoint(t, r.URL(), note.VerifierList(oldV), 4) // log.key, started, opened, succeeded
	r.stop()

	newKey, err := app.RotateTrailKey(cfg)
	if err != nil {
		t.Fatal(err)
	}
	newV, _ := note.NewVerifier(newKey)
	r = start(t, cfg, nil)
	c = client{t: t, base: r.URL(), key: r.DevAPIKey()}
	if _, keys := getPublic(t, r.URL()+"/trail/keys"); string(keys) != newKey+"\n"+strings.TrimSpace(string(oldKey))+"\n" {
		t.Fatalf("/trail/keys:\n%s", keys)
	}
	c.init("rot-user-2", "李四", numberB)
	after := waitCheckpoint(t, r.URL(), note.VerifierList(newV), before.Size+2) // the new log.key and a start
	code, raw := getPublic(t, r.URL()+"/trail/checkpoint")
	if _, _, err := trail.OpenCheckpoint(raw, note.VerifierList(oldV)); code != 200 || err != nil {
		t.Fatalf("a checkpoint after the rotation does not verify with the old key (the cosigner): %v", err)
	}
	code, body := getPublic(t, r.URL()+"/trail/proof/consistency?old="+strconv.FormatInt(before.Size, 10)+"&new="+strconv.FormatInt(after.Size, 10))
	var p struct {
		Proof []tlog.Hash `json:"proof"`
	}
	if err := json.Unmarshal(body, &p); code != 200 || err != nil {
		t.Fatalf("consistency: %d %s", code, body)
	}
	if err := tlog.CheckTree(p.Proof, after.Size, after.Hash, before.Size, before.Hash); err != nil {
		t.Fatalf("the tree after the rotation does not extend the one before: %v", err)
	}
}

// waitCheckpoint waits for a checkpoint of at least size entries that
// verifies with vs.
func waitCheckpoint(t *testing.T, base string, vs note.Verifiers, size int64) trail.Checkpoint {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last error // a checkpoint that does not verify: an older one, signed before a rotation
	for {
		if code, b := getPublic(t, base+"/trail/checkpoint"); code == 200 {
			cp, _, err := trail.OpenCheckpoint(b, vs)
			if err == nil && cp.Size >= size {
				return cp
			}
			last = err
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of %d entries that verifies (last error: %v)", size, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTrailWitness: with a witness configured, each new checkpoint is sent
// to it, and the stored and published checkpoint carries the witness's
// cosignature next to the log's signature. The witness is the local
// stand-in (internal/trail/witnesstest), reached over loopback HTTP.
func TestTrailWitness(t *testing.T) {
	cfg := testConfig(t)
	cfg.Trail.CheckpointInterval = time.Second
	// The log's key is made first, so that the witness knows it.
	skey, vkey, err := note.GenerateKey(crand.Reader, "witness-test.localhost/trail")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "keys", "trail.key"), []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logV, _ := note.NewVerifier(vkey)
	cosigner, err := trail.GenerateCosigner(crand.Reader, "witness.localhost/w1")
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewServer(witnesstest.New(cosigner, logV))
	defer w.Close()
	cfg.Trail.WitnessURL, cfg.Trail.WitnessKey = w.URL, cosigner.VerifierKey()
	r := start(t, cfg, nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	c.init("witnessed-user", testName, testNumber)

	witnessV, err := trail.NewCosignatureVerifier(cosigner.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no cosigned checkpoint with the user's entries")
		}
		code, b := getPublic(t, r.URL()+"/trail/checkpoint")
		if code != 200 {
			continue
		}
		cp, n, err := trail.OpenCheckpoint(b, note.VerifierList(logV, witnessV))
		if err != nil {
			t.Fatal(err)
		}
		witnessed := false
		for _, s := range n.Sigs {
			witnessed = witnessed || s.Name == "witness.localhost/w1"
		}
		if witnessed && cp.Size >= 3 { // log.key, started, opened
			break
		}
	}
}

// TestTrailSilentWitness: a witness that never answers does not hold up
// the appends: the entries of a verification are in the log within the
// drain's rhythm, while the exchange with the witness waits for its
// timeout.
func TestTrailSilentWitness(t *testing.T) {
	cfg := testConfig(t)
	cfg.Trail.CheckpointInterval = time.Second
	cosigner, err := trail.GenerateCosigner(crand.Reader, "witness.localhost/silent")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	w := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select { // never answers
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer w.Close()
	defer close(release)
	cfg.Trail.WitnessURL, cfg.Trail.WitnessKey = w.URL, cosigner.VerifierKey()
	r := start(t, cfg, nil)
	c := client{t: t, base: r.URL(), key: r.DevAPIKey()}
	c.init("silent-witness-user", testName, testNumber)
	// Entries 0 (log.key), 1 (started) and 2 (opened).
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _ := getPublic(t, r.URL()+"/trail/entry/2"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the verification's entries were not appended while the witness stayed silent")
		}
	}
}

// TestTrailKeyMustMatchCheckpoints: a key file replaced by another key of
// the same name (the wrong backup) stops the start, since the log's
// checkpoints do not verify with it; the right key starts again.
func TestTrailKeyMustMatchCheckpoints(t *testing.T) {
	cfg := testConfig(t)
	r := start(t, cfg, nil)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _ := getPublic(t, r.URL()+"/trail/checkpoint"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint")
		}
	}
	r.stop()
	path := filepath.Join(cfg.DataDir, "keys", "trail.key")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.SplitN(strings.TrimPrefix(string(good), "PRIVATE+KEY+"), "+", 2)[0]
	other, _, err := note.GenerateKey(crand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(other+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := app.New(t.Context(), cfg, app.Options{Getenv: func(string) string { return "" }}); err == nil ||
		!strings.Contains(err.Error(), "does not verify with the keys of") {
		t.Fatalf("start with another key of the same name: %v", err)
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, cfg, nil).stop() // the right key starts again
}

// TestTrailKeyFileChecked: a trail key that group or others can read stops
// the start, as the other key files do.
func TestTrailKeyFileChecked(t *testing.T) {
	cfg := testConfig(t)
	skey, _, err := note.GenerateKey(crand.Reader, "perm-test.localhost/trail")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg.DataDir, "keys", "trail.key")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(skey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := app.New(t.Context(), cfg, app.Options{Getenv: func(string) string { return "" }}); err == nil ||
		!strings.Contains(err.Error(), "trail.key") {
		t.Fatalf("start with a readable trail key: %v", err)
	}
}
