package serve

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// execRefused is what a client that runs `ssh host COMMAND` reads.
const execRefused = "workbench: commands are not accepted here; the workbench is interactive: connect with `ssh -t HOST` and no command\r\n"

// noPTY is what `ssh -T HOST` (no terminal) reads.
const noPTY = "workbench: the workbench needs a terminal: connect with `ssh -t HOST` (not -T)\r\n"

// limitedConn is a connection that holds one slot of the connection limit
// until it is closed. Until it authenticates it also holds one of its
// address's pre-auth slots and must authenticate within the handshake
// deadline; then it must open a session within the login grace period (so
// unauthenticated or idle clients cannot hold slots and lock users out).
type limitedConn struct {
	net.Conn
	once      sync.Once
	release   func()
	authOnce  sync.Once
	preAuth   func() // releases the pre-auth slot
	timer     *time.Timer
	handshake *time.Timer
	active    atomic.Bool
}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		if c.timer != nil {
			c.timer.Stop()
		}
		c.authenticated()
		c.release()
	})
	return c.Conn.Close()
}

// authenticated ends the pre-auth phase: the handshake deadline stops and
// the address's pre-auth slot is freed.
func (c *limitedConn) authenticated() {
	c.authOnce.Do(func() {
		if c.handshake != nil {
			c.handshake.Stop()
		}
		c.preAuth()
	})
}

type connKey struct{}

// connCallback enforces the connection limits; it is ssh.Server.ConnCallback.
func (s *Server) connCallback(ctx ssh.Context, conn net.Conn) net.Conn {
	addr := remoteHost(conn.RemoteAddr())
	s.mu.Lock()
	if s.closing || s.conns >= s.cfg.MaxConns || s.preAuth[addr] >= s.cfg.MaxPreAuthPerAddr {
		why := ""
		switch {
		case s.closing:
		case s.conns >= s.cfg.MaxConns:
			why = "connection limit reached"
		default:
			why = "too many unauthenticated connections from this address"
		}
		s.mu.Unlock()
		if why != "" {
			s.log.Warn(why+"; refusing", "remote-addr", conn.RemoteAddr(), "max", s.cfg.MaxConns, "max-pre-auth-per-addr", s.cfg.MaxPreAuthPerAddr)
		}
		conn.Close()
		return nil
	}
	s.conns++
	s.preAuth[addr]++
	s.mu.Unlock()
	lc := &limitedConn{Conn: conn,
		release: func() {
			s.mu.Lock()
			s.conns--
			s.mu.Unlock()
		},
		preAuth: func() {
			s.mu.Lock()
			if s.preAuth[addr]--; s.preAuth[addr] <= 0 {
				delete(s.preAuth, addr)
			}
			s.mu.Unlock()
		}}
	lc.handshake = time.AfterFunc(s.cfg.HandshakeTimeout, func() {
		s.log.Info("handshake deadline passed; closing", "remote-addr", conn.RemoteAddr(), "deadline", s.cfg.HandshakeTimeout)
		lc.Conn.Close() // the ssh library then closes lc, which releases the slots
	})
	lc.timer = time.AfterFunc(s.cfg.LoginGrace, func() {
		if !lc.active.Load() {
			lc.Conn.Close()
		}
	})
	ctx.SetValue(connKey{}, lc)
	return lc
}

// markAuthenticated ends a connection's pre-auth phase.
func markAuthenticated(ctx ssh.Context) {
	if lc, ok := ctx.Value(connKey{}).(*limitedConn); ok {
		lc.authenticated()
	}
}

func remoteHost(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// sessionChannel is the "session" channel handler: the library's, with a
// filter in front of its request stream that refuses what this server never
// offers, so clients are told no instead of being silently ignored.
func sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	// Channels open only after authentication completed (the public-key
	// callback also runs for unsigned key queries, so it cannot say).
	markAuthenticated(ctx)
	ssh.DefaultSessionHandler(srv, conn, filteredChannel{nc}, ctx)
}

type filteredChannel struct{ gossh.NewChannel }

func (f filteredChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := f.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	q := newReqQueue(out)
	go filterRequests(ch, reqs, q)
	go q.forward()
	return ch, out, nil
}

// maxQueuedRequests bounds the requests waiting for the session handler;
// window changes never count (only the newest is kept).
const maxQueuedRequests = 128

