package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/realname/realname/internal/realname"
)

// writeJSON writes v as the answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"success":false,"error":"internal error","code":"INTERNAL"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	b = append(b, '\n')
	_, _ = w.Write(b)
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
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		ra := e.RetryAfter
		if ra <= 0 {
			ra = time.Second
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
	}
	writeJSON(w, status, errorBody{Error: e.Message, Code: e.Code})
}

// timeOrNil renders a time as RFC 3339, or null when zero.
func timeOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}
