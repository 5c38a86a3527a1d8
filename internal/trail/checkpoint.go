package trail

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, its
// size and the RFC 6962 root hash of that size, and optional extension
// lines. A checkpoint is published as a signed note
// (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note).
type Checkpoint struct {
	Origin     string
	Size       int64
	Hash       tlog.Hash
	Extensions []string
}

// MaxCheckpointBytes bounds a signed checkpoint note accepted by
// ParseCheckpoint and OpenCheckpoint.
const MaxCheckpointBytes = 16 << 10

// Text is the note text: origin, size and base64 hash, one per line, then
// the extension lines, each ending in a newline.
func (c Checkpoint) Text() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(encodeHash(c.Hash))
	b.WriteByte('\n')
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ValidOrigin reports whether s can name the log: printable ASCII without
// spaces or '+', at most 255 bytes (C2SP recommends a schema-less URL such
// as "realname.example.cn/trail"). The origin is also the name of the
// log's signing key, which signed notes restrict in the same way.
func ValidOrigin(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] > 0x7e || s[i] == '+' {
			return false
		}
	}
	return true
}

// ParseCheckpoint parses a checkpoint's note text (without signatures).
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if len(text) > MaxCheckpointBytes {
		return Checkpoint{}, errors.New("trail: checkpoint too long")
	}
	s := string(text)
	if !strings.HasSuffix(s, "\n") {
		return Checkpoint{}, errors.New("trail: checkpoint does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, errors.New("trail: checkpoint has fewer than 3 lines")
	}
	var c Checkpoint
	if c.Origin = lines[0]; !ValidOrigin(c.Origin) {
		return Checkpoint{}, errors.New("trail: bad checkpoint origin")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return Checkpoint{}, errors.New("trail: bad checkpoint size")
	}
	c.Size = n
	if c.Hash, err = decodeHash(lines[2]); err != nil {
		return Checkpoint{}, fmt.Errorf("trail: checkpoint root hash: %w", err)
	}
	for _, e := range lines[3:] {
		if e == "" {
			return Checkpoint{}, errors.New("trail: empty checkpoint extension line")
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// SignCheckpoint signs c with every signer (the first one names the log).
func SignCheckpoint(c Checkpoint, signers ...note.Signer) ([]byte, error) {
	if !ValidOrigin(c.Origin) || c.Size < 0 {
		return nil, errors.New("trail: bad checkpoint")
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, signers...)
	if err != nil {
		return nil, fmt.Errorf("trail: sign checkpoint: %w", err)
	}
	return msg, nil
}

// OpenCheckpoint verifies a signed checkpoint with verifiers and parses
// it. At least one signature must verify; signatures by unknown keys
// (witnesses the caller does not know) are ignored. The checkpoint's
// origin must be the name of a key that verified it, as C2SP asks.
func OpenCheckpoint(msg []byte, verifiers note.Verifiers) (Checkpoint, *note.Note, error) {
	if len(msg) > MaxCheckpointBytes {
		return Checkpoint{}, nil, errors.New("trail: checkpoint too long")
	}
	n, err := note.Open(msg, verifiers)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("trail: checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, nil, err
	}
	for _, sig := range n.Sigs {
		if sig.Name == c.Origin {
			return c, n, nil
		}
	}
	return Checkpoint{}, nil, fmt.Errorf("trail: no verified signature by the log %q", c.Origin)
}
