package realname

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/realname/realname/internal/idnum"
	"github.com/realname/realname/internal/pii"
)

// The kinds of file a manual review takes.
const (
	FileIDFront = "id_front" // the document's side with the photo
	FileIDBack  = "id_back"  // the other side
	FileHolding = "holding"  // the person holding the document
	FileOther   = "other"
)

// Bounds of a review submission.
const (
	MaxReviewFiles     = 4
	MaxReviewFileBytes = 2 << 20 // each file, decoded
	MaxReviewBytes     = 6 << 20 // all files together, decoded
	maxReviewNote      = 1000    // characters
)

// ReviewFile is one submitted file.
type ReviewFile struct {
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"` // image/jpeg, image/png or application/pdf (checked against the bytes)
	Data        []byte `json:"data"`
}

// ReviewRequest submits a person for manual review instead of a face
// check.
type ReviewRequest struct {
	UserID    string
	RealName  string
	IDNumber  string
	CertType  string // "" means IDENTITY_CARD
	Consent   *Consent
	Note      string       // optional, to the operator
	Files     []ReviewFile // 1–4
	NotifyURL string       // optional: the platform's URL to tell when the review is decided
}

// sealedReview is what a review's FilesCT holds.
type sealedReview struct {
	Note  string       `json:"note,omitempty"`
	Files []ReviewFile `json:"files"`
}

// contentTypes maps an accepted content type to its magic bytes.
var contentTypes = map[string][]byte{
	"image/jpeg":      {0xff, 0xd8, 0xff},
	"image/png":       []byte("\x89PNG\r\n\x1a\n"),
	"application/pdf": []byte("%PDF-"),
}

func validateFiles(files []ReviewFile) error {
	if len(files) == 0 || len(files) > MaxReviewFiles {
		return E(KindInvalid, CodeInvalidRequest, fmt.Sprintf("send 1–%d files (photos of the document)", MaxReviewFiles), nil)
	}
	total := 0
	for _, f := range files {
		switch f.Kind {
		case FileIDFront, FileIDBack, FileHolding, FileOther:
		default:
			return E(KindInvalid, CodeInvalidRequest, `files[].kind must be "id_front", "id_back", "holding" or "other"`, nil)
		}
		magic, ok := contentTypes[f.ContentType]
		if !ok {
			return E(KindInvalid, CodeInvalidRequest, "files[].content_type must be image/jpeg, image/png or application/pdf", nil)
		}
		if !bytes.HasPrefix(f.Data, magic) {
			return E(KindInvalid, CodeInvalidRequest, "a file's content does not match its content_type", nil)
		}
		if len(f.Data) > MaxReviewFileBytes {
			return E(KindTooLarge, "BODY_TOO_LARGE", fmt.Sprintf("each file may have at most %d bytes", MaxReviewFileBytes), nil)
		}
		total += len(f.Data)
	}
	if total > MaxReviewBytes {
		return E(KindTooLarge, "BODY_TOO_LARGE", fmt.Sprintf("the files may have at most %d bytes together", MaxReviewBytes), nil)
	}
	return nil
}

// SubmitReview stores a manual review request: the user's session waits
// (processing) until an operator decides, or ReviewTTL passes. It makes no
// provider call. The per-user limit of starts and the lockout apply as to
// Init; an open session of the user is replaced.
func (s *Service) SubmitReview(ctx context.Context, r ReviewRequest) (Verification, error) {
	now := s.clock()
	if err := s.allowStart(ctx, r.UserID, now); err != nil {
		return Verification{}, err
	}
	in, err := s.validateReview(r, now)
	if err != nil {
		return Verification{}, err
	}
	if err := s.mayStart(ctx, r.UserID, now); err != nil {
		return Verification{}, err
	}
	plain, err := json.Marshal(sealedReview{Note: r.Note, Files: r.Files})
	if err != nil {
		return Verification{}, fmt.Errorf("encode review: %w", err)
	}
	var out Verification
	err = s.inTx(ctx, func(tx Tx) error {
		person, err := s.personFor(ctx, tx, r.UserID, in, now)
		if err != nil {
			return err
		}
		if open, err := tx.OpenVerificationForUser(ctx, r.UserID); err == nil {
			if open, err = tx.LockVerification(ctx, open.CertifyID); err != nil {
				return fmt.Errorf("lock open session: %w", err)
			}
			if err := replaceOpen(ctx, tx, open, now); err != nil {
				return err
			}
		} else if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("find open session: %w", err)
		}
		out = Verification{
			CertifyID: newID("vf"), UserID: r.UserID, PersonID: person.ID, Provider: ProviderManual,
			Status: StatusProcessing, CertType: in.certType, Consent: *r.Consent, Evidence: EvidenceManualReview,
			NotifyURL: r.NotifyURL, CreatedAt: now, UpdatedAt: now, Deadline: now.Add(s.cfg.ReviewTTL),
		}
		out.Consent.RecordedAt = now
		if err := tx.InsertVerification(ctx, out); err != nil {
			return fmt.Errorf("insert verification: %w", err)
		}
		sealed, err := s.keys.sealWith(person, plain, reviewAAD(out.CertifyID))
		if err != nil {
			return err
		}
		return tx.InsertReview(ctx, Review{CertifyID: out.CertifyID, FilesCT: sealed, SubmittedAt: now})
	})
	clear(plain)
	if err != nil {
		return Verification{}, err
	}
	s.forgetUser(ctx, r.UserID)
	s.log.InfoContext(ctx, "manual review submitted", "certify_id", out.CertifyID, "files", len(r.Files))
	return out, nil
}

