package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

func TestDeliversWithRetries(t *testing.T) {
	var calls atomic.Int32
	got := make(chan map[string]string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		got <- m
	}))
	defer srv.Close()
	n := New(Config{AllowLoopback: true, Backoff: 10 * time.Millisecond})
	n.Start()
	defer n.Close()
	n.Notify(context.Background(), realname.Notice{URL: srv.URL + "/hook", CertifyID: "vf1", UserID: "u1", Status: realname.StatusSuccess})
	select {
	case m := <-got:
		if m["certify_id"] != "vf1" || m["user_id"] != "u1" || m["status"] != "success" || m["event"] != "verification.finished" || len(m) != 4 {
			t.Fatalf("notice %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notice")
	}
	if calls.Load() != 3 {
		t.Fatalf("calls = %d, want 3", calls.Load())
	}
}

func TestRefusesForbiddenAddresses(t *testing.T) {
	var hit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit.Store(true) }))
	defer srv.Close()
	n := New(Config{AllowLoopback: false, Backoff: time.Millisecond})
	if err := n.post(srv.URL, []byte("{}")); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("loopback without permission: %v", err)
	}
	for _, addr := range []string{"10.0.0.1:80", "192.168.1.1:443", "172.16.0.1:80", "169.254.169.254:80", "0.0.0.0:80", "[fe80::1]:80", "224.0.0.1:80",
		"100.100.100.200:80", "100.64.0.1:80", "198.18.0.1:80", "0.1.2.3:80", "255.255.255.255:80", "[64:ff9b::a9fe:a9fe]:80",
		"[::ffff:10.0.0.1]:80", "[::ffff:100.100.100.200]:80", "[2002:a9fe:a9fe::1]:80"} {
		if err := guard(true)("tcp", addr, nil); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for _, addr := range []string{"203.0.113.9:443", "[2001:db8::1]:443"} {
		if err := guard(false)("tcp", addr, nil); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
	if hit.Load() {
		t.Fatal("a forbidden address was reached")
	}
}

func TestNotifyNeverBlocks(t *testing.T) {
	n := New(Config{QueueSize: 2}) // not started: nothing drains the queue
	done := make(chan struct{})
	go func() {
		for range 100 {
			n.Notify(context.Background(), realname.Notice{URL: "http://x.invalid/"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Notify blocked on a full queue")
	}
}

func TestCloseStopsRetrying(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(500)
	}))
	defer srv.Close()
	n := New(Config{AllowLoopback: true, Backoff: time.Hour, Attempts: 5})
	n.Start()
	n.Notify(context.Background(), realname.Notice{URL: srv.URL})
	for deadline := time.Now().Add(2 * time.Second); calls.Load() == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
	}
	var wg sync.WaitGroup
	wg.Go(n.Close)
	closed := make(chan struct{})
	go func() { wg.Wait(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close waited for a retry an hour away")
	}
}
