package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/trail"
)

type consentBody struct {
	NoticeVersion string        `json:"notice_version"`
	AcceptedAt    string        `json:"accepted_at"`
	Scopes        []string      `json:"scopes"`
	Guardian      *guardianBody `json:"guardian"`
}

// guardianBody is a guardian's consent for a child under 14.
type guardianBody struct {
	Relation   string `json:"relation"`
	AcceptedAt string `json:"accepted_at"`
}

// consent turns a consent body into the domain's Consent (nil for none);
// the times must be RFC 3339.
func (b *consentBody) consent() (*realname.Consent, error) {
	if b == nil {
		return nil, nil
	}
	c := realname.Consent{NoticeVersion: b.NoticeVersion, Scopes: b.Scopes}
	if b.AcceptedAt != "" {
		t, err := time.Parse(time.RFC3339, b.AcceptedAt)
		if err != nil {
			return nil, realname.E(realname.KindInvalid, realname.CodeConsentRequired, "consent.accepted_at must be RFC 3339", nil)
		}
		c.AcceptedAt = t
	}
	if g := b.Guardian; g != nil {
		c.Guardian = &realname.Guardian{Relation: g.Relation}
		if g.AcceptedAt != "" {
			t, err := time.Parse(time.RFC3339, g.AcceptedAt)
			if err != nil {
				return nil, realname.E(realname.KindInvalid, realname.CodeGuardianConsentRequired, "consent.guardian.accepted_at must be RFC 3339", nil)
			}
			c.Guardian.AcceptedAt = t
		}
	}
	return &c, nil
}

type initBody struct {
	UserID         string       `json:"user_id"`
	RealName       string       `json:"real_name"`
	IDCardNumber   string       `json:"id_card_number"`
	Consent        *consentBody `json:"consent"`
	CertType       string       `json:"cert_type"`
	CallbackURL    string       `json:"callback_url"`
	ReturnURL      string       `json:"return_url"`
	CertifyURLType string       `json:"certify_url_type"`
	MetaInfo       string       `json:"meta_info"`
	Restart        bool         `json:"restart"`
}

func (s *Server) handleInit(w http.ResponseWriter, r *http.Request) {
	var b initBody
	if err := decodeJSON(w, r, smallBody, &b); err != nil {
		renderError(w, r, s.log, err)
		return
	}
	p := principalFrom(r.Context())
	if !s.allowedFor(w, r, p, b.UserID) {
		return
	}
	req := realname.InitRequest{
		ClientID: p.clientID, IdempotencyKey: r.Header.Get("Idempotency-Key"),
		UserID: b.UserID, RealName: b.RealName, IDNumber: b.IDCardNumber, CertType: b.CertType,
		ReturnURL: b.ReturnURL, NotifyURL: b.CallbackURL, URLType: strings.ToUpper(b.CertifyURLType), MetaInfo: b.MetaInfo,
		Restart: b.Restart,
	}
	if req.ClientID == "" {
		req.ClientID = "user:" + p.userID
	}
	c, err := b.Consent.consent()
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	req.Consent = c
	res, err := s.svc.Init(r.Context(), req)
	if err != nil {
		if realname.KindOf(err) == realname.KindRateLimited {
			s.metrics.limited(ruleUserInit)
		}
		renderError(w, r, s.log, err)
		return
	}
	msg := "请打开 verify_url 完成人脸核验"
	if res.Resumed {
		msg = "已有进行中的认证,请继续在 verify_url 完成人脸核验"
	}
	writeJSON(w, http.StatusOK, struct {
		Success   bool   `json:"success"`
		CertifyID string `json:"certify_id"`
		VerifyURL string `json:"verify_url"`
		RequestID string `json:"request_id"`
		Message   string `json:"message"`
	}{true, res.CertifyID, res.VerifyURL, requestID(r.Context()), msg})
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	var b struct {
		CertifyID string `json:"certify_id"`
	}
	if err := decodeJSON(w, r, smallBody, &b); err != nil {
		renderError(w, r, s.log, err)
		return
	}
	v, err := s.svc.Verification(r.Context(), b.CertifyID)
	if err == nil && !principalFrom(r.Context()).mayActFor(v.UserID) {
		err = realname.E(realname.KindNotFound, realname.CodeNotFound, "no verification with this certify_id", nil)
	}
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	var score *float64
	if v.Score > 0 {
		score = &v.Score
	}
	writeJSON(w, http.StatusOK, struct {
		Success          bool           `json:"success"`
		CertifyID        string         `json:"certify_id"`
		UserID           string         `json:"user_id"`
		Status           string         `json:"status"`
		Passed           bool           `json:"passed"`
		AuthTime         *string        `json:"auth_time"`
		ExpireTime       *string        `json:"expire_time"`
		FaceCompareScore *float64       `json:"face_compare_score"`
		FailReason       string         `json:"fail_reason"`
		Receipt          *trail.Receipt `json:"receipt"`
	}{true, v.CertifyID, v.UserID, string(v.Status), v.Status == realname.StatusSuccess,
		timeOrNil(v.CompletedAt), timeOrNil(v.ExpiresAt), score, v.FailReason, s.receipt(r, v)})
}

// receipt is where the trail's newest entry about an ended session (its
// result) is, or nil: without a trail, while the session is open (clients
// poll then, and each look-up is a query), or while its event is still
// queued (the sequencer appends queued events every 100 ms). With the
// index the platform or the person fetches an inclusion proof from
// /trail/proof/inclusion.
func (s *Server) receipt(r *http.Request, v realname.Verification) *trail.Receipt {
	if s.trail == nil || v.Status.Open() {
		return nil
	}
	certifyID := v.CertifyID
	rc, err := s.trail.Receipt(r.Context(), certifyID)
	if err != nil {
		if !errors.Is(err, trail.ErrNotFound) {
			s.log.WarnContext(r.Context(), "trail receipt", "err", err)
		}
		return nil
	}
	return &rc
}

