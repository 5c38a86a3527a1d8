package aliyun

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/realname/realname/internal/realname"
)

// failure is a classified failed attempt.
type failure struct {
	err        error // wraps a realname sentinel; safe to log (no PII)
	retry      bool  // worth another attempt
	misconfig  bool  // our credentials/signature/permissions are wrong
	httpStatus int   // for gateway errors
	code       string
}

// misconfigCodes are gateway error codes (and code prefixes) meaning that
// our configuration is wrong: nothing the person did, nothing a retry fixes.
// The session must stay resumable, so they map to ErrProviderUnavailable.
var misconfigCodes = []string{
	"SignatureDoesNotMatch",
	"IncompleteSignature",
	"InvalidAccessKeyId",     // .NotFound, .Inactive
	"InvalidAccessKeySecret", //
	"InvalidTimeStamp",       // .Expired, .Format: our clock
	"InvalidSecurityToken",   //
	"Forbidden",              // .RAM, .AccessKeyDisabled, …
	"NoPermission",
	"InvalidVersion",
	"InvalidSignatureMethod",
	"InvalidSignatureVersion",
	"UnsupportedSignatureMethod",
}

// classify turns an error of the SDK into a failure. It never keeps the
// SDK's error text: a ServerError's message can echo the string to sign and
// a url.Error holds the request URL, both of which contain the person's
// name and number.
func classify(action string, err error) failure {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return classifyServer(action, se.HttpStatus(), se.ErrorCode())
	}
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		if ce.ErrorCode() == sdkerrors.JsonUnmarshalErrorCode {
			// A 2xx answer that is not our JSON: a proxy or a broken node.
			return failure{retry: true, err: unavailable(action, "undecodable answer")}
		}
		if origin := ce.OriginError(); origin != nil && isNetwork(origin) {
			return failure{retry: true, err: unavailable(action, networkText(origin))}
		}
		return failure{misconfig: true, err: unavailable(action, "SDK error "+ce.ErrorCode())}
	}
	if isNetwork(err) {
		return failure{retry: true, err: unavailable(action, networkText(err))}
	}
	return failure{misconfig: true, err: unavailable(action, fmt.Sprintf("SDK error %T", err))}
}

// classifyServer classifies a gateway-level error (non-2xx HTTP status).
func classifyServer(action string, status int, code string) failure {
	code = safeText(code, 64)
	f := failure{httpStatus: status, code: code}
	desc := fmt.Sprintf("HTTP %d %s", status, code)
	switch {
	case status >= 500, status == http.StatusTooManyRequests, status == http.StatusRequestTimeout,
		strings.HasPrefix(code, "Throttling"), strings.HasPrefix(code, "ServiceUnavailable"),
		code == "SignatureNonceUsed": // a new attempt has a new nonce
		f.retry = true
		f.err = unavailable(action, desc)
	case isMisconfigCode(code), status == http.StatusUnauthorized, status == http.StatusForbidden:
		f.misconfig = true
		f.err = unavailable(action, desc)
	default:
		// A 4xx on our parameters (MissingParameter, InvalidParameter, …).
		f.err = fmt.Errorf("%w: aliyun %s: %s", realname.ErrRejected, action, desc)
	}
	return f
}

func isMisconfigCode(code string) bool {
	for _, c := range misconfigCodes {
		if code == c || strings.HasPrefix(code, c+".") {
			return true
		}
	}
	return false
}

// isNetwork reports transport failures: dial, TLS, timeouts, resets, a body
// cut short.
func isNetwork(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// networkText describes a transport failure without the request URL.
func networkText(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "?&=") { // paranoia: never a query string
		return "network error"
	}
	return "network error: " + safeText(msg, 160)
}

// unavailable is an ErrProviderUnavailable for action.
func unavailable(action, desc string) error {
	return fmt.Errorf("%w: aliyun %s: %s", realname.ErrProviderUnavailable, action, desc)
}

// rejected is an ErrRejected for a business answer: its Code and a cleaned
// Message (Cloudauth messages describe the parameter, never its value).
func rejected(action, code, message string) error {
	return fmt.Errorf("%w: aliyun %s: code %s: %s", realname.ErrRejected, action,
		safeText(code, 32), safeText(message, 200))
}

// safeText trims s to at most n runes and replaces control characters and
// invalid UTF-8, so that an answer cannot forge log lines.
func safeText(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if n == 0 {
			b.WriteString("…")
			break
		}
		n--
		if r == utf8.RuneError || unicode.IsControl(r) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}
