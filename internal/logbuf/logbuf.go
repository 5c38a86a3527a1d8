// Package logbuf batches log output: a Writer collects lines in memory and
// writes them out every interval, when its buffer fills, on Flush and on
// Close, so a busy server makes one write(2) per batch instead of one per
// access-log line. Handler wraps a slog.Handler so that records of level
// Warn and above are written out at once.
//
// The trade-off: if the process dies without Close (SIGKILL, a fatal runtime
// error), the lines of the last interval are lost. Panics in HTTP handlers
// are recovered by net/http and do not lose anything.
package logbuf

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// bufSize is the buffer: a full buffer is written out at once.
const bufSize = 64 << 10

// Writer is a buffered, periodically flushed io.Writer, safe for
// concurrent use. Each Write is kept whole: a line is never split between
// two batches unless it is larger than the buffer.
type Writer struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	err  error // the first write error; later writes report it too
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New returns a Writer on w that flushes every interval (100 ms if
// interval <= 0). Call Close to stop it and write out what is left.
func New(w io.Writer, interval time.Duration) *Writer {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	lw := &Writer{buf: bufio.NewWriterSize(w, bufSize), stop: make(chan struct{}), done: make(chan struct{})}
	go lw.loop(interval)
	return lw
}

func (w *Writer) loop(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			_ = w.Flush()
		}
	}
}

// Write buffers p. A line that does not fit in what is left of the buffer
// first makes the buffer be written out.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if len(p) > w.buf.Available() && w.buf.Buffered() > 0 {
		if err := w.buf.Flush(); err != nil {
			w.err = err
			return 0, err
		}
	}
	n, err := w.buf.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if err := w.buf.Flush(); err != nil {
		w.err = err
	}
	return w.err
}

// Close stops the periodic flush and writes out what is buffered. Writes
// after Close are still accepted and buffered; call Flush to write them.
func (w *Writer) Close() error {
	w.once.Do(func() {
		close(w.stop)
		<-w.done
	})
	return w.Flush()
}

// Handler wraps a slog.Handler writing to w: after a record of level Warn
// or above it flushes w, so warnings and errors are never held back.
func Handler(h slog.Handler, w *Writer) slog.Handler {
	return &handler{Handler: h, w: w}
}

type handler struct {
	slog.Handler
	w *Writer
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(as), w: h.w}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name), w: h.w}
}
