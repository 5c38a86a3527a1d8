package trail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Config configures a Log.
type Config struct {
	Store Store
	// Origin names the log in its checkpoints ("realname.example.cn/trail").
	Origin string
	// Signer is the log's checkpoint key; its name must be Origin.
	Signer note.Signer
	// VerifierKey is Signer's public key as a signed-note verifier key
	// ("name+hash+base64"), served to those who check checkpoints.
	// Optional; when set it must match Signer.
	VerifierKey string
	// Cosigners are previous keys of the log (same name) that sign every
	// checkpoint too while a rotation is under way, so that a verifier
	// who knows only an old key can follow to the new one.
	Cosigners []note.Signer
	// OldVerifierKeys are the verifier keys of previous and retired keys:
	// old checkpoints verify with them (see Keys).
	OldVerifierKeys []string
	// MaxBatch bounds the entries of one append transaction (default 2048).
	MaxBatch int
	// Clock is time.Now by default.
	Clock func() time.Time
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
}

// Log is the trail: an append-only Merkle tree log (RFC 6962 hashing) in a
// Store. It is safe for concurrent use, and several processes may share
// one Store: appends are serialised by the store's sequencer lock.
//
// Appends are group-committed: concurrent Append calls are written in one
// transaction, and each returns only once its entries are durable.
type Log struct {
	store     Store
	origin    string
	signer    note.Signer
	cosigners []note.Signer
	vkey      string
	oldKeys   []string
	maxBatch  int
	clock     func() time.Time
	log       *slog.Logger

	finalMu sync.Mutex
	final   map[string]Receipt // ref → receipt of its final entry (see Receipt)

	mu      sync.Mutex // guards pending and leading
	pending []*appendReq
	leading bool

	// seq serialises this process's Sequence calls; the store's lock
	// serialises processes. It guards the sequencer's view below.
	seq      sync.Mutex
	size     int64               // entries the view covers; -1: reload
	frontier map[int64]tlog.Hash // stored hashes of the complete subtrees of size
}

type appendReq struct {
	events   []Event
	receipts []Receipt
	err      error
	done     chan struct{}
}

// Receipt says where an entry is: its index and leaf hash. With an
// inclusion proof for a checkpoint it shows that the log holds the entry.
type Receipt struct {
	Index    int64     `json:"index"`
	LeafHash tlog.Hash `json:"leaf_hash"`
}

// New returns a Log on cfg.Store.
func New(cfg Config) (*Log, error) {
	if cfg.Store == nil || cfg.Signer == nil {
		return nil, errors.New("trail: a store and a signer are required")
	}
	if !ValidOrigin(cfg.Origin) {
		return nil, fmt.Errorf("trail: bad origin %q", cfg.Origin)
	}
	if cfg.Signer.Name() != cfg.Origin {
		return nil, fmt.Errorf("trail: the signing key is named %q, not the origin %q", cfg.Signer.Name(), cfg.Origin)
	}
	if cfg.VerifierKey != "" {
		v, err := note.NewVerifier(cfg.VerifierKey)
		if err != nil {
			return nil, fmt.Errorf("trail: verifier key: %w", err)
		}
		if v.Name() != cfg.Signer.Name() || v.KeyHash() != cfg.Signer.KeyHash() {
			return nil, errors.New("trail: the verifier key is not the signer's")
		}
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 2048
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for _, c := range cfg.Cosigners {
		if c.Name() != cfg.Origin {
			return nil, fmt.Errorf("trail: a cosigning key is named %q, not the origin %q", c.Name(), cfg.Origin)
		}
	}
	return &Log{store: cfg.Store, origin: cfg.Origin, signer: cfg.Signer, cosigners: cfg.Cosigners,
		vkey: cfg.VerifierKey, oldKeys: cfg.OldVerifierKeys, maxBatch: cfg.MaxBatch,
		clock: cfg.Clock, log: cfg.Logger, size: -1, final: map[string]Receipt{}}, nil
}

// Origin is the log's name.
func (l *Log) Origin() string { return l.origin }

// VerifierKey is the log's public key ("" if the Config had none).
func (l *Log) VerifierKey() string { return l.vkey }

// VerifierKeys are every verifier key of the log, the current one first:
// old checkpoints verify with one of them.
func (l *Log) VerifierKeys() []string {
	var out []string
	if l.vkey != "" {
		out = append(out, l.vkey)
	}
	return append(out, l.oldKeys...)
}

// RecordKey appends a log.key entry naming the current key (and the
// previous ones) unless the log already has one for it, so that the log
// itself holds the history of its keys. Its ref is "key-" and the key's
// hash in hex.
func (l *Log) RecordKey(ctx context.Context) error {
	if l.vkey == "" {
		return errors.New("trail: no verifier key to record")
	}
	ref := fmt.Sprintf("key-%08x", l.signer.KeyHash())
	if _, err := l.store.LatestByRef(ctx, ref, []string{KindKeyRotation}); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	attrs := map[string]string{"key": l.vkey}
	if len(l.oldKeys) > 0 {
		attrs["previous"] = l.oldKeys[0]
	}
	_, err := l.Append(ctx, Event{Kind: KindKeyRotation, Ref: ref, Attrs: attrs})
	return err
}

// LatestCheckpoint is the newest signed checkpoint (ErrNotFound before
// the first).
func (l *Log) LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error) {
	return l.store.LatestCheckpoint(ctx)
}

