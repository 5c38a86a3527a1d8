package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/realname/realname/internal/realname"
)

// Pre-built header values, shared by every answer. They are only ever
// replaced, never modified in place (len == cap, so an Add copies).
var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	// smallLengths are the Content-Length values of bodies under 2 KiB.
	smallLengths = func() [][]string {
		out := make([][]string, 2048)
		for i := range out {
			out[i] = []string{strconv.Itoa(i)}
		}
		return out
	}()
)

// jsonBuffers recycles answer buffers. A ResponseWriter does not keep the
// slice it is given (io.Writer's contract), so the buffer is free again as
// soon as Write returns.
var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeJSON writes v as the answer: exactly the bytes json.Marshal makes,
// plus a newline. The answers of the API (maps of strings, booleans,
// numbers, pointers to them and nested maps; the error envelope) are
// encoded by appendJSON without reflection; anything else goes through
// json.Marshal.
func writeJSON(w http.ResponseWriter, status int, v any) {
	bp := jsonBuffers.Get().(*[]byte)
	b, ok := appendJSON((*bp)[:0], v)
	if !ok {
		jsonBuffers.Put(bp)
		var err error
		if b, err = json.Marshal(v); err != nil {
			status = http.StatusInternalServerError
			b = []byte(`{"success":false,"error":"internal error","code":"INTERNAL"}`)
		}
	}
	b = append(b, '\n')
	h := w.Header()
	h["Content-Type"] = jsonContentType
	if len(b) < len(smallLengths) {
		h["Content-Length"] = smallLengths[len(b)]
	} else {
		h["Content-Length"] = []string{strconv.Itoa(len(b))}
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if ok && cap(b) <= 64<<10 {
		*bp = b[:0]
		jsonBuffers.Put(bp)
	}
}

// appendJSON appends v encoded as encoding/json encodes it (sorted map keys,
// HTML-safe string escaping, the same number format). It reports false,
// with dst in an undefined state, for a value it does not handle; the
// caller then uses json.Marshal, which also reports the errors (NaN…).
func appendJSON(dst []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendJSONString(dst, v), true
	case bool:
		return strconv.AppendBool(dst, v), true
	case int:
		return strconv.AppendInt(dst, int64(v), 10), true
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case float64:
		return appendJSONFloat(dst, v)
	case *string:
		if v == nil {
			return append(dst, "null"...), true
		}
		return appendJSONString(dst, *v), true
	case *float64:
		if v == nil {
			return append(dst, "null"...), true
		}
		return appendJSONFloat(dst, *v)
	case realname.Status:
		return appendJSONString(dst, string(v)), true
	case realname.Evidence:
		return appendJSONString(dst, string(v)), true
	case errorBody:
		dst = append(dst, `{"success":`...)
		dst = strconv.AppendBool(dst, v.Success)
		dst = append(dst, `,"error":`...)
		dst = appendJSONString(dst, v.Error)
		dst = append(dst, `,"code":`...)
		return append(appendJSONString(dst, v.Code), '}'), true
	case map[string]any:
		return appendJSONMap(dst, v)
	case verifyAnswer:
		return v.appendJSON(dst)
	case statusAnswer:
		return v.appendJSON(dst), true
	}
	return dst, false
}

// The hot path's answers, field by field in declaration order as
// encoding/json writes them. TestAppendJSONMatchesEncodingJSON fills every
// field by reflection and compares with json.Marshal, so a field added to
// these types without being added here fails the test.

func (a verifyAnswer) appendJSON(dst []byte) ([]byte, bool) {
	dst = append(dst, `{"success":`...)
	dst = strconv.AppendBool(dst, a.Success)
	dst = append(dst, `,"passed":`...)
	dst = strconv.AppendBool(dst, a.Passed)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, a.Reason)
	dst = append(dst, `,"reason_code":`...)
	dst = appendJSONString(dst, a.ReasonCode)
	if a.SimilarityScore != nil {
		dst = append(dst, `,"similarity_score":`...)
		var ok bool
		if dst, ok = appendJSONFloat(dst, *a.SimilarityScore); !ok {
			return dst, false
		}
	}
	if a.UserInfo != nil {
		dst = append(dst, `,"user_info":`...)
		dst = a.UserInfo.appendJSON(dst)
	}
	return append(dst, '}'), true
}

