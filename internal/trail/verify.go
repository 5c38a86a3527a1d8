package trail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The steps of VerifyPackage, in order.
const (
	StepCheckpoint  = "checkpoint-signature"
	StepEntries     = "entry-encoding"
	StepInclusion   = "inclusion-proofs"
	StepChain       = "subject-chain"
	StepConsistency = "consistency"
	StepSummary     = "summary"
)

// Status is the outcome of one step.
type Status string

// The outcomes of a step. A step is skipped when one it depends on failed.
const (
	StatusPass    Status = "pass"
	StatusFail    Status = "fail"
	StatusSkipped Status = "skipped"
)

// What each step proves when it passes, in plain language.
var stepProves = map[string]string{
	StepCheckpoint:  "The checkpoint (the log's size and root hash) carries a valid signature by the log's key.",
	StepEntries:     "Each entry is in the log's canonical encoding, and its leaf hash is the hash of exactly those bytes.",
	StepInclusion:   "Each entry is in the log's tree as of the checkpoint, at its stated position: the log held exactly these bytes when the checkpoint was signed.",
	StepChain:       "The entries are the subject's unbroken chain, numbered 1 to n, each naming the hash of the one before: none between the first and the last is missing, repeated or out of order.",
	StepConsistency: "The checkpoint extends an older checkpoint that already held the subject's first entry: between the two the log was only appended to, never rewritten.",
	StepSummary:     "What the package as a whole proves, and what it does not.",
}

// Step is one check of VerifyPackage.
type Step struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Proves says in one line what the step proves when it passes.
	Proves string `json:"proves"`
	// Detail says what was checked, or what failed.
	Detail string `json:"detail"`
	// Index is the log index of the entry that failed the step, if any.
	Index *int64 `json:"index,omitempty"`
}

// Report is the result of VerifyPackage: each step, and a summary of what
// the package proves and does not.
type Report struct {
	OK             bool   `json:"ok"`
	Origin         string `json:"origin"`
	Subject        string `json:"subject"`
	Entries        int    `json:"entries"`
	CheckpointSize int64  `json:"checkpoint_size"`
	OlderSize      int64  `json:"older_checkpoint_size"`
	// KeySource is "trusted" when the checkpoints verified with a key the
	// verifier supplied, "package" when only with a key in the package.
	KeySource string `json:"key_source"`
	// Witnesses names the witnesses (of VerifyOptions.WitnessKeys) whose
	// cosignature of the checkpoint verified.
	Witnesses    []string `json:"witnesses,omitempty"`
	Steps        []Step   `json:"steps"`
	Proves       []string `json:"proves"`
	DoesNotProve []string `json:"does_not_prove"`
}

// Failed returns the first failed step, or nil.
func (r *Report) Failed() *Step {
	for i := range r.Steps {
		if r.Steps[i].Status == StatusFail {
			return &r.Steps[i]
		}
	}
	return nil
}

// VerifyOptions configures VerifyPackage.
type VerifyOptions struct {
	// TrustedKeys are note verifier keys of the log obtained independently
	// of the package (its published key). When set, only they verify the
	// checkpoints; the package's own keys are ignored.
	TrustedKeys []string
	// ExpectedRequestRef is the ref of the request that the package
	// answers, as its requester was given it (the authority API's
	// request_ref). When set, the package must name that request and end
	// with its entry. The manifest is not signed: without this, a package
	// cut short after an earlier request's entry, its manifest edited to
	// name that request, passes too.
	ExpectedRequestRef string
	// WitnessKeys are cosignature/v1 verifier keys of witnesses
	// (tlog-cosignature). When set, the checkpoint must carry a valid
	// cosignature of every one of them.
	WitnessKeys []string
}

// VerifyError is VerifyPackage's error: the first step that failed and,
// if one entry failed it, that entry's log index (else -1).
type VerifyError struct {
	Step  string
	Index int64
	Err   error
}

func (e *VerifyError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("trail: package check %s failed at entry %d: %v", e.Step, e.Index, e.Err)
	}
	return fmt.Sprintf("trail: package check %s failed: %v", e.Step, e.Err)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// VerifyPackage checks a package offline, with no database and no