// Receipt returns where the entry that ended session ref (a certify id)
// is: its verification.succeeded, failed, cancelled or expired entry.
// Before that entry is appended it is ErrNotFound, also when earlier
// entries of the session are in the log: a receipt always names the
// result. The final entries that this process appended are answered
// from memory; anything else is looked up in the store.
func (l *Log) Receipt(ctx context.Context, ref string) (Receipt, error) {
	l.finalMu.Lock()
	r, ok := l.final[ref]
	l.finalMu.Unlock()
	if ok {
		return r, nil
	}
	return l.store.LatestByRef(ctx, ref, finalKinds)
}

// finalKinds are the kinds that end a session: no entry about the same
// ref follows one, so a receipt from memory is the one the store holds,
// whichever process appended it.
var finalKinds = []string{KindVerificationSucceeded, KindVerificationFailed,
	KindVerificationCancelled, KindVerificationExpired}

// maxFinal bounds the receipts kept in memory; the map is emptied when
// full (the store still answers).
const maxFinal = 16384

// remember keeps the receipts of final entries of a committed batch.
func (l *Log) remember(entries []StoredEntry) {
	l.finalMu.Lock()
	defer l.finalMu.Unlock()
	for _, e := range entries {
		if e.Ref == "" || !slices.Contains(finalKinds, e.Kind) {
			continue
		}
		if len(l.final) >= maxFinal {
			clear(l.final)
		}
		l.final[e.Ref] = Receipt{Index: e.Index, LeafHash: e.Hash}
	}
}

// Append records events and returns, once they are durable, a receipt for
// each. Events of one call are appended in order and together.
func (l *Log) Append(ctx context.Context, events ...Event) ([]Receipt, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if len(events) > l.maxBatch {
		return nil, fmt.Errorf("trail: %d events in one append, more than %d", len(events), l.maxBatch)
	}
	for _, ev := range events {
		if err := ev.validate(); err != nil {
			return nil, err
		}
	}
	req := &appendReq{events: events, done: make(chan struct{})}
	l.mu.Lock()
	l.pending = append(l.pending, req)
	lead := !l.leading
	l.leading = true
	l.mu.Unlock()
	if lead {
		go l.lead()
	}
	select {
	case <-req.done:
		return req.receipts, req.err
	case <-ctx.Done():
		// The append may still be written; the caller does not learn where.
		return nil, ctx.Err()
	}
}

