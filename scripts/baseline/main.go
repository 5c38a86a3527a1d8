// Command baseline is the reference server of scripts/bench-http.sh: a
// minimal net/http handler answering every request with a constant JSON body
// about the size of realname's /verify and /status answers. It shows what
// this machine, Go's net/http and the load generator manage without any of
// realname's work, so realname's figures can be read as a ratio.
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
)

// body is a /verify answer for a verified user, byte for byte (213 bytes;
// a /status answer is 179).
var body = []byte(`{"success":true,"passed":true,"reason":"已实名认证","reason_code":"","user_info":{"user_id":"u1","real_name":"张*","evidence":"face","auth_time":"2026-11-23T08:34:19Z","expire_time":"2027-11-23T08:34:19Z"}}` + "\n")

func main() {
	addr := flag.String("addr", "127.0.0.1:18100", "listen address host:port")
	flag.Parse()
	length := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		_, _ = w.Write(body)
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
