package cloudauthsim

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// MaxBodyBytes bounds an RPC request body (pictures travel base64 in it).
const MaxBodyBytes = 8 << 20

// serveRPC answers the RPC API at the handler root: read the parameters,
// authenticate, find the action, apply FailNext, run the action.
func (s *Simulator) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeAPIError(w, newAPIError(http.StatusMethodNotAllowed, "UnsupportedHTTPMethod",
			"This http method is not supported."))
		return
	}
	params, aerr := readParams(w, r)
	if aerr != nil {
		writeAPIError(w, aerr)
		return
	}
	if aerr := s.authenticate(r.Method, params); aerr != nil {
		s.log.Debug("cloudauthsim: call refused", "code", aerr.code)
		writeAPIError(w, aerr)
		return
	}
	action := params["Action"]
	handler, known := actions[action]
	if !known {
		writeAPIError(w, newAPIError(http.StatusNotFound, "InvalidAction.NotFound",
			"Specified api is not found, please check your url and method."))
		return
	}
	if status, fail := s.takeFailure(action); fail {
		code, msg := failureFor(status)
		s.log.Debug("cloudauthsim: injected failure", "action", action, "status", status)
		writeAPIError(w, newAPIError(status, code, msg))
		return
	}
	res := handler(s, params)
	s.log.Debug("cloudauthsim: call", "action", action, "code", res.code)
	writeBizResult(w, res)
}

// readParams merges the query string and an
// application/x-www-form-urlencoded body into one map. A key given more
// than once (in either place or both) is refused: the SDK never does that,
// and it would make the signed value ambiguous.
func readParams(w http.ResponseWriter, r *http.Request) (map[string]string, *apiError) {
	params := make(map[string]string)
	add := func(vals url.Values) *apiError {
		for k, vs := range vals {
			if _, dup := params[k]; dup || len(vs) != 1 {
				return newAPIError(http.StatusBadRequest, "InvalidParameter",
					"A parameter is given more than once.")
			}
			params[k] = vs[0]
		}
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, newAPIError(http.StatusBadRequest, "InvalidParameter", "The query string is malformed.")
	}
	if aerr := add(q); aerr != nil {
		return nil, aerr
	}
	if r.Method != http.MethodPost || r.Body == nil {
		return params, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, newAPIError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				"The request body is larger than 8 MiB.")
		}
		return nil, newAPIError(http.StatusBadRequest, "InvalidParameter", "The request body could not be read.")
	}
	if len(body) == 0 {
		return params, nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		// Like net/http's ParseForm, ignore bodies that are not forms.
		return params, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, newAPIError(http.StatusBadRequest, "InvalidParameter", "The request body is malformed.")
	}
	if aerr := add(form); aerr != nil {
		return nil, aerr
	}
	return params, nil
}
