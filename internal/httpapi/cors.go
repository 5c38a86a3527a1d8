package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/realname/realname/internal/realname"
)

// CORS lets the pages of the origins listed in Options.CORSOrigins
// (REALNAME_CORS_ORIGINS) read the API's answers: the JavaScript SDK on a
// platform's own site calls the API with a user token. Only exact origins
// are allowed, never "*", and never credentials (Access-Control-Allow-
// Credentials): the browser sends a bearer token, not cookies.
//
// wrap adds the headers to every answer of a listed origin; handlePreflight
// answers the browser's OPTIONS preflight. Without listed origins the cost
// per request is one nil check; with them, one map lookup.

// corsOrigins maps each allowed origin to its Access-Control-Allow-Origin
// header value (a shared slice, only ever replaced, never modified). Nil:
// CORS is off.
type corsOrigins map[string][]string

// newCORSOrigins builds the set; none: nil.
func newCORSOrigins(list []string) (corsOrigins, error) {
	if len(list) == 0 {
		return nil, nil
	}
	c := make(corsOrigins, len(list))
	for _, o := range list {
		if o == "" || strings.Contains(o, "*") {
			return nil, errors.New("httpapi.New: CORS origins must be exact origins (scheme://host[:port]), not empty or a wildcard")
		}
		c[o] = []string{o}
	}
	return c, nil
}

// Pre-built CORS header values, shared like securityHeaders.
var (
	corsVary          = []string{"Origin"}
	corsExposeHeaders = []string{"Retry-After, X-Request-Id"}
	corsAllowMethods  = []string{"GET, POST, DELETE"}
	corsAllowHeaders  = []string{"Authorization, Content-Type, Idempotency-Key, X-Request-Id"}
	corsMaxAge        = []string{"600"}
)

// allowed returns the Access-Control-Allow-Origin value for r's Origin, or
// nil when r has no Origin or one not listed.
func (c corsOrigins) allowed(r *http.Request) []string {
	o := r.Header["Origin"]
	if len(o) != 1 {
		return nil
	}
	return c[o[0]]
}

// apply sets the CORS headers of an answer to r: Vary: Origin always (the
// answer depends on Origin once origins are listed), and for a listed
// origin Access-Control-Allow-Origin and -Expose-Headers. c is not nil.
func (c corsOrigins) apply(hdr http.Header, r *http.Request) {
	if v, ok := hdr["Vary"]; ok {
		hdr["Vary"] = append(v[:len(v):len(v)], corsVary...)
	} else {
		hdr["Vary"] = corsVary
	}
	if ao := c.allowed(r); ao != nil {
		hdr["Access-Control-Allow-Origin"] = ao
		hdr["Access-Control-Expose-Headers"] = corsExposeHeaders
	}
}

// errCORSOrigin answers a preflight from an origin that is not listed.
var errCORSOrigin = realname.E(realname.KindPermission, "CORS_ORIGIN_NOT_ALLOWED",
	"this origin may not call the API from a browser (REALNAME_CORS_ORIGINS)", nil)

// handlePreflight answers OPTIONS on the API. A preflight (OPTIONS with
// Access-Control-Request-Method) on /api/v1/ from a listed origin gets 204
// with what the API accepts; from any other origin, 403. Any other OPTIONS
// is an unknown route, as before.
func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Access-Control-Request-Method") == "" || !strings.HasPrefix(r.URL.Path, "/api/v1/") {
		s.handleUnknown(w, r)
		return
	}
	if s.cors == nil || s.cors.allowed(r) == nil {
		renderError(w, r, s.log, errCORSOrigin)
		return
	}
	// wrap has set Access-Control-Allow-Origin and Vary; exposing headers
	// is for actual answers only.
	hdr := w.Header()
	delete(hdr, "Access-Control-Expose-Headers")
	hdr["Access-Control-Allow-Methods"] = corsAllowMethods
	hdr["Access-Control-Allow-Headers"] = corsAllowHeaders
	hdr["Access-Control-Max-Age"] = corsMaxAge
	w.WriteHeader(http.StatusNoContent)
}
