package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/realname/realname/internal/realname"
)

// reviewBody bounds a manual review's body: the base64 of up to
// realname.MaxReviewBytes (6 MiB) of files, plus the JSON around it.
const reviewBody = 9 << 20

// The routes of the person's rights (/me), the manual review and the
// operators' admin API.
func (s *Server) privacyRoutes() {
	m := s.mux
	m.Handle("POST /api/v1/auth/review", s.instrumentAuth("review", s.authenticated(true, s.handleReview)))
	m.Handle("GET /api/v1/auth/me/data", s.instrumentAuth("me_data", s.authenticated(true, s.userOnly(s.handleMyData))))
	m.Handle("GET /api/v1/auth/me/consents", s.instrumentAuth("me_consents", s.authenticated(true, s.userOnly(s.handleMyConsents))))
	m.Handle("POST /api/v1/auth/me/consents/withdraw", s.instrumentAuth("me_withdraw", s.authenticated(true, s.userOnly(s.handleMyWithdraw))))
	m.Handle("DELETE /api/v1/auth/me", s.instrumentAuth("me_erase", s.authenticated(true, s.userOnly(s.handleMyErase))))
	if s.adminKey == nil {
		return // the catch-all answers 404 NOT_FOUND for every /api/v1/admin/ route
	}
	m.Handle("GET /api/v1/admin/reviews", s.instrument("admin_reviews", s.admin(s.handleAdminReviews)))
	m.Handle("GET /api/v1/admin/reviews/{certify_id}", s.instrument("admin_review", s.admin(s.handleAdminReview)))
	m.Handle("POST /api/v1/admin/reviews/{certify_id}/approve", s.instrument("admin_approve", s.admin(s.handleAdminDecide(true))))
	m.Handle("POST /api/v1/admin/reviews/{certify_id}/reject", s.instrument("admin_reject", s.admin(s.handleAdminDecide(false))))
	m.Handle("POST /api/v1/admin/users/{user_id}/unlock", s.instrument("admin_unlock", s.admin(s.handleAdminUnlock)))
	m.Handle("DELETE /api/v1/admin/users/{user_id}", s.instrument("admin_erase", s.admin(s.handleAdminErase)))
	m.Handle("GET /api/v1/admin/users/{user_id}/data", s.instrument("admin_data", s.admin(s.handleAdminData)))
}

// ---- manual review ----

type reviewFileBody struct {
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"`
	Data        string `json:"data"` // standard base64
}

type reviewBodyJSON struct {
	UserID       string           `json:"user_id"`
	RealName     string           `json:"real_name"`
	IDCardNumber string           `json:"id_card_number"`
	CertType     string           `json:"cert_type"`
	Consent      *consentBody     `json:"consent"`
	Note         string           `json:"note"`
	CallbackURL  string           `json:"callback_url"`
	Files        []reviewFileBody `json:"files"`
}

func (s *Server) handleReview(w http.ResponseWriter, r *http.Request) {
	var b reviewBodyJSON
	if err := decodeJSON(w, r, reviewBody, &b); err != nil {
		renderError(w, r, s.log, err)
		return
	}
	if !s.allowedFor(w, r, principalFrom(r.Context()), b.UserID) {
		return
	}
	c, err := b.Consent.consent()
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	if len(b.Files) > realname.MaxReviewFiles {
		renderError(w, r, s.log, realname.E(realname.KindInvalid, realname.CodeInvalidRequest,
			"send 1–"+strconv.Itoa(realname.MaxReviewFiles)+" files (photos of the document)", nil))
		return
	}
	files := make([]realname.ReviewFile, len(b.Files))
	for i, f := range b.Files {
		data, err := base64.StdEncoding.DecodeString(f.Data)
		if err != nil {
			renderError(w, r, s.log, realname.E(realname.KindInvalid, realname.CodeInvalidRequest,
				"files["+strconv.Itoa(i)+"].data must be standard base64", nil))
			return
		}
		files[i] = realname.ReviewFile{Kind: f.Kind, ContentType: f.ContentType, Data: data}
		b.Files[i].Data = "" // the decoded copy is enough
	}
	v, err := s.svc.SubmitReview(r.Context(), realname.ReviewRequest{
		UserID: b.UserID, RealName: b.RealName, IDNumber: b.IDCardNumber, CertType: b.CertType,
		Consent: c, Note: b.Note, Files: files, NotifyURL: b.CallbackURL,
	})
	if err != nil {
		if realname.KindOf(err) == realname.KindRateLimited {
			s.metrics.limited(ruleUserInit)
		}
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success   bool   `json:"success"`
		CertifyID string `json:"certify_id"`
		Status    string `json:"status"`
		RequestID string `json:"request_id"`
		Message   string `json:"message"`
	}{true, v.CertifyID, string(v.Status), requestID(r.Context()), "已提交人工审核,请等待审核结果"})
}

// ---- the person's rights (/me) ----

// errUserTokenRequired answers an API key on a /me route: they act for
// the person holding the user token, whom an API key does not name.
var errUserTokenRequired = realname.E(realname.KindPermission, "USER_TOKEN_REQUIRED", "this call needs the person's user token, not an API key", nil)

// userOnly admits only a user token; h gets the person acting with it.
func (s *Server) userOnly(h func(w http.ResponseWriter, r *http.Request, by realname.Actor)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		if p.userID == "" {
			renderError(w, r, s.log, errUserTokenRequired)
			return
		}
		h(w, r, p.actor())
	}
}

func (s *Server) handleMyData(w http.ResponseWriter, r *http.Request, by realname.Actor) {
	s.writeData(w, r, by, by.Name)
}

