package realname

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/realname/realname/internal/pii"
)

// UserStatus is a user's standing, safe to show: the name is masked.
type UserStatus struct {
	UserID     string    `json:"user_id"`
	Status     Status    `json:"status"`
	MaskedName string    `json:"masked_name"`
	CertifyID  string    `json:"certify_id"`
	Evidence   Evidence  `json:"evidence"`
	AuthTime   time.Time `json:"auth_time"`
	ExpireTime time.Time `json:"expire_time"`
}

// IsValid reports whether the user may act as of now.
func (u UserStatus) IsValid(now time.Time) bool {
	return (u.Status == StatusSuccess) && now.Before(u.ExpireTime)
}

// DaysRemaining is the number of whole days left of the validity.
func (u UserStatus) DaysRemaining(now time.Time) int {
	if !u.IsValid(now) {
		return 0
	}
	return int(u.ExpireTime.Sub(now) / (24 * time.Hour))
}

func userCacheKey(userID string) string { return "user:" + userID }

// unknownUser is the cached answer for a user who never started.
const unknownUser = "-"

// valueCache is a Cache that can also keep decoded values (cache.Memory).
// Status keeps the UserStatus itself there, so a hit costs no decoding; a
// cache of bytes only (one shared by several replicas) gets JSON.
type valueCache interface {
	GetValue(ctx context.Context, key string) (any, bool)
	SetValue(ctx context.Context, key string, v any, ttl time.Duration)
}

// unknownUserValue is unknownUser in a valueCache.
var unknownUserValue = &UserStatus{}

var errUserNotFound = E(KindNotFound, CodeUserNotFound, "this user has not started a verification", nil)

// forgetUser drops a user's cached answers. It bumps the cache epoch first,
// so that a Status that read the database before this change cannot put
// the old answer back (see Status).
func (s *Service) forgetUser(ctx context.Context, userID string) {
	s.cacheEpoch.Add(1)
	s.cache.Delete(ctx, userCacheKey(userID))
}

// Status returns a user's standing. It is served from the cache when it can.
func (s *Service) Status(ctx context.Context, userID string) (UserStatus, error) {
	if !ValidUserID(userID) {
		return UserStatus{}, ErrBadUserID
	}
	now := s.clock()
	key := userCacheKey(userID)
	vc, decoded := s.cache.(valueCache)
	if st, ok, err := s.cachedStatus(ctx, key, vc, decoded); ok {
		s.metrics.CacheHit()
		if err == nil && st.Status == StatusSuccess && !now.Before(st.ExpireTime) {
			st.Status = StatusExpired
		}
		return st, err
	}
	s.metrics.CacheMiss()
	// A change may commit while the database is read. Its forgetUser bumps
	// the epoch: if that happened, the answer read may be old, and what
	// this call cached is dropped again (after the Set, so that a forgetUser
	// between the check and the Set cannot be missed).
	epoch := s.cacheEpoch.Load()
	defer func() {
		if s.cacheEpoch.Load() != epoch {
			s.cache.Delete(ctx, key)
		}
	}()
	st, err := s.loadStatus(ctx, userID, now)
	if errors.Is(err, errUserNotFound) {
		// Remember the miss too, so a flood of checks for unknown users
		// does not reach the database; init drops it.
		if decoded {
			vc.SetValue(ctx, key, unknownUserValue, s.cfg.AnswerTTL)
		} else {
			s.cache.Set(ctx, key, []byte(unknownUser), s.cfg.AnswerTTL)
		}
	}
	if err != nil {
		return UserStatus{}, err
	}
	ttl := s.cfg.AnswerTTL
	if st.Status == StatusSuccess && st.ExpireTime.Sub(now) < ttl {
		ttl = st.ExpireTime.Sub(now)
	}
	switch {
	case ttl <= 0:
	case decoded:
		stored := st // a copy of its own: cached values are never modified
		vc.SetValue(ctx, key, &stored, ttl)
	default:
		if b, err := json.Marshal(st); err == nil {
			s.cache.Set(ctx, key, b, ttl)
		}
	}
	return st, nil
}

// cachedStatus looks a user's standing up in the cache; ok is false on a
// miss.
func (s *Service) cachedStatus(ctx context.Context, key string, vc valueCache, decoded bool) (st UserStatus, ok bool, err error) {
	if decoded {
		v, hit := vc.GetValue(ctx, key)
		p, isStatus := v.(*UserStatus)
		switch {
		case !hit || !isStatus:
			return UserStatus{}, false, nil
		case p == unknownUserValue:
			return UserStatus{}, true, errUserNotFound
		}
		return *p, true, nil
	}
	b, hit := s.cache.Get(ctx, key)
	switch {
	case !hit:
		return UserStatus{}, false, nil
	case string(b) == unknownUser:
		return UserStatus{}, true, errUserNotFound
	}
	if json.Unmarshal(b, &st) != nil {
		return UserStatus{}, false, nil
	}
	return st, true, nil
}

