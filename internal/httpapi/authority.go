package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/realname/realname/internal/authority"
	"github.com/realname/realname/internal/realname"
)

// ruleAuthority labels the per-authority limit in realname_rate_limited_total.
const ruleAuthority = "authority"

// authorityRoutes mounts the routes of authority institutions (signed
// with their Ed25519 keys, docs/authority.md) and the claim of a deposit
// (a platform's API key or the user's token).
func (s *Server) authorityRoutes() {
	if s.authority == nil {
		return
	}
	m := s.mux
	m.Handle("POST /api/v1/authority/deposits", s.instrument("authority_deposit", s.signed(s.handleDeposit)))
	m.Handle("POST /api/v1/authority/requests", s.instrument("authority_request", s.signed(s.handleAuthorityRequest)))
	m.Handle("POST /api/v1/auth/claim", s.instrumentAuth("claim", s.authenticated(true, s.handleClaim)))
}

// signed reads the body (at most authority.MaxBody bytes), checks the
// request's signature and the authority's rate limit, and hands over the
// verified authority and the body.
func (s *Server) signed(h func(w http.ResponseWriter, r *http.Request, v authority.Verified, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, authority.MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				renderError(w, r, s.log, realname.E(realname.KindTooLarge, "BODY_TOO_LARGE", "the body is larger than 65536 bytes", nil))
				return
			}
			renderError(w, r, s.log, realname.E(realname.KindInvalid, "INVALID_BODY", "the body could not be read", nil))
			return
		}
		target := r.RequestURI
		if target == "" {
			target = r.URL.RequestURI()
		}
		v, err := s.authority.Verify(r.Context(), r.Method, target, r.Header.Get("Authorization"), body)
		if err != nil {
			renderError(w, r, s.log, err)
			return
		}
		if s.authorityLimit != nil && !s.within(w, r, s.authorityLimit, v.Authority.ID, ruleAuthority, "too many requests from this authority") {
			return
		}
		h(w, r, v, body)
	}
}

func (s *Server) handleDeposit(w http.ResponseWriter, r *http.Request, v authority.Verified, body []byte) {
	b, err := authority.ParseDeposit(body)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	res, err := s.svc.Deposit(r.Context(), realname.DepositRequest{Authority: v.Authority, RealName: b.RealName,
		IDNumber: b.IDCardNumber, CertType: b.CertType, Method: b.Method, VerifiedAt: b.VerifiedTime(), UserID: b.UserID, Guardian: b.Guardian,
		Signature: v.Signature, BodyHash: v.BodyHash, SignedMessage: v.Message, Body: body})
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	type answer struct {
		Success        bool    `json:"success"`
		DepositID      string  `json:"deposit_id"`
		UserID         string  `json:"user_id,omitempty"`
		CertifyID      string  `json:"certify_id,omitempty"`
		Status         string  `json:"status,omitempty"`
		Evidence       string  `json:"evidence,omitempty"`
		ExpireTime     *string `json:"expire_time,omitempty"`
		ClaimCode      string  `json:"claim_code,omitempty"`
		ClaimExpiresAt *string `json:"claim_expires_at,omitempty"`
	}
	a := answer{Success: true, DepositID: res.DepositID, ClaimCode: res.ClaimCode}
	if vf := res.Verification; vf != nil {
		a.UserID, a.CertifyID, a.Status, a.Evidence = vf.UserID, vf.CertifyID, string(vf.Status), string(vf.Evidence)
		a.ExpireTime = rfc3339(vf.ExpiresAt)
	} else {
		a.ClaimExpiresAt = rfc3339(res.ClaimExpiresAt)
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) handleAuthorityRequest(w http.ResponseWriter, r *http.Request, v authority.Verified, body []byte) {
	b, err := authority.ParseRequest(body)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	subject, ref, err := s.svc.AuthorityRequest(r.Context(), v.Authority, b.CertType, b.IDCardNumber, b.LegalBasis, b.CaseReference)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	p, err := s.packager.Package(r.Context(), subject, ref, "legal basis: "+b.LegalBasis+"; case: "+b.CaseReference,
		"authority "+v.Authority.Name+" ("+v.Authority.ID+")")
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	raw, err := p.Marshal()
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success bool `json:"success"`
		// RequestRef is the ref the package must answer: whoever checks it
		// later passes it to `realname trail verify --request-ref`.
		RequestRef string          `json:"request_ref"`
		Package    json.RawMessage `json:"package"`
	}{true, ref, raw})
}

type claimBody struct {
	UserID    string `json:"user_id"`
	ClaimCode string `json:"claim_code"`
}

func (s *Server) handleClaim(w http.ResponseWriter, r *http.Request) {
	var b claimBody
	if err := decodeJSON(w, r, 4<<10, &b); err != nil {
		renderError(w, r, s.log, err)
		return
	}
	p := principalFrom(r.Context())
	if !p.mayActFor(b.UserID) {
		renderError(w, r, s.log, realname.E(realname.KindPermission, "FORBIDDEN", "a user token acts only for its own user_id", nil))
		return
	}
	v, err := s.svc.Claim(r.Context(), p.actor(), b.UserID, b.ClaimCode)
	if err != nil {
		renderError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success    bool    `json:"success"`
		UserID     string  `json:"user_id"`
		CertifyID  string  `json:"certify_id"`
		Status     string  `json:"status"`
		Evidence   string  `json:"evidence"`
		AuthTime   *string `json:"auth_time"`
		ExpireTime *string `json:"expire_time"`
	}{true, v.UserID, v.CertifyID, string(v.Status), string(v.Evidence), rfc3339(v.CompletedAt), rfc3339(v.ExpiresAt)})
}

func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}
