package main

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// readOne feeds data to rr in pieces of at most chunk bytes, as a socket
// would, until an answer is complete. It returns the answer, how many
// bytes of data were fed, and whether the answer was complete.
func readOne(rr *respReader, data []byte, chunk int) (resp response, fed int, done bool, err error) {
	for fed < len(data) {
		sp := rr.space()
		n := copy(sp[:min(len(sp), chunk)], data[fed:])
		fed += n
		resp, done, err = rr.advance(n)
		if err != nil || done {
			return resp, fed, done, err
		}
	}
	return resp, fed, false, nil
}

const okAnswer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\nDate: Mon, 23 Nov 2026 08:34:19 GMT\r\n\r\n{\"passed\":1}\n"

func TestParseContentLength(t *testing.T) {
	for chunk := 1; chunk <= len(okAnswer); chunk++ {
		rr := newRespReader(readBufSize, 1<<20, false)
		resp, fed, done, err := readOne(rr, []byte(okAnswer), chunk)
		if err != nil || !done || fed != len(okAnswer) {
			t.Fatalf("chunk %d: done %v fed %d err %v", chunk, done, fed, err)
		}
		if resp.status != 200 || resp.close || resp.bodyLen != 13 {
			t.Fatalf("chunk %d: %+v", chunk, resp)
		}
		if rr.started() {
			t.Fatalf("chunk %d: reader not back at the start", chunk)
		}
	}
}

func TestParseKeepAliveAndClose(t *testing.T) {
	// One connection, several answers in turn (a request between each).
	answers := []struct {
		text      string
		status    int
		close     bool
		bodyBytes int64
	}{
		{okAnswer, 200, false, 13},
		{"HTTP/1.1 200 OK\r\nconnection: Keep-Alive\r\ncontent-length: 2\r\n\r\nok", 200, false, 2},
		{"HTTP/1.1 204 No Content\r\n\r\n", 204, false, 0},
		{"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 200, false, 0},
		{"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", 404, false, 9},
		{"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy", 503, false, 4},
		{"HTTP/1.1 200 OK\nContent-Length: 1\n\nx", 200, false, 1},    // bare LF
		{"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", 200, false, 1}, // no reason phrase
		{"HTTP/1.1 200 OK\r\nConnection: upgrade, CLOSE\r\nContent-Length: 1\r\n\r\nx", 200, true, 1},
	}
	rr := newRespReader(readBufSize, 1<<20, false)
	for i, a := range answers {
		resp, fed, done, err := readOne(rr, []byte(a.text), 7)
		if err != nil || !done || fed != len(a.text) {
			t.Fatalf("answer %d: done %v fed %d/%d err %v", i, done, fed, len(a.text), err)
		}
		if resp.status != a.status || resp.close != a.close || resp.bodyLen != a.bodyBytes {
			t.Fatalf("answer %d: %+v, want status %d close %v body %d", i, resp, a.status, a.close, a.bodyBytes)
		}
	}
	// HTTP/1.0 without keep-alive closes.
	rr = newRespReader(readBufSize, 1<<20, false)
	resp, _, done, err := readOne(rr, []byte("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"), 100)
	if err != nil || !done || !resp.close {
		t.Fatalf("HTTP/1.0: %+v done %v err %v", resp, done, err)
	}
	// Connection: close.
	resp, _, done, err = readOne(rr, []byte("HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"), 100)
	if err != nil || !done || !resp.close || resp.status != 500 {
		t.Fatalf("Connection: close: %+v done %v err %v", resp, done, err)
	}
}

func TestParseHEADAnswerHasNoBody(t *testing.T) {
	rr := newRespReader(readBufSize, 1<<20, true)
	resp, _, done, err := readOne(rr, []byte("HTTP/1.1 200 OK\r\nContent-Length: 213\r\n\r\n"), 100)
	if err != nil || !done || resp.bodyLen != 0 {
		t.Fatalf("%+v done %v err %v", resp, done, err)
	}
}

func TestParseIncomplete(t *testing.T) {
	for _, text := range []string{"", "HT", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"} {
		rr := newRespReader(readBufSize, 1<<20, false)
		_, _, done, err := readOne(rr, []byte(text), 3)
		if err != nil || done {
			t.Fatalf("%q: done %v err %v, want more to come", text, done, err)
		}
		if text != "" && !rr.started() {
			t.Fatalf("%q: not started", text)
		}
	}
}

func TestParseErrors(t *testing.T) {
	many := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: b\r\n", maxHeaderLines+1) + "Content-Length: 0\r\n\r\n"
	huge := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", readBufSize) + "\r\nContent-Length: 0\r\n\r\n"
	for _, text := range []string{
		"hello world\r\n",
		"HTTZ",
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.1 +20 OK\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nno length",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", // bytes after the answer
		many,
		huge,
	} {
		rr := newRespReader(readBufSize, 1<<20, false)
		resp, _, done, err := readOne(rr, []byte(text), 1<<20)
		if !errors.Is(err, errProtocol) {
			t.Errorf("%.60q: %+v done %v err %v, want a protocol error", text, resp, done, err)
		}
		if rr.started() {
			t.Errorf("%.60q: reader not reset after the error", text)
		}
	}
}

func TestParseBodyBound(t *testing.T) {
	rr := newRespReader(readBufSize, 1000, false)
	_, _, _, err := readOne(rr, []byte("HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n"), 100)
	if !errors.Is(err, errProtocol) || !strings.Contains(err.Error(), "larger than the limit") {
		t.Fatalf("err %v, want body too large", err)
	}
	// At the bound it is fine, and a body larger than the read buffer is
	// read in pieces.
	for _, size := range []int{1000, 3 * readBufSize} {
		rr = newRespReader(readBufSize, int64(size), false)
		text := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n" + strings.Repeat("b", size)
		resp, fed, done, err := readOne(rr, []byte(text), readBufSize)
		if err != nil || !done || fed != len(text) || resp.bodyLen != int64(size) {
			t.Fatalf("size %d: %+v done %v fed %d/%d err %v", size, resp, done, fed, len(text), err)
		}
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	rr := newRespReader(readBufSize, 1<<20, false)
	data := []byte(okAnswer)
	n := testing.AllocsPerRun(1000, func() {
		if _, _, done, err := readOne(rr, data, 50); !done || err != nil {
			t.Fatal(done, err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per answer", n)
	}
}

func TestBuildTarget(t *testing.T) {
	tgt, err := buildTarget(config{
		url: "http://127.0.0.1:18181/api/v1/auth/verify?x=1", method: "post", body: `{"user_id":"u1"}`,
		headers: []string{"Authorization: Bearer K", "Content-Type:application/json"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "POST /api/v1/auth/verify?x=1 HTTP/1.1\r\nAuthorization: Bearer K\r\nContent-Type: application/json\r\n" +
		"Host: 127.0.0.1:18181\r\nContent-Length: 16\r\n\r\n{\"user_id\":\"u1\"}"
	if string(tgt.req) != want || tgt.addr != "127.0.0.1:18181" {
		t.Fatalf("got %q to %s\nwant %q", tgt.req, tgt.addr, want)
	}
	// The request is one net/http can read.
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(tgt.req)))
	if err != nil || req.ContentLength != 16 || req.Header.Get("Authorization") != "Bearer K" {
		t.Fatalf("net/http reads %+v, %v", req, err)
	}
	tgt, err = buildTarget(config{url: "http://localhost", method: "GET"})
	if err != nil || tgt.addr != "localhost:80" || string(tgt.req) != "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" {
		t.Fatalf("%q %s %v", tgt.req, tgt.addr, err)
	}
	for _, cfg := range []config{
		{url: "https://example.com/", method: "GET"},
		{url: "http:///x", method: "GET"},
		{url: "http://h/", method: "G T"},
		{url: "http://h/", method: "GET", headers: []string{"NoColon"}},
		{url: "http://h/", method: "GET", headers: []string{"A: b\r\nX: y"}},
		{url: "http://h/", method: "GET", headers: []string{"Transfer-Encoding: chunked"}},
	} {
		if _, err := buildTarget(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// FuzzParseResponse checks the answer parser on arbitrary bytes: it must
// not panic; the outcome must not depend on how the bytes are split into
// reads; and an answer it accepts must be one net/http reads the same way.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		okAnswer,
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 404 Not Found\nContent-Length: 1\n\nx",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
	} {
		f.Add([]byte(s), uint8(3))
	}
	const bufSize, maxBody = 512, 4096
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		// Byte by byte: the reference.
		rr := newRespReader(bufSize, maxBody, false)
		resp, fed, done, err := readOne(rr, data, 1)
		if err != nil && !errors.Is(err, errProtocol) {
			t.Fatalf("error not marked as a protocol error: %v", err)
		}
		if done && (resp.status < 200 || resp.status > 999 || resp.bodyLen < 0 || resp.bodyLen > maxBody) {
			t.Fatalf("accepted %+v", resp)
		}
		// Other splits.
		for _, c := range []int{max(int(chunk), 1), len(data) + 1} {
			rr2 := newRespReader(bufSize, maxBody, false)
			resp2, fed2, done2, err2 := readOne(rr2, data, c)
			switch {
			case err != nil:
				if err2 == nil {
					t.Fatalf("chunk %d: no error, byte by byte: %v", c, err)
				}
			case !done:
				if err2 != nil || done2 {
					t.Fatalf("chunk %d: done %v err %v, byte by byte: incomplete", c, done2, err2)
				}
			case fed2 == fed:
				if err2 != nil || !done2 || resp2 != resp {
					t.Fatalf("chunk %d: %+v done %v err %v, byte by byte: %+v", c, resp2, done2, err2, resp)
				}
			default: // this split ran past the answer: bytes after it
				if err2 == nil {
					t.Fatalf("chunk %d: fed %d, no error for the bytes after the answer (%d)", c, fed2, fed)
				}
			}
		}
		if !done {
			return
		}
		// net/http must read the same answer.
		req, _ := http.NewRequest("GET", "http://x/", nil)
		hr, herr := http.ReadResponse(bufio.NewReader(bytes.NewReader(data[:fed])), req)
		if herr != nil {
			t.Fatalf("accepted %+v; net/http: %v", resp, herr)
		}
		defer hr.Body.Close()
		if hr.StatusCode != resp.status || hr.Close != resp.close {
			t.Fatalf("accepted %+v; net/http: status %d close %v", resp, hr.StatusCode, hr.Close)
		}
		if resp.status != 204 && resp.status != 304 && hr.ContentLength != resp.bodyLen {
			t.Fatalf("accepted %+v; net/http: Content-Length %d", resp, hr.ContentLength)
		}
	})
}
