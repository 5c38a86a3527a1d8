package realname

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/realname/realname/internal/idnum"
)

// InitRequest starts a verification.
type InitRequest struct {
	ClientID       string // the API key id that asked (scope of IdempotencyKey)
	IdempotencyKey string // optional
	UserID         string
	RealName       string
	IDNumber       string
	CertType       string // "" means IDENTITY_CARD
	Consent        *Consent
	ReturnURL      string // optional: where the provider sends the person afterwards
	NotifyURL      string // optional: the platform's URL to tell when the session ends
	URLType        string // "H5" (default) or "WEB"
	MetaInfo       string // optional device info from the provider's page script
	// Restart asks for a new face check even if the user has an open one
	// for the same person (which is cancelled as REPLACED). Without it an
	// open session is resumed at no cost. A platform sets it when the person
	// gave up on the provider's page: a cancel there sends no answer, and
	// the old session's page may not open again.
	Restart bool
}

// InitResult is what the platform gets back.
type InitResult struct {
	CertifyID string
	VerifyURL string
	Resumed   bool // an open session was reused; no new paid call was made
}

// ErrBadUserID answers a user id ValidUserID refuses.
var ErrBadUserID = E(KindInvalid, CodeInvalidRequest, "user_id must be 1–128 characters of letters, digits and _.:@-", nil)

// maxUserIDLen bounds user ids.
const maxUserIDLen = 128

