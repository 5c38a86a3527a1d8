package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/pii"
	"github.com/realname/realname/internal/realname"
)

// RotateResult reports a key rotation.
type RotateResult struct {
	NewKeyID  string
	Checked   int
	Rewrapped int
}

// RotateKeys adds a new key-encryption key to the key-ring file, makes it
// primary and re-wraps every person's data key with it. Old keys stay in the
// ring. A running server reads the ring file again when it meets a data key
// wrapped by a key it does not know, so rotation needs no downtime; it wraps
// new data keys with the new primary after its next start. Only the key
// files in the data directory (or REALNAME_KEYRING_FILE) can be rotated
// here; keys from env are rotated where they are kept.
func RotateKeys(ctx context.Context, cfg config.Config, getenv func(string) string, progress func(done, rewrapped int)) (RotateResult, error) {
	files := keyFiles(cfg)
	if cfg.Keys.RingFile == "" && getenv("REALNAME_KEYRING") != "" {
		return RotateResult{}, fmt.Errorf("keys come from REALNAME_KEYRING: rotate them where they are kept, then re-run with REALNAME_KEYRING_FILE")
	}
	store, err := OpenStore(ctx, cfg, nil)
	if err != nil {
		return RotateResult{}, err
	}
	defer store.Close()
	ring, err := pii.Rotate(files)
	if err != nil {
		return RotateResult{}, fmt.Errorf("rotate key ring: %w", err)
	}
	res := RotateResult{NewKeyID: ring.PrimaryID()}
	after := ""
	for {
		persons, err := store.Persons(ctx, after, 500)
		if err != nil {
			return res, fmt.Errorf("list persons: %w", err)
		}
		if len(persons) == 0 {
			return res, nil
		}
		for _, p := range persons {
			after = p.ID
			res.Checked++
			if p.Erased() || !ring.NeedsRewrap(p.WrappedKey) {
				continue // an erased person has no key left to re-wrap
			}
			wrapped, err := ring.Rewrap(p.WrappedKey, "person:"+p.ID)
			if err != nil {
				return res, fmt.Errorf("re-wrap %s: %w", p.ID, err)
			}
			err = store.UpdatePersonKey(ctx, p.ID, ring.PrimaryID(), wrapped)
			if errors.Is(err, realname.ErrNotFound) {
				continue // erased since it was listed
			}
			if err != nil {
				return res, fmt.Errorf("store re-wrapped key of %s: %w", p.ID, err)
			}
			res.Rewrapped++
		}
		if progress != nil {
			progress(res.Checked, res.Rewrapped)
		}
	}
}