// reasonText is the Chinese text for a check's reason code.
var reasonText = map[string]string{
	"":                "已实名认证",
	"NOT_VERIFIED":    "用户尚未完成实名认证",
	"EXPIRED":         "实名认证已过期,请重新认证",
	"PENDING":         "实名认证进行中",
	"FACE_MISMATCH":   "人脸与实名信息不一致",
	"LIVENESS_ATTACK": "活体检测未通过",
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	var b struct {
		UserID    string `json:"user_id"`
		FaceImage string `json:"face_image"`
	}
	if err := decodeJSON(w, r, faceBody, &b); err != nil {
		renderError(w, r, s.log, err)
		return
	}
	if !s.allowedFor(w, r, principalFrom(r.Context()), b.UserID) {
		return
	}
	var face []byte
	if b.FaceImage != "" {
		img := b.FaceImage
		if i := strings.Index(img, ";base64,"); strings.HasPrefix(img, "data:") && i > 0 {
			img = img[i+len(";base64,"):]
		}
		var err error
		if face, err = base64.StdEncoding.DecodeString(img); err != nil || len(face) == 0 {
			renderError(w, r, s.log, realname.E(realname.KindInvalid, "INVALID_FACE_IMAGE", "face_image must be a base64 image", nil))
			return
		}
	}
	res, err := s.svc.Check(r.Context(), principalFrom(r.Context()).actor(), b.UserID, face)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	reason, ok := reasonText[res.ReasonCode]
	if !ok {
		reason = "实名核验未通过"
	}
	out := verifyAnswer{Success: true, Passed: res.Passed, Reason: reason, ReasonCode: res.ReasonCode, SimilarityScore: res.Similarity}
	if res.Passed {
		out.UserInfo = &userInfo{
			UserID: b.UserID, RealName: res.Status.MaskedName, Evidence: string(res.Status.Evidence),
			AuthTime: timeOrNil(res.Status.AuthTime), ExpireTime: timeOrNil(res.Status.ExpireTime),
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type verifyAnswer struct {
	Success         bool      `json:"success"`
	Passed          bool      `json:"passed"`
	Reason          string    `json:"reason"`
	ReasonCode      string    `json:"reason_code"`
	SimilarityScore *float64  `json:"similarity_score,omitempty"`
	UserInfo        *userInfo `json:"user_info,omitempty"`
}

type userInfo struct {
	UserID     string  `json:"user_id"`
	RealName   string  `json:"real_name"`
	Evidence   string  `json:"evidence"`
	AuthTime   *string `json:"auth_time"`
	ExpireTime *string `json:"expire_time"`
}

type statusAnswer struct {
	Success       bool    `json:"success"`
	UserID        string  `json:"user_id"`
	Status        string  `json:"status"`
	RealName      string  `json:"real_name"`
	AuthTime      *string `json:"auth_time"`
	ExpireTime    *string `json:"expire_time"`
	IsValid       bool    `json:"is_valid"`
	DaysRemaining int     `json:"days_remaining"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("user_id")
	if !s.allowedFor(w, r, principalFrom(r.Context()), user) {
		return
	}
	st, err := s.svc.Status(r.Context(), user)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	now := time.Now()
	writeJSON(w, http.StatusOK, statusAnswer{
		Success: true, UserID: st.UserID, Status: string(st.Status), RealName: st.MaskedName,
		AuthTime: timeOrNil(st.AuthTime), ExpireTime: timeOrNil(st.ExpireTime),
		IsValid: st.IsValid(now), DaysRemaining: st.DaysRemaining(now),
	})
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	var b struct {
		UserID string `json:"user_id"`
	}
	if err := decodeJSON(w, r, smallBody, &b); err != nil {
		renderError(w, r, s.log, err)
		return
	}
	if !realname.ValidUserID(b.UserID) {
		renderError(w, r, s.log, realname.ErrBadUserID)
		return
	}
	tok, exp := s.tokens.Mint(principalFrom(r.Context()).clientID, b.UserID)
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "token": tok, "expires_at": exp.UTC().Format(time.RFC3339)})
}

// handleCallback takes Cloudauth's callback: GET (or POST form) with
// certifyId, passed (the SubCode) and callbackToken. It answers 200 once the
// session is handled, also for a repeat, so the provider stops retrying.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, callbackBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			renderError(w, r, s.log, jsonError(err, callbackBody))
			return
		}
		renderError(w, r, s.log, realname.E(realname.KindInvalid, realname.CodeInvalidCallback, "malformed callback", nil))
		return
	}
	cb := realname.Callback{Ref: r.Form.Get("certifyId"), Token: r.Form.Get("callbackToken"), Hint: r.Form.Get("passed")}
	v, err := s.svc.HandleCallback(r.Context(), cb)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "status": v.Status})
}

// errOtherUser answers a user token used for another user_id.
var errOtherUser = realname.E(realname.KindPermission, "FORBIDDEN", "a user token acts only for its own user_id", nil)

// allowedFor reports whether p may act for userID, and answers 403 if not.
func (s *Server) allowedFor(w http.ResponseWriter, r *http.Request, p principal, userID string) bool {
	if p.mayActFor(userID) {
		return true
	}
	renderError(w, r, s.log, errOtherUser)
	return false
}
