package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/pii"
	sqlstore "github.com/realname/realname/internal/storage/sql"
	"github.com/realname/realname/internal/trail"
)

// trailKeyFile is where the trail's signing key lives.
func trailKeyFile(cfg config.Config) string {
	if cfg.Trail.KeyFile != "" {
		return cfg.Trail.KeyFile
	}
	return filepath.Join(cfg.DataDir, "keys", "trail.key")
}

// openTrail builds the trail on the store with its signing key. The key
// names the log: without REALNAME_TRAIL_ORIGIN the origin is the key's
// name, so a restart on another address continues the same log. A missing
// key is generated only while the trail has no checkpoint (a new key loses
// nothing then); later it stops the start, since checkpoints signed by a
// lost key could not be continued under the same name unnoticed.
func openTrail(ctx context.Context, cfg config.Config, store *sqlstore.Store, listen string, log *slog.Logger) (*trail.Log, error) {
	path := trailKeyFile(cfg)
	skey, err := readTrailKey(path)
	if errors.Is(err, pii.ErrNoKeys) {
		if _, cerr := store.LatestCheckpoint(ctx); !errors.Is(cerr, trail.ErrNotFound) {
			if cerr == nil {
				cerr = errors.New("the trail has signed checkpoints")
			}
			return nil, fmt.Errorf("trail key %s is missing and %w; restore it (refusing to start the log under a new key)", path, cerr)
		}
		if skey, err = generateTrailKey(path, cfg.TrailOrigin(listen)); err != nil {
			return nil, err
		}
		log.Warn("generated a new trail signing key; back it up with the other keys", "path", path)
	} else if err != nil {
		return nil, err
	}
	keys, err := trail.ParseKeyFile(skey)
	if err != nil {
		return nil, fmt.Errorf("trail key file %s: %w", path, err)
	}
	name := keys.Signer.Name()
	if cfg.Trail.Origin != "" && cfg.Trail.Origin != name {
		return nil, fmt.Errorf("trail key %s is named %q, but REALNAME_TRAIL_ORIGIN is %q", path, name, cfg.Trail.Origin)
	}
	l, err := trail.New(trail.Config{Store: store, Origin: name, Signer: keys.Signer, VerifierKey: keys.Verifiers[0],
		Cosigners: keys.Cosigners, OldVerifierKeys: keys.Verifiers[1:], Logger: log.With("component", "trail")})
	if err != nil {
		return nil, err
	}
	// A key file swapped or restored from the wrong backup would
	// otherwise go on signing the log under a key that no verifier of the
	// earlier checkpoints knows.
	if err := l.CheckKeys(ctx); err != nil {
		return nil, fmt.Errorf("the trail's newest checkpoint does not verify with the keys of %s (%w): restore the key "+
			"file that signed it (refusing to sign the log with a key its readers do not know)", path, err)
	}
	return l, nil
}

// readTrailKey reads the trail's key file (trail.ParseKeyFile), which
// must be private to its owner like the other key files; a missing file
// is an error wrapping pii.ErrNoKeys.
func readTrailKey(path string) (string, error) {
	b, err := pii.ReadKeyFile(path, trail.MaxKeyFileBytes)
	return string(b), err
}

// generateTrailKey writes a new Ed25519 signing key named origin, mode
// 0600, never replacing an existing file.
func generateTrailKey(path, origin string) (string, error) {
	skey, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", fmt.Errorf("generate trail key: %w", err)
	}
	// On disk before the first checkpoint it signs is stored durably: a
	// key lost in a power cut would stop every later start.
	if err := pii.WriteNewKeyFile(path, []byte(skey+"\n")); err != nil {
		return "", fmt.Errorf("write trail key: %w", err)
	}
	return skey, nil
}

// trailWitness returns the configured witness, or nil.
func trailWitness(cfg config.Config) (*trail.Witnessing, error) {
	if cfg.Trail.WitnessURL == "" {
		return nil, nil
	}
	v, err := trail.NewCosignatureVerifier(cfg.Trail.WitnessKey)
	if err != nil {
		return nil, fmt.Errorf("trail witness key: %w", err)
	}
	return trail.NewWitnessing(&trail.WitnessClient{URL: strings.TrimRight(cfg.Trail.WitnessURL, "/"), Verifier: v})
}

// runTrail appends the events other transactions queued and signs a
// checkpoint every interval while there are new entries, until ctx ends.
// With a witness, the newest checkpoint is sent to it whenever it lacks
// the witness's cosignature (so one that failed is tried again at the next
// interval) and stored again with it. The exchange runs in a goroutine of
// its own, one at a time: a slow or silent witness must not hold up the
// appends.
func runTrail(ctx context.Context, l *trail.Log, w *trail.Witnessing, interval time.Duration, log *slog.Logger) {
	drain := time.NewTicker(100 * time.Millisecond)
	defer drain.Stop()
	sign := time.NewTicker(interval)
	defer sign.Stop()
	var cosigning sync.WaitGroup
	defer cosigning.Wait()
	busy := make(chan struct{}, 1) // held while a witness exchange runs
	cosign := func(cp trail.StoredCheckpoint) {
		defer func() { <-busy }()
		if _, err := w.CosignStored(ctx, l, cp); err != nil && ctx.Err() == nil {
			log.Error("trail: the witness did not cosign", "size", cp.Size, "err", err)
		}
	}
	publish := func() {
		cp, _, err := l.PublishCheckpoint(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("trail: checkpoint not signed", "err", err)
			}
			return
		}
		if w == nil || w.Cosigned(cp.Note) {
			return
		}
		select {
		case busy <- struct{}{}:
			cosigning.Go(func() { cosign(cp) })
		default: // the last exchange is still running; the next interval tries again
		}
	}
	if err := l.RecordKey(ctx); err != nil && ctx.Err() == nil {
		log.Error("trail: key not recorded", "err", err)
	}
	publish()
	for {
		select {
		case <-ctx.Done():
			return
		case <-drain.C:
			if err := l.Drain(ctx); err != nil && ctx.Err() == nil {
				log.Error("trail: outbox not drained", "err", err)
			}
		case <-sign.C:
			publish()
		}
	}
}

// RotateTrailKey writes a new current key into the trail's key file,
// keeping the old signing keys as cosigners, and returns the new verifier
// key. The file is replaced atomically (a temporary file renamed over it);
// running servers use the new key after a restart.
func RotateTrailKey(cfg config.Config) (string, error) {
	path := trailKeyFile(cfg)
	text, err := readTrailKey(path)
	if err != nil {
		return "", err
	}
	keys, err := trail.ParseKeyFile(text)
	if err != nil {
		return "", fmt.Errorf("trail key file %s: %w", path, err)
	}
	next, vkey, err := keys.Rotate()
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".trail-key-*")
	if err != nil {
		return "", fmt.Errorf("rotate trail key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(next); err != nil {
		_ = tmp.Close()
		return "", fmt.Errorf("rotate trail key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return "", fmt.Errorf("rotate trail key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("rotate trail key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("rotate trail key: %w", err)
	}
	if err := pii.SyncDir(filepath.Dir(path)); err != nil {
		return "", fmt.Errorf("rotate trail key: %w", err)
	}
	return vkey, nil
}
