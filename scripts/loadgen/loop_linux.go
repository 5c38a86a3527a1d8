//go:build linux

package main

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// sysEpollPwait2 is epoll_pwait2's number, the same on every architecture
// (the syscall package predates it).
const sysEpollPwait2 = 441

// timerSlack is the event loop thread's timer slack (Linux adds up to 50 µs
// by default to every timed wait, to group wake-ups).
const timerSlack = 1000 // ns

// yieldEvery is how often the event loop yields to Go's scheduler. A
// goroutine that runs (or sits in system calls) for 10 ms without ever
// being rescheduled is preempted by the runtime's monitor thread, which
// also takes its P away and then polls every 20 µs for a while: that costs
// more CPU than yielding now and then. (Locking the goroutine to its thread
// would make every yield a hand-over between two threads.)
const yieldEvery = 2 * time.Millisecond

// setTimerSlack sets the current thread's timer slack.
func setTimerSlack() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_TIMERSLACK, timerSlack, 0)
}

// clock reads the monotonic clock as a duration since base (cheap: no wall
// clock read).
type clock struct{ base time.Time }

func (c clock) now() time.Duration { return time.Since(c.base) }

// conn is one connection's state. Its k-th request is due at
// start + (k·conns + id)/rate.
type conn struct {
	id       int
	fd       int           // -1: not connected
	k        int64         // index of the request outstanding, or else of the next one
	due      time.Duration // due time of request k
	busy     bool          // request k is outstanding
	wrote    int           // bytes of request k written
	wantOut  bool          // waiting for room in the socket's send buffer
	finished bool          // no more requests due before the end
	measured bool          // request k is in the measured period
	sent     time.Duration // when request k went out
	ready    time.Duration // when the connection became free for request k
	rr       *respReader
}

// loop is the event loop. Everything in it runs on one goroutine.
type loop struct {
	cfg                 *config
	tgt                 target
	clk                 clock
	epfd                int
	conns               []*conn
	events              [64]syscall.EpollEvent
	start, warmEnd, end time.Duration
	interval            float64 // ns between two requests
	noPwait2            bool    // the kernel has no epoll_pwait2: 1 ms timeouts
	res                 *result
	lastDone            time.Duration
}

