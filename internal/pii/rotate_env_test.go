package pii

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRotate(t *testing.T) {
	f := DefaultKeyFiles(t.TempDir())
	m, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	firstID := m.Ring.PrimaryID()
	dek := mustDataKey(t)
	oldWrap, err := m.Ring.WrapKey(dek, "person/1")
	if err != nil {
		t.Fatal(err)
	}
	indexBefore, _ := os.ReadFile(f.IndexPath)

	ring, err := Rotate(f)
	if err != nil {
		t.Fatal(err)
	}
	if ring.PrimaryID() == firstID || !slices.Contains(ring.IDs(), firstID) || len(ring.IDs()) != 2 {
		t.Fatalf("after rotate: primary %q ids %v", ring.PrimaryID(), ring.IDs())
	}
	if st, _ := os.Stat(f.RingPath); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("ring file mode after rotate = %#o", st.Mode().Perm())
	}
	if _, err := os.Stat(f.RingPath + ".rotate"); !os.IsNotExist(err) {
		t.Error("rotate lock/temp file left behind")
	}
	if indexAfter, _ := os.ReadFile(f.IndexPath); !bytes.Equal(indexBefore, indexAfter) {
		t.Error("Rotate changed the index key")
	}

	loaded, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Ring.PrimaryID() != ring.PrimaryID() {
		t.Fatal("loaded ring primary differs from returned ring")
	}
	got, err := loaded.Ring.UnwrapKey(oldWrap, "person/1")
	if err != nil || !got.Equal(dek) {
		t.Fatalf("old wrap after rotate: %v", err)
	}
	if !loaded.Ring.NeedsRewrap(oldWrap) {
		t.Fatal("old wrap does not need rewrap")
	}
	newWrap, err := loaded.Ring.Rewrap(oldWrap, "person/1")
	if err != nil || loaded.Ring.NeedsRewrap(newWrap) {
		t.Fatalf("Rewrap: %v", err)
	}
	if id := string(newWrap[2 : 2+newWrap[1]]); id != ring.PrimaryID() {
		t.Fatalf("rewrapped with %q, want %q", id, ring.PrimaryID())
	}

	// Created times of existing keys are preserved; the new one is recent.
	var rf ringFile
	data, _ := os.ReadFile(f.RingPath)
	if err := json.Unmarshal(data, &rf); err != nil {
		t.Fatal(err)
	}
	if rf.Keys[0].ID != firstID || time.Since(rf.Keys[1].Created) > time.Minute {
		t.Fatalf("unexpected ring file after rotate: ids %s,%s", rf.Keys[0].ID, rf.Keys[1].ID)
	}

	if _, err := Rotate(f); err != nil {
		t.Fatal(err)
	}
	if again, _ := Load(f); len(again.Ring.IDs()) != 3 {
		t.Fatal("second rotation did not add a key")
	}
}

func TestRotateErrors(t *testing.T) {
	for _, mkdir := range []bool{true, false} {
		t.Run(fmt.Sprintf("missing/dir=%v", mkdir), func(t *testing.T) {
			f := DefaultKeyFiles(t.TempDir())
			if mkdir {
				os.MkdirAll(filepath.Dir(f.RingPath), 0o700)
			}
			_, err := Rotate(f)
			wantErr(t, err, ErrNoKeys)
			if _, err := os.Stat(f.RingPath); !os.IsNotExist(err) {
				t.Fatal("Rotate created a ring file")
			}
			if _, err := os.Stat(f.RingPath + ".rotate"); !os.IsNotExist(err) {
				t.Fatal("Rotate left its lock file behind")
			}
		})
	}
	t.Run("stale lock", func(t *testing.T) {
		f := DefaultKeyFiles(t.TempDir())
		if _, err := Generate(f); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(f.RingPath)
		os.WriteFile(f.RingPath+".rotate", nil, 0o600)
		_, err := Rotate(f)
		if err == nil || !strings.Contains(err.Error(), "another rotation") {
			t.Fatalf("error = %v", err)
		}
		if after, _ := os.ReadFile(f.RingPath); !bytes.Equal(before, after) {
			t.Fatal("ring changed despite lock")
		}
		if _, err := os.Stat(f.RingPath + ".rotate"); err != nil {
			t.Fatal("Rotate removed someone else's lock file")
		}
	})
	t.Run("loose permissions", func(t *testing.T) {
		skipOnWindows(t)
		f := DefaultKeyFiles(t.TempDir())
		if _, err := Generate(f); err != nil {
			t.Fatal(err)
		}
		os.Chmod(f.RingPath, 0o644)
		_, err := Rotate(f)
		wantErr(t, err, ErrInsecureKeyFile)
	})
	t.Run("corrupt ring", func(t *testing.T) {
		f := DefaultKeyFiles(t.TempDir())
		if _, err := Generate(f); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(f.RingPath, []byte(`{"primary":"x","keys":[]}`), 0o600)
		if _, err := Rotate(f); err == nil {
			t.Fatal("rotated a corrupt ring")
		}
		if got, _ := os.ReadFile(f.RingPath); string(got) != `{"primary":"x","keys":[]}` {
			t.Fatal("corrupt ring was rewritten")
		}
	})
}