// network, step by step (see the Step* constants), and records each step
// in the report. It returns a *VerifyError naming the first failed step
// if any check fails; later steps that depend on a failed one are
// skipped.
func VerifyPackage(p *Package, opts VerifyOptions) (Report, error) {
	v := &verifier{p: p}
	if p == nil {
		p = &Package{}
		v.p = p
	}
	v.r = Report{Origin: p.Manifest.Origin, Subject: p.Manifest.Subject, Entries: len(p.Entries)}
	v.checkpoint(opts)
	v.entries()
	v.inclusion()
	v.chain(opts.ExpectedRequestRef)
	v.consistency()
	v.summary(opts.ExpectedRequestRef)
	if v.first != nil {
		return v.r, v.first
	}
	v.r.OK = true
	return v.r, nil
}

type verifier struct {
	p      *Package
	r      Report
	first  *VerifyError
	vs     note.Verifiers
	c      *Checkpoint // the verified checkpoint
	leaves []tlog.Hash // computed leaf hash of each entry
	parsed []Entry     // nil if an entry did not parse
}

func (v *verifier) pass(name, detail string) {
	v.r.Steps = append(v.r.Steps, Step{Name: name, Status: StatusPass, Proves: stepProves[name], Detail: detail})
}

func (v *verifier) skip(name, why string) {
	v.r.Steps = append(v.r.Steps, Step{Name: name, Status: StatusSkipped, Proves: stepProves[name], Detail: "not checked: " + why})
}

// fail records a failed step; index is the failing entry's log index or -1.
func (v *verifier) fail(name string, index int64, err error) {
	s := Step{Name: name, Status: StatusFail, Proves: stepProves[name], Detail: err.Error()}
	if index >= 0 {
		s.Index = &index
		s.Detail = fmt.Sprintf("entry %d: %v", index, err)
	}
	v.r.Steps = append(v.r.Steps, s)
	if v.first == nil {
		v.first = &VerifyError{Step: name, Index: index, Err: err}
	}
}

// checkpoint is step 1: the checkpoint's signature.
func (v *verifier) checkpoint(opts VerifyOptions) {
	keys, source := v.p.Keys, "package"
	if len(opts.TrustedKeys) > 0 {
		keys, source = opts.TrustedKeys, "trusted"
	}
	v.r.KeySource = source
	if len(keys) == 0 {
		v.fail(StepCheckpoint, -1, errors.New("no verifier key: the package holds none and none was given"))
		return
	}
	if len(keys) > maxPackageKeys {
		v.fail(StepCheckpoint, -1, fmt.Errorf("%d verifier keys, more than %d", len(keys), maxPackageKeys))
		return
	}
	list, err := parseKeys(keys)
	if err != nil {
		v.fail(StepCheckpoint, -1, err)
		return
	}
	v.vs = note.VerifierList(list...)
	c, signer, err := openStrict([]byte(v.p.Checkpoint), v.vs)
	if err != nil {
		v.fail(StepCheckpoint, -1, err)
		return
	}
	if c.Origin != v.p.Manifest.Origin {
		v.fail(StepCheckpoint, -1, fmt.Errorf("the checkpoint is of the log %q, the manifest names %q", c.Origin, v.p.Manifest.Origin))
		return
	}
	if len(opts.WitnessKeys) > maxPackageKeys {
		v.fail(StepCheckpoint, -1, fmt.Errorf("%d witness keys, more than %d", len(opts.WitnessKeys), maxPackageKeys))
		return
	}
	for _, k := range opts.WitnessKeys {
		wv, err := NewCosignatureVerifier(k)
		if err != nil {
			v.fail(StepCheckpoint, -1, fmt.Errorf("witness key: %w", err))
			return
		}
		if !hasSignature([]byte(v.p.Checkpoint), wv) {
			v.fail(StepCheckpoint, -1, fmt.Errorf("the checkpoint carries no valid cosignature of the witness %s", wv.Name()))
			return
		}
		v.r.Witnesses = append(v.r.Witnesses, wv.Name())
	}
	v.c = &c
	v.r.CheckpointSize = c.Size
	detail := fmt.Sprintf("checkpoint of %q at size %d, signed by key %s+%08x", c.Origin, c.Size, signer.Name, signer.Hash)
	if len(v.r.Witnesses) > 0 {
		detail += fmt.Sprintf(", cosigned by the witness(es) %s", strings.Join(v.r.Witnesses, ", "))
	}
	if source == "trusted" {
		detail += ", verified with a key you supplied"
	} else {
		detail += "; WARNING: verified only with a key taken from the package itself, which proves only that the package agrees with itself, not that the log you know signed it (supply the log's published key)"
	}
	v.pass(StepCheckpoint, detail)
}

