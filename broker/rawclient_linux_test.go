package broker

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// rawLoad is a load generator that leaves the server its cores: one OS
// thread drives every connection through epoll, writes pre-encoded
// HTTP/1.1 requests (depth of them pipelined on each keep-alive
// connection) and reads of each answer only the status line and
// Content-Length. Its own CPU time is that thread's, so the server's is
// the process's less it.
type rawLoad struct {
	addr  string // host:port, IPv4
	conns int
	depth int
	// encode appends the request that carries event number seq.
	encode func(dst []byte, seq int64) []byte
	// ready, when set, is called once every connection is up, before the
	// first request.
	ready func()
}

// rawLoadResult is what a run did.
type rawLoadResult struct {
	elapsed   time.Duration
	clientCPU time.Duration // the client thread's user+system time
}

type rawConn struct {
	fd       int
	idx      int32  // in the epoll events
	out      []byte // requests not yet written
	in       []byte // bytes of answers not yet parsed
	inflight int
	waitOut  bool // registered for EPOLLOUT
}

// run sends total requests and returns when each has been answered 202;
// any other answer, a broken connection or the deadline is an error.
func (l *rawLoad) run(total int64, deadline time.Duration) (rawLoadResult, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var res rawLoadResult
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return res, err
	}
	defer syscall.Close(ep)
	sa, err := l.sockaddr()
	if err != nil {
		return res, err
	}
	conns := make([]*rawConn, 0, l.conns)
	defer func() {
		for _, c := range conns {
			syscall.Close(c.fd)
		}
	}()
	for range l.conns {
		c, err := dialRaw(sa)
		if err != nil {
			return res, err
		}
		c.idx = int32(len(conns))
		conns = append(conns, c)
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: c.idx}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
			return res, err
		}
	}
	if l.ready != nil {
		l.ready()
	}
	cpu0 := threadCPU()
	start := time.Now()
	var sent, done int64
	fill := func(c *rawConn) {
		for c.inflight < l.depth && sent < total {
			sent++
			c.out = l.encode(c.out, sent)
			c.inflight++
		}
	}
	for _, c := range conns {
		fill(c)
		if err := l.flush(ep, c); err != nil {
			return res, err
		}
	}
	events := make([]syscall.EpollEvent, 64)
	buf := make([]byte, 64<<10)
	end := start.Add(deadline)
	for done < total {
		if time.Now().After(end) {
			return res, fmt.Errorf("raw load: %d of %d answers after %v", done, total, deadline)
		}
		n, err := syscall.EpollWait(ep, events, 1000)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return res, err
		}
		for _, ev := range events[:n] {
			c := conns[ev.Fd]
			if ev.Events&syscall.EPOLLOUT != 0 {
				if err := l.flush(ep, c); err != nil {
					return res, err
				}
			}
			if ev.Events&(syscall.EPOLLIN|syscall.EPOLLHUP|syscall.EPOLLERR) == 0 {
				continue
			}
			m, err := syscall.Read(c.fd, buf)
			if errors.Is(err, syscall.EAGAIN) {
				continue
			}
			if err != nil {
				return res, err
			}
			if m == 0 {
				return res, fmt.Errorf("raw load: the server closed a connection with %d requests in flight", c.inflight)
			}
			c.in = append(c.in, buf[:m]...)
			k, err := parseAnswers(c)
			if err != nil {
				return res, err
			}
			done += int64(k)
			fill(c)
			if err := l.flush(ep, c); err != nil {
				return res, err
			}
		}
	}
	res.elapsed = time.Since(start)
	res.clientCPU = threadCPU() - cpu0
	return res, nil
}

func (l *rawLoad) sockaddr() (*syscall.SockaddrInet4, error) {
	ap, err := net.ResolveTCPAddr("tcp4", l.addr)
	if err != nil {
		return nil, err
	}
	sa := &syscall.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	return sa, nil
}

// dialRaw connects a socket that Go's poller never sees: only the
// client's epoll does.
func dialRaw(sa *syscall.SockaddrInet4) (*rawConn, error) {
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
	return &rawConn{fd: fd}, nil
}

// flush writes what it can of c.out and waits for EPOLLOUT for the rest.
func (l *rawLoad) flush(ep int, c *rawConn) error {
	for len(c.out) > 0 {
		n, err := syscall.Write(c.fd, c.out)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil {
			return err
		}
		c.out = c.out[:copy(c.out, c.out[n:])]
	}
	want := len(c.out) > 0
	if want == c.waitOut {
		return nil
	}
	c.waitOut = want
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: c.idx}
	if want {
		ev.Events |= syscall.EPOLLOUT
	}
	return syscall.EpollCtl(ep, syscall.EPOLL_CTL_MOD, c.fd, &ev)
}

// parseAnswers consumes the complete answers in c.in and returns how many
// there were; an answer other than 202 is an error that quotes it.
func parseAnswers(c *rawConn) (int, error) {
	n := 0
	for {
		head := bytes.Index(c.in, []byte("\r\n\r\n"))
		if head < 0 {
			break
		}
		length, err := contentLength(c.in[:head])
		if err != nil {
			return n, err
		}
		size := head + 4 + length
		if len(c.in) < size {
			break
		}
		if !bytes.HasPrefix(c.in, []byte("HTTP/1.1 202 ")) {
			return n, fmt.Errorf("raw load: answer %q", c.in[:size])
		}
		c.in = c.in[:copy(c.in, c.in[size:])]
		c.inflight--
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
			return strconv.Atoi(string(bytes.TrimSpace(value)))
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("raw load: a %s answer, which it does not read", value)
		}
	}
	return 0, nil
}

// threadCPU is the calling thread's user+system time.
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU is the process's user+system time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