// lead commits pending appends, batch after batch, until none is left.
//
// A batch is taken from the pending appends inside the transaction, once
// the store's sequencer lock is held: appends that arrive while another
// process holds the lock join the batch instead of waiting for the next
// one (taking it before waiting for the lock left batches of one or two
// entries when two processes shared a store).
func (l *Log) lead() {
	for {
		var batch []*appendReq
		taken := false
		take := func() []*appendReq {
			if !taken {
				batch, taken = l.takeBatch(), true
			}
			return batch
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, _, err := l.commit(ctx, take, 0)
		cancel()
		take() // if the transaction failed before its function ran
		for _, r := range batch {
			if err != nil {
				r.err = err
			}
			close(r.done)
		}
		l.mu.Lock()
		if len(l.pending) == 0 {
			l.leading = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
	}
}

// takeBatch removes up to maxBatch events' worth of pending appends.
func (l *Log) takeBatch() []*appendReq {
	l.mu.Lock()
	defer l.mu.Unlock()
	var batch []*appendReq
	n := 0
	for len(l.pending) > 0 && (n == 0 || n+len(l.pending[0].events) <= l.maxBatch) {
		n += len(l.pending[0].events)
		batch = append(batch, l.pending[0])
		l.pending = l.pending[1:]
	}
	return batch
}

// DrainOutbox appends up to max events queued in the store's outbox by
// other transactions, and reports how many it appended.
func (l *Log) DrainOutbox(ctx context.Context, max int) (int, error) {
	if max <= 0 || max > l.maxBatch {
		max = l.maxBatch
	}
	n, _, err := l.commit(ctx, nil, max)
	return n, err
}

// Drain appends every event queued in the outbox when it is called, in
// as many batches as it takes: it stops after a batch that took fewer
// items than a batch holds, since the outbox was then empty.
func (l *Log) Drain(ctx context.Context) error {
	for {
		_, taken, err := l.commit(ctx, nil, l.maxBatch)
		if err != nil || taken < l.maxBatch {
			return err
		}
	}
}

// commit appends the events of the appends take returns (take may be
// nil), preceded by up to outbox events from the outbox, in one Sequence
// transaction, and fills in the receipts. take is called inside the
// transaction, with the sequencer lock held.
// It reports how many events it appended and how many outbox items it
// took (malformed ones, dropped, included).
func (l *Log) commit(ctx context.Context, take func() []*appendReq, outbox int) (drained, taken int, err error) {
	var (
		newSize     int64
		newFrontier map[int64]tlog.Hash
		appended    []StoredEntry
	)
	l.seq.Lock()
	defer l.seq.Unlock()
	err = l.store.Sequence(ctx, func(tx SequenceTx) error {
		var reqs []*appendReq
		if take != nil {
			reqs = take()
		}
		if err := l.sync(ctx, tx); err != nil {
			return err
		}
		var events []Event
		var consumed []int64
		if outbox > 0 {
			items, err := tx.Outbox(ctx, outbox)
			if err != nil {
				return fmt.Errorf("trail: read outbox: %w", err)
			}
			taken = len(items)
			for _, it := range items {
				consumed = append(consumed, it.ID)
				ev, err := DecodeOutbox(it.Event)
				if err != nil {
					// A bug in whoever queued it: dropping it is logged, and
					// keeping it would block the outbox forever.
					l.log.ErrorContext(ctx, "trail: dropping a malformed outbox event", "id", it.ID, "err", err)
					continue
				}
				events = append(events, ev)
			}
		}
		for _, r := range reqs {
			events = append(events, r.events...)
		}
		drained = len(events)
		if len(events) == 0 && len(consumed) == 0 {
			return nil
		}
		b, frontier, err := l.build(ctx, tx, events)
		if err != nil {
			return err
		}
		b.Outbox = consumed
		if err := tx.AppendBatch(ctx, b); err != nil {
			return fmt.Errorf("trail: append: %w", err)
		}
		newSize, newFrontier, appended = b.Start+int64(len(b.Entries)), frontier, b.Entries
		// Receipts: the outbox events come first.
		i := len(b.Entries) - countEvents(reqs)
		for _, r := range reqs {
			r.receipts = make([]Receipt, len(r.events))
			for j := range r.events {
				e := b.Entries[i]
				r.receipts[j] = Receipt{Index: e.Index, LeafHash: e.Hash}
				i++
			}
		}
		return nil
	})
	if err != nil {
		l.size = -1 // the store may or may not hold the batch: reload
		return 0, 0, err
	}
	if newFrontier != nil {
		l.size, l.frontier = newSize, newFrontier
	}
	l.remember(appended)
	return drained, taken, nil
}

func countEvents(reqs []*appendReq) int {
	n := 0
	for _, r := range reqs {
		n += len(r.events)
	}
	return n
}

// sync makes the sequencer's view match the store: another process may
// have appended since, or a failed transaction left it unknown.
func (l *Log) sync(ctx context.Context, tx SequenceTx) error {
	size, err := tx.TrailSize(ctx)
	if err != nil {
		return fmt.Errorf("trail: size: %w", err)
	}
	idx := frontierIndexes(size)
	if size == l.size && l.frontier != nil {
		// Same size: still the same tree? A store rolled back and grown
		// again to this size (a restore, a failover to a lagging replica)
		// holds a new last entry, and with it a new hash of the newest
		// complete subtree, which covers that entry: one stored hash read
		// (reading the whole edge every time halved PostgreSQL's appends).
		// The tree must not be appended to or signed as if it were the
		// one in memory.
		if size == 0 {
			return nil
		}
		last := idx[len(idx)-1]
		hs, err := tx.TrailHashes(ctx, []int64{last})
		if err != nil {
			return fmt.Errorf("trail: check the tree's edge: %w", err)
		}
		if hs[0] == l.frontier[last] {
			return nil
		}
		l.log.WarnContext(ctx, "trail: the stored tree changed under the sequencer; reloading its edge", "size", size)
	}
	hashes, err := tx.TrailHashes(ctx, idx)
	if err != nil {
		return fmt.Errorf("trail: load the tree's edge: %w", err)
	}
	l.frontier = make(map[int64]tlog.Hash, len(idx))
	for i, x := range idx {
		l.frontier[x] = hashes[i]
	}
	l.size = size
	return nil
}

// build turns events into a batch after the current view, and returns
// the frontier of the new size.
func (l *Log) build(ctx context.Context, tx SequenceTx, events []Event) (*Batch, map[int64]tlog.Hash, error) {
	var subjects []string
	seen := map[string]bool{}
	for _, ev := range events {
		if ev.Subject != "" && !seen[ev.Subject] {
			seen[ev.Subject] = true
			subjects = append(subjects, ev.Subject)
		}
	}
	heads := map[string]Head{}
	if len(subjects) > 0 {
		var err error
		if heads, err = tx.SubjectHeads(ctx, subjects); err != nil {
			return nil, nil, fmt.Errorf("trail: subject heads: %w", err)
		}
	}
	t := edge{size: l.size, hashes: make(map[int64]tlog.Hash, len(l.frontier)+2*len(events))}
	for k, v := range l.frontier {
		t.hashes[k] = v
	}
	n := l.size
	b := &Batch{Start: n, HashStart: tlog.StoredHashIndex(0, n)}
	now := l.clock().UTC()
	for _, ev := range events {
		e := Entry{V: EntryVersion, Kind: ev.Kind, Time: ev.Time, Subject: ev.Subject, Ref: ev.Ref, Attrs: ev.Attrs}
		if e.Time.IsZero() {
			e.Time = now
		}
		if ev.Subject != "" {
			h := heads[ev.Subject]
			e.Seq = h.Seq + 1
			if h.Seq > 0 {
				e.Prev = encodeHash(h.Hash)
			}
		}
		data, err := e.Marshal()
		if err != nil {
			return nil, nil, err
		}
		leaf := LeafHash(data)
		stored, err := t.add(leaf)
		if err != nil {
			return nil, nil, err
		}
		b.Hashes = append(b.Hashes, stored...)
		b.Entries = append(b.Entries, StoredEntry{Index: n, Data: data, Hash: leaf, Kind: e.Kind,
			Subject: e.Subject, Seq: e.Seq, Ref: e.Ref})
		if ev.Subject != "" {
			heads[ev.Subject] = Head{Seq: e.Seq, Hash: leaf}
		}
		n++
	}
	frontier, err := t.frontier()
	if err != nil {
		return nil, nil, err
	}
	return b, frontier, nil
}

// edge is the right edge of a tree being appended to: its size and every
// stored hash it may still need (the frontier, and what add wrote).
type edge struct {
	size   int64
	hashes map[int64]tlog.Hash
}

func (t *edge) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		h, ok := t.hashes[x]
		if !ok {
			return nil, fmt.Errorf("trail: stored hash %d not at hand", x)
		}
		out[i] = h
	}
	return out, nil
}

