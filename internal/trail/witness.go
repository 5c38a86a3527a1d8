package trail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The witness protocol is https://c2sp.org/tlog-witness, "add-checkpoint":
//
//	POST <submission prefix>/add-checkpoint
//
//	old <size>\n
//	<consistency proof hash, base64>\n   (0 to 63 lines; none when old is 0)
//	\n
//	<signed checkpoint>
//
// 200: one or more note signature lines ("— <name> <base64>\n"), the
// witness's cosignatures on the checkpoint. 409 Conflict: the old size is
// not the witness's latest cosigned size, given in the body as "<size>\n"
// with Content-Type text/x.tlog.size (or, for old = new, the root hashes
// differ). 404: unknown origin. 403: no trusted log signature verifies.
// 400: old > size. 422: the consistency proof does not verify.

// MaxWitnessResponseBytes bounds a witness's response body.
const MaxWitnessResponseBytes = 8 << 10

// maxProofLines is the most consistency proof lines a client may send
// (tlog-witness: "MUST NOT send more than 63").
const maxProofLines = 63

// maxCosignatureLines bounds the signature lines of a 200 response; a
// witness returns one per key (signed-note asks verifiers to accept at
// least 16 signatures in a note).
const maxCosignatureLines = 16

// DefaultWitnessTimeout bounds one add-checkpoint call when
// WitnessClient.Timeout is zero.
const DefaultWitnessTimeout = 30 * time.Second

// WitnessClient asks one witness to cosign checkpoints.
type WitnessClient struct {
	// URL is the witness's submission prefix; requests go to
	// URL + "/add-checkpoint".
	URL string
	// Verifier checks the witness's cosignatures (NewCosignatureVerifier).
	Verifier note.Verifier
	// HTTPClient sends the requests; nil means a client that follows no
	// redirects.
	HTTPClient *http.Client
	// Timeout bounds one call (DefaultWitnessTimeout if zero).
	Timeout time.Duration
}

// WitnessConflictError is a witness's 409 Conflict: the old size of the
// request is not the size it last cosigned, or the sizes were equal and
// the root hashes differ.
type WitnessConflictError struct {
	// Witness is the witness's name.
	Witness string
	// Size is the witness's latest cosigned size, or -1 if the response
	// did not say.
	Size int64
}

func (e *WitnessConflictError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("trail: witness %s: conflict", e.Witness)
	}
	return fmt.Sprintf("trail: witness %s: conflict: it has cosigned size %d", e.Witness, e.Size)
}

// WitnessStatusError is a witness's refusal other than a conflict: 403
// (it trusts no signature on the checkpoint), 404 (it does not know the
// log), 400, 422 (the consistency proof does not verify), 5xx.
type WitnessStatusError struct {
	// Witness is the witness's name.
	Witness string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Message is the start of the response body, for the operator.
	Message string
}

func (e *WitnessStatusError) Error() string {
	return fmt.Sprintf("trail: witness %s: HTTP %d: %q", e.Witness, e.StatusCode, e.Message)
}

// noRedirects is the default HTTP client: a POST that a witness redirects
// is not followed.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// AddCheckpoint submits signedCheckpoint to the witness with a consistency
// proof from oldSize (the size the witness last cosigned, 0 if none), and
// returns signedCheckpoint with the witness's verified cosignature lines
// appended: a signed note that both the log's and the witness's verifiers
// accept. A 409 is returned as *WitnessConflictError; a caller retries
// with a proof from its Size.
func (c *WitnessClient) AddCheckpoint(ctx context.Context, oldSize int64, proof tlog.TreeProof, signedCheckpoint []byte) ([]byte, error) {
	lines, err := c.addCheckpoint(ctx, oldSize, proof, signedCheckpoint)
	if err != nil {
		return nil, err
	}
	return append(append([]byte(nil), signedCheckpoint...), lines...), nil
}

