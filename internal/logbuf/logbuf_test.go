package logbuf_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realname/realname/internal/logbuf"
)

// sink is a concurrency-safe destination that counts writes.
type sink struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
	fail   error
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, s.fail
	}
	s.writes++
	return s.b.Write(p)
}

func (s *sink) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
func (s *sink) Writes() int    { s.mu.Lock(); defer s.mu.Unlock(); return s.writes }

func TestBatchesAndFlushesOnClose(t *testing.T) {
	var s sink
	w := logbuf.New(&s, time.Hour)
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if s.Writes() != 0 {
		t.Fatalf("%d writes before the interval or Close, want 0", s.Writes())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Writes() != 1 || strings.Count(s.String(), "\n") != 100 || !strings.HasSuffix(s.String(), "line 99\n") {
		t.Fatalf("after Close: %d writes, %q", s.Writes(), s.String())
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestFlushesEveryInterval(t *testing.T) {
	var s sink
	w := logbuf.New(&s, 10*time.Millisecond)
	defer w.Close()
	fmt.Fprintln(w, "hello")
	deadline := time.Now().Add(5 * time.Second)
	for s.String() != "hello\n" {
		if time.Now().After(deadline) {
			t.Fatal("the line was not written out within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLinesStayWhole(t *testing.T) {
	var s sink
	w := logbuf.New(&s, time.Hour)
	line := strings.Repeat("x", 1000) + "\n"
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 { // 4 × 200 KB: several buffers' worth
				if _, err := w.Write([]byte(line)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := s.String()
	if n := strings.Count(out, "\n"); n != 800 {
		t.Fatalf("%d lines, want 800", n)
	}
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l != line[:1000] {
			t.Fatalf("line %d is torn: %d bytes", i, len(l))
		}
	}
	if s.Writes() < 2 {
		t.Fatalf("%d writes for 800 KB, want the buffer to be written out when full", s.Writes())
	}
}

func TestWriteErrorIsReported(t *testing.T) {
	s := sink{fail: errors.New("disk full")}
	w := logbuf.New(&s, time.Hour)
	fmt.Fprintln(w, "a")
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush = %v, want the write error", err)
	}
	if _, err := w.Write([]byte("b\n")); err == nil {
		t.Fatal("Write after a failed flush succeeded")
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after a failed flush succeeded")
	}
}

func TestHandlerFlushesWarnings(t *testing.T) {
	var s sink
	w := logbuf.New(&s, time.Hour)
	defer w.Close()
	log := slog.New(logbuf.Handler(slog.NewJSONHandler(w, nil), w)).With("component", "test").WithGroup("g")
	log.Info("request", "n", 1)
	if s.Writes() != 0 {
		t.Fatal("an info record was written out at once")
	}
	log.Warn("provider down")
	out := s.String()
	if !strings.Contains(out, `"msg":"request"`) || !strings.Contains(out, `"msg":"provider down"`) ||
		!strings.Contains(out, `"component":"test"`) {
		t.Fatalf("after a warning: %q, want both records written out", out)
	}
}

func BenchmarkWrite(b *testing.B) {
	w := logbuf.New(io.Discard, 100*time.Millisecond)
	defer w.Close()
	line := []byte(`{"time":"2026-11-23T11:05:21.627212541Z","level":"INFO","msg":"request","request_id":"49f98e607b5aae9970faa5cf","method":"GET","route":"status","status":200,"took":2945}` + "\n")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = w.Write(line)
		}
	})
}
