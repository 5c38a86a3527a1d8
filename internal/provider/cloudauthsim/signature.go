package cloudauthsim

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// APIVersion is the only Cloudauth API version the simulator speaks.
const APIVersion = "2019-03-07"

// timestampLayout is the RPC common parameter Timestamp's format (UTC).
const timestampLayout = "2006-01-02T15:04:05Z"

// maxNonceLen bounds SignatureNonce; the SDK sends 32 hex digits.
const maxNonceLen = 128

// requiredCommonParams are the RPC common parameters every call must carry,
// checked in this order. SignatureType is optional (the SDK sends it empty).
var requiredCommonParams = []string{
	"AccessKeyId",
	"Action",
	"Format",
	"Signature",
	"SignatureMethod",
	"SignatureNonce",
	"SignatureVersion",
	"Timestamp",
	"Version",
}

// percentEncode is the RFC 3986 encoding of Alibaba Cloud's RPC signature:
// url.QueryEscape with "+"→"%20", "*"→"%2A" and "%7E"→"~".
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	e = strings.ReplaceAll(e, "%7E", "~")
	return e
}

// canonicalQuery is every parameter except Signature, sorted by key, each
// percentEncode(k)=percentEncode(v), joined by "&".
func canonicalQuery(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[k]))
	}
	return b.String()
}

// stringToSign is METHOD&%2F&percentEncode(canonicalQuery).
func stringToSign(method string, params map[string]string) string {
	return method + "&" + percentEncode("/") + "&" + percentEncode(canonicalQuery(params))
}

// sign is base64(HMAC-SHA1(secret+"&", stringToSign)).
func sign(secret, sts string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// authenticate checks the common parameters and the signature of an RPC
// call, in the order documented in doc.go, and records its nonce.
func (s *Simulator) authenticate(method string, p map[string]string) *apiError {
	for _, name := range requiredCommonParams {
		if p[name] == "" {
			return newAPIError(http.StatusBadRequest, "MissingParameter",
				fmt.Sprintf("The input parameter %q that is mandatory for processing this request is not supplied.", name))
		}
	}
	if f := p["Format"]; !strings.EqualFold(f, "JSON") {
		msg := "The specified parameter Format is not valid."
		if strings.EqualFold(f, "XML") {
			msg = "The simulator answers JSON only: Format XML is not supported."
		}
		return newAPIError(http.StatusBadRequest, "InvalidParameter", msg)
	}
	if p["Version"] != APIVersion {
		return newAPIError(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid.")
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return newAPIError(http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method is not valid.")
	}
	if p["SignatureVersion"] != "1.0" {
		return newAPIError(http.StatusBadRequest, "InvalidSignatureVersion", "Specified signature version is not valid.")
	}
	if st, ok := p["SignatureType"]; ok && st != "" {
		return newAPIError(http.StatusBadRequest, "InvalidParameter", "The specified parameter SignatureType is not valid.")
	}
	if len(p["SignatureNonce"]) > maxNonceLen {
		return newAPIError(http.StatusBadRequest, "InvalidParameter", "The specified parameter SignatureNonce is not valid.")
	}
	ts, err := time.Parse(timestampLayout, p["Timestamp"])
	if err != nil {
		return newAPIError(http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
	}
	now := s.now()
	if d := now.Sub(ts); d > s.cfg.MaxClockSkew || d < -s.cfg.MaxClockSkew {
		return newAPIError(http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
	}
	if !hmac.Equal([]byte(p["AccessKeyId"]), []byte(s.cfg.AccessKeyID)) {
		return newAPIError(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	want := sign(s.cfg.AccessKeySecret, stringToSign(method, p))
	if !hmac.Equal([]byte(p["Signature"]), []byte(want)) {
		return newAPIError(http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
	}
	// Only a correctly signed call may consume a nonce, so unsigned noise
	// cannot fill the set or block a legitimate client's nonce.
	if !s.nonces.add(p["SignatureNonce"], now, ts.Add(s.cfg.MaxClockSkew)) {
		return newAPIError(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return nil
}

// nonceSet remembers the nonces of accepted calls until their timestamps
// leave the clock-skew window (after which a replay fails on Timestamp
// anyway). It holds at most max entries; past that the oldest is forgotten.
type nonceSet struct {
	mu    sync.Mutex
	seen  map[string]time.Time // nonce → expiry
	queue []nonceEntry         // insertion order
	head  int
	max   int
}

type nonceEntry struct {
	nonce  string
	expiry time.Time
}

func newNonceSet(max int) *nonceSet {
	return &nonceSet{seen: make(map[string]time.Time), max: max}
}

// add records nonce and reports whether it was unseen (or seen but expired).
func (n *nonceSet) add(nonce string, now, expiry time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if exp, ok := n.seen[nonce]; ok && now.Before(exp) {
		return false
	}
	// Drop expired entries from the front; when full, drop the oldest.
	for n.head < len(n.queue) {
		e := n.queue[n.head]
		exp, ok := n.seen[e.nonce]
		stale := !ok || !exp.Equal(e.expiry) // superseded by a re-add
		if !stale && now.Before(exp) && len(n.seen) < n.max {
			break
		}
		if !stale {
			delete(n.seen, e.nonce)
		}
		n.queue[n.head] = nonceEntry{}
		n.head++
	}
	if n.head > 1024 && n.head*2 > len(n.queue) {
		n.queue = append([]nonceEntry(nil), n.queue[n.head:]...)
		n.head = 0
	}
	n.seen[nonce] = expiry
	n.queue = append(n.queue, nonceEntry{nonce: nonce, expiry: expiry})
	return true
}

// len reports how many nonces are remembered.
func (n *nonceSet) len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.seen)
}
