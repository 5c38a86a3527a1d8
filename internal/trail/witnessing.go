package trail

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ConsistencyProver proves that a tree of size old is a prefix of the tree
// of size new. *Log is one.
type ConsistencyProver interface {
	ConsistencyProof(ctx context.Context, old, new int64) (tlog.TreeProof, error)
}

// ErrWitnessAhead is returned when a witness has cosigned a larger tree
// than the checkpoint it is asked to cosign: the checkpoint is stale, or
// the witness saw a log with this origin that is not this one.
var ErrWitnessAhead = errors.New("trail: the witness has cosigned a larger tree")

// Witnessing gets new checkpoints cosigned by witnesses. It remembers, in
// memory, the size each witness last cosigned, so that it can send a
// consistency proof from there; after a restart it learns that size from
// the witness's first 409 Conflict. It is safe for concurrent use.
//
// The service calls CosignStored after Log.PublishCheckpoint, away from
// the loop that appends (a witness may be slow), and evidence packages
// are built on a checkpoint it cosigned.
type Witnessing struct {
	witnesses []*witnessState
}

type witnessState struct {
	client *WitnessClient
	mu     sync.Mutex // held for a whole add-checkpoint exchange
	size   int64      // the size the witness last cosigned, as far as we know
}

// NewWitnessing returns a Witnessing for the witnesses; each needs a URL
// and a Verifier.
func NewWitnessing(witnesses ...*WitnessClient) (*Witnessing, error) {
	w := &Witnessing{}
	for _, c := range witnesses {
		if c == nil || c.URL == "" || c.Verifier == nil {
			return nil, errors.New("trail: a witness needs a URL and a verifier")
		}
		w.witnesses = append(w.witnesses, &witnessState{client: c})
	}
	return w, nil
}

// Cosign asks every witness to cosign cp, proving consistency with p, and
// returns cp with every cosignature obtained appended to its note. If a
// witness refuses or cannot be reached, the error says so (errors.Join of
// one error per failed witness) and the returned checkpoint carries the
// cosignatures of the others: it is worth storing either way.
func (w *Witnessing) Cosign(ctx context.Context, p ConsistencyProver, cp StoredCheckpoint) (StoredCheckpoint, error) {
	lines := make([][]byte, len(w.witnesses))
	errs := make([]error, len(w.witnesses))
	var wg sync.WaitGroup
	for i, ws := range w.witnesses {
		wg.Go(func() { lines[i], errs[i] = ws.cosign(ctx, p, cp) })
	}
	wg.Wait()
	out := StoredCheckpoint{Size: cp.Size, Note: append([]byte(nil), cp.Note...)}
	for _, l := range lines {
		out.Note = append(out.Note, l...)
	}
	if len(out.Note) > MaxCheckpointBytes {
		return cp, errors.New("trail: the cosigned checkpoint would be too long")
	}
	return out, errors.Join(errs...)
}

// CosignStored gets cp, a checkpoint the log stored, cosigned by every
// witness whose cosignature it lacks, stores the result (Log.StoreCosigned)
// and returns it. A checkpoint that already carries every witness's
// cosignature is returned as it is, with no request. If a witness fails,
// the error says so and what the others cosigned is stored and returned.
func (w *Witnessing) CosignStored(ctx context.Context, l *Log, cp StoredCheckpoint) (StoredCheckpoint, error) {
	if w.Cosigned(cp.Note) {
		return cp, nil
	}
	cosigned, err := w.Cosign(ctx, l, cp)
	if len(cosigned.Note) > len(cp.Note) {
		if serr := l.StoreCosigned(ctx, cosigned); serr != nil {
			return cp, errors.Join(err, fmt.Errorf("trail: store the cosigned checkpoint: %w", serr))
		}
	}
	return cosigned, err
}

// Cosigned reports whether a signed note carries a valid cosignature of
// every witness.
func (w *Witnessing) Cosigned(msg []byte) bool {
	for _, ws := range w.witnesses {
		if !hasSignature(msg, ws.client.Verifier) {
			return false
		}
	}
	return true
}

// hasSignature reports whether msg carries a valid signature by v.
func hasSignature(msg []byte, v note.Verifier) bool {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return false
	}
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return true
		}
	}
	return false
}

// Sizes returns the size each witness last cosigned, by witness name, as
// far as this process knows.
func (w *Witnessing) Sizes() map[string]int64 {
	out := make(map[string]int64, len(w.witnesses))
	for _, ws := range w.witnesses {
		ws.mu.Lock()
		out[ws.client.Verifier.Name()] = ws.size
		ws.mu.Unlock()
	}
	return out
}

// cosign runs one witness's exchange: a request from the size it last
// cosigned and, after a 409 that names another size, one retry from that.
func (ws *witnessState) cosign(ctx context.Context, p ConsistencyProver, cp StoredCheckpoint) ([]byte, error) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	old := ws.size
	for attempt := 0; ; attempt++ {
		if old > cp.Size {
			return nil, fmt.Errorf("%w: witness %s has size %d, the checkpoint %d", ErrWitnessAhead,
				ws.client.Verifier.Name(), old, cp.Size)
		}
		var proof tlog.TreeProof
		if old > 0 && old < cp.Size {
			var err error
			if proof, err = p.ConsistencyProof(ctx, old, cp.Size); err != nil {
				return nil, fmt.Errorf("trail: consistency proof %d→%d for witness %s: %w", old, cp.Size,
					ws.client.Verifier.Name(), err)
			}
		}
		lines, err := ws.client.addCheckpoint(ctx, old, proof, cp.Note)
		var conflict *WitnessConflictError
		switch {
		case err == nil:
			ws.size = cp.Size
			return lines, nil
		case errors.As(err, &conflict) && attempt == 0 && conflict.Size >= 0 && conflict.Size != old:
			// The witness knows another size than we thought (a restart
			// here, or another process of the service cosigned since).
			old = conflict.Size
			ws.size = old
			continue
		default:
			// A conflict at the size we sent means the witness holds a
			// different tree of that size: evidence of a fork.
			return nil, err
		}
	}
}
