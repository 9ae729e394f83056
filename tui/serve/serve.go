// Package serve runs the workbench TUI over SSH (wish): every connection gets
// its own Bubble Tea program and lipgloss renderer, and its own view of one
// shared engine, whose fair scheduler round-robins between sessions.
//
// Security model: public-key authentication only, against an authorized_keys
// file (or any key with AllowAnyKey, loudly). Only interactive shells with a
// PTY are served: exec requests, subsystems, port, agent and X11 forwarding
// are refused. Sessions can reach the engine only through api.Engine, whose
// inputs are bounded; nothing lets a client name a file on the server.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/log"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/bubbletea"
	"github.com/charmbracelet/wish/logging"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/sched"
	"github.com/degaml/workbench/internal/applog"
	"github.com/degaml/workbench/themes"
	"github.com/degaml/workbench/tui"
	"github.com/degaml/workbench/tui/common"
)

// Messages a refused session reads before it is disconnected.
const (
	msgFull     = "The DeGAML workbench server is full (%d sessions). Please try again later."
	msgClosing  = "The DeGAML workbench server is shutting down. Please try again later."
	msgShutdown = "The workbench server is shutting down; your jobs were canceled."
	msgAnyKey   = "⚠ This server accepts ANY SSH key (--allow-any-key): everyone who can reach it can use it."
)

// connIdleSlack lets the session's own input timeout, which says why, fire
// before the connection-level one, which just cuts.
const connIdleSlack = 30 * time.Second

// Config configures a Server. Engine and ForSession are required.
type Config struct {
	Listen             string // host:port, e.g. 127.0.0.1:2222
	HostKeyPath        string // generated (ed25519, 0600) when missing
	AuthorizedKeysPath string // required unless AllowAnyKey
	AdminKeysPath      string // optional: keys (authorized_keys format) that may open the admin view
	AllowAnyKey        bool
	MaxSessions        int           // concurrent sessions; the next one is told to come back later
	MaxConns           int           // concurrent connections, 0 = 2×MaxSessions+4
	MaxJobsPerSession  int           // queued+running jobs per session, 0 = 8
	IdleTimeout        time.Duration // no input for this long ends a session; 0 = never
	LoginGrace         time.Duration // a connection must open a session within this, 0 = 60s (sshd: 120s)
	HandshakeTimeout   time.Duration // a connection must authenticate within this, 0 = 10s
	MaxPreAuthPerAddr  int           // unauthenticated connections per client address, 0 = max(2, MaxConns/4)
	Theme              string        // built-in theme name or server-side TOML path
	Mouse              bool

	// Engine is the shared engine (suites, stages, bench, pipeline, bus).
	Engine api.Engine
	// ForSession returns the per-session engine that submits jobs under name.
	ForSession func(name string) SessionEngine
	// Scheduler, if set, gives each session its queue position.
	Scheduler *sched.Scheduler
	// Logger defaults to charmbracelet/log's default logger.
	Logger *log.Logger
	// NewModel builds one session's TUI from its Common and returns a
	// function that releases it; the default is the workbench TUI.
	NewModel func(c *common.Common) (tea.Model, func())

	tick time.Duration // status line refresh; 0 = tickEvery (tests set it)
}

// Server is the SSH front end. Create it with New, run it with Serve or
// ListenAndServe, stop it with Shutdown.
type Server struct {
	cfg    Config
	srv    *ssh.Server
	log    *log.Logger
	keys   *keyring
	admins *keyring // nil: no admin view
	theme  themes.Theme
	// Fingerprint is the host key's SHA256 fingerprint, for users to verify.
	Fingerprint string
	// HostKeyGenerated reports that New created the host key file.
	HostKeyGenerated bool

	base context.Context // canceled by Shutdown: the shared pipeline's lifetime
	stop context.CancelFunc

	mu       sync.Mutex
	closing  bool
	conns    int
	preAuth  map[string]int // unauthenticated connections per client address
	sessions map[*session]struct{}
	seq      int
	sessWG   sync.WaitGroup
}

