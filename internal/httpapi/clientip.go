package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Bounds of X-Forwarded-For parsing: longer headers and more entries than
// a sane chain of proxies are not read further (the right-most entries,
// the ones the trusted proxies added, are read first).
const (
	maxForwardedLen     = 1024 // bytes of X-Forwarded-For examined
	maxForwardedEntries = 16   // addresses examined, from the right
)

// trustedProxies is the set of proxies whose X-Forwarded-For is believed.
type trustedProxies []netip.Prefix

func (t trustedProxies) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address the per-IP limit is keyed by: the connection's
// remote address, unless that is a trusted proxy; then the right-most
// address of X-Forwarded-For that is not a trusted proxy. A client's own
// X-Forwarded-For (without a trusted proxy in front) is ignored, and
// entries left of the first untrusted one are never believed: anyone may
// have written them. An entry that is not an address ends the walk at the
// last trusted hop (which is then the best we know).
func (t trustedProxies) clientIP(r *http.Request) string {
	remote := hostOf(r.RemoteAddr)
	if len(t) == 0 {
		return remote
	}
	ra, err := netip.ParseAddr(remote)
	if err != nil || !t.contains(ra) {
		return remote
	}
	vals := r.Header.Values("X-Forwarded-For")
	best := remote
	seen := 0
	budget := maxForwardedLen
	for i := len(vals) - 1; i >= 0; i-- {
		v := vals[i]
		if len(v) > budget {
			v = v[len(v)-budget:] // the right-most part: the trusted proxies' own entries
		}
		budget -= len(v)
		for v != "" {
			j := strings.LastIndexByte(v, ',')
			entry := strings.TrimSpace(v[j+1:])
			if j < 0 {
				v = ""
			} else {
				v = v[:j]
			}
			if entry == "" {
				continue
			}
			seen++
			if seen > maxForwardedEntries {
				return best
			}
			a, ok := parseForwardedAddr(entry)
			if !ok {
				return best
			}
			if !t.contains(a) {
				return entry
			}
			best = entry
		}
		if budget <= 0 {
			break
		}
	}
	return best
}

// limitKeyIP is the key of the per-IP limit for a client address: the
// address itself, except that IPv6 addresses are grouped by their /64 (one
// subscriber usually holds a whole /64, so per-address keys would let one
// client mint limitless keys). Only IPv6 keys allocate.
func limitKeyIP(ip string) string {
	if strings.IndexByte(ip, ':') < 0 {
		return ip
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a.Is4In6() {
		return a.Unmap().String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// parseForwardedAddr reads one X-Forwarded-For entry: a bare IPv4 or IPv6
// address (no port, no zone). It returns ok false for anything else.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	if len(s) > 45 { // the longest textual IPv6 address (with IPv4 tail)
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// hostOf is the host part of a RemoteAddr ("ip:port"), without allocating.
func hostOf(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}