func reviewAAD(certifyID string) string { return certifyID + "|review" }

func (s *Service) validateReview(r ReviewRequest, now time.Time) (validated, error) {
	// Any known document: an operator checks it, not the provider.
	in, err := s.validateIdentity(r.UserID, r.CertType, r.RealName, r.IDNumber, false, now)
	if err != nil {
		return validated{}, err
	}
	if err := validateConsent(r.Consent, ScopeDocuments, in.number, now); err != nil {
		return validated{}, err
	}
	if !validText(r.Note, 0, maxReviewNote) {
		return validated{}, E(KindInvalid, CodeInvalidRequest, "note must be at most 1000 characters without control characters", nil)
	}
	if err := s.checkNotifyURL(r.NotifyURL); err != nil {
		return validated{}, err
	}
	if err := validateFiles(r.Files); err != nil {
		return validated{}, err
	}
	return in, nil
}

// validText is validLabel that also allows line breaks.
func validText(s string, min, max int) bool {
	n := 0
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f || r == 0xfffd || r >= 0x80 && r < 0xa0 {
			return false
		}
		n++
	}
	return n >= min && n <= max
}

// ReviewItem is a review as an operator sees it. Name and IDNumber are
// masked unless the operator stated a reason; Note and Files are only
// filled then.
type ReviewItem struct {
	CertifyID   string       `json:"certify_id"`
	UserID      string       `json:"user_id"`
	CertType    string       `json:"cert_type"`
	Name        string       `json:"name"`
	IDNumber    string       `json:"id_number"`
	Masked      bool         `json:"masked"`
	Status      Status       `json:"status"`
	SubmittedAt time.Time    `json:"submitted_at"`
	Deadline    time.Time    `json:"deadline"`
	Decision    string       `json:"decision,omitempty"`
	DecidedBy   string       `json:"decided_by,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Note        string       `json:"note,omitempty"`
	Files       []ReviewFile `json:"files,omitempty"`
}

// ReviewQueue lists the reviews waiting for a decision, oldest first, with
// masked names and numbers. Each listed person's masked view is recorded.
func (s *Service) ReviewQueue(ctx context.Context, operator string, limit int) ([]ReviewItem, error) {
	if !ValidOperatorName(operator) {
		return nil, errOperatorName
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	vs, err := s.store.OpenReviews(ctx, limit)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	items := make([]ReviewItem, 0, len(vs))
	for _, v := range vs {
		item, err := s.reviewItem(ctx, s.store, v, false)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
		if err := s.store.Audit(ctx, AuditEntry{At: now, ActorKind: ActorOperator, Actor: operator, Action: "review.list",
			Subject: v.UserID, Target: v.CertifyID, Fields: []string{FieldName, FieldIDNumber}, Masked: true}); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// Review shows one review to an operator: masked without a reason, in full
// (files included) with one. The view is recorded with the reason.
func (s *Service) Review(ctx context.Context, op Operator, certifyID string) (ReviewItem, error) {
	full := op.Reason != ""
	if full {
		if err := op.validate(); err != nil {
			return ReviewItem{}, err
		}
	} else if !ValidOperatorName(op.Name) {
		return ReviewItem{}, errOperatorName
	}
	v, err := s.reviewSession(ctx, certifyID)
	if err != nil {
		return ReviewItem{}, err
	}
	item, err := s.reviewItem(ctx, s.store, v, full)
	if err != nil {
		return ReviewItem{}, err
	}
	fields := []string{FieldName, FieldIDNumber}
	if full && len(item.Files) > 0 {
		fields = append(fields, FieldDocuments)
	}
	err = s.store.Audit(ctx, AuditEntry{At: s.clock(), ActorKind: ActorOperator, Actor: op.Name, Action: "review.view",
		Subject: v.UserID, Target: v.CertifyID, Fields: fields, Masked: !full, Reason: op.Reason})
	if err != nil {
		return ReviewItem{}, err
	}
	return item, nil
}

// reviewSession loads a manual review's session.
func (s *Service) reviewSession(ctx context.Context, certifyID string) (Verification, error) {
	if !validCertifyID(certifyID) {
		return Verification{}, E(KindInvalid, CodeInvalidRequest, "certify_id is malformed", nil)
	}
	v, err := s.store.Verification(ctx, certifyID)
	if errors.Is(err, ErrNotFound) || err == nil && v.Provider != ProviderManual {
		return Verification{}, E(KindNotFound, CodeNotFound, "no manual review with this certify_id", err)
	}
	return v, err
}

// reviewItem builds the operator's view of a review.
func (s *Service) reviewItem(ctx context.Context, r Reader, v Verification, full bool) (ReviewItem, error) {
	rv, err := r.Review(ctx, v.CertifyID)
	if err != nil {
		return ReviewItem{}, fmt.Errorf("load review: %w", err)
	}
	item := ReviewItem{CertifyID: v.CertifyID, UserID: v.UserID, CertType: v.CertType, Status: v.Status,
		SubmittedAt: rv.SubmittedAt, Deadline: v.Deadline, Decision: rv.Decision, DecidedBy: rv.DecidedBy,
		Reason: rv.Reason, Masked: !full}
	p, err := r.Person(ctx, v.PersonID)
	if err != nil {
		return ReviewItem{}, fmt.Errorf("load person: %w", err)
	}
	if p.Erased() {
		item.Name, item.IDNumber = "(erased)", "(erased)"
		return item, nil
	}
	id, err := s.keys.openPerson(p)
	if err != nil {
		return ReviewItem{}, err
	}
	if !full {
		item.Name, item.IDNumber = maskIdentity(id)
		return item, nil
	}
	item.Name, item.IDNumber = id.Name, id.Number
	if len(rv.FilesCT) > 0 {
		plain, err := s.keys.openWith(p, rv.FilesCT, reviewAAD(v.CertifyID))
		if err != nil {
			return ReviewItem{}, err
		}
		var sr sealedReview
		if err := json.Unmarshal(plain, &sr); err != nil {
			return ReviewItem{}, fmt.Errorf("decode review %s: %w", v.CertifyID, err)
		}
		item.Note, item.Files = sr.Note, sr.Files
	}
	return item, nil
}

// DecideReview approves or rejects a waiting review. Approval verifies the
// user with evidence manual_review; rejection fails the session with
// REVIEW_REJECTED (it counts towards the lockout). The files are deleted
// either way, and the decision is recorded with the operator and reason.
func (s *Service) DecideReview(ctx context.Context, op Operator, certifyID string, approve bool) (Verification, error) {
	if err := op.validate(); err != nil {
		return Verification{}, err
	}
	if _, err := s.reviewSession(ctx, certifyID); err != nil {
		return Verification{}, err
	}
	res := outcome{FaceResult: FaceResult{Passed: true}}
	decision, action := "approved", "review.approve"
	if !approve {
		res = outcome{FaceResult: FaceResult{Reason: CodeReviewRejected}}
		decision, action = "rejected", "review.reject"
	}
	var out Verification
	changed := false
	err := s.inTx(ctx, func(tx Tx) error {
		var err error
		if out, changed, err = s.finishTx(ctx, tx, certifyID, res); err != nil {
			return err
		}
		if !changed {
			return E(KindConflict, CodeSessionClosed, "this review is already "+string(out.Status)+"; it cannot be decided again", nil)
		}
		rv, err := tx.Review(ctx, certifyID)
		if err != nil {
			return err
		}
		rv.FilesCT, rv.DecidedAt, rv.DecidedBy, rv.Decision, rv.Reason = nil, out.UpdatedAt, op.Name, decision, op.Reason
		if err := tx.UpdateReview(ctx, rv); err != nil {
			return err
		}
		return tx.Audit(ctx, AuditEntry{At: out.UpdatedAt, ActorKind: ActorOperator, Actor: op.Name, Action: action,
			Subject: out.UserID, Target: certifyID, Reason: op.Reason})
	})
	if err != nil {
		return Verification{}, err
	}
	s.finished(ctx, out)
	return out, nil
}

// dropReviewFiles deletes a review's files (no-op if there is no review).
func dropReviewFiles(ctx context.Context, tx Tx, certifyID string) error {
	rv, err := tx.Review(ctx, certifyID)
	if errors.Is(err, ErrNotFound) || err == nil && rv.FilesCT == nil {
		return nil
	}
	if err != nil {
		return err
	}
	rv.FilesCT = nil
	return tx.UpdateReview(ctx, rv)
}

// maskIdentity masks a name and number for display.
func maskIdentity(id IdentityInput) (name, number string) {
	return pii.MaskName(id.Name), idnum.MaskNumber(id.Number)
}

// reviewKinds lists the file kinds, for documentation and tests.
var reviewKinds = []string{FileIDFront, FileIDBack, FileHolding, FileOther}

// ValidReviewKind reports whether kind is a known file kind.
func ValidReviewKind(kind string) bool { return slices.Contains(reviewKinds, kind) }