func (u *userInfo) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"user_id":`...)
	dst = appendJSONString(dst, u.UserID)
	dst = append(dst, `,"real_name":`...)
	dst = appendJSONString(dst, u.RealName)
	dst = append(dst, `,"evidence":`...)
	dst = appendJSONString(dst, u.Evidence)
	dst = append(dst, `,"auth_time":`...)
	dst, _ = appendJSON(dst, u.AuthTime)
	dst = append(dst, `,"expire_time":`...)
	dst, _ = appendJSON(dst, u.ExpireTime)
	return append(dst, '}')
}

func (a statusAnswer) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"success":`...)
	dst = strconv.AppendBool(dst, a.Success)
	dst = append(dst, `,"user_id":`...)
	dst = appendJSONString(dst, a.UserID)
	dst = append(dst, `,"status":`...)
	dst = appendJSONString(dst, a.Status)
	dst = append(dst, `,"real_name":`...)
	dst = appendJSONString(dst, a.RealName)
	dst = append(dst, `,"auth_time":`...)
	dst, _ = appendJSON(dst, a.AuthTime)
	dst = append(dst, `,"expire_time":`...)
	dst, _ = appendJSON(dst, a.ExpireTime)
	dst = append(dst, `,"is_valid":`...)
	dst = strconv.AppendBool(dst, a.IsValid)
	dst = append(dst, `,"days_remaining":`...)
	return append(strconv.AppendInt(dst, int64(a.DaysRemaining), 10), '}')
}

// appendJSONMap encodes a map with its keys in sorted order.
func appendJSONMap(dst []byte, m map[string]any) ([]byte, bool) {
	if m == nil {
		return append(dst, "null"...), true
	}
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendJSONString(dst, k), ':')
		var ok bool
		if dst, ok = appendJSON(dst, m[k]); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// appendJSONFloat formats like encoding/json's float64 encoder.
func appendJSONFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping:
// <, > and & as \u003c…, control characters, invalid UTF-8 as \ufffd,
// and U+2028/U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// errorBody is the error envelope.
type errorBody struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
	Code    string `json:"code"`
}

var kindStatus = map[realname.Kind]int{
	realname.KindInvalid:      http.StatusBadRequest,
	realname.KindUnauthorized: http.StatusUnauthorized,
	realname.KindPermission:   http.StatusForbidden,
	realname.KindNotFound:     http.StatusNotFound,
	realname.KindConflict:     http.StatusConflict,
	realname.KindTooLarge:     http.StatusRequestEntityTooLarge,
	realname.KindRateLimited:  http.StatusTooManyRequests,
	realname.KindUnavailable:  http.StatusServiceUnavailable,
}

// renderError maps a domain error to its status and the error envelope.
// Internal errors are logged and answered without detail.
func renderError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *realname.Error
	if !errors.As(err, &e) {
		log.ErrorContext(r.Context(), "internal error", "err", err, "request_id", requestID(r.Context()))
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error; the request id identifies it in the logs", Code: realname.CodeInternal})
		return
	}
	status, ok := kindStatus[e.Kind]
	if !ok {
		log.ErrorContext(r.Context(), "internal error", "err", err, "request_id", requestID(r.Context()))
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error; the request id identifies it in the logs", Code: realname.CodeInternal})
		return
	}
	if e.Kind == realname.KindUnavailable && e.Err != nil {
		log.WarnContext(r.Context(), "dependency unavailable", "code", e.Code, "err", e.Err, "request_id", requestID(r.Context()))
	}
	// Retry-After goes with every error that says when to come back (a
	// lockout's 403, the budget's 503, a limit's 429), and with every 429
	// and 503 (at least a second).
	if ra := e.RetryAfter; ra > 0 || status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if ra <= 0 {
			ra = time.Second
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
	}
	writeJSON(w, status, errorBody{Error: e.Message, Code: e.Code})
}

// timeOrNil renders a time as RFC 3339, or null when zero. The answer
// points into a small cache of recent renderings (the hot path shows the
// same few auth and expiry times over and over); callers only read it.
func timeOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	sec := t.Unix() // RFC 3339 here has whole seconds: the second is the key
	slot := &renderedTimes[uint64(sec)%uint64(len(renderedTimes))]
	if r := slot.Load(); r != nil && r.unix == sec {
		return &r.text
	}
	r := &renderedTime{unix: sec, text: t.UTC().Format(time.RFC3339)}
	slot.Store(r)
	return &r.text
}

// renderedTime is one cached rendering of timeOrNil.
type renderedTime struct {
	unix int64
	text string
}

var renderedTimes [256]atomic.Pointer[renderedTime]