func TestRotateConcurrent(t *testing.T) {
	f := DefaultKeyFiles(t.TempDir())
	if _, err := Generate(f); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded := 0
	for range 8 {
		wg.Go(func() {
			if _, err := Rotate(f); err == nil {
				mu.Lock()
				succeeded++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	m, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	// Every rotation that reported success must have its key in the file.
	if got := len(m.Ring.IDs()); got != 1+succeeded || succeeded == 0 {
		t.Fatalf("ring has %d keys after %d successful rotations", got, succeeded)
	}
}

func TestLoadEnv(t *testing.T) {
	f := DefaultKeyFiles(t.TempDir())
	m, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	ringJSON, _ := os.ReadFile(f.RingPath)
	idxKey, _ := os.ReadFile(f.IndexPath)
	dek := mustDataKey(t)
	w, _ := m.Ring.WrapKey(dek, "c")
	wantSum := m.Index.Sum("p", "v")

	env := func(vals map[string]string) func(string) string {
		return func(k string) string { return vals[k] }
	}
	ok := []struct {
		name      string
		ring, idx string
	}{
		{"json", string(ringJSON), string(idxKey)},
		{"compact json", strings.Join(strings.Fields(string(ringJSON)), ""), strings.TrimSpace(string(idxKey))},
		{"base64 json", base64.StdEncoding.EncodeToString(ringJSON), string(idxKey)},
		{"raw base64 json", base64.RawStdEncoding.EncodeToString(ringJSON), base64.RawStdEncoding.EncodeToString(mustB64(t, idxKey))},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadEnv(env(map[string]string{EnvKeyRing: tc.ring, EnvIndexKey: tc.idx}))
			if err != nil {
				t.Fatal(err)
			}
			d, err := got.Ring.UnwrapKey(w, "c")
			if err != nil || !d.Equal(dek) || !bytes.Equal(got.Index.Sum("p", "v"), wantSum) {
				t.Fatalf("env material differs from files: %v", err)
			}
		})
	}

	secretB64 := base64.StdEncoding.EncodeToString(testSecret("env"))
	bad := []struct {
		name      string
		ring, idx string
		noKeys    bool
	}{
		{"both unset", "", "", true},
		{"ring unset", "", string(idxKey), true},
		{"index unset", string(ringJSON), "", true},
		{"whitespace only", "  \n", string(idxKey), true},
		{"ring garbage", "not-json-not-base64!" + secretB64, string(idxKey), false},
		{"ring base64 of garbage", base64.StdEncoding.EncodeToString([]byte("nope " + secretB64)), string(idxKey), false},
		{"index garbage", string(ringJSON), "%%%" + secretB64, false},
		{"index short", string(ringJSON), base64.StdEncoding.EncodeToString(make([]byte, 16)), false},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadEnv(env(map[string]string{EnvKeyRing: tc.ring, EnvIndexKey: tc.idx}))
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.noKeys {
				wantErr(t, err, ErrNoKeys)
			}
			if strings.Contains(err.Error(), secretB64) || strings.Contains(err.Error(), strings.TrimSpace(string(idxKey))) {
				t.Fatalf("error leaks secret: %v", err)
			}
		})
	}
}

func TestLoadEnvNilGetenv(t *testing.T) {
	t.Setenv(EnvKeyRing, "")
	t.Setenv(EnvIndexKey, "")
	_, err := LoadEnv(nil)
	wantErr(t, err, ErrNoKeys)
}

func mustB64(t *testing.T, s []byte) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(s)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
