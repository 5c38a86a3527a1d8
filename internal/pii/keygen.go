package pii

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Generate creates a fresh key ring (one key, primary) and blind-index key,
// writes them to f with mode 0600 (creating missing directories with mode
// 0700; existing directories are left as they are), and returns them.
//
// Generate never overwrites: if either file already exists it fails with an
// error wrapping ErrKeysExist and touches nothing. Each file is written to a
// temporary file in the same directory, fsynced, and then published with a
// hard link, which (unlike rename) fails if the target appeared in the
// meantime; the directory is then fsynced. If the second file cannot be
// published, the first one is removed again. On file systems without hard
// links Generate fails rather than risk overwriting.
func Generate(f KeyFiles) (Material, error) {
	if f.RingPath == "" || f.IndexPath == "" || filepath.Clean(f.RingPath) == filepath.Clean(f.IndexPath) {
		return Material{}, errors.New("pii: generate: key file paths must be non-empty and distinct")
	}
	for _, p := range []string{f.RingPath, f.IndexPath} {
		if _, err := os.Lstat(p); err == nil {
			return Material{}, fmt.Errorf("pii: generate: %s: %w", p, ErrKeysExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return Material{}, fmt.Errorf("pii: generate: %w", err)
		}
	}

	rf := ringFile{}
	if err := rf.addKey(); err != nil {
		return Material{}, err
	}
	ringJSON, err := rf.marshal()
	if err != nil {
		return Material{}, err
	}
	defer clear(ringJSON)
	ring, err := rf.keyRing()
	if err != nil {
		return Material{}, fmt.Errorf("pii: generate: %w", err)
	}

	idxKey := make([]byte, BlindIndexKeySize)
	defer clear(idxKey)
	if _, err := rand.Read(idxKey); err != nil {
		return Material{}, errors.New("pii: generate: reading random bytes failed")
	}
	idx, err := NewBlindIndex(idxKey)
	if err != nil {
		return Material{}, fmt.Errorf("pii: generate: %w", err)
	}
	idxLine := make([]byte, base64.StdEncoding.EncodedLen(len(idxKey)), base64.StdEncoding.EncodedLen(len(idxKey))+1)
	base64.StdEncoding.Encode(idxLine, idxKey)
	idxLine = append(idxLine, '\n')
	defer clear(idxLine)

	if err := WriteNewKeyFile(f.RingPath, ringJSON); err != nil {
		return Material{}, err
	}
	if err := WriteNewKeyFile(f.IndexPath, idxLine); err != nil {
		_ = os.Remove(f.RingPath) // we created it just now; do not leave half a key set
		_ = SyncDir(filepath.Dir(f.RingPath))
		return Material{}, err
	}
	return Material{Ring: ring, Index: idx}, nil
}

// Rotate adds a new random key-encryption key to the key ring file, makes it
// primary, and atomically replaces the file (temporary file with mode 0600,
// fsync, rename, directory fsync). Existing keys are kept, so data keys
// wrapped before the rotation still unwrap; use KeyRing.NeedsRewrap and
// KeyRing.Rewrap to migrate them. The index key is not rotated (that would
// require recomputing every stored blind index from plaintext).
//
// The temporary file f.RingPath+".rotate" doubles as a lock: it is created
// exclusively, so two concurrent rotations cannot lose each other's key. If
// it exists, Rotate fails; after a crash, remove it by hand. Processes that
// already loaded the old ring must reload to wrap with the new key.
func Rotate(f KeyFiles) (*KeyRing, error) {
	if f.RingPath == "" {
		return nil, fmt.Errorf("pii: rotate: key ring path is empty: %w", ErrNoKeys)
	}
	tmpPath := f.RingPath + ".rotate"
	tmp, err := os.OpenFile(tmpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("pii: rotate: %s exists: another rotation is running, or one crashed (if so, remove the file)", tmpPath)
	} else if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pii: rotate: directory of %s does not exist: %w", f.RingPath, ErrNoKeys)
	} else if err != nil {
		return nil, fmt.Errorf("pii: rotate: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmpPath)
		}
	}()

	data, err := ReadKeyFile(f.RingPath, maxRingFileSize) // read under the lock
	if err != nil {
		return nil, err
	}
	defer clear(data)
	rf, err := decodeRingFile(data)
	if err != nil {
		return nil, fmt.Errorf("pii: rotate: key ring file %s: %w", f.RingPath, err)
	}
	if _, err := rf.keyRing(); err != nil { // refuse to build on a broken ring
		return nil, fmt.Errorf("pii: rotate: key ring file %s: %w", f.RingPath, err)
	}
	if err := rf.addKey(); err != nil {
		return nil, err
	}
	ring, err := rf.keyRing()
	if err != nil {
		return nil, fmt.Errorf("pii: rotate: %w", err)
	}
	out, err := rf.marshal()
	if err != nil {
		return nil, err
	}
	defer clear(out)

	if err := tmp.Chmod(0o600); err != nil {
		return nil, fmt.Errorf("pii: rotate: %w", err)
	}
	if err := writeAndSync(tmp, out); err != nil {
		return nil, fmt.Errorf("pii: rotate: writing %s: %w", tmpPath, err)
	}
	if err := os.Rename(tmpPath, f.RingPath); err != nil {
		return nil, fmt.Errorf("pii: rotate: %w", err)
	}
	committed = true
	if err := SyncDir(filepath.Dir(f.RingPath)); err != nil {
		return nil, fmt.Errorf("pii: rotate: key ring replaced but directory fsync failed: %w", err)
	}
	return ring, nil
}

// addKey appends a fresh random key with a new random 8-hex-digit id and
// makes it primary.
func (rf *ringFile) addKey() error {
	secret := make([]byte, KEKSize)
	defer clear(secret)
	var idBytes [4]byte
	for {
		if _, err := rand.Read(idBytes[:]); err != nil {
			return errors.New("pii: reading random bytes failed")
		}
		id := hex.EncodeToString(idBytes[:])
		taken := false
		for _, k := range rf.Keys {
			taken = taken || k.ID == id
		}
		if taken {
			continue
		}
		if _, err := rand.Read(secret); err != nil {
			return errors.New("pii: reading random bytes failed")
		}
		rf.Keys = append(rf.Keys, ringFileKey{
			ID:      id,
			Secret:  base64.StdEncoding.EncodeToString(secret),
			Created: time.Now().UTC().Truncate(time.Second),
		})
		rf.Primary = id
		return nil
	}
}

func (rf ringFile) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(rf, "", "  ")
	if err != nil {
		return nil, errors.New("pii: encoding key ring failed")
	}
	return append(b, '\n'), nil
}

// WriteNewKeyFile publishes data at path with mode 0600 without ever replacing
// an existing file (ErrKeysExist), fsyncing the file and its directory
// first: a key that signs or seals something durable must be durable too.
func WriteNewKeyFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pii: generate: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("pii: generate: %w", err)
	}
	defer os.Remove(tmp.Name()) // the published hard link survives this
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("pii: generate: %w", err)
	}
	if err := writeAndSync(tmp, data); err != nil {
		return fmt.Errorf("pii: generate: writing %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pii: generate: %s: %w", path, ErrKeysExist)
	} else if err != nil {
		return fmt.Errorf("pii: generate: publishing key file: %w", err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("pii: generate: %w", err)
	}
	return nil
}

// writeAndSync writes data to f, fsyncs and closes it.
func writeAndSync(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir fsyncs a directory so that a rename or link in it is durable.
// Windows cannot open directories for syncing; there it is a no-op.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