// add appends a leaf and returns the hashes to store for it.
func (t *edge) add(leaf tlog.Hash) ([]tlog.Hash, error) {
	stored, err := tlog.StoredHashesForRecordHash(t.size, leaf, t)
	if err != nil {
		return nil, err
	}
	at := tlog.StoredHashIndex(0, t.size)
	for i, h := range stored {
		t.hashes[at+int64(i)] = h
	}
	t.size++
	return stored, nil
}

// frontier returns the hashes of the complete subtrees of the tree.
func (t *edge) frontier() (map[int64]tlog.Hash, error) {
	out := map[int64]tlog.Hash{}
	for _, x := range frontierIndexes(t.size) {
		h, ok := t.hashes[x]
		if !ok {
			return nil, fmt.Errorf("trail: frontier hash %d missing", x)
		}
		out[x] = h
	}
	return out, nil
}

// root is the tree's RFC 6962 root hash.
func (t *edge) root() (tlog.Hash, error) { return tlog.TreeHash(t.size, t) }

// frontierIndexes are the stored-hash indexes of the complete subtrees
// that make up a tree of n entries, left to right: what TreeHash(n) reads
// and what the next appends need.
func frontierIndexes(n int64) []int64 {
	var idx []int64
	for lo := int64(0); lo < n; {
		level := 63 - bits.LeadingZeros64(uint64(n-lo)) // largest 2^level ≤ n-lo
		idx = append(idx, tlog.StoredHashIndex(level, lo>>uint(level)))
		lo += 1 << uint(level)
	}
	return idx
}

