package pii

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Environment variables read by LoadEnv.
const (
	// EnvKeyRing holds the key ring JSON (same format as the key ring file),
	// or the standard base64 encoding of it.
	EnvKeyRing = "REALNAME_KEYRING"
	// EnvIndexKey holds the standard base64 encoding of the 32-byte blind
	// index key.
	EnvIndexKey = "REALNAME_INDEX_KEY"
)

const (
	maxRingFileSize  = 1 << 20
	maxIndexFileSize = 4 << 10
)

// Material is the key material the service needs: the key ring for wrapping
// per-person data keys and the blind-index key.
type Material struct {
	Ring  *KeyRing
	Index *BlindIndex
}

// KeyFiles describes where keys live on disk.
//
// The key ring file is JSON:
//
//	{"primary":"k2","keys":[{"id":"k1","secret":"<base64 32 bytes>","created":"RFC3339"}, ...]}
//
// The index key file holds the standard base64 encoding of the 32-byte
// blind-index key on one line. Both must be regular files that are not
// accessible by group or others (mode 0600 or stricter).
type KeyFiles struct {
	RingPath  string
	IndexPath string
}

// DefaultKeyFiles returns dataDir/keys/keyring.json and dataDir/keys/index.key.
func DefaultKeyFiles(dataDir string) KeyFiles {
	dir := filepath.Join(dataDir, "keys")
	return KeyFiles{
		RingPath:  filepath.Join(dir, "keyring.json"),
		IndexPath: filepath.Join(dir, "index.key"),
	}
}

// Load reads the key ring and index key files. It never creates or modifies
// anything. A missing file yields an error wrapping ErrNoKeys; a file whose
// permissions allow group or other access (mode&0o077 != 0), or that is not a
// regular file, yields an error wrapping ErrInsecureKeyFile. Symbolic links
// are followed and the target is checked.
func Load(f KeyFiles) (Material, error) {
	ringData, err := ReadKeyFile(f.RingPath, maxRingFileSize)
	if err != nil {
		return Material{}, err
	}
	defer clear(ringData)
	ring, err := parseRing(ringData)
	if err != nil {
		return Material{}, fmt.Errorf("pii: key ring file %s: %w", f.RingPath, err)
	}
	idxData, err := ReadKeyFile(f.IndexPath, maxIndexFileSize)
	if err != nil {
		return Material{}, err
	}
	defer clear(idxData)
	idx, err := parseIndexKey(idxData)
	if err != nil {
		return Material{}, fmt.Errorf("pii: index key file %s: %w", f.IndexPath, err)
	}
	return Material{Ring: ring, Index: idx}, nil
}

// LoadEnv reads the key ring from EnvKeyRing (JSON, or base64 of the JSON)
// and the index key from EnvIndexKey (base64) using getenv, which is
// os.Getenv if nil. If either variable is unset or empty the error wraps
// ErrNoKeys. Error messages name the variable, never its value.
func LoadEnv(getenv func(string) string) (Material, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	ringVal := strings.TrimSpace(getenv(EnvKeyRing))
	idxVal := strings.TrimSpace(getenv(EnvIndexKey))
	var missing []string
	if ringVal == "" {
		missing = append(missing, EnvKeyRing)
	}
	if idxVal == "" {
		missing = append(missing, EnvIndexKey)
	}
	if len(missing) > 0 {
		return Material{}, fmt.Errorf("pii: %s not set: %w", strings.Join(missing, " and "), ErrNoKeys)
	}
	ringJSON := []byte(ringVal)
	if !strings.HasPrefix(ringVal, "{") {
		var err error
		if ringJSON, err = decodeBase64([]byte(ringVal)); err != nil {
			return Material{}, fmt.Errorf("pii: %s is neither JSON nor base64", EnvKeyRing)
		}
	}
	defer clear(ringJSON)
	ring, err := parseRing(ringJSON)
	if err != nil {
		return Material{}, fmt.Errorf("pii: %s: %w", EnvKeyRing, err)
	}
	idx, err := parseIndexKey([]byte(idxVal))
	if err != nil {
		return Material{}, fmt.Errorf("pii: %s: %w", EnvIndexKey, err)
	}
	return Material{Ring: ring, Index: idx}, nil
}

