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
	// callbackBody bounds the provider's form-encoded callback.
	callbackBody = 16 << 10
)

// maxJSONDepth bounds the nesting of objects and arrays in a body. The API's
// bodies nest two levels (init's consent.scopes); encoding/json alone
// allows 10000.
const maxJSONDepth = 32

// errTooDeep is depthReader's complaint.
var errTooDeep = errors.New("JSON nested too deeply")

// depthReader passes a JSON text through and fails with errTooDeep as soon
// as objects and arrays nest deeper than maxJSONDepth. It only counts
// brackets outside strings; the decoder judges the syntax.
type depthReader struct {
	r        io.Reader
	depth    int
	inString bool
	escaped  bool
}

func (d *depthReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	for i, c := range p[:n] {
		switch {
		case d.escaped:
			d.escaped = false
		case d.inString:
			switch c {
			case '\\':
				d.escaped = true
			case '"':
				d.inString = false
			}
		case c == '"':
			d.inString = true
		case c == '{' || c == '[':
			if d.depth++; d.depth > maxJSONDepth {
				return i, errTooDeep
			}
		case c == '}' || c == ']':
			d.depth--
		}
	}
	return n, err
}

// decodeJSON reads one JSON object of at most limit bytes and
// maxJSONDepth levels into dst. Unknown fields, trailing data and wrong
// types are bad input, never a 500.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return realname.E(realname.KindInvalid, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json", nil)
		}
	}
	var body *depthReader
	if st := stateFrom(r.Context()); st != nil {
		body = &st.body // the request's state: no allocation of its own
	} else {
		body = new(depthReader)
	}
	*body = depthReader{r: http.MaxBytesReader(w, r.Body, limit)}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) || errors.Is(err, errTooDeep) {
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
	case errors.Is(err, errTooDeep):
		return realname.E(realname.KindInvalid, "INVALID_JSON", fmt.Sprintf("the body nests objects and arrays deeper than %d levels", maxJSONDepth), nil)
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