// openStrict opens a signed checkpoint and refuses signatures in a
// non-canonical base64, so that each checkpoint has one encoding.
func openStrict(msg []byte, vs note.Verifiers) (Checkpoint, note.Signature, error) {
	c, n, err := OpenCheckpoint(msg, vs)
	if err != nil {
		return Checkpoint{}, note.Signature{}, err
	}
	i := bytes.LastIndex(msg, []byte("\n\n"))
	for _, line := range strings.Split(strings.TrimSuffix(string(msg[i+2:]), "\n"), "\n") {
		sp := strings.LastIndexByte(line, ' ')
		b, err := base64.StdEncoding.Strict().DecodeString(line[sp+1:])
		if err != nil || base64.StdEncoding.EncodeToString(b) != line[sp+1:] {
			return Checkpoint{}, note.Signature{}, errors.New("trail: checkpoint signature not in canonical base64")
		}
	}
	for _, s := range n.Sigs {
		if s.Name == c.Origin {
			return c, s, nil
		}
	}
	return Checkpoint{}, note.Signature{}, errors.New("trail: no signature by the log") // OpenCheckpoint checked
}

// entries is step 2: each entry parses canonically and its leaf hash
// matches its bytes.
func (v *verifier) entries() {
	v.leaves = make([]tlog.Hash, len(v.p.Entries))
	v.parsed = make([]Entry, len(v.p.Entries))
	var bad *VerifyError
	nbad := 0
	for i, pe := range v.p.Entries {
		v.leaves[i] = LeafHash(pe.Data)
		e, err := ParseEntry(pe.Data)
		if err == nil {
			if h, herr := decodeHash(pe.LeafHash); herr != nil {
				err = fmt.Errorf("leaf hash: %w", herr)
			} else if h != v.leaves[i] {
				err = errors.New("the leaf hash stated is not the hash of the entry's bytes")
			}
		}
		if err != nil {
			nbad++
			if bad == nil {
				bad = &VerifyError{Index: pe.Index, Err: err}
			}
			continue
		}
		v.parsed[i] = e
	}
	if bad != nil {
		if nbad > 1 {
			bad.Err = fmt.Errorf("%w (and %d other entries)", bad.Err, nbad-1)
		}
		v.parsed = nil
		v.fail(StepEntries, bad.Index, bad.Err)
		return
	}
	v.pass(StepEntries, fmt.Sprintf("%d entries parsed in canonical form; every leaf hash matches", len(v.p.Entries)))
}

// inclusion is step 3: each entry's inclusion proof in the checkpoint.
func (v *verifier) inclusion() {
	if v.c == nil {
		v.skip(StepInclusion, "the checkpoint did not verify")
		return
	}
	for i, pe := range v.p.Entries {
		proof, err := decodeHashes(pe.Proof)
		if err == nil {
			if pe.Index < 0 || pe.Index >= v.c.Size {
				err = fmt.Errorf("index outside the checkpoint's tree of size %d", v.c.Size)
			} else if tlog.CheckRecord(proof, v.c.Size, v.c.Hash, pe.Index, v.leaves[i]) != nil {
				err = fmt.Errorf("the inclusion proof does not lead from the entry to the checkpoint's root hash")
			}
		}
		if err != nil {
			v.fail(StepInclusion, pe.Index, err)
			return
		}
	}
	v.pass(StepInclusion, fmt.Sprintf("%d inclusion proofs check against the tree of size %d", len(v.p.Entries), v.c.Size))
}