// PublishCheckpoint signs and stores a checkpoint of the log's current
// size if it has grown since the newest checkpoint (or none exists), and
// returns the newest checkpoint and whether it is new.
func (l *Log) PublishCheckpoint(ctx context.Context) (StoredCheckpoint, bool, error) {
	var out StoredCheckpoint
	var fresh bool
	l.seq.Lock()
	defer l.seq.Unlock()
	err := l.store.Sequence(ctx, func(tx SequenceTx) error {
		if err := l.sync(ctx, tx); err != nil {
			return err
		}
		latest, err := tx.LatestCheckpoint(ctx)
		if err == nil && latest.Size >= l.size {
			out = latest
			return nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("trail: latest checkpoint: %w", err)
		}
		root, err := (&edge{size: l.size, hashes: l.frontier}).root()
		if err != nil {
			return err
		}
		msg, err := SignCheckpoint(Checkpoint{Origin: l.origin, Size: l.size, Hash: root}, append([]note.Signer{l.signer}, l.cosigners...)...)
		if err != nil {
			return err
		}
		out, fresh = StoredCheckpoint{Size: l.size, Note: msg}, true
		return tx.SaveCheckpoint(ctx, out)
	})
	if err != nil {
		l.size = -1
		return StoredCheckpoint{}, false, err
	}
	return out, fresh, nil
}