// ErrNoAuthorizedKeys is returned by New when neither an authorized_keys
// file nor AllowAnyKey is given.
var ErrNoAuthorizedKeys = errors.New("serve: no authorized_keys file: pass --authorized-keys PATH " +
	"(or, for a throwaway demo on a trusted network only, --allow-any-key)")

// New validates cfg, loads (or creates) the host key and the authorized
// keys, and builds the SSH server. It does not listen yet.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil || cfg.ForSession == nil {
		return nil, errors.New("serve: Engine and ForSession are required")
	}
	if cfg.HostKeyPath == "" {
		return nil, errors.New("serve: no host key path")
	}
	if cfg.MaxSessions < 1 {
		return nil, fmt.Errorf("serve: max sessions must be at least 1, got %d", cfg.MaxSessions)
	}
	if cfg.IdleTimeout < 0 {
		return nil, fmt.Errorf("serve: negative idle timeout %v", cfg.IdleTimeout)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 2*cfg.MaxSessions + 4 // room to tell the extra session it is full
	}
	if cfg.MaxJobsPerSession <= 0 {
		cfg.MaxJobsPerSession = 8
	}
	if cfg.LoginGrace <= 0 {
		cfg.LoginGrace = 60 * time.Second
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.MaxPreAuthPerAddr <= 0 {
		// One address may not hold more than a quarter of the connection
		// slots before authenticating (a classroom behind one NAT still
		// logs in: slots free as soon as each client authenticates).
		cfg.MaxPreAuthPerAddr = max(2, cfg.MaxConns/4)
	}
	if cfg.tick <= 0 {
		cfg.tick = tickEvery
	}
	if cfg.NewModel == nil {
		cfg.NewModel = func(c *common.Common) (tea.Model, func()) { m := tui.New(c); return m, m.Close }
	}
	s := &Server{cfg: cfg, log: cfg.Logger, sessions: map[*session]struct{}{}, preAuth: map[string]int{}}
	if s.log == nil {
		s.log = applog.New(os.Stderr, "serve")
	}
	th, err := themes.Load(cfg.Theme)
	if err != nil {
		return nil, err
	}
	s.theme = th

	var auth ssh.PublicKeyHandler
	switch {
	case cfg.AuthorizedKeysPath != "" && cfg.AllowAnyKey:
		return nil, errors.New("serve: both an authorized_keys file and allow-any-key are set; choose one")
	case cfg.AuthorizedKeysPath != "":
		s.keys, err = newKeyring(cfg.AuthorizedKeysPath, func(err error) { s.log.Error("authorized keys", "err", err) })
		if err != nil {
			return nil, err
		}
		auth = func(ctx ssh.Context, key ssh.PublicKey) bool {
			ok := s.keys.allowed(key)
			if !ok {
				s.log.Debug("key refused", "user", ctx.User(), "remote-addr", ctx.RemoteAddr(), "key", gossh.FingerprintSHA256(key))
			}
			return ok
		}
	case cfg.AllowAnyKey:
		auth = func(ssh.Context, ssh.PublicKey) bool { return true }
	default:
		return nil, ErrNoAuthorizedKeys
	}

	if cfg.AdminKeysPath != "" {
		if s.admins, err = newKeyring(cfg.AdminKeysPath, func(err error) { s.log.Error("admin keys", "err", err) }); err != nil {
			return nil, err
		}
	}

	signer, generated, err := loadHostKey(cfg.HostKeyPath)
	if err != nil {
		return nil, err
	}
	s.Fingerprint, s.HostKeyGenerated = gossh.FingerprintSHA256(signer.PublicKey()), generated

	opts := []ssh.Option{
		wish.WithAddress(cfg.Listen),
		wish.WithVersion("DeGAML-Workbench"),
		// Public keys only: no password or keyboard-interactive handler is
		// set, so those methods are never offered.
		wish.WithPublicKeyAuth(auth),
		wish.WithMiddleware(
			bubbletea.MiddlewareWithProgramHandler(s.program, termenv.Ascii), // Ascii: never force, use the client's profile
			s.gate,
			requirePTY,
			logging.StructuredMiddlewareWithLogger(s.log, log.InfoLevel),
		),
		func(srv *ssh.Server) error {
			srv.AddHostKey(signer)
			srv.ConnCallback = s.connCallback
			srv.ConnectionFailedCallback = func(c net.Conn, err error) {
				s.log.Info("connection failed", "remote-addr", c.RemoteAddr(), "err", err)
			}
			// Explicit refusals, rather than relying on library defaults.
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": sessionChannel}
			srv.RequestHandlers = map[string]ssh.RequestHandler{}
			srv.SubsystemHandlers = map[string]ssh.SubsystemHandler{}
			srv.LocalPortForwardingCallback = func(ssh.Context, string, uint32) bool { return false }
			srv.ReversePortForwardingCallback = func(ssh.Context, string, uint32) bool { return false }
			srv.SessionRequestCallback = func(_ ssh.Session, typ string) bool { return typ == "shell" }
			return nil
		},
	}
	if cfg.IdleTimeout > 0 {
		// The session model ends sessions without input (with a message);
		// this connection-level backstop, a little later, also ends clients
		// that stopped reading. It counts server output as activity, so on
		// its own a live-updating screen would never time out.
		opts = append(opts, wish.WithIdleTimeout(cfg.IdleTimeout+connIdleSlack))
	}
	if cfg.AllowAnyKey {
		opts = append(opts, wish.WithBanner(msgAnyKey+"\r\n"))
	}
	s.srv, err = wish.NewServer(opts...)
	if err != nil {
		return nil, err
	}
	s.base, s.stop = context.WithCancel(context.Background())
	if cfg.AllowAnyKey {
		s.log.Warn("!!! --allow-any-key: ANY SSH key is accepted; every client that can reach " + cfg.Listen + " gets a session. Use --authorized-keys outside throwaway demos. !!!")
	}
	return s, nil
}