// chain is step 4: the subject's chain of entries, ending with the entry
// of the expected request (if one is expected) or of the request the
// manifest names (if any).
func (v *verifier) chain(expectedRef string) {
	if v.parsed == nil {
		v.skip(StepChain, "entries did not parse")
		return
	}
	m := v.p.Manifest
	switch {
	case !ValidHandle(m.Subject):
		v.fail(StepChain, -1, errors.New("the manifest's subject is not a handle"))
		return
	case len(v.p.Entries) == 0:
		v.fail(StepChain, -1, errors.New("the package holds no entry"))
		return
	case m.Entries != len(v.p.Entries):
		v.fail(StepChain, -1, fmt.Errorf("the package holds %d entries, its manifest says %d", len(v.p.Entries), m.Entries))
		return
	case expectedRef != "" && m.RequestRef != expectedRef:
		v.fail(StepChain, -1, fmt.Errorf("the package answers the request %q, not %q, the one you expected: it may be an older package, or one cut short", m.RequestRef, expectedRef))
		return
	}
	for i, e := range v.parsed {
		x := v.p.Entries[i].Index
		var err error
		switch {
		case e.Subject != m.Subject:
			err = fmt.Errorf("the entry is about another subject (%q)", e.Subject)
		case e.Seq != int64(i+1):
			err = fmt.Errorf("sequence number %d where %d is due: an entry is missing, repeated or out of order", e.Seq, i+1)
		case i > 0 && e.Prev != encodeHash(v.leaves[i-1]):
			err = errors.New("its previous hash is not the leaf hash of the entry before it")
		case i > 0 && x <= v.p.Entries[i-1].Index:
			err = fmt.Errorf("index not after the previous entry's %d", v.p.Entries[i-1].Index)
		}
		if err != nil {
			v.fail(StepChain, x, err)
			return
		}
	}
	if ref := m.RequestRef; ref != "" {
		last := v.parsed[len(v.parsed)-1]
		if last.Kind != KindTrailRequest || last.Ref != ref {
			v.fail(StepChain, v.p.Entries[len(v.p.Entries)-1].Index,
				fmt.Errorf("the package does not end with the entry of its own request %q: entries at the end may have been left out", ref))
			return
		}
		if expectedRef != "" {
			v.pass(StepChain, fmt.Sprintf("sequence 1 to %d without gap, each entry naming its predecessor's hash, ending with the entry of the request you expected (%s), so none before it was left out at the end", len(v.parsed), ref))
		} else {
			v.pass(StepChain, fmt.Sprintf("sequence 1 to %d without gap, each entry naming its predecessor's hash, ending with the entry of the request the manifest names (%s); the manifest is not signed, so give the ref your request was given (--request-ref) to rule out a package cut short after an earlier request", len(v.parsed), ref))
		}
		return
	}
	v.pass(StepChain, fmt.Sprintf("sequence 1 to %d without gap, each entry naming its predecessor's hash", len(v.parsed)))
}