// ringFile is the on-disk / environment representation of a key ring.
type ringFile struct {
	Primary string        `json:"primary"`
	Keys    []ringFileKey `json:"keys"`
}

type ringFileKey struct {
	ID      string    `json:"id"`
	Secret  string    `json:"secret"`
	Created time.Time `json:"created,omitzero"`
}

// decodeRingFile parses key ring JSON strictly (no unknown fields, no
// trailing data). Errors describe the structure, never the content.
func decodeRingFile(data []byte) (ringFile, error) {
	var rf ringFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&rf)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		return ringFile{}, errors.New("trailing data after JSON object")
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return rf, nil
	case errors.As(err, &syn):
		return ringFile{}, fmt.Errorf("invalid JSON at byte offset %d", syn.Offset)
	case errors.As(err, &typ):
		return ringFile{}, fmt.Errorf("field %q has the wrong JSON type", typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return ringFile{}, fmt.Errorf("unexpected %s", strings.TrimPrefix(err.Error(), "json: "))
	default:
		return ringFile{}, errors.New("invalid key ring JSON (bad created time or truncated input?)")
	}
}

// keyRing validates rf and builds the KeyRing.
func (rf ringFile) keyRing() (*KeyRing, error) {
	keys := make([]Key, 0, len(rf.Keys))
	defer func() {
		for _, k := range keys {
			clear(k.Secret)
		}
	}()
	for i, fk := range rf.Keys {
		secret, err := decodeBase64([]byte(fk.Secret))
		if err != nil {
			return nil, fmt.Errorf("key #%d: secret is not valid base64", i)
		}
		keys = append(keys, Key{ID: fk.ID, Secret: secret, Created: fk.Created})
	}
	return NewKeyRing(keys, rf.Primary)
}

func parseRing(data []byte) (*KeyRing, error) {
	rf, err := decodeRingFile(data)
	if err != nil {
		return nil, err
	}
	return rf.keyRing()
}

func parseIndexKey(data []byte) (*BlindIndex, error) {
	key, err := decodeBase64(bytes.TrimSpace(data))
	if err != nil {
		return nil, errors.New("index key is not valid base64")
	}
	defer clear(key)
	return NewBlindIndex(key)
}

// decodeBase64 decodes standard base64, padded or not, without converting
// the input to a string (so the decoded buffer can be cleared).
func decodeBase64(src []byte) ([]byte, error) {
	enc := base64.StdEncoding
	if len(src)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	dst := make([]byte, enc.DecodedLen(len(src)))
	n, err := enc.Strict().Decode(dst, src)
	if err != nil {
		clear(dst)
		return nil, err // CorruptInputError carries an offset only
	}
	return dst[:n], nil
}

// ReadKeyFile reads a key file after checking that it exists (else an
// error wrapping ErrNoKeys), is a regular file, is private to its owner,
// and is not larger than max.
func ReadKeyFile(path string, max int64) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("pii: key file path is empty: %w", ErrNoKeys)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pii: key file %s does not exist: %w", path, ErrNoKeys)
	} else if err != nil {
		return nil, fmt.Errorf("pii: opening key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat() // of the opened file, so there is no check/use race
	if err != nil {
		return nil, fmt.Errorf("pii: key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("pii: key file %s is not a regular file: %w", path, ErrInsecureKeyFile)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("pii: key file %s has mode %#o, which allows group/other access; run chmod 600 on it: %w",
			path, perm, ErrInsecureKeyFile)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("pii: key file %s is too large (%d bytes, limit %d)", path, st.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		clear(data)
		return nil, fmt.Errorf("pii: reading key file: %w", err)
	}
	if int64(len(data)) > max {
		clear(data)
		return nil, fmt.Errorf("pii: key file %s is too large (limit %d bytes)", path, max)
	}
	return data, nil
}
