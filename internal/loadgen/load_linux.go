package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

type conn struct {
	fd       int
	idx      int32  // in the epoll events
	out      []byte // requests not yet written
	in       []byte // bytes of answers not yet parsed
	inflight int
	waitOut  bool // registered for EPOLLOUT
	// due is when RunAtRate's request in flight fell due.
	due time.Time
}

// client is the epoll set and the connections of one run.
type client struct {
	ep     int
	conns  []*conn
	events []syscall.EpollEvent
	buf    []byte
}

// connect connects l.Conns sockets that Go's poller never sees (only the
// client's epoll does), then calls l.Ready.
func (l *Load) connect() (*client, error) {
	if l.Conns < 1 {
		return nil, fmt.Errorf("loadgen: %d connections", l.Conns)
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	c := &client{ep: ep, events: make([]syscall.EpollEvent, 64), buf: make([]byte, 64<<10)}
	sa, err := l.sockaddr()
	if err != nil {
		c.close()
		return nil, err
	}
	for range l.Conns {
		cn, err := dialConn(sa)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("loadgen: connecting to %s: %w", l.Addr, err)
		}
		cn.idx = int32(len(c.conns))
		c.conns = append(c.conns, cn)
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: cn.idx}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, cn.fd, &ev); err != nil {
			c.close()
			return nil, err
		}
	}
	if l.Ready != nil {
		l.Ready()
	}
	return c, nil
}

func (c *client) close() {
	for _, cn := range c.conns {
		syscall.Close(cn.fd)
	}
	syscall.Close(c.ep)
}

func (l *Load) sockaddr() (*syscall.SockaddrInet4, error) {
	ap, err := net.ResolveTCPAddr("tcp4", l.Addr)
	if err != nil {
		return nil, err
	}
	sa := &syscall.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	return sa, nil
}

func dialConn(sa *syscall.SockaddrInet4) (*conn, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return &conn{fd: fd}, nil
}

// sysEpollPwait2 is epoll_pwait2's number, the same on every architecture
// (Linux 5.11 and later).
const sysEpollPwait2 = 441