// ListenAndServe listens on Config.Listen and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve serves connections from l until Shutdown; it then returns
// ssh.ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	s.log.Info("serving the workbench over SSH", "addr", l.Addr().String(), "host-key", s.Fingerprint,
		"max-sessions", s.cfg.MaxSessions, "idle-timeout", s.cfg.IdleTimeout)
	return s.srv.Serve(l)
}

// Sessions is the number of sessions being served.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// restoreTerm puts a client's terminal back as it was before the
// program: mouse reporting and bracketed paste off, the alternate screen
// left, the cursor shown. Idempotent, so it is written after every
// session, however the program ended.
const restoreTerm = "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1049l\x1b[?25h"

// Shutdown says goodbye to every session, cancels their jobs, stops
// accepting connections and drains: it waits (until ctx ends) for every
// program to show its farewell and end. Sessions still open then are
// forced: their terminal is restored and the goodbye written directly,
// then their connection is closed. Both outcomes are logged.
func (s *Server) Shutdown(ctx context.Context) error {
	start := time.Now()
	s.mu.Lock()
	s.closing = true
	list := slices.Collect(maps.Keys(s.sessions))
	s.mu.Unlock()
	for _, st := range list {
		st.goodbye(msgShutdown)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Shutdown(ctx) }() // closes the listeners at once, then waits for connections
	done := make(chan struct{})
	go func() { s.sessWG.Wait(); close(done) }()
	forced := 0
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		left := slices.Collect(maps.Keys(s.sessions))
		s.mu.Unlock()
		for _, st := range left {
			st.force(msgShutdown)
		}
		forced = len(left)
	}
	s.log.Info("shutdown: sessions drained", "sessions", len(list), "said-goodbye", len(list)-forced,
		"forced", forced, "took", time.Since(start).Round(time.Millisecond))
	// Clients that keep the connection after the goodbye are not waited for.
	_ = s.srv.Close()
	err := <-errc
	s.stop()
	if errors.Is(err, ssh.ErrServerClosed) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// session is one SSH session's state.
