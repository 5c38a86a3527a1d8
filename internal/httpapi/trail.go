package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/trail"
)

// trailRoutes serves the trail (CONTRACT.md, "Trail") to anyone: its
// entries carry no personal data. Without a trail every route answers 404.
func (s *Server) trailRoutes() {
	m := s.mux
	if s.trail == nil {
		return
	}
	m.Handle("GET /trail/key", s.instrument("trail_key", s.handleTrailKey))
	m.Handle("GET /trail/keys", s.instrument("trail_keys", s.handleTrailKeys))
	m.Handle("GET /trail/checkpoint", s.instrument("trail_checkpoint", s.handleTrailCheckpoint))
	m.Handle("GET /trail/entry/{index}", s.instrument("trail_entry", s.handleTrailEntry))
	m.Handle("GET /trail/proof/inclusion", s.instrument("trail_inclusion", s.handleTrailInclusion))
	m.Handle("GET /trail/proof/consistency", s.instrument("trail_consistency", s.handleTrailConsistency))
}

var errTrailRange = realname.E(realname.KindNotFound, "OUT_OF_RANGE", "no such entry or tree size in the trail", nil)

func writeText(w http.ResponseWriter, ctype string, b []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (s *Server) handleTrailKey(w http.ResponseWriter, r *http.Request) {
	writeText(w, "text/plain; charset=utf-8", []byte(s.trail.VerifierKey()+"\n"))
}

// handleTrailKeys lists every verifier key of the log, the current one
// first: checkpoints signed before a rotation verify with an older one.
func (s *Server) handleTrailKeys(w http.ResponseWriter, r *http.Request) {
	writeText(w, "text/plain; charset=utf-8", []byte(strings.Join(s.trail.VerifierKeys(), "\n")+"\n"))
}

func (s *Server) handleTrailCheckpoint(w http.ResponseWriter, r *http.Request) {
	c, err := s.trail.LatestCheckpoint(r.Context())
	if errors.Is(err, trail.ErrNotFound) {
		renderError(w, r, s.log, realname.E(realname.KindUnavailable, "NO_CHECKPOINT", "the trail has no checkpoint yet; try again in a few seconds", nil))
		return
	}
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeText(w, "text/plain; charset=utf-8", c.Note)
}

// trailNumber parses a non-negative decimal (at most 18 digits, no sign or
// leading zeros), or reports a 400 answer.
func trailNumber(w http.ResponseWriter, r *http.Request, s *Server, name, v string) (int64, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || len(v) > 18 || strconv.FormatInt(n, 10) != v {
		renderError(w, r, s.log, realname.E(realname.KindInvalid, "INVALID_REQUEST", name+" must be a non-negative whole number", nil))
		return 0, false
	}
	return n, true
}

func (s *Server) handleTrailEntry(w http.ResponseWriter, r *http.Request) {
	i, ok := trailNumber(w, r, s, "index", r.PathValue("index"))
	if !ok {
		return
	}
	b, err := s.trail.Entry(r.Context(), i)
	if errors.Is(err, trail.ErrNotFound) { // past the end
		err = errTrailRange
	}
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeText(w, "application/octet-stream", b)
}

type proofAnswer struct {
	Index    *int64      `json:"index,omitempty"`
	TreeSize *int64      `json:"tree_size,omitempty"`
	OldSize  *int64      `json:"old_size,omitempty"`
	NewSize  *int64      `json:"new_size,omitempty"`
	Proof    []tlog.Hash `json:"proof"` // standard base64 each (tlog.Hash's JSON form)
}

func (s *Server) handleTrailInclusion(w http.ResponseWriter, r *http.Request) {
	s.trailProof(w, r, "index", "size", func(i, n int64) (proofAnswer, error) {
		p, err := s.trail.InclusionProof(r.Context(), i, n)
		return proofAnswer{Index: &i, TreeSize: &n, Proof: nonNil(p)}, err
	})
}

func (s *Server) handleTrailConsistency(w http.ResponseWriter, r *http.Request) {
	s.trailProof(w, r, "old", "new", func(old, n int64) (proofAnswer, error) {
		p, err := s.trail.ConsistencyProof(r.Context(), old, n)
		return proofAnswer{OldSize: &old, NewSize: &n, Proof: nonNil(p)}, err
	})
}

// trailProof answers a proof whose two numbers are the query parameters
// a and b.
func (s *Server) trailProof(w http.ResponseWriter, r *http.Request, a, b string, prove func(x, y int64) (proofAnswer, error)) {
	q := r.URL.Query()
	x, ok := trailNumber(w, r, s, a, q.Get(a))
	if !ok {
		return
	}
	y, ok := trailNumber(w, r, s, b, q.Get(b))
	if !ok {
		return
	}
	ans, err := prove(x, y)
	if errors.Is(err, trail.ErrBadRange) {
		err = errTrailRange
	}
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

func nonNil(p []tlog.Hash) []tlog.Hash {
	if p == nil {
		return []tlog.Hash{}
	}
	return p
}