func (s *Service) loadStatus(ctx context.Context, userID string, now time.Time) (UserStatus, error) {
	st := UserStatus{UserID: userID}
	personID := ""
	rec, err := s.store.UserRecord(ctx, userID)
	switch {
	case err == nil && rec.Valid(now):
		st.Status, st.CertifyID, st.Evidence = StatusSuccess, rec.CertifyID, rec.Evidence
		st.AuthTime, st.ExpireTime, personID = rec.VerifiedAt, rec.ExpiresAt, rec.PersonID
	case err != nil && !errors.Is(err, ErrNotFound):
		return st, fmt.Errorf("load user record: %w", err)
	default:
		v, err := s.store.LatestVerification(ctx, userID)
		if errors.Is(err, ErrNotFound) {
			return st, errUserNotFound
		}
		if err != nil {
			return st, fmt.Errorf("load latest verification: %w", err)
		}
		st.Status, st.CertifyID, st.Evidence, personID = v.EffectiveStatus(now), v.CertifyID, v.Evidence, v.PersonID
		if v.Status == StatusSuccess || v.Status == StatusExpired {
			st.AuthTime, st.ExpireTime = v.CompletedAt, v.ExpiresAt
		}
	}
	p, err := s.store.Person(ctx, personID)
	if err != nil {
		return st, fmt.Errorf("load person: %w", err)
	}
	id, err := s.keys.openPerson(p)
	if err != nil {
		return st, err
	}
	st.MaskedName = pii.MaskName(id.Name)
	return st, nil
}

// CheckResult answers "may this user act?".
type CheckResult struct {
	Passed     bool
	ReasonCode string // empty when passed: NOT_VERIFIED, EXPIRED, PENDING, FAILED, FACE_MISMATCH…
	Similarity *float64
	Status     UserStatus
}

// maxFacePicture bounds a re-check picture.
const maxFacePicture = 5 << 20

// Check answers whether a user is verified and still valid. With a face
// picture, it also compares the picture with the person's identity at the
// provider (a paid call within the daily budget, only for a valid user):
// that reads the decrypted identity and the face, so it is recorded in the
// audit log against by, the caller.
func (s *Service) Check(ctx context.Context, by Actor, userID string, face []byte) (CheckResult, error) {
	if len(face) > maxFacePicture {
		return CheckResult{}, E(KindTooLarge, "FACE_IMAGE_TOO_LARGE", "face_image is larger than 5 MiB", nil)
	}
	st, err := s.Status(ctx, userID)
	if KindOf(err) == KindNotFound {
		return CheckResult{ReasonCode: "NOT_VERIFIED", Status: UserStatus{UserID: userID}}, nil
	}
	if err != nil {
		return CheckResult{}, err
	}
	now := s.clock()
	if !st.IsValid(now) {
		reason := "NOT_VERIFIED"
		switch st.Status {
		case StatusExpired:
			reason = "EXPIRED"
		case StatusPending, StatusProcessing:
			reason = "PENDING"
		}
		return CheckResult{ReasonCode: reason, Status: st}, nil
	}
	if len(face) == 0 {
		return CheckResult{Passed: true, Status: st}, nil
	}
	return s.compareFace(ctx, by, userID, face, st)
}

func (s *Service) compareFace(ctx context.Context, by Actor, userID string, face []byte, st UserStatus) (CheckResult, error) {
	cmp, ok := s.provider.(FaceComparer)
	if !ok {
		return CheckResult{}, E(KindInvalid, CodeFaceCheckUnsupported, "the configured provider cannot compare faces", nil)
	}
	if err := by.validate(); err != nil {
		return CheckResult{}, err
	}
	if err := s.spend(ctx, 1); err != nil {
		return CheckResult{}, err
	}
	// Recorded before the identity is decrypted: no record, no read.
	if err := s.store.Audit(ctx, AuditEntry{At: s.clock(), ActorKind: by.Kind, Actor: by.Name, Action: "face.compare",
		Subject: userID, Fields: []string{FieldName, FieldIDNumber, FieldFace},
		Reason: by.auditReason("re-check of the person before an act (POST /verify)")}); err != nil {
		return CheckResult{}, fmt.Errorf("record access: %w", err)
	}
	rec, err := s.store.UserRecord(ctx, userID)
	if err != nil {
		return CheckResult{}, fmt.Errorf("load user record: %w", err)
	}
	p, err := s.store.Person(ctx, rec.PersonID)
	if err != nil {
		return CheckResult{}, fmt.Errorf("load person: %w", err)
	}
	id, err := s.keys.openPerson(p)
	if err != nil {
		return CheckResult{}, err
	}
	pctx, cancel := s.providerCtx(ctx)
	res, err := cmp.CompareFace(pctx, CompareRequest{OrderNo: newID("fc"), Identity: id, Picture: face})
	cancel()
	if err != nil {
		return CheckResult{}, s.providerError(err)
	}
	score := res.Score
	out := CheckResult{Passed: res.Passed, Similarity: &score, Status: st}
	if !res.Passed {
		out.ReasonCode = res.Reason
		if out.ReasonCode == "" {
			out.ReasonCode = ReasonForSubCode(res.SubCode)
		}
	}
	return out, nil
}
