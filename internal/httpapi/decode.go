package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/realname/realname/internal/realname"
)

// Body limits.
const (
	smallBody = 64 << 10 // init, query, token
	faceBody  = 8 << 20  // verify with a base64 face picture (≤ 5 MiB decoded)
)

// decodeJSON reads one JSON object of at most limit bytes into dst. Unknown
// fields, trailing data and wrong types are bad input, never a 500.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return realname.E(realname.KindInvalid, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json", nil)
		}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return jsonError(err, limit)
		}
		return realname.E(realname.KindInvalid, "INVALID_JSON", "the body must hold exactly one JSON object", nil)
	}
	return nil
}

func jsonError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return realname.E(realname.KindTooLarge, "BODY_TOO_LARGE", fmt.Sprintf("the body is larger than %d bytes", limit), nil)
	case errors.Is(err, io.EOF):
		return realname.E(realname.KindInvalid, "INVALID_JSON", "the body is empty; send a JSON object", nil)
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return realname.E(realname.KindInvalid, "INVALID_JSON", "the body is not valid JSON", nil)
	case errors.As(err, &typ):
		return realname.E(realname.KindInvalid, "INVALID_JSON", fmt.Sprintf("field %q has the wrong type", typ.Field), nil)
	default:
		// DisallowUnknownFields and other decoder complaints; the message
		// names the field, never a value.
		return realname.E(realname.KindInvalid, "INVALID_JSON", "bad JSON body: "+err.Error(), nil)
	}
}
