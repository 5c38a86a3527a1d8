package cloudauthsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
)

// hostID is the HostId the real gateway puts into its error envelopes.
const hostID = "cloudauth.aliyuncs.com"

// Business codes carried in the string Code field of an HTTP 200 answer.
const (
	codeOK            = "200"
	codeMissing       = "400"
	codeInvalid       = "401"
	codeBadCertifyID  = "406"
	codeNoRecord      = "424"
	msgOK             = "success"
	msgMissing        = "参数不能为空"
	msgInvalid        = "参数非法"
	msgBadCertifyID   = "无效的CertifyId"
	msgNoRecord       = "身份认证记录不存在"
	jsonContentType   = "application/json;charset=utf-8"
	recommendTemplate = "https://api.aliyun.com/troubleshoot?product=Cloudauth&q="
)

// apiError is a gateway-level failure: a non-200 HTTP status with Alibaba
// Cloud's error envelope. Business failures are not apiErrors; they are HTTP
// 200 answers with a string Code (see bizResult).
type apiError struct {
	status  int
	code    string
	message string
}

func newAPIError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// errorEnvelope is the body of every gateway-level error.
type errorEnvelope struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

// resultEnvelope is the body of every HTTP 200 answer, success or business
// failure. Code is a string, as in the real service.
type resultEnvelope struct {
	RequestID    string `json:"RequestId"`
	Code         string `json:"Code"`
	Message      string `json:"Message"`
	ResultObject any    `json:"ResultObject,omitempty"`
}

// bizResult is what an action handler answers: a business Code and Message
// and, on success, the ResultObject.
type bizResult struct {
	code    string
	message string
	result  any
}

func ok(result any) bizResult { return bizResult{code: codeOK, message: msgOK, result: result} }

func missingParam() bizResult { return bizResult{code: codeMissing, message: msgMissing} }

func invalidParam() bizResult { return bizResult{code: codeInvalid, message: msgInvalid} }

// newRequestID returns an upper-case, UUID-shaped (version 4) request id like
// the ones the real gateway sends.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	for i, c := range out {
		if c >= 'a' && c <= 'f' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out[:])
}

// writeJSON answers status with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, requestID string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Every value passed here is made of strings, numbers and maps of
		// them, so this cannot happen; answer something well-formed anyway.
		status = http.StatusInternalServerError
		body = []byte(`{"Code":"InternalError","Message":"encoding failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if requestID != "" {
		h.Set("X-Acs-Request-Id", requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeAPIError answers a gateway-level error with Alibaba Cloud's envelope.
func writeAPIError(w http.ResponseWriter, e *apiError) {
	id := newRequestID()
	writeJSON(w, e.status, id, errorEnvelope{
		RequestID: id,
		HostID:    hostID,
		Code:      e.code,
		Message:   e.message,
		Recommend: recommendTemplate + e.code,
	})
}

// writeBizResult answers HTTP 200 with the result envelope.
func writeBizResult(w http.ResponseWriter, r bizResult) {
	id := newRequestID()
	writeJSON(w, http.StatusOK, id, resultEnvelope{
		RequestID:    id,
		Code:         r.code,
		Message:      r.message,
		ResultObject: r.result,
	})
}

// failureFor returns the error code and message FailNext answers for an
// HTTP status.
func failureFor(status int) (code, message string) {
	switch {
	case status == http.StatusTooManyRequests:
		return "Throttling", "Request was denied due to request throttling."
	case status == http.StatusForbidden:
		return "Forbidden.RAM", "User not authorized to operate on the specified resource."
	case status == http.StatusInternalServerError:
		return "InternalError", "The request processing has failed due to some unknown error, exception or failure."
	case status >= 500:
		return "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
	default:
		return "Throttling.User", "Request was denied due to user flow control."
	}
}
