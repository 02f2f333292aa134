package pyrt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// maxFrame bounds one message on a channel: a parse result of a very large
// DAG file is the biggest thing sent.
const maxFrame = 256 << 20

// server is one warm Python process serving requests through the workers
// it forks (see forkserver.py).
type server struct {
	cmd    *exec.Cmd
	ctrl   *net.UnixConn
	stderr *tailBuffer

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int64
	pending map[int64]*pending
	dead    error         // set once the process is gone
	done    chan struct{} // closed once the process is gone
}

// pending is one request waiting for its worker and its end.
type pending struct {
	pid  chan int   // the pid of the worker serving it (its process group)
	done chan int   // the worker finished it (the code it gave)
	exit chan int   // the worker died first (its raw wait status)
	err  chan error // the server could not hand it to a worker
}

// startServer starts python with the fork server and waits until it is
// ready to serve.
func startServer(ctx context.Context, python, rtDir string, opts map[string]any, env []string) (*server, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("start python: socketpair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "pyrt-control"), os.NewFile(uintptr(fds[1]), "pyrt-control-child")
	defer theirs.Close()
	conn, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		return nil, fmt.Errorf("start python: %w", err)
	}
	optJSON, err := json.Marshal(opts)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("start python: %w", err)
	}
	boot := "import sys; sys.path.insert(0, sys.argv[1]); from windsock_rt import forkserver; forkserver.main(sys.argv[2:])"
	cmd := exec.Command(python, "-u", "-c", boot, rtDir, string(optJSON))
	cmd.Env = env
	cmd.ExtraFiles = []*os.File{theirs} // fd 3
	// No Pdeathsig: the kernel would send it when the OS thread running
	// this goroutine exits, not Windsock, and end every Python try of the
	// environment. The server ends when Windsock does anyway: its end of
	// the control socket then reads EOF, and the server kills its workers'
	// process groups and exits.
	s := &server{cmd: cmd, ctrl: conn.(*net.UnixConn), stderr: &tailBuffer{max: 16 << 10},
		pending: map[int64]*pending{}, done: make(chan struct{})}
	cmd.Stdout = s.stderr
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("start python %s: %w", python, err)
	}
	ready := make(chan error, 1)
	go s.read(ready)
	select {
	case err := <-ready:
		if err != nil {
			s.stop()
			return nil, err
		}
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	return s, nil
}

// read handles the server's messages until it goes away.
func (s *server) read(ready chan<- error) {
	first := true
	var err error
	for {
		var msg struct {
			Ready bool   `json:"ready"`
			ID    int64  `json:"id"`
			PID   *int   `json:"pid"`
			Done  *int   `json:"done"`
			Exit  *int   `json:"exit"`
			Error string `json:"error"`
		}
		var b []byte
		if b, err = readFrame(s.ctrl); err != nil {
			break
		}
		if err = json.Unmarshal(b, &msg); err != nil {
			break
		}
		if first {
			first = false
			if !msg.Ready {
				err = fmt.Errorf("python fork server: unexpected first message %s", b)
				break
			}
			ready <- nil
			continue
		}
		s.mu.Lock()
		p := s.pending[msg.ID]
		if msg.Exit != nil || msg.Done != nil || msg.Error != "" {
			delete(s.pending, msg.ID)
		}
		s.mu.Unlock()
		if p == nil {
			continue
		}
		switch {
		case msg.Error != "":
			p.err <- errors.New(msg.Error)
		case msg.PID != nil:
			p.pid <- *msg.PID
		}
		switch {
		case msg.Exit != nil:
			p.exit <- *msg.Exit
		case msg.Done != nil:
			p.done <- *msg.Done
		}
	}
	waitErr := s.cmd.Wait()
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		err = waitErr
	}
	dead := fmt.Errorf("python fork server exited (%v): %s", err, bytes.TrimSpace(s.stderr.Bytes()))
	if first {
		ready <- dead
	}
	s.mu.Lock()
	s.dead = dead
	for id, p := range s.pending {
		p.err <- dead
		delete(s.pending, id)
	}
	s.mu.Unlock()
	close(s.done)
}

// request sends req with the child's two fds and returns the channels its
// answers arrive on.
func (s *server) request(req map[string]any, logW, rpcChild *os.File) (*pending, error) {
	p := &pending{pid: make(chan int, 1), done: make(chan int, 1), exit: make(chan int, 1), err: make(chan error, 1)}
	s.mu.Lock()
	if s.dead != nil {
		s.mu.Unlock()
		return nil, s.dead
	}
	s.nextID++
	id := s.nextID
	s.pending[id] = p
	s.mu.Unlock()
	req["id"] = id
	b, err := json.Marshal(req)
	if err == nil {
		s.writeMu.Lock()
		err = writeFrameFDs(s.ctrl, b, int(logW.Fd()), int(rpcChild.Fd()))
		s.writeMu.Unlock()
	}
	if err != nil {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		return nil, fmt.Errorf("send request to python: %w", err)
	}
	return p, nil
}

// stop ends the server: closing the control channel makes it kill its
// workers and exit.
func (s *server) stop() {
	s.ctrl.Close()
	<-s.done
}

// alive reports whether the process still serves.
func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("python sent a message of %d bytes, more than the limit of %d", n, maxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

func writeFrame(w io.Writer, b []byte) error {
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	_, err := w.Write(buf)
	return err
}

// writeFrameFDs writes one frame with fds attached to its first byte.
func writeFrameFDs(c *net.UnixConn, b []byte, fds ...int) error {
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	n, _, err := c.WriteMsgUnix(buf, syscall.UnixRights(fds...), nil)
	if err != nil {
		return err
	}
	if n < len(buf) {
		_, err = c.Write(buf[n:])
	}
	return err
}

// tailBuffer keeps the last max bytes written to it: a server's stderr, for
// the error when it dies.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