// reqQueue hands requests on to the session handler without ever blocking
// the reader of the client's request stream. That reader must keep going:
// the SSH connection's one mux loop delivers requests and window-adjust
// messages alike, so a reader stuck behind a busy UI (a resize waits for
// the program, the program for its renderer, the renderer for window
// space the mux loop can no longer deliver) wedges the session for good.
// Window changes are coalesced: a burst of them costs one resize.
type reqQueue struct {
	out    chan<- *gossh.Request
	mu     sync.Mutex
	reqs   []*gossh.Request
	winch  *gossh.Request // the newest window-change not yet handed on
	closed bool
	kick   chan struct{}
}

func newReqQueue(out chan<- *gossh.Request) *reqQueue {
	return &reqQueue{out: out, kick: make(chan struct{}, 1)}
}

// push queues req; it never blocks. It reports false when the queue is full.
func (q *reqQueue) push(req *gossh.Request) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if req.Type == "window-change" {
		if old := q.winch; old != nil && old.WantReply {
			_ = old.Reply(true, nil) // superseded: the newer size wins
		}
		q.winch = req
	} else {
		if len(q.reqs) >= maxQueuedRequests {
			return false
		}
		q.reqs = append(q.reqs, req)
	}
	select {
	case q.kick <- struct{}{}:
	default:
	}
	return true
}

// close ends forward once everything queued is handed on.
func (q *reqQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// next takes the next request: queued ones first (a pty-req must precede
// the resizes that follow it), then the newest window change.
func (q *reqQueue) next() (*gossh.Request, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.reqs) > 0 {
		r := q.reqs[0]
		q.reqs = q.reqs[1:]
		return r, true
	}
	if r := q.winch; r != nil {
		q.winch = nil
		return r, true
	}
	return nil, !q.closed
}

// forward hands requests to the session handler, blocking only itself.
func (q *reqQueue) forward() {
	defer close(q.out)
	for {
		r, more := q.next()
		if r != nil {
			q.out <- r
			continue
		}
		if !more {
			return
		}
		<-q.kick
	}
}

// filterRequests passes pty, window, env, shell and signal requests on and
// refuses the rest: exec (with a hint to use ssh -t), subsystems (sftp…),
// agent and X11 forwarding. The library itself would accept agent
// forwarding. It never blocks on the session (see reqQueue).
func filterRequests(ch gossh.Channel, in <-chan *gossh.Request, q *reqQueue) {
	defer q.close()
	envs := 0
	pass := func(req *gossh.Request) {
		if !q.push(req) && req.WantReply {
			_ = req.Reply(false, nil)
		}
	}
	for req := range in {
		switch req.Type {
		case "pty-req", "window-change":
			// Every frame is rendered at the client's size: bound it.
			req.Payload = clampWindow(req.Type, req.Payload)
			pass(req)
		case "env":
			// The library keeps every variable for the session's lifetime.
			if envs++; envs > maxEnv || len(req.Payload) > maxEnvBytes {
				_ = req.Reply(false, nil)
				continue
			}
			pass(req)
		case "shell", "signal", "break":
			pass(req)
		case "exec":
			fmt.Fprint(ch.Stderr(), execRefused)
			_ = req.Reply(false, nil)
			status := struct{ Status uint32 }{1}
			_, _ = ch.SendRequest("exit-status", false, gossh.Marshal(&status))
			// Close so the client exits at once instead of waiting for the idle timeout.
			_ = ch.Close()
		default: // subsystem, auth-agent-req@openssh.com, x11-req, …
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
}

// Bounds on what a client may make the server keep or render.
const (
	maxEnv      = 64
	maxEnvBytes = 4096
	maxCols     = 500
	maxRows     = 200
)

// clampWindow bounds the terminal size in a pty-req or window-change
// payload; a payload that does not parse is passed on for the library to
// refuse.
func clampWindow(typ string, payload []byte) []byte {
	clamp := func(cols, rows *uint32) {
		*cols, *rows = min(*cols, maxCols), min(*rows, maxRows)
	}
	if typ == "pty-req" {
		var m struct {
			Term                 string
			Cols, Rows, PxW, PxH uint32
			Modes                string
		}
		if gossh.Unmarshal(payload, &m) != nil {
			return payload
		}
		clamp(&m.Cols, &m.Rows)
		return gossh.Marshal(&m)
	}
	var m struct{ Cols, Rows, PxW, PxH uint32 }
	if gossh.Unmarshal(payload, &m) != nil {
		return payload
	}
	clamp(&m.Cols, &m.Rows)
	return gossh.Marshal(&m)
}
