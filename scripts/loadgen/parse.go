package main

import (
	"bytes"
	"errors"
	"fmt"
)

// maxHeaderLines bounds an answer's head; its size is bounded by the
// connection's read buffer (readBufSize).
const (
	readBufSize    = 8 << 10
	maxHeaderLines = 100
)

// errProtocol marks answers the load generator cannot or will not read:
// malformed, chunked, without Content-Length, too large, followed by
// unexpected bytes.
var errProtocol = errors.New("bad HTTP answer")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errProtocol}, args...)...)
}

// response is what the parser keeps of an answer.
type response struct {
	status  int
	close   bool  // the server closes the connection after it
	bodyLen int64 // body bytes that follow the head
}

// parseHead parses an HTTP/1.x answer's head (status line and headers) at
// the start of b. It returns the head's length, or 0 and no error if b
// holds only the beginning of a head. Only Content-Length,
// Transfer-Encoding and Connection are looked at. The body length must be
// given by Content-Length (chunked answers are refused) and be at most
// maxBody bytes; answers to HEAD (noBody) and 204 and 304 answers have no
// body. Interim 1xx answers are refused. It does not allocate unless it
// fails.
func parseHead(b []byte, maxBody int64, noBody bool) (r response, headLen int, err error) {
	const prefix = "HTTP/1."
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		// Refuse what cannot become a status line without waiting for it.
		if n := min(len(b), len(prefix)); string(b[:n]) != prefix[:n] {
			return r, 0, protoErr("malformed status line %.40q", b)
		}
		return r, 0, nil
	}
	line := trimCR(b[:nl])
	// HTTP/1.1 200 OK
	if len(line) < 12 || string(line[:7]) != prefix || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return r, 0, protoErr("malformed status line %.40q", line)
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return r, 0, protoErr("malformed status line %.40q", line)
		}
		r.status = r.status*10 + int(c-'0')
	}
	switch {
	case r.status < 100:
		return r, 0, protoErr("malformed status line %.40q", line)
	case r.status < 200:
		return r, 0, protoErr("interim answer %d is not supported", r.status)
	}
	http10 := line[7] == '0'
	keepAlive := false
	contentLength := int64(-1)
	pos := nl + 1
	for n := 0; ; n++ {
		nl = bytes.IndexByte(b[pos:], '\n')
		if nl < 0 {
			return response{}, 0, nil // not all of the head yet
		}
		line = trimCR(b[pos : pos+nl])
		pos += nl + 1
		if len(line) == 0 {
			break
		}
		if n == maxHeaderLines {
			return r, 0, protoErr("more than %d header lines", maxHeaderLines)
		}
		colon := -1
		for i, c := range line {
			if c == ':' {
				colon = i
				break
			}
			if !isTokenChar(c) {
				return r, 0, protoErr("malformed header line %.40q", line)
			}
		}
		if colon <= 0 {
			return r, 0, protoErr("malformed header line %.40q", line)
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		for _, c := range value {
			if (c < ' ' && c != '\t') || c == 0x7f {
				return r, 0, protoErr("control character in header line %.40q", line)
			}
		}
		switch {
		case equalFold(name, "content-length"):
			v, ok := parseLength(value)
			if !ok || (contentLength >= 0 && v != contentLength) {
				return r, 0, protoErr("bad Content-Length %.40q", value)
			}
			contentLength = v
		case equalFold(name, "transfer-encoding"):
			return r, 0, protoErr("Transfer-Encoding %.40q is not supported (Content-Length is required)", value)
		case equalFold(name, "connection"):
			if hasToken(value, "close") {
				r.close = true
			}
			if hasToken(value, "keep-alive") {
				keepAlive = true
			}
		}
	}
	if http10 && !keepAlive {
		r.close = true
	}
	if noBody || r.status == 204 || r.status == 304 {
		return r, pos, nil
	}
	switch {
	case contentLength < 0:
		return r, 0, protoErr("answer %d without Content-Length", r.status)
	case contentLength > maxBody:
		return r, 0, protoErr("body of %d bytes is larger than the limit of %d", contentLength, maxBody)
	}
	r.bodyLen = contentLength
	return r, pos, nil
}

// respReader reads answers from a connection whose bytes arrive in pieces:
// the head is gathered in buf (so it must fit), the body is counted and
// discarded. Requests are not pipelined, so nothing may follow an answer
// until the next request is sent.
type respReader struct {
	buf     []byte
	n       int   // bytes of a head gathered in buf[:n]
	inBody  bool  // the head is in: body bytes still to come
	body    int64 // body bytes still to come
	resp    response
	maxBody int64
	noBody  bool
}

func newRespReader(size int, maxBody int64, noBody bool) *respReader {
	return &respReader{buf: make([]byte, size), maxBody: maxBody, noBody: noBody}
}

// space is where the next bytes from the connection go.
func (r *respReader) space() []byte { return r.buf[r.n:] }

// started reports whether part of an answer has arrived.
func (r *respReader) started() bool { return r.n > 0 || r.inBody }

// reset forgets a partly read answer (for a new connection).
func (r *respReader) reset() { r.n, r.inBody, r.body = 0, false, 0 }

// advance takes k bytes just read into space(). It returns done once an
// answer is complete.
func (r *respReader) advance(k int) (resp response, done bool, err error) {
	if !r.inBody {
		r.n += k
		resp, headLen, err := parseHead(r.buf[:r.n], r.maxBody, r.noBody)
		if err != nil {
			r.reset()
			return resp, false, err
		}
		if headLen == 0 {
			if r.n == len(r.buf) {
				r.reset()
				return resp, false, protoErr("head longer than %d bytes", len(r.buf))
			}
			return resp, false, nil
		}
		k = r.n - headLen // body bytes that came with the head
		r.n = 0
		r.resp, r.inBody, r.body = resp, true, resp.bodyLen
	}
	if int64(k) > r.body {
		extra := int64(k) - r.body
		r.reset()
		return r.resp, false, protoErr("%d unexpected bytes after the answer", extra)
	}
	r.body -= int64(k)
	if r.body > 0 {
		return r.resp, false, nil
	}
	r.inBody = false
	return r.resp, true, nil
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// isTokenChar reports whether c may appear in a header name (RFC 9110 tchar).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b equals the lower-case ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds the lower-case
// token tok, ignoring case.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		if i < 0 {
			i = len(v)
		}
		if equalFold(trimOWS(v[:i]), tok) {
			return true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return false
}

// parseLength parses a Content-Length value: decimal digits only, at most 18.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}
