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
const execRefused = "workbench: commands are not accepted here; connect without one for the interactive workbench\r\n"

// limitedConn is a connection that holds one slot of the connection limit
// until it is closed, and is cut if it never opens a session within the
// login grace period (so unauthenticated clients cannot hold slots for the
// whole idle timeout).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
	timer   *time.Timer
	active  atomic.Bool
}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		if c.timer != nil {
			c.timer.Stop()
		}
		c.release()
	})
	return c.Conn.Close()
}

type connKey struct{}

// connCallback enforces the connection limit; it is ssh.Server.ConnCallback.
func (s *Server) connCallback(ctx ssh.Context, conn net.Conn) net.Conn {
	s.mu.Lock()
	if s.closing || s.conns >= s.cfg.MaxConns {
		full := !s.closing
		s.mu.Unlock()
		if full {
			s.log.Warn("connection limit reached; refusing", "remote-addr", conn.RemoteAddr(), "max", s.cfg.MaxConns)
		}
		conn.Close()
		return nil
	}
	s.conns++
	s.mu.Unlock()
	lc := &limitedConn{Conn: conn, release: func() {
		s.mu.Lock()
		s.conns--
		s.mu.Unlock()
	}}
	lc.timer = time.AfterFunc(s.cfg.LoginGrace, func() {
		if !lc.active.Load() {
			lc.Conn.Close() // the ssh library then closes lc, which releases the slot
		}
	})
	ctx.SetValue(connKey{}, lc)
	return lc
}

// sessionChannel is the "session" channel handler: the library's, with a
// filter in front of its request stream that refuses what this server never
// offers, so clients are told no instead of being silently ignored.
func sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	ssh.DefaultSessionHandler(srv, conn, filteredChannel{nc}, ctx)
}

type filteredChannel struct{ gossh.NewChannel }

func (f filteredChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := f.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	go filterRequests(ch, reqs, out)
	return ch, out, nil
}

// filterRequests passes pty, window, env, shell and signal requests on and
// refuses the rest: exec (with a message), subsystems (sftp…), agent and X11
// forwarding. The library itself would accept agent forwarding.
func filterRequests(ch gossh.Channel, in <-chan *gossh.Request, out chan<- *gossh.Request) {
	defer close(out)
	envs := 0
	for req := range in {
		switch req.Type {
		case "pty-req", "window-change":
			// Every frame is rendered at the client's size: bound it.
			req.Payload = clampWindow(req.Type, req.Payload)
			out <- req
		case "env":
			// The library keeps every variable for the session's lifetime.
			if envs++; envs > maxEnv || len(req.Payload) > maxEnvBytes {
				_ = req.Reply(false, nil)
				continue
			}
			out <- req
		case "shell", "signal", "break":
			out <- req
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