func (s *Server) handleMyConsents(w http.ResponseWriter, r *http.Request, by realname.Actor) {
	cs, err := s.svc.Consents(r.Context(), by.Name)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success  bool                     `json:"success"`
		Consents []realname.ConsentRecord `json:"consents"`
	}{true, cs})
}

func (s *Server) handleMyWithdraw(w http.ResponseWriter, r *http.Request, by realname.Actor) {
	rep, err := s.svc.WithdrawConsent(r.Context(), by, by.Name)
	s.writeErasure(w, r, rep, err)
}

func (s *Server) handleMyErase(w http.ResponseWriter, r *http.Request, by realname.Actor) {
	rep, err := s.svc.Erase(r.Context(), by, by.Name)
	s.writeErasure(w, r, rep, err)
}

func (s *Server) writeErasure(w http.ResponseWriter, r *http.Request, rep realname.ErasureReport, err error) {
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success bool                   `json:"success"`
		Erasure realname.ErasureReport `json:"erasure"`
	}{true, rep})
}

func (s *Server) writeData(w http.ResponseWriter, r *http.Request, by realname.Actor, userID string) {
	d, err := s.svc.Data(r.Context(), by, userID)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	if d.Access == nil {
		d.Access = []realname.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, struct {
		Success bool                  `json:"success"`
		Data    realname.PersonalData `json:"data"`
	}{true, d})
}

// ---- the admin API ----

var (
	errAdminKey = realname.E(realname.KindUnauthorized, "INVALID_ADMIN_KEY", "send Authorization: Bearer <admin key>", nil)
	errOperator = realname.E(realname.KindInvalid, "OPERATOR_REQUIRED", "send X-Operator: <your name> (1–64 printable characters)", nil)
)

// admin guards an operator's route: the admin key (compared in constant
// time; a wrong or missing one counts against the per-IP limit once more)
// and the operator's name from X-Operator.
func (s *Server) admin(h func(w http.ResponseWriter, r *http.Request, operator string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.adminKey == nil {
			renderError(w, r, s.log, errUnknownRoute)
			return
		}
		key := bearer(r)
		got := sha256.Sum256([]byte(key))
		if key == "" || subtle.ConstantTimeCompare(got[:], s.adminKey) != 1 {
			if s.ipAllowed(w, r) { // guessing the key is limited by address
				renderError(w, r, s.log, errAdminKey)
			}
			return
		}
		op := r.Header.Get("X-Operator")
		if !realname.ValidOperatorName(op) {
			renderError(w, r, s.log, errOperator)
			return
		}
		h(w, r, op)
	}
}

// accessReason is the operator's X-Access-Reason ("" when absent); the
// domain judges it.
func accessReason(r *http.Request) string { return r.Header.Get("X-Access-Reason") }

// reasonBody is the body of an operator's action.
type reasonBody struct {
	Reason string `json:"reason"`
}

func (s *Server) handleAdminReviews(w http.ResponseWriter, r *http.Request, op string) {
	limit := 0
	if q := r.URL.Query().Get("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 500 {
			renderError(w, r, s.log, realname.E(realname.KindInvalid, realname.CodeInvalidRequest, "limit must be 1–500", nil))
			return
		}
		limit = n
	}
	items, err := s.svc.ReviewQueue(r.Context(), op, limit)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success bool                  `json:"success"`
		Reviews []realname.ReviewItem `json:"reviews"`
	}{true, items})
}

func (s *Server) handleAdminReview(w http.ResponseWriter, r *http.Request, op string) {
	item, err := s.svc.Review(r.Context(), realname.Operator{Name: op, Reason: accessReason(r)}, r.PathValue("certify_id"))
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success bool                `json:"success"`
		Review  realname.ReviewItem `json:"review"`
	}{true, item})
}

func (s *Server) handleAdminDecide(approve bool) func(w http.ResponseWriter, r *http.Request, op string) {
	return func(w http.ResponseWriter, r *http.Request, op string) {
		var b reasonBody
		if err := decodeJSON(w, r, smallBody, &b); err != nil {
			renderError(w, r, s.log, err)
			return
		}
		v, err := s.svc.DecideReview(r.Context(), realname.Operator{Name: op, Reason: b.Reason}, r.PathValue("certify_id"), approve)
		if err != nil {
			renderError(w, r, s.log, err)
			return
		}
		type verification struct {
			CertifyID  string `json:"certify_id"`
			Status     string `json:"status"`
			FailReason string `json:"fail_reason"`
		}
		writeJSON(w, http.StatusOK, struct {
			Success      bool         `json:"success"`
			Verification verification `json:"verification"`
		}{true, verification{v.CertifyID, string(v.Status), v.FailReason}})
	}
}

func (s *Server) handleAdminUnlock(w http.ResponseWriter, r *http.Request, op string) {
	var b reasonBody
	if err := decodeJSON(w, r, smallBody, &b); err != nil {
		renderError(w, r, s.log, err)
		return
	}
	if err := s.svc.Unlock(r.Context(), realname.Operator{Name: op, Reason: b.Reason}, r.PathValue("user_id")); err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

func (s *Server) handleAdminErase(w http.ResponseWriter, r *http.Request, op string) {
	var b reasonBody
	if err := decodeJSON(w, r, smallBody, &b); err != nil {
		renderError(w, r, s.log, err)
		return
	}
	user := r.PathValue("user_id")
	rep, err := s.svc.Erase(r.Context(), realname.Actor{Kind: realname.ActorOperator, Name: op, Reason: b.Reason}, user)
	s.writeErasure(w, r, rep, err)
}

func (s *Server) handleAdminData(w http.ResponseWriter, r *http.Request, op string) {
	s.writeData(w, r, realname.Actor{Kind: realname.ActorOperator, Name: op, Reason: accessReason(r)}, r.PathValue("user_id"))
}