type session struct {
	name, user string
	seat       string // user and key comment, shown on the seat's bar
	admin      bool   // may open the admin view
	ssh        ssh.Session
	eng        *sessionEngine
	ctx        context.Context
	cancel     context.CancelFunc

	mu      sync.Mutex
	program *tea.Program
	release func() // the TUI model's
	pump    *inputPump
	bye     string
	// restored: force already restored the terminal and said goodbye.
	restored bool
	task     string // what the seat has selected, for the admin view
}

func (st *session) setTask(t string) {
	st.mu.Lock()
	st.task = t
	st.mu.Unlock()
}

// adminView lists the seats, what each has selected and its jobs, and the
// shared queue: what a teacher watches.
func (s *Server) adminView() string {
	s.mu.Lock()
	list := slices.Collect(maps.Keys(s.sessions))
	s.mu.Unlock()
	slices.SortFunc(list, func(a, b *session) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	fmt.Fprintf(&b, "Seats (%d of %d)\n\n", len(list), s.cfg.MaxSessions)
	fmt.Fprintf(&b, "%-8s %-32s %-28s %s\n", "seat", "who", "task", "jobs")
	for _, st := range list {
		st.mu.Lock()
		task := st.task
		st.mu.Unlock()
		if task == "" {
			task = "—"
		}
		fmt.Fprintf(&b, "%-8s %-32s %-28s %s\n", st.name, st.seat, task, queueStatus(st.eng.own, s.cfg.Scheduler))
	}
	if s.cfg.Scheduler != nil {
		q, r := s.cfg.Scheduler.Stats()
		fmt.Fprintf(&b, "\nQueue: %d running · %d waiting\n", r, q)
	}
	return b.String()
}

type sessionKey struct{}

// force ends a session whose program did not end in time: the program is
// stopped, the client's terminal restored and the goodbye written
// directly, so no client is left in the alternate screen.
func (st *session) force(text string) {
	st.setBye(text)
	st.mu.Lock()
	p := st.program
	st.restored = true
	st.mu.Unlock()
	if p != nil {
		p.Kill()
	}
	_, _ = io.WriteString(st.ssh, restoreTerm+"\r\n"+text+" Goodbye.\r\n")
	_ = st.ssh.Exit(1)
	_ = st.ssh.Close()
}

// goodbye cancels the session's jobs and asks its program to show the
// farewell and quit.
func (st *session) goodbye(text string) {
	st.mu.Lock()
	if st.bye == "" {
		st.bye = text
	}
	p := st.program
	st.mu.Unlock()
	st.eng.own.Close()
	if p != nil {
		// Send blocks until the program reads it or ends; never on the caller.
		go p.Send(goodbyeMsg{text: text})
	}
}

func (st *session) setBye(text string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.bye == "" {
		st.bye = text
	}
}

func (st *session) farewell() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.bye
}

// gate admits a session (limits, shutdown) and cleans up after it.
func (s *Server) gate(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if lc, ok := sess.Context().Value(connKey{}).(*limitedConn); ok {
			lc.active.Store(true)
		}
		st, refusal := s.admit(sess)
		if st == nil {
			s.log.Info("session refused", "user", sess.User(), "remote-addr", sess.RemoteAddr(), "why", refusal)
			wish.Println(sess, refusal)
			_ = sess.Exit(1)
			return
		}
		defer s.finish(st)
		sess.Context().SetValue(sessionKey{}, st)
		next(sess)
		st.mu.Lock()
		restored := st.restored
		st.mu.Unlock()
		if restored {
			return
		}
		// However the program ended (quit, killed, cut off), the terminal
		// goes back to normal before the connection closes.
		_, _ = io.WriteString(sess, restoreTerm)
		if bye := st.farewell(); bye != "" {
			// The alt screen took the goodbye screen with it; leave a line.
			wish.Println(sess, bye+" Goodbye.")
		}
	}
}

