package authority

import (
	"context"
	"errors"
	"fmt"

	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/trail"
)

// Packager builds the evidence packages authorities ask for.
type Packager struct {
	Log    *trail.Log
	Reader trail.Reader
	// Witness, if set, cosigns each package's checkpoint.
	Witness *trail.Witnessing
}

// Package appends what is queued (the request's own entry, whose ref is
// requestRef, among it) and builds the subject's evidence package, naming
// the request's purpose and the authority; the package ends with the
// request's entry.
func (p *Packager) Package(ctx context.Context, subject, requestRef, purpose, requestedBy string) (*trail.Package, error) {
	if p == nil || p.Log == nil || p.Reader == nil {
		return nil, realname.E(realname.KindUnavailable, "TRAIL_UNAVAILABLE", "the trail is not available", nil)
	}
	if err := p.Log.Drain(ctx); err != nil {
		return nil, fmt.Errorf("drain trail outbox: %w", err)
	}
	pkg, err := trail.BuildPackage(ctx, p.Log, p.Reader, subject, trail.PackageOptions{
		Keys: p.Log.VerifierKeys(), Purpose: purpose, RequestedBy: requestedBy, RequestRef: requestRef, Witness: p.Witness})
	if errors.Is(err, trail.ErrNotFound) {
		return nil, realname.E(realname.KindNotFound, realname.CodeNotFound, "no evidence is held for this ID number", nil)
	}
	return pkg, err
}
