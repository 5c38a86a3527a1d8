// Package httpapi is realname's REST API v1: thin handlers that read JSON,
// validate, call the domain and render. One function, renderError, maps the
// domain's error kinds to HTTP statuses and the error envelope
// {"success": false, "error": "…", "code": "…"}. Middleware adds request
// ids, access logs without PII, metrics, security headers, body size and
// JSON depth limits, and CORS for the exact origins configured (cors.go).
//
// Two kinds of credential are accepted: a platform's API key (server to
// server, "Authorization: Bearer rk_…", stored hashed) and a short-lived
// user token minted with an API key ("Bearer ut2.…", HMAC-signed), which acts
// only for its own user_id.
package httpapi
