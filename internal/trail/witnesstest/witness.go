package witnesstest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

// MaxRequestBytes bounds an add-checkpoint request body: the old size
// line, 63 proof lines, the blank line and a checkpoint.
const MaxRequestBytes = 32 + 63*45 + 1 + trail.MaxCheckpointBytes

// Witness is a stand-in witness. Its zero value is not usable; see New.
type Witness struct {
	cosigner note.Signer
	logs     map[string]note.Verifier // by origin

	mu       sync.Mutex // held from the check of a request to its answer
	latest   map[string]cosigned
	evidence [][]byte
}

type cosigned struct {
	size int64
	hash tlog.Hash
}

// New returns a witness that cosigns with cosigner the checkpoints of the
// logs whose keys are given (each key's name is its log's origin).
func New(cosigner note.Signer, logs ...note.Verifier) *Witness {
	w := &Witness{cosigner: cosigner, logs: map[string]note.Verifier{}, latest: map[string]cosigned{}}
	for _, v := range logs {
		w.logs[v.Name()] = v
	}
	return w
}

// Latest returns the size and root hash of the newest checkpoint the
// witness cosigned for origin (0 and the zero hash if none).
func (w *Witness) Latest(origin string) (int64, tlog.Hash) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.latest[origin]
	return c.size, c.hash
}

// Evidence returns the validly signed checkpoints the witness refused
// because they conflict with what it cosigned before or their proof did
// not verify (tlog-witness: a witness MAY keep them, "as it might be proof
// of log misbehavior").
func (w *Witness) Evidence() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]byte(nil), w.evidence...)
}

// Request is a parsed add-checkpoint request body.
type Request struct {
	OldSize    int64
	Proof      tlog.TreeProof
	Checkpoint []byte // the signed note, as sent
}

// ParseRequest parses an add-checkpoint request body
// (https://c2sp.org/tlog-witness, "add-checkpoint"): "old <size>\n", up
// to 63 base64 hash lines, "\n", and the checkpoint. It does not check
// the checkpoint beyond its presence.
func ParseRequest(body []byte) (Request, error) {
	var r Request
	if len(body) > MaxRequestBytes {
		return r, errors.New("request too long")
	}
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return r, errors.New("no old size line")
	}
	s, ok := bytes.CutPrefix(line, []byte("old "))
	if !ok {
		return r, errors.New("malformed old size line")
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != string(s) {
		return r, errors.New("malformed old size")
	}
	r.OldSize = n
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return r, errors.New("no blank line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(r.Proof) == 63 {
			return r, errors.New("more than 63 proof lines")
		}
		h, err := base64.StdEncoding.Strict().DecodeString(string(line))
		if err != nil || len(h) != tlog.HashSize {
			return r, errors.New("malformed proof line")
		}
		r.Proof = append(r.Proof, tlog.Hash(h))
	}
	if len(rest) == 0 {
		return r, errors.New("no checkpoint")
	}
	r.Checkpoint = rest
	return r, nil
}

// ServeHTTP serves POST /add-checkpoint.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/add-checkpoint" {
		http.NotFound(rw, r)
		return
	}
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		http.Error(rw, "cannot read the request", http.StatusBadRequest)
		return
	}
	status, size, resp := w.addCheckpoint(body)
	switch status {
	case http.StatusOK:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.WriteHeader(http.StatusOK)
		rw.Write(resp)
	case http.StatusConflict:
		// tlog-witness: the body is the latest cosigned size and a
		// newline, as text/x.tlog.size.
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", size)
	default:
		http.Error(rw, string(resp), status)
	}
}

// addCheckpoint runs the checks of tlog-witness in its order and returns
// the status, the witness's size for a 409, and the cosignature lines for
// a 200 or a message otherwise.
func (w *Witness) addCheckpoint(body []byte) (int, int64, []byte) {
	req, err := ParseRequest(body)
	if err != nil {
		return http.StatusBadRequest, 0, []byte(err.Error())
	}
	origin, ok := noteOrigin(req.Checkpoint)
	if !ok {
		return http.StatusBadRequest, 0, []byte("malformed checkpoint")
	}
	v, known := w.logs[origin]
	if !known {
		return http.StatusNotFound, 0, []byte("unknown log")
	}
	c, n, err := trail.OpenCheckpoint(req.Checkpoint, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return http.StatusForbidden, 0, []byte("no trusted signature verifies")
		}
		return http.StatusBadRequest, 0, []byte("malformed checkpoint")
	}
	if req.OldSize > c.Size {
		return http.StatusBadRequest, 0, []byte("old size larger than the checkpoint")
	}
	if req.OldSize == 0 && len(req.Proof) > 0 {
		return http.StatusBadRequest, 0, []byte("a proof from size 0")
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	prev := w.latest[origin]
	if req.OldSize != prev.size {
		return http.StatusConflict, prev.size, nil
	}
	switch {
	case req.OldSize == 0:
		// Nothing cosigned before: nothing to be consistent with.
	case req.OldSize == c.Size:
		if c.Hash != prev.hash {
			// Same size, another tree: a fork. Keep it as evidence.
			w.evidence = append(w.evidence, bytes.Clone(req.Checkpoint))
			return http.StatusConflict, prev.size, nil
		}
		if len(req.Proof) > 0 {
			return http.StatusUnprocessableEntity, 0, []byte("a proof between equal sizes")
		}
	default:
		if err := tlog.CheckTree(req.Proof, c.Size, c.Hash, prev.size, prev.hash); err != nil {
			w.evidence = append(w.evidence, bytes.Clone(req.Checkpoint))
			return http.StatusUnprocessableEntity, 0, []byte("consistency proof does not verify")
		}
	}
	signed, err := note.Sign(&note.Note{Text: n.Text}, w.cosigner)
	if err != nil {
		return http.StatusInternalServerError, 0, []byte("cannot cosign")
	}
	// The record is updated before the answer, under the same lock as the
	// check (tlog-witness's rollback race).
	w.latest[origin] = cosigned{size: c.Size, hash: c.Hash}
	return http.StatusOK, 0, signed[len(n.Text)+1:]
}

// noteOrigin returns the first line of a signed note's text.
func noteOrigin(msg []byte) (string, bool) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return "", false
	}
	origin, _, ok := bytes.Cut(msg[:i+1], []byte("\n"))
	return string(origin), ok
}
