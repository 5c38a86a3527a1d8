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

// body is about the size of a /verify answer for a verified user (≈ 210 bytes).
var body = []byte(`{"passed":true,"reason":"已实名认证","reason_code":"","success":true,"user_info":{"auth_time":"2026-11-23T08:34:19Z","evidence":"face","expire_time":"2027-11-23T08:34:19Z","real_name":"张*","user_id":"u1"}}` + "\n")

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
