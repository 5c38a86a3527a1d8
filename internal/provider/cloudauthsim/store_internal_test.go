package cloudauthsim

import (
	"testing"
	"time"
)

func TestPercentEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abcXYZ019-_.~", "abcXYZ019-_.~"},
		{"a b", "a%20b"},
		{"*", "%2A"},
		{"+/=&?", "%2B%2F%3D%26%3F"},
		{"张", "%E5%BC%A0"},
		{"2016-02-23T12:46:24Z", "2016-02-23T12%3A46%3A24Z"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := percentEncode(tt.in); got != tt.want {
				t.Fatalf("percentEncode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNonceSet(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := now.Add(time.Minute)
	n := newNonceSet(3)
	for _, x := range []string{"a", "b", "c"} {
		if !n.add(x, now, exp) {
			t.Fatalf("fresh nonce %q refused", x)
		}
	}
	if n.add("a", now, exp) {
		t.Fatal("reused nonce accepted")
	}
	if !n.add("d", now, exp) || n.len() != 3 {
		t.Fatalf("full set: len %d", n.len())
	}
	if !n.add("a", now, exp) { // the oldest was forgotten to make room
		t.Fatal("evicted nonce still refused")
	}
	later := exp.Add(time.Second)
	if !n.add("d", later, later.Add(time.Minute)) {
		t.Fatal("expired nonce still refused")
	}
	if n.add("d", later, later.Add(time.Minute)) {
		t.Fatal("re-added nonce accepted twice")
	}
	if n.len() > 3 {
		t.Fatalf("len %d over the bound", n.len())
	}
}

func TestSessionStoreBounds(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	st := newSessionStore(2, time.Hour)
	a := st.initSession(session{outerOrderNo: "A", created: now}, now)
	if again := st.initSession(session{outerOrderNo: "A", created: now}, now); again.certifyID != a.certifyID {
		t.Fatal("not idempotent")
	}
	b := st.initSession(session{outerOrderNo: "B", created: now}, now)
	c := st.addFinished(session{outerOrderNo: "C", created: now}, now)
	if st.len() != 2 {
		t.Fatalf("len %d, want 2", st.len())
	}
	if _, ok := st.get(a.certifyID); ok {
		t.Fatal("oldest session not evicted")
	}
	if a2 := st.initSession(session{outerOrderNo: "A", created: now}, now); a2.certifyID == a.certifyID {
		t.Fatal("evicted OuterOrderNo still mapped")
	}
	if _, ok := st.get(b.certifyID); ok {
		t.Fatal("b should have been evicted by the re-init of A")
	}
	if got, ok := st.get(c.certifyID); !ok || got.state != stateFinished {
		t.Fatal("finished session lost")
	}
	late := now.Add(2 * time.Hour)
	d := st.initSession(session{outerOrderNo: "D", created: late}, late)
	if st.len() != 1 {
		t.Fatalf("retention sweep left %d sessions", st.len())
	}
	if _, ok := st.get(d.certifyID); !ok {
		t.Fatal("new session missing")
	}
}

func TestSessionFinish(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	st := newSessionStore(10, time.Hour)
	ss := st.initSession(session{outerOrderNo: "A", created: now, expires: now.Add(time.Minute)}, now)
	if _, err := st.finish("nope", verdictFor(OutcomePass), false, now); err != ErrUnknownSession {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := st.finish(ss.certifyID, verdict{}, false, now.Add(time.Minute)); err != ErrSessionExpired {
		t.Fatalf("expired: %v", err)
	}
	got, err := st.finish(ss.certifyID, verdictFor(OutcomeFaceMismatch), false, now)
	if err != nil || got.verdict.subCode != "204" || got.state != stateFinished {
		t.Fatalf("finish: %v %+v", err, got)
	}
	if _, err := st.finish(ss.certifyID, verdict{}, true, now); err != ErrAlreadyFinished {
		t.Fatalf("twice: %v", err)
	}
}