func (s *Server) admit(sess ssh.Session) (*session, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, msgClosing
	}
	if len(s.sessions) >= s.cfg.MaxSessions {
		return nil, fmt.Sprintf(msgFull, s.cfg.MaxSessions)
	}
	s.seq++
	st := &session{name: fmt.Sprintf("ssh-%d", s.seq), user: sess.User(), ssh: sess}
	// The seat's name: the user and the comment of the key they came in
	// with ("alice (alice@laptop)"), so a teacher knows who is who.
	st.seat = sess.User()
	if c, _ := s.keys.lookup(sess.PublicKey()); c != "" {
		st.seat += " (" + c + ")"
	}
	_, st.admin = s.admins.lookup(sess.PublicKey())
	st.ctx, st.cancel = context.WithCancel(s.base)
	st.eng = newSessionEngine(s.base, s.cfg.Engine, s.cfg.ForSession(st.name), s.cfg.MaxJobsPerSession)
	s.sessions[st] = struct{}{}
	s.sessWG.Add(1)
	return st, ""
}

// finish runs when the session's handler returns (the client left, idled
// out, quit, or the server is shutting down): its jobs are canceled.
func (s *Server) finish(st *session) {
	st.cancel()
	st.eng.close()
	st.mu.Lock()
	release, pump := st.release, st.pump
	st.mu.Unlock()
	if release != nil {
		release()
	}
	if pump != nil {
		pump.close()
	}
	s.mu.Lock()
	delete(s.sessions, st)
	s.mu.Unlock()
	s.sessWG.Done()
}

// program builds one session's Bubble Tea program: its own renderer (the
// client's colour profile and background), its own TUI and engine view.
func (s *Server) program(sess ssh.Session) *tea.Program {
	st, ok := sess.Context().Value(sessionKey{}).(*session)
	if !ok {
		return nil
	}
	pump := newInputPump(sess)
	st.mu.Lock()
	st.pump = pump
	st.mu.Unlock()
	r := bubbletea.MakeRenderer(querySession{Session: sess, p: pump, deadline: time.After(queryTimeout)})
	pump.endQuery()
	c := tui.NewCommon(st.ctx, st.eng, r, s.theme, common.Config{Mouse: s.cfg.Mouse})
	inner, release := s.cfg.NewModel(c)
	m := &sessionModel{inner: inner, r: r, user: st.name + " · " + st.seat, idle: s.cfg.IdleTimeout, onBye: st.setBye, every: s.cfg.tick,
		status: func() string { return queueStatus(st.eng.own, s.cfg.Scheduler) },
		// Read on the program's goroutine, the only one that touches c.Store.
		report: func() {
			sel := c.Store.Sel
			if sel.Suite != "" {
				st.setTask(fmt.Sprintf("%s seed %d %s", sel.Suite, sel.Seed, sel.Mode))
			}
		}}
	if st.admin {
		m.admin = s.adminView
	}
	if s.cfg.AllowAnyKey {
		m.warn = msgAnyKey
	}
	opts := append(bubbletea.MakeOptions(sess),
		tea.WithInput(pumpReader{pump}), // replaces MakeOptions' input
		tea.WithAltScreen(),
		tea.WithEnvironment(sess.Environ()),
		// The server handles SIGINT/SIGTERM (goodbye, then shutdown); a
		// program per session must not quit on them by itself.
		tea.WithoutSignalHandler(),
	)
	if s.cfg.Mouse {
		opts = append(opts, tea.WithMouseCellMotion())
	}
	p := tea.NewProgram(m, opts...)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.release = release
	if st.bye != "" { // shutdown began while we were setting up
		return nil
	}
	st.program = p
	return p
}

// requirePTY refuses sessions without a terminal (`ssh -T HOST`) with a
// one-line hint instead of a bare "requires an active PTY".
func requirePTY(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if _, _, ok := sess.Pty(); !ok {
			_, _ = io.WriteString(sess, noPTY)
			_ = sess.Exit(1)
			return
		}
		next(sess)
	}
}