// addCheckpoint is AddCheckpoint, returning only the cosignature lines.
func (c *WitnessClient) addCheckpoint(ctx context.Context, oldSize int64, proof tlog.TreeProof, signedCheckpoint []byte) ([]byte, error) {
	if c.Verifier == nil || c.URL == "" {
		return nil, errors.New("trail: witness client needs a URL and a verifier")
	}
	name := c.Verifier.Name()
	if oldSize < 0 || len(proof) > maxProofLines || (oldSize == 0 && len(proof) > 0) {
		return nil, fmt.Errorf("trail: witness %s: bad old size %d or proof of %d hashes", name, oldSize, len(proof))
	}
	if len(signedCheckpoint) > MaxCheckpointBytes {
		return nil, errors.New("trail: checkpoint too long")
	}
	text, ok := noteText(signedCheckpoint)
	if !ok {
		return nil, errors.New("trail: not a signed note")
	}

	var body bytes.Buffer
	fmt.Fprintf(&body, "old %d\n", oldSize)
	for _, h := range proof {
		body.WriteString(encodeHash(h))
		body.WriteByte('\n')
	}
	body.WriteByte('\n')
	body.Write(signedCheckpoint)

	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultWitnessTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/add-checkpoint", &body)
	if err != nil {
		return nil, fmt.Errorf("trail: witness %s: %w", name, err)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = noRedirects
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("trail: witness %s: %w", name, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, MaxWitnessResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("trail: witness %s: read response: %w", name, err)
	}
	if len(respBody) > MaxWitnessResponseBytes {
		return nil, fmt.Errorf("trail: witness %s: response longer than %d bytes", name, MaxWitnessResponseBytes)
	}

	switch resp.StatusCode {
	case http.StatusOK:
		lines, err := parseCosignatures(text, respBody, c.Verifier)
		if err != nil {
			return nil, fmt.Errorf("trail: witness %s: %w", name, err)
		}
		return lines, nil
	case http.StatusConflict:
		return nil, &WitnessConflictError{Witness: name, Size: parseConflictSize(resp.Header.Get("Content-Type"), respBody)}
	default:
		msg := respBody
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return nil, &WitnessStatusError{Witness: name, StatusCode: resp.StatusCode, Message: strings.ToValidUTF8(string(msg), "?")}
	}
}

// noteText returns the text of a signed note: everything up to and
// including the newline before the last blank line.
func noteText(msg []byte) ([]byte, bool) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return nil, false
	}
	return msg[:i+1], true
}

// parseConflictSize reads the body of a 409: the witness's size in
// decimal and a newline, as text/x.tlog.size. It returns -1 for anything
// else.
func parseConflictSize(contentType string, body []byte) int64 {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "text/x.tlog.size" {
		return -1
	}
	s, ok := strings.CutSuffix(string(body), "\n")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return -1
	}
	return n
}

// parseCosignatures checks a 200 response to add-checkpoint: one or more
// note signature lines, each "— " … "\n", at least one of them a valid
// signature by v over text; it returns the lines v verified. Lines by
// other keys are dropped, as tlog-witness requires of clients; a line by
// v's key that fails to verify fails the whole response.
func parseCosignatures(text, body []byte, v note.Verifier) ([]byte, error) {
	if len(body) == 0 || body[len(body)-1] != '\n' || !utf8.Valid(body) {
		return nil, errors.New("malformed cosignature response")
	}
	if n := bytes.Count(body, []byte("\n")); n > maxCosignatureLines {
		return nil, fmt.Errorf("%d signature lines in the response, more than %d", n, maxCosignatureLines)
	}
	for line := range bytes.Lines(body) {
		if !bytes.HasPrefix(line, []byte("— ")) {
			return nil, errors.New("malformed cosignature response")
		}
	}
	// As tlog-witness suggests: the response appended to the checkpoint
	// text is a signed note, opened with the witness's key alone.
	msg := make([]byte, 0, len(text)+1+len(body))
	msg = append(append(append(msg, text...), '\n'), body...)
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("no valid cosignature: %w", err)
	}
	if n.Text != string(text) {
		return nil, errors.New("malformed cosignature response")
	}
	var out []byte
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			out = fmt.Appendf(out, "— %s %s\n", s.Name, s.Base64)
		}
	}
	if out == nil {
		return nil, errors.New("no cosignature by the witness's key")
	}
	return out, nil
}