// CheckKeys returns an error if the newest stored checkpoint does not
// verify with the log's keys (current and old); a log without checkpoints
// passes.
func (l *Log) CheckKeys(ctx context.Context) error {
	cp, err := l.store.LatestCheckpoint(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("trail: read the newest checkpoint: %w", err)
	}
	vs, err := parseKeys(l.VerifierKeys())
	if err != nil {
		return err
	}
	if _, _, err := OpenCheckpoint(cp.Note, note.VerifierList(vs...)); err != nil {
		return fmt.Errorf("trail: checkpoint of size %d: %w", cp.Size, err)
	}
	return nil
}

// StoreCosigned replaces the stored note of a checkpoint by cp, a copy
// that witnesses cosigned (Witnessing.Cosign). cp must carry the log's
// own valid signature over the very text stored for that size;
// otherwise nothing is stored.
func (l *Log) StoreCosigned(ctx context.Context, cp StoredCheckpoint) error {
	vs, err := parseKeys(l.VerifierKeys())
	if err != nil {
		return err
	}
	c, n, err := OpenCheckpoint(cp.Note, note.VerifierList(vs...))
	if err != nil {
		return err
	}
	if c.Size != cp.Size {
		return errors.New("trail: the cosigned checkpoint is of another size")
	}
	stored, err := l.store.CheckpointAtLeast(ctx, cp.Size)
	if err != nil {
		return err
	}
	if old, err := note.Open(stored.Note, note.VerifierList(vs...)); err != nil || stored.Size != cp.Size || old.Text != n.Text {
		return errors.New("trail: the cosigned checkpoint is not the one stored for its size")
	}
	l.seq.Lock()
	defer l.seq.Unlock()
	return l.store.Sequence(ctx, func(tx SequenceTx) error { return tx.SaveCheckpoint(ctx, cp) })
}

// reader reads the store's committed hashes for proofs.
func (l *Log) reader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return l.store.TrailHashes(ctx, idx)
	})
}

// ErrBadRange is returned for a proof request outside the log.
var ErrBadRange = errors.New("trail: index or size outside the log")

// InclusionProof proves that entry index is in the tree of the given size.
func (l *Log) InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error) {
	have, err := l.store.TrailSize(ctx)
	if err != nil {
		return nil, err
	}
	if index < 0 || size <= index || size > have {
		return nil, ErrBadRange
	}
	return tlog.ProveRecord(size, index, l.reader(ctx))
}

// ConsistencyProof proves that the tree of size old is a prefix of the
// tree of size new.
func (l *Log) ConsistencyProof(ctx context.Context, old, new int64) (tlog.TreeProof, error) {
	have, err := l.store.TrailSize(ctx)
	if err != nil {
		return nil, err
	}
	if old < 1 || new < old || new > have {
		return nil, ErrBadRange
	}
	return tlog.ProveTree(new, old, l.reader(ctx))
}

// TreeHash is the root hash of the tree of the given size.
func (l *Log) TreeHash(ctx context.Context, size int64) (tlog.Hash, error) {
	return tlog.TreeHash(size, l.reader(ctx))
}

// Entry returns the bytes of entry index.
func (l *Log) Entry(ctx context.Context, index int64) ([]byte, error) {
	es, err := l.store.TrailEntries(ctx, index, index+1)
	if err != nil {
		return nil, err
	}
	return es[0], nil
}

// outboxEvent is an Event as queued in the outbox.
type outboxEvent struct {
	Kind    string            `json:"kind"`
	Subject string            `json:"subject,omitempty"`
	Ref     string            `json:"ref,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
	Time    time.Time         `json:"time"`
}

// EncodeOutbox encodes an event for a store's outbox, so that a
// transaction elsewhere can queue it atomically with what it records.
func EncodeOutbox(ev Event) ([]byte, error) {
	if err := ev.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(outboxEvent(ev))
}

// DecodeOutbox decodes and checks an outbox event.
func DecodeOutbox(b []byte) (Event, error) {
	var o outboxEvent
	if err := json.Unmarshal(b, &o); err != nil {
		return Event{}, fmt.Errorf("trail: outbox event: %w", err)
	}
	ev := Event(o)
	if err := ev.validate(); err != nil {
		return Event{}, err
	}
	return ev, nil
}