// wait waits up to timeout, to the nanosecond (epoll_pwait2), for
// connections that can be read or written.
func (c *client) wait(timeout time.Duration) ([]syscall.EpollEvent, error) {
	ts := syscall.NsecToTimespec(int64(timeout))
	for {
		n, _, errno := syscall.Syscall6(sysEpollPwait2, uintptr(c.ep), uintptr(unsafe.Pointer(&c.events[0])),
			uintptr(len(c.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
		switch errno {
		case 0:
			return c.events[:n], nil
		case syscall.EINTR:
			continue
		case syscall.ENOSYS:
			// Before Linux 5.11: whole milliseconds, rounded up.
			n, err := syscall.EpollWait(c.ep, c.events, int((timeout+time.Millisecond-1)/time.Millisecond))
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if err != nil {
				return nil, err
			}
			return c.events[:n], nil
		default:
			return nil, errno
		}
	}
}

// flush writes what it can of cn.out and waits for EPOLLOUT for the rest.
func (c *client) flush(cn *conn) error {
	for len(cn.out) > 0 {
		n, err := syscall.Write(cn.fd, cn.out)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil {
			return err
		}
		cn.out = cn.out[:copy(cn.out, cn.out[n:])]
	}
	want := len(cn.out) > 0
	if want == cn.waitOut {
		return nil
	}
	cn.waitOut = want
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: cn.idx}
	if want {
		ev.Events |= syscall.EPOLLOUT
	}
	return syscall.EpollCtl(c.ep, syscall.EPOLL_CTL_MOD, cn.fd, &ev)
}

// serve handles one epoll event: it writes what waits to be written and
// reads and parses what arrived. It returns how many answers completed.
func (c *client) serve(ev syscall.EpollEvent) (*conn, int, error) {
	cn := c.conns[ev.Fd]
	if ev.Events&syscall.EPOLLOUT != 0 {
		if err := c.flush(cn); err != nil {
			return cn, 0, err
		}
	}
	if ev.Events&(syscall.EPOLLIN|syscall.EPOLLHUP|syscall.EPOLLERR) == 0 {
		return cn, 0, nil
	}
	m, err := syscall.Read(cn.fd, c.buf)
	if errors.Is(err, syscall.EAGAIN) {
		return cn, 0, nil
	}
	if err != nil {
		return cn, 0, err
	}
	if m == 0 {
		return cn, 0, fmt.Errorf("loadgen: the server closed a connection with %d requests in flight", cn.inflight)
	}
	cn.in = append(cn.in, c.buf[:m]...)
	k, err := parseAnswers(cn)
	return cn, k, err
}

// poll waits up to timeout for connections that can be read or written,
// serves them, and calls answered for each connection on which answers
// completed, with how many.
func (c *client) poll(timeout time.Duration, answered func(cn *conn, k int) error) error {
	events, err := c.wait(timeout)
	if err != nil {
		return err
	}
	for _, ev := range events {
		cn, k, err := c.serve(ev)
		if err != nil {
			return err
		}
		if k > 0 {
			if err := answered(cn, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// Run sends total requests, keeping l.Depth in flight on each connection,
// and returns when each has been answered 202; any other answer, a broken
// connection or the deadline is an error.
func (l *Load) Run(total int64, deadline time.Duration) (Result, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var res Result
	c, err := l.connect()
	if err != nil {
		return res, err
	}
	defer c.close()
	depth := max(l.Depth, 1)
	cpu0 := threadCPU()
	start := time.Now()
	var sent int64
	fill := func(cn *conn) error {
		for cn.inflight < depth && sent < total {
			sent++
			cn.out = l.Encode(cn.out, sent)
			cn.inflight++
		}
		return c.flush(cn)
	}
	for _, cn := range c.conns {
		if err := fill(cn); err != nil {
			return res, err
		}
	}
	end := start.Add(deadline)
	for res.Answered < total {
		if time.Now().After(end) {
			return res, fmt.Errorf("loadgen: %d of %d answers after %v", res.Answered, total, deadline)
		}
		err := c.poll(time.Second, func(cn *conn, k int) error {
			res.Answered += int64(k)
			return fill(cn)
		})
		if err != nil {
			return res, err
		}
	}
	res.Elapsed = time.Since(start)
	res.ClientCPU = threadCPU() - cpu0
	return res, nil
}

// RunAtRate sends requests at rate per second for d, each on a free
// connection when it falls due, one in flight per connection, and returns
// once each has been answered 202; any other answer, a broken connection
// or the deadline (counted from the end of d) is an error. A request due
// when no connection is free waits for one, and its latency still counts
// from when it fell due.
func (l *Load) RunAtRate(rate float64, d, deadline time.Duration) (Result, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var res Result
	total := int64(rate * d.Seconds())
	if rate <= 0 || total < 1 {
		return res, fmt.Errorf("loadgen: a rate of %v/s for %v is no request", rate, d)
	}
	c, err := l.connect()
	if err != nil {
		return res, err
	}
	defer c.close()
	res.Latencies = make([]time.Duration, 0, total)
	res.AnsweredAt = make([]time.Duration, 0, total)
	free := make([]*conn, len(c.conns))
	copy(free, c.conns)
	interval := float64(time.Second) / rate
	cpu0 := threadCPU()
	start := time.Now()
	dueAt := func(seq int64) time.Time { return start.Add(time.Duration(float64(seq-1) * interval)) }
	end := start.Add(d + deadline)
	// pace is the client's shortest sleep: the requests that fall due
	// meanwhile leave together.
	const pace = 200 * time.Microsecond
	var sent int64
	for res.Answered < total {
		now := time.Now()
		if now.After(end) {
			return res, fmt.Errorf("loadgen: %d of %d answers %v after the last fell due", res.Answered, total, deadline)
		}
		for sent < total && len(free) > 0 {
			due := dueAt(sent + 1)
			if due.After(now) {
				break
			}
			sent++
			if now.Sub(due) > time.Millisecond {
				res.Late++
			}
			cn := free[len(free)-1]
			free = free[:len(free)-1]
			cn.due = due
			cn.out = l.Encode(cn.out, sent)
			cn.inflight++
			if err := c.flush(cn); err != nil {
				return res, err
			}
		}
		// Sleep until the next request falls due, if a connection is free
		// for it, but at least pace: waking for every request would cost
		// the client more CPU than the request, taken from the server.
		timeout := time.Second
		if sent < total && len(free) > 0 {
			timeout = max(time.Until(dueAt(sent+1)), pace)
		}
		err := c.poll(timeout, func(cn *conn, k int) error {
			now := time.Now()
			res.Latencies = append(res.Latencies, now.Sub(cn.due))
			res.AnsweredAt = append(res.AnsweredAt, now.Sub(start))
			res.Answered += int64(k)
			free = append(free, cn)
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	res.Elapsed = time.Since(start)
	res.ClientCPU = threadCPU() - cpu0
	return res, nil
}

// parseAnswers consumes the complete answers in cn.in and returns how many
// there were; an answer other than 202 is an error that quotes it.
func parseAnswers(cn *conn) (int, error) {
	n := 0
	for {
		head := bytes.Index(cn.in, []byte("\r\n\r\n"))
		if head < 0 {
			break
		}
		length, err := contentLength(cn.in[:head])
		if err != nil {
			return n, err
		}
		size := head + 4 + length
		if len(cn.in) < size {
			break
		}
		if !bytes.HasPrefix(cn.in, []byte("HTTP/1.1 202 ")) {
			return n, fmt.Errorf("loadgen: answer %q", cn.in[:size])
		}
		cn.in = cn.in[:copy(cn.in, cn.in[size:])]
		cn.inflight--
		n++
	}
	return n, nil
}

func contentLength(head []byte) (int, error) {
	for line := range bytes.SplitSeq(head, []byte("\r\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
			if err != nil || n < 0 {
				return 0, fmt.Errorf("loadgen: an answer's Content-Length %q", value)
			}
			return n, nil
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("loadgen: a %s answer, which it does not read", value)
		}
	}
	return 0, nil
}

// threadCPU is the calling thread's user and system time.
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ProcessCPU is the process's user and system time.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