func run(cfg config) (*result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	tgt, err := buildTarget(cfg)
	if err != nil {
		return nil, err
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	defer syscall.Close(epfd)
	l := &loop{
		cfg: &cfg, tgt: tgt, clk: clock{base: time.Now()}, epfd: epfd,
		conns:    make([]*conn, cfg.conns),
		interval: float64(time.Second) / cfg.rate,
		res:      &result{cfg: cfg, lat: newHist(), svc: newHist(), lag: newHist(), elapsed: cfg.duration},
	}
	defer func() {
		for _, c := range l.conns {
			if c != nil {
				l.disconnect(c)
			}
		}
	}()
	for i := range l.conns {
		c := &conn{id: i, fd: -1, rr: newRespReader(readBufSize, cfg.maxBody, tgt.noBody)}
		l.conns[i] = c
		if err := l.connect(c); err != nil {
			return nil, err
		}
	}
	l.start = l.clk.now() + time.Millisecond
	l.warmEnd = l.start + cfg.warmup
	l.end = l.warmEnd + cfg.duration
	for _, c := range l.conns {
		c.due, c.ready = l.dueAt(0, c.id), l.start
	}
	l.run()
	return l.res, nil
}

// dueAt is when request k of connection id is due.
func (l *loop) dueAt(k int64, id int) time.Duration {
	return l.start + time.Duration(float64(k*int64(len(l.conns))+int64(id))*l.interval)
}

// connect dials with net.Dial, then takes the socket over: a duplicate of
// its descriptor (non-blocking, like the original) goes into the loop's
// epoll set, the net.Conn is closed.
func (l *loop) connect(c *conn) error {
	nc, err := net.DialTimeout("tcp", l.tgt.addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return errors.New("connection has no file descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	fd, derr := -1, error(nil)
	if err := raw.Control(func(f uintptr) {
		r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f, syscall.F_DUPFD_CLOEXEC, 0)
		if errno != 0 {
			derr = fmt.Errorf("fcntl F_DUPFD_CLOEXEC: %w", errno)
			return
		}
		fd = int(r)
	}); err != nil {
		return err
	}
	if derr != nil {
		return derr
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(c.id)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	c.fd, c.wantOut = fd, false
	c.rr.reset()
	setTimerSlack() // dialling may have moved the goroutine to another thread
	return nil
}

// disconnect closes c's socket (which also takes it out of the epoll set).
func (l *loop) disconnect(c *conn) {
	if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
	c.rr.reset()
}

// run sends every request due before the end, on time if it can, and
// reads the answers. Requests still not sent at the end (the server or the
// generator fell behind) go out late, up to half of -timeout after the end
// (later ones are counted as not sent), and answers still outstanding are
// waited for, up to -timeout after the end.
func (l *loop) run() {
	res := l.res
	cpu0, measuring, ended := time.Duration(0), false, false
	deadline := l.end + l.cfg.timeout
	// Late requests go out until half the timeout after the end, so every
	// request sent has had at least half the timeout for its answer.
	sendCutoff := l.end + l.cfg.timeout/2
	setTimerSlack()
	yielded := l.clk.now()
	for {
		now := l.clk.now()
		if now-yielded >= yieldEvery {
			// See yieldEvery. The goroutine may go on on another thread.
			runtime.Gosched()
			setTimerSlack()
			yielded = now
		}
		if !measuring && now >= l.warmEnd {
			cpu0, measuring = cpuTime(), true
		}
		if !ended && now >= l.end {
			ended = true
			res.behind = l.behind()
		}
		if now >= deadline {
			break
		}
		wake, active := deadline, false
		if !ended {
			wake = l.end
		}
		for _, c := range l.conns {
			if c.busy {
				active = true
				continue
			}
			if c.finished {
				continue
			}
			if c.due >= l.end || now >= sendCutoff {
				// Past the cut-off, what is left is counted as not sent:
				// an answer to a request sent later could not be told
				// apart from a lost one at the deadline.
				c.finished = true
				continue
			}
			active = true
			if c.due > now {
				wake = min(wake, c.due)
				continue
			}
			l.send(c)
			if !c.busy { // failed: its next request may be due already
				wake = min(wake, c.due)
			}
		}
		if ended && !active {
			break // everything due was sent and answered
		}
		l.wait(wake)
	}
	if !ended {
		res.behind = l.behind()
	}

	// What is due before the end and was not sent is counted, unsent;
	// what was sent and not answered, an error.
	for _, c := range l.conns {
		k := c.k
		if c.busy {
			l.fail(c, fmt.Errorf("no answer within -timeout %v after the end of the run", l.cfg.timeout))
			// fail moved c on to its next request
			k = c.k
		}
		for ; l.dueAt(k, c.id) < l.end; k++ {
			if l.dueAt(k, c.id) >= l.warmEnd {
				res.scheduled++
				res.unsent++
			}
		}
	}
	res.cpu = cpuTime() - cpu0
	res.elapsed = max(l.cfg.duration, l.lastDone-l.warmEnd)
}

// behind returns how long before the end the oldest request due before it
// and not yet sent was due (0 if all were sent).
func (l *loop) behind() time.Duration {
	var b time.Duration
	for _, c := range l.conns {
		k := c.k
		if c.busy {
			k++
		}
		if due := l.dueAt(k, c.id); due < l.end {
			b = max(b, l.end-due)
		}
	}
	return b
}

// send sends c's request k, due now or earlier.
func (l *loop) send(c *conn) {
	c.measured = c.due >= l.warmEnd
	if c.measured {
		l.res.scheduled++
	}
	if c.fd < 0 {
		if err := l.connect(c); err != nil {
			c.busy = true
			l.fail(c, err)
			return
		}
	}
	c.busy, c.wrote = true, 0
	c.sent = l.clk.now()
	if c.measured {
		l.res.sent++
	} else {
		l.res.warmSent++
	}
	l.write(c)
}

// write writes what is left of c's request, or as much as the socket takes.
func (l *loop) write(c *conn) {
	req := l.tgt.req
	for c.wrote < len(req) {
		n, err := syscall.Write(c.fd, req[c.wrote:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if !c.wantOut {
				l.setEvents(c, syscall.EPOLLIN|syscall.EPOLLOUT)
			}
			return
		case err != nil:
			l.fail(c, fmt.Errorf("write: %w", err))
			return
		}
		c.wrote += n
	}
	if c.wantOut {
		l.setEvents(c, syscall.EPOLLIN)
	}
}

func (l *loop) setEvents(c *conn, events uint32) {
	ev := syscall.EpollEvent{Events: events, Fd: int32(c.id)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		l.fail(c, fmt.Errorf("epoll_ctl: %w", err))
		return
	}
	c.wantOut = events&syscall.EPOLLOUT != 0
}

// wait waits for events until the deadline (at the latest) and handles them.
func (l *loop) wait(deadline time.Duration) {
	timeout := max(deadline-l.clk.now(), 0)
	var n int
	if !l.noPwait2 {
		ts := syscall.NsecToTimespec(int64(timeout))
		r, _, errno := syscall.Syscall6(sysEpollPwait2, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])),
			uintptr(len(l.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
		switch errno {
		case 0:
			n = int(r)
		case syscall.ENOSYS:
			l.noPwait2 = true
		case syscall.EINTR:
			return
		default:
			panic(fmt.Sprintf("epoll_pwait2: %v", errno))
		}
	}
	if l.noPwait2 {
		var err error
		n, err = syscall.EpollWait(l.epfd, l.events[:], int((timeout+time.Millisecond-1)/time.Millisecond))
		if err == syscall.EINTR {
			return
		} else if err != nil {
			panic(fmt.Sprintf("epoll_wait: %v", err))
		}
	}
	l.res.waits++
	for _, ev := range l.events[:n] {
		c := l.conns[ev.Fd]
		if c.fd < 0 {
			continue
		}
		if ev.Events&syscall.EPOLLOUT != 0 && c.busy && c.wrote < len(l.tgt.req) {
			l.write(c)
		}
		if ev.Events&(syscall.EPOLLIN|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 && c.fd >= 0 {
			l.read(c)
		}
	}
}

// read reads what the socket holds (once: the epoll set is level-triggered).
func (l *loop) read(c *conn) {
	var n int
	var err error
	for {
		n, err = syscall.Read(c.fd, c.rr.space())
		if err != syscall.EINTR {
			break
		}
	}
	switch {
	case err == syscall.EAGAIN:
		return
	case !c.busy:
		// Between requests: the server closed the connection (it is opened
		// again for the next request), or said something unasked.
		l.disconnect(c)
		switch {
		case err == nil && n > 0:
			l.countError(c.measured, protoErr("%d bytes from the server with no request outstanding", n))
		case err == nil || err == syscall.ECONNRESET:
			l.res.reconnects++
		default:
			l.countError(c.measured, fmt.Errorf("read: %w", err))
		}
		return
	case err != nil:
		l.fail(c, fmt.Errorf("read: %w", err))
		return
	case n == 0:
		if c.rr.started() {
			l.fail(c, errors.New("connection closed in the middle of an answer"))
		} else {
			l.fail(c, errors.New("connection closed before the answer"))
		}
		return
	}
	resp, done, err := c.rr.advance(n)
	if err != nil {
		l.fail(c, err)
		return
	}
	if done {
		l.complete(c, resp)
	}
}

// complete records the answer to c's request k.
func (l *loop) complete(c *conn, resp response) {
	done := l.clk.now()
	res := l.res
	if resp.status < 200 || resp.status > 299 {
		if c.measured {
			res.non2xx++
		} else {
			res.warmNon2xx++
		}
		if res.firstNon2xx == 0 {
			res.firstNon2xx = resp.status
		}
	}
	if !c.measured {
		res.warmCompleted++
	} else {
		res.completed++
		res.lat.record(done - c.due)
		res.svc.record(done - c.sent)
		res.lag.record(c.sent - max(c.due, c.ready))
		l.lastDone = done
	}
	l.next(c, done)
	if resp.close || c.wrote < len(l.tgt.req) {
		// Closed by the server (or answered before the request was all
		// sent): open a new connection now rather than when the next
		// request is due.
		l.disconnect(c)
		res.reconnects++
		if c.due < l.end && l.connect(c) != nil {
			l.disconnect(c) // the next send tries again and counts the error
		}
	}
}

// fail counts an error for c's request k and closes the connection.
func (l *loop) fail(c *conn, err error) {
	l.countError(c.measured, err)
	l.disconnect(c)
	if c.busy {
		l.next(c, l.clk.now())
	}
}

func (l *loop) countError(measured bool, err error) {
	if measured {
		l.res.errors++
	} else {
		l.res.warmErrors++
	}
	if l.res.firstErr == nil {
		l.res.firstErr = err
	}
}

// next moves c on to its next request.
func (l *loop) next(c *conn, now time.Duration) {
	c.busy, c.ready = false, now
	c.k++
	c.due = l.dueAt(c.k, c.id)
}