// consistency is step 5: the older checkpoint and the proof that the
// checkpoint extends it.
func (v *verifier) consistency() {
	if v.c == nil {
		v.skip(StepConsistency, "the checkpoint did not verify")
		return
	}
	cs := v.p.Consistency
	if cs == nil {
		v.fail(StepConsistency, -1, errors.New("the package has no older checkpoint and consistency proof"))
		return
	}
	old, _, err := openStrict([]byte(cs.Checkpoint), v.vs)
	if err != nil {
		v.fail(StepConsistency, -1, fmt.Errorf("older checkpoint: %w", err))
		return
	}
	v.r.OlderSize = old.Size
	proof, err := decodeHashes(cs.Proof)
	switch {
	case err != nil:
	case old.Origin != v.c.Origin:
		err = fmt.Errorf("the older checkpoint is of the log %q", old.Origin)
	case old.Size > v.c.Size:
		err = fmt.Errorf("the older checkpoint's size %d exceeds the checkpoint's %d", old.Size, v.c.Size)
	case len(v.p.Entries) > 0 && v.p.Entries[0].Index >= old.Size:
		err = fmt.Errorf("the older checkpoint (size %d) does not hold the first entry %d", old.Size, v.p.Entries[0].Index)
	case tlog.CheckTree(proof, v.c.Size, v.c.Hash, old.Size, old.Hash) != nil:
		err = errors.New("the consistency proof does not show that the checkpoint extends the older one")
	}
	if err != nil {
		v.fail(StepConsistency, -1, err)
		return
	}
	v.pass(StepConsistency, fmt.Sprintf("the tree of size %d extends the tree of size %d", v.c.Size, old.Size))
}

// summary is step 6.
func (v *verifier) summary(expectedRef string) {
	r := &v.r
	r.DoesNotProve = []string{
		fmt.Sprintf("Anything about entries appended after the checkpoint (size %d): the subject may have later entries.", r.CheckpointSize),
		"That no entry of the subject follows the last one shown: the checkpoint commits to the log, not to each subject's newest entry.",
		"That the log stayed append-only before the older checkpoint or after the newer one: a consistency proof shows only that the later tree extends the earlier one.",
		"Who the subject is: the handle is linked to a person outside the log, and that link is not in the package.",
		"When anything happened: an entry's time is the log's own statement, and checkpoints carry no time.",
		"That the events happened as recorded: the log proves what it recorded, not that the record is true.",
	}
	if len(r.Witnesses) == 0 {
		r.DoesNotProve = append(r.DoesNotProve, "That everyone sees the same log: the operator holding the signing key could sign a different history for different people (a fork) unless an independent witness cosigned the checkpoint, and no witness's cosignature was checked (give the witnesses' keys: --witness-key).")
	}
	if expectedRef == "" {
		r.DoesNotProve = append(r.DoesNotProve, "That the package is the answer to your request, whole at its end: no request ref was given to check it against (--request-ref), and a package cut short after an earlier request's entry also passes.")
	}
	if r.KeySource != "trusted" {
		r.DoesNotProve = append([]string{"That the log you know signed the checkpoints: the key came from the package itself, so only self-consistency is shown. Verify with the log's published key."}, r.DoesNotProve...)
	}
	if v.first != nil {
		r.Proves = nil
		v.r.Steps = append(v.r.Steps, Step{Name: StepSummary, Status: StatusFail, Proves: stepProves[StepSummary],
			Detail: fmt.Sprintf("the package does not verify: check %s failed, so it proves nothing", v.first.Step)})
		return
	}
	r.Proves = []string{
		fmt.Sprintf("The log %q held these %d entries of subject %s at positions stated, in a tree of size %d whose root hash its key signed.", r.Origin, r.Entries, r.Subject, r.CheckpointSize),
		"No entry of the subject between the first and the last shown is missing, and none was altered after the checkpoint was signed.",
		fmt.Sprintf("The log was only appended to between its checkpoint of size %d, which already held the first entry, and that of size %d.", r.OlderSize, r.CheckpointSize),
	}
	if len(r.Witnesses) > 0 {
		r.Proves = append(r.Proves, fmt.Sprintf("The witness(es) %s cosigned this checkpoint, so the log showed them this history: to show you another (a fork), the operator would have to deceive them too, and two checkpoints of one size with different hashes would prove the fork.", strings.Join(r.Witnesses, ", ")))
	}
	if expectedRef != "" {
		r.Proves = append(r.Proves, fmt.Sprintf("The package answers the request %s and ends with its entry: no entry of the subject appended before the request was left out.", expectedRef))
	}
	v.pass(StepSummary, "every check passed")
}

func decodeHashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := decodeHash(s)
		if err != nil {
			return nil, fmt.Errorf("proof hash %d: %w", i+1, err)
		}
		out[i] = h
	}
	return out, nil
}