// ValidUserID reports whether id is an acceptable platform user id:
// 1–128 characters of [A-Za-z0-9_.:@-].
func ValidUserID(id string) bool {
	if id == "" || len(id) > maxUserIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == ':' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

// validated is an InitRequest after local validation.
type validated struct {
	certType string
	name     idnum.Name
	number   idnum.Number
}

func (s *Service) validateInit(r InitRequest, now time.Time) (validated, error) {
	in, err := s.validateIdentity(r.UserID, r.CertType, r.RealName, r.IDNumber, true, now)
	if err != nil {
		return validated{}, err
	}
	if err := validateConsent(r.Consent, ScopeFace, in.number, now); err != nil {
		return validated{}, err
	}
	if r.ReturnURL != "" {
		if u, err := url.Parse(r.ReturnURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(r.ReturnURL) > 2048 {
			return validated{}, E(KindInvalid, CodeInvalidRequest, "return_url must be an absolute http(s) URL", nil)
		}
	}
	if err := s.checkNotifyURL(r.NotifyURL); err != nil {
		return validated{}, err
	}
	switch r.URLType {
	case "", "H5", "WEB":
	default:
		return validated{}, E(KindInvalid, CodeInvalidRequest, `certify_url_type must be "H5" or "WEB"`, nil)
	}
	if len(r.MetaInfo) > 4096 || len(r.IdempotencyKey) > 255 {
		return validated{}, E(KindInvalid, CodeInvalidRequest, "meta_info or Idempotency-Key too long", nil)
	}
	return in, nil
}

// validateIdentity checks the user id, document type, name and number; a
// face check (face) also needs a document type it supports.
func (s *Service) validateIdentity(userID, certType, realName, idNumber string, face bool, now time.Time) (validated, error) {
	if !ValidUserID(userID) {
		return validated{}, ErrBadUserID
	}
	dt, err := idnum.ParseDocType(certType)
	if err != nil {
		return validated{}, E(KindInvalid, CodeInvalidCertType, "cert_type is not a known document type", err)
	}
	if face && !slices.Contains(s.cfg.SupportedDocs, string(dt)) {
		return validated{}, E(KindInvalid, CodeUnsupportedDocument, "this document type cannot be verified with a face check here; see /api/v1/auth/supported_documents", nil)
	}
	name, err := idnum.ParseName(realName)
	if err != nil {
		return validated{}, E(KindInvalid, CodeInvalidName, "real_name is not a valid name (2–32 characters; Chinese names may use ·)", err)
	}
	number, err := idnum.Parse(dt, idNumber, now)
	if err != nil {
		return validated{}, E(KindInvalid, CodeInvalidIDNumber, "id_card_number is not a valid "+string(dt)+" number", err)
	}
	return validated{certType: string(dt), name: name, number: number}, nil
}

// validateConsent checks a consent for the ID number and the second scope
// (ScopeFace or ScopeDocuments), and the under-14 rule.
func validateConsent(c *Consent, second string, number idnum.Number, now time.Time) error {
	if c == nil {
		return E(KindInvalid, CodeConsentRequired, "the person's separate consent (PIPL Art. 29) is required first", nil)
	}
	if err := c.validateFor(now, second); err != nil {
		return err
	}
	return checkMinor(number, c, now)
}

// checkNotifyURL checks a platform's callback_url ("" is none).
func (s *Service) checkNotifyURL(notify string) error {
	if notify == "" {
		return nil
	}
	if s.notifier == nil {
		return E(KindInvalid, CodeInvalidRequest, "callback_url is not enabled on this server", nil)
	}
	if u, err := url.Parse(notify); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(notify) > 2048 {
		return E(KindInvalid, CodeInvalidRequest, "callback_url must be an absolute http(s) URL without credentials", nil)
	}
	return nil
}

// Init starts (or resumes) a verification for a user. No paid provider call
// is made for a request that fails local validation, for a user who is
// already verified, or for a person bound to another user.
//
// Every start for a well-formed user id counts against the per-user limit
// of starts (Deps.StartLimiter), before anything else is checked: requests
// that then fail validation, replays of an Idempotency-Key and starts for
// a verified user count too. That is the safer reading: a caller cannot
// probe without limit, and the limit holds whatever the request says.
func (s *Service) Init(ctx context.Context, r InitRequest) (InitResult, error) {
	ctx = withHandleMemo(ctx) // the session's start and opening name the same person
	now := s.clock()
	if err := s.allowStart(ctx, r.UserID, now); err != nil {
		return InitResult{}, err
	}
	in, err := s.validateInit(r, now)
	if err != nil {
		return InitResult{}, err
	}
	parts := []string{r.UserID, in.certType, in.name.Value(), in.number.Value(), r.ReturnURL, r.URLType, r.NotifyURL}
	if r.Restart {
		parts = append(parts, "restart") // only then: fingerprints stored before Restart existed still match
	}
	fingerprint := s.keys.index.Sum(indexPurposeIdempotency, strings.Join(parts, "\x00"))
	if r.IdempotencyKey != "" {
		if res, ok, err := s.replay(ctx, r, fingerprint); ok || err != nil {
			return res, err
		}
	}
	if err := s.mayStart(ctx, r.UserID, now); err != nil {
		return InitResult{}, err
	}
	s.metrics.InitStarted()

	// The callback token is made before the session, so that a new session
	// is stored with its hash in the same transaction.
	token, err := randomToken()
	if err != nil {
		return InitResult{}, err
	}
	v, resumed, err := s.openSession(ctx, r, in, fingerprint, token, now)
	if errors.Is(err, ErrConflict) && KindOf(err) == KindInternal {
		// Two first inits for one person raced and this one lost the
		// insert; the second try finds the winner's person.
		v, resumed, err = s.openSession(ctx, r, in, fingerprint, token, now)
	}
	if err != nil {
		return InitResult{}, err
	}
	if resumed && v.Status == StatusProcessing {
		return InitResult{CertifyID: v.CertifyID, VerifyURL: v.VerifyURL, Resumed: true}, nil
	}
	v, err = s.engageProvider(ctx, v, r, IdentityInput{CertType: in.certType, Name: in.name.Value(), Number: in.number.Value()},
		token, !resumed)
	if err != nil {
		return InitResult{}, err
	}
	return InitResult{CertifyID: v.CertifyID, VerifyURL: v.VerifyURL, Resumed: resumed}, nil
}

// allowStart counts a start (init or review) against the per-user limit of
// starts, before anything else is checked, for any well-formed user id.
func (s *Service) allowStart(ctx context.Context, userID string, now time.Time) error {
	if s.starts == nil || !ValidUserID(userID) {
		return nil
	}
	if ok, retry := s.starts.Allow(ctx, userID, now); !ok {
		return RateLimited("too many verification starts for this user", retry)
	}
	return nil
}

// mayStart refuses a start (init or review) for a user who is verified
// already or locked out.
func (s *Service) mayStart(ctx context.Context, userID string, now time.Time) error {
	if rec, err := s.store.UserRecord(ctx, userID); err == nil && rec.Valid(now) {
		return E(KindConflict, CodeAlreadyAuthenticated, "the user is already verified until "+rec.ExpiresAt.Format(time.RFC3339), nil)
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("load user record: %w", err)
	}
	return s.checkLockout(ctx, userID, now)
}

// replay answers a repeated Idempotency-Key.
func (s *Service) replay(ctx context.Context, r InitRequest, fingerprint []byte) (InitResult, bool, error) {
	a, err := s.store.IdempotentAnswer(ctx, r.ClientID, r.IdempotencyKey)
	if errors.Is(err, ErrNotFound) {
		return InitResult{}, false, nil
	}
	if err != nil {
		return InitResult{}, false, fmt.Errorf("load idempotent answer: %w", err)
	}
	if subtle.ConstantTimeCompare(a.Fingerprint, fingerprint) != 1 {
		return InitResult{}, true, E(KindConflict, CodeIdempotencyConflict, "this Idempotency-Key was used for a different request", nil)
	}
	v, err := s.store.Verification(ctx, a.CertifyID)
	if err != nil {
		return InitResult{}, true, fmt.Errorf("load idempotent session: %w", err)
	}
	if v.Status == StatusPending {
		return InitResult{}, false, nil // the first try did not reach the provider: go on like a resume
	}
	if v.Status == StatusFailed && (v.FailReason == CodeIdentityMismatch || v.FailReason == CodeIdentityNoRecord) {
		return InitResult{}, true, identityError(v.FailReason)
	}
	return InitResult{CertifyID: v.CertifyID, VerifyURL: v.VerifyURL, Resumed: true}, true, nil
}

// openSession finds the user's open session for the same person, or creates
// one (with the person, if new, and the hash of the callback token) in one
// transaction.
func (s *Service) openSession(ctx context.Context, r InitRequest, in validated, fingerprint []byte, token string, now time.Time) (Verification, bool, error) {
	var out Verification
	var resumed bool
	err := s.inTx(ctx, func(tx Tx) error {
		person, err := s.personFor(ctx, tx, r.UserID, in, now)
		if err != nil {
			return err
		}
		if open, err := tx.OpenVerificationForUser(ctx, r.UserID); err == nil {
			open, err = tx.LockVerification(ctx, open.CertifyID)
			if err != nil {
				return fmt.Errorf("lock open session: %w", err)
			}
			if open.Status.Open() && open.PersonID == person.ID && now.Before(open.Deadline) && !r.Restart &&
				open.Provider != ProviderManual {
				out, resumed = open, true
				return s.rememberAnswer(ctx, tx, r, fingerprint, open.CertifyID, now)
			}
			if err := replaceOpen(ctx, tx, open, now); err != nil {
				return err
			}
		} else if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("find open session: %w", err)
		}
		sum := sha256.Sum256([]byte(token))
		out = Verification{
			CallbackTokenHash: sum[:],
			CertifyID:         newID("vf"),
			UserID:            r.UserID,
			PersonID:          person.ID,
			Provider:          s.provider.Name(),
			Status:            StatusPending,
			CertType:          in.certType,
			Consent:           *r.Consent,
			Evidence:          EvidenceFace,
			NotifyURL:         r.NotifyURL,
			CreatedAt:         now,
			UpdatedAt:         now,
			Deadline:          now.Add(s.cfg.SessionTTL),
		}
		out.Consent.RecordedAt = now
		if err := tx.InsertVerification(ctx, out); err != nil {
			return fmt.Errorf("insert verification: %w", err)
		}
		return s.rememberAnswer(ctx, tx, r, fingerprint, out.CertifyID, now)
	})
	if err != nil {
		return Verification{}, false, err
	}
	s.forgetUser(ctx, r.UserID)
	return out, resumed, nil
}

// replaceOpen cancels a user's open session (locked) that a new one
// replaces. A replaced manual review's files are deleted with it.
func replaceOpen(ctx context.Context, tx Tx, open Verification, now time.Time) error {
	if !open.Status.Open() {
		return nil
	}
	open.FailReason = "REPLACED"
	if err := open.move(StatusCancelled, now); err != nil {
		return err
	}
	if err := tx.UpdateVerification(ctx, open); err != nil {
		return fmt.Errorf("cancel replaced session: %w", err)
	}
	if open.Provider == ProviderManual {
		return dropReviewFiles(ctx, tx, open.CertifyID)
	}
	return nil
}

// personFor finds the person with the validated number, or creates it,
// inside tx. A person verified for another user is a conflict.
func (s *Service) personFor(ctx context.Context, tx Tx, userID string, in validated, now time.Time) (Person, error) {
	index := s.keys.index.Sum(indexPurposeNumber, in.number.Value())
	person, err := tx.PersonByIndex(ctx, index)
	switch {
	case errors.Is(err, ErrNotFound):
		if person, err = s.keys.newPerson(in.certType, in.name.Value(), in.number.Value(), now); err != nil {
			return Person{}, err
		}
		if err := tx.InsertPerson(ctx, person); err != nil {
			return Person{}, fmt.Errorf("insert person: %w", err)
		}
	case err != nil:
		return Person{}, fmt.Errorf("find person: %w", err)
	default:
		if bound, err := tx.UserByPerson(ctx, person.ID); err == nil && bound.UserID != userID && bound.Valid(now) {
			return Person{}, E(KindConflict, CodeIdentityBound, "this ID number is already verified for another account", nil)
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return Person{}, fmt.Errorf("find binding: %w", err)
		}
		if err := s.refreshPerson(ctx, tx, &person, in); err != nil {
			return Person{}, err
		}
	}
	return person, nil
}

// refreshPerson keeps the person's stored name in step with the name the
// user typed (a corrected typo), unless someone is verified with it.
func (s *Service) refreshPerson(ctx context.Context, tx Tx, p *Person, in validated) error {
	id, err := s.keys.openPerson(*p)
	if err != nil {
		return fmt.Errorf("open person: %w", err)
	}
	if id.Name == in.name.Value() {
		return nil
	}
	if err := s.keys.sealPerson(p, in.name.Value(), in.number.Value()); err != nil {
		return err
	}
	if err := tx.UpdatePerson(ctx, *p); err != nil {
		return fmt.Errorf("update person: %w", err)
	}
	return nil
}

func (s *Service) rememberAnswer(ctx context.Context, tx Tx, r InitRequest, fingerprint []byte, certifyID string, now time.Time) error {
	if r.IdempotencyKey == "" {
		return nil
	}
	err := tx.PutIdempotentAnswer(ctx, IdempotentAnswer{Scope: r.ClientID, Key: r.IdempotencyKey,
		Fingerprint: fingerprint, CertifyID: certifyID, CreatedAt: now})
	if err != nil {
		return fmt.Errorf("store idempotent answer: %w", err)
	}
	return nil
}

// engageProvider runs the national-record check (once per session) and
// opens the face check. fresh says the session was just created with the
// hash of token; a resumed session gets a new token first. A provider
// failure leaves the session pending so a retry of init resumes it.
func (s *Service) engageProvider(ctx context.Context, v Verification, r InitRequest, id IdentityInput, token string, fresh bool) (Verification, error) {
	calls := 1 // the face check
	if !v.IdentityChecked {
		calls++ // and the national-record check
	}
	if err := s.spend(ctx, calls); err != nil {
		return v, err
	}
	if !v.IdentityChecked {
		pctx, cancel := s.providerCtx(ctx)
		match, err := s.provider.CheckIdentity(pctx, id)
		cancel()
		if err != nil {
			s.countAttempt(ctx, v.CertifyID, false)
			return v, s.providerError(err)
		}
		if match != IdentityMatches {
			reason := CodeIdentityMismatch
			if match == IdentityNoRecord {
				reason = CodeIdentityNoRecord
			}
			if _, err := s.finish(ctx, v.CertifyID, outcome{FaceResult: FaceResult{Reason: reason}}); err != nil {
				return v, err
			}
			return v, identityError(reason)
		}
	}
	if !fresh {
		// The stored hash belongs to an earlier try's token, which is gone.
		sum := sha256.Sum256([]byte(token))
		err := s.inTx(ctx, func(tx Tx) error {
			cur, err := tx.LockVerification(ctx, v.CertifyID)
			if err != nil {
				return err
			}
			if cur.Status != StatusPending {
				return E(KindConflict, CodeSessionClosed, "the session changed while starting; query it", nil)
			}
			cur.IdentityChecked = true
			cur.CallbackTokenHash = sum[:]
			cur.UpdatedAt = s.clock()
			v = cur
			return tx.UpdateVerification(ctx, cur)
		})
		if err != nil {
			return v, fmt.Errorf("prepare face check: %w", err)
		}
	}
	pctx, cancel := s.providerCtx(ctx)
	sess, err := s.provider.StartFaceCheck(pctx, FaceCheckRequest{
		OrderNo: v.CertifyID, Identity: id, CallbackURL: s.cfg.CallbackURL, CallbackToken: token,
		ReturnURL: r.ReturnURL, URLType: r.URLType, MetaInfo: r.MetaInfo,
	})
	cancel()
	if err != nil {
		s.countAttempt(ctx, v.CertifyID, true)
		return v, s.providerError(err)
	}
	err = s.inTx(ctx, func(tx Tx) error {
		cur, err := tx.LockVerification(ctx, v.CertifyID)
		if err != nil {
			return err
		}
		if cur.Status != StatusPending {
			v = cur
			return nil
		}
		cur.IdentityChecked = true
		cur.Attempts++
		cur.ProviderRef, cur.VerifyURL = sess.Ref, sess.VerifyURL
		if err := cur.move(StatusProcessing, s.clock()); err != nil {
			return err
		}
		v = cur
		return tx.UpdateVerification(ctx, cur)
	})
	if err != nil {
		return v, fmt.Errorf("store face check: %w", err)
	}
	return v, nil
}

// countAttempt records a failed provider round trip (best effort), and
// that the national-record check passed if identityChecked.
func (s *Service) countAttempt(ctx context.Context, certifyID string, identityChecked bool) {
	err := s.inTx(ctx, func(tx Tx) error {
		cur, err := tx.LockVerification(ctx, certifyID)
		if err != nil {
			return err
		}
		cur.IdentityChecked = cur.IdentityChecked || identityChecked
		cur.Attempts++
		cur.UpdatedAt = s.clock()
		return tx.UpdateVerification(ctx, cur)
	})
	if err != nil {
		s.log.WarnContext(ctx, "count attempt", "certify_id", certifyID, "err", err)
	}
}

// providerError turns a provider error into the domain's answer.
func (s *Service) providerError(err error) error {
	if errors.Is(err, ErrRejected) {
		return E(KindInvalid, "PROVIDER_REJECTED", "the provider refused the request", err)
	}
	return unavailable(err)
}

func identityError(reason string) error {
	if reason == CodeIdentityNoRecord {
		return E(KindInvalid, CodeIdentityNoRecord, "no national record matches this ID number", nil)
	}
	return E(KindInvalid, CodeIdentityMismatch, "the name does not match the ID number", nil)
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
