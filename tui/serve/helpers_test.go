package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/sched"
	"github.com/degaml/workbench/tui/internal/fakeengine"
)

func TestMain(m *testing.M) {
	tickEvery = 200 * time.Millisecond // queue line and input-idle checks, quicker than in production
	goodbyeFor = 100 * time.Millisecond
	os.Exit(m.Run())
}

// firstFrame is in the first frame of every session: the server bar and the
// TUI's first tab.
var firstFrame = []string{"DeGAML over SSH", "Tasks"}

// fakeSession submits jobs that run until canceled to a real scheduler, as
// pipeline.Session does, so queue positions and cancel-on-disconnect are real.
type fakeSession struct {
	name  string
	sched *sched.Scheduler
	bus   *events.Bus
	adapt *atomic.Int64

	mu   sync.Mutex
	runs map[string]bool
	jobs []*sched.Job
}

func (s *fakeSession) submit(ctx context.Context, kind string) (string, error) {
	s.mu.Lock()
	id := fmt.Sprintf("%s-%s-%d", kind, s.name, len(s.runs))
	s.runs[id] = true
	s.mu.Unlock()
	j, err := s.sched.Submit(ctx, s.name, kind, func(ctx context.Context) error {
		s.bus.Publish(events.Event{Kind: events.Log, Run: id, Message: "started"})
		<-ctx.Done()
		return ctx.Err()
	})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.jobs = append(s.jobs, j)
	s.mu.Unlock()
	return id, nil
}

func (s *fakeSession) Adapt(ctx context.Context, r api.AdaptRequest) (string, error) {
	s.adapt.Add(1)
	return s.submit(ctx, "adapt")
}
func (s *fakeSession) Chat(ctx context.Context, r api.ChatRequest) (string, error) {
	return s.submit(ctx, "chat")
}
func (s *fakeSession) OptionProbs(context.Context, api.ChatRequest) ([]float64, error) {
	return []float64{0.5, 0.5}, nil
}
func (s *fakeSession) Owns(id string) bool { s.mu.Lock(); defer s.mu.Unlock(); return s.runs[id] }
func (s *fakeSession) Jobs() []*sched.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var live []*sched.Job
	for _, j := range s.jobs {
		if st := j.State(); st == sched.Queued || st == sched.Running {
			live = append(live, j)
		}
	}
	return live
}
func (s *fakeSession) Close() { s.sched.CancelSession(s.name) }

// testServer is a Server on 127.0.0.1 with one authorized client key. Its
// shared engine is the TUI tests' fake (suites, pipeline, bench table);
// jobs go to fakeSessions on a real scheduler.
type testServer struct {
	*Server
	shared *fakeengine.Engine
	addr   string
	key    gossh.Signer // authorized
	sched  *sched.Scheduler
	adapts atomic.Int64
	served chan error
}

func newKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeAuthorizedKeys(t testing.TB, dir string, keys ...gossh.Signer) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("# test keys\n")
	for _, k := range keys {
		b.Write(gossh.MarshalAuthorizedKey(k.PublicKey()))
	}
	p := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// startServer starts a server; tweak adjusts the config. The caller shuts
// it down (stop) or leaves it to t.Cleanup.
func startServer(t testing.TB, tweak func(*Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{shared: fakeengine.New(), key: newKey(t), sched: sched.New(1), served: make(chan error, 1)}
	shared := ts.shared
	cfg := Config{
		Listen:             "127.0.0.1:0",
		HostKeyPath:        filepath.Join(dir, "ssh", "host_ed25519"),
		AuthorizedKeysPath: writeAuthorizedKeys(t, dir, ts.key),
		MaxSessions:        8,
		Engine:             shared,
		ForSession: func(name string) SessionEngine {
			return &fakeSession{name: name, sched: ts.sched, bus: shared.Bus(), adapt: &ts.adapts, runs: map[string]bool{}}
		},
		Scheduler: ts.sched,
		Logger:    log.New(io.Discard),
	}
	if os.Getenv("SERVE_TEST_LOG") != "" {
		cfg.Logger = log.New(os.Stderr)
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	l, err := net.Listen("tcp", "127.0.0.1:0") // loopback only
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	go func() { ts.served <- srv.Serve(l) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

var stopped sync.Map // *testServer → true

// stop shuts the server and its scheduler down (once).
func (ts *testServer) stop(t testing.TB) {
	if _, done := stopped.LoadOrStore(ts, true); done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if err := <-ts.served; err != nil && !errors.Is(err, ssh.ErrServerClosed) {
		t.Errorf("serve: %v", err)
	}
	ts.sched.Close()
	// A seat's runs must go through its own SessionEngine (its scheduler
	// name, its run ids), never the shared engine.
	if a, c := ts.shared.Calls(); a+c > 0 {
		t.Errorf("sessions called the shared engine's Adapt %d and Chat %d times", a, c)
	}
}

func (ts *testServer) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	if len(auth) == 0 {
		auth = []gossh.AuthMethod{gossh.PublicKeys(ts.key)}
	}
	return gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User: "tester", Auth: auth, Timeout: 10 * time.Second,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), // a fresh key each test
	})
}

// client dials as the authorized user; the connection closes when t ends.
func (ts *testServer) client(t testing.TB) *gossh.Client {
	t.Helper()
	c, err := ts.dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newSession opens a session (no PTY yet) on c.
func newSession(t testing.TB, c *gossh.Client) *gossh.Session {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seat opens a w×h terminal session and waits for its first frame; it is
// closed when t ends.
func (ts *testServer) seat(t testing.TB, w, h int) *term {
	t.Helper()
	tm, err := ts.openTerm(w, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tm.close)
	if !tm.waitFor(10*time.Second, firstFrame...) {
		t.Fatalf("no first frame; got %q", tm.output())
	}
	return tm
}

// term is a client session with a PTY that answers the renderer's
// background-colour query like a real terminal and records the output.
type term struct {
	client *gossh.Client
	sess   *gossh.Session
	stdin  io.WriteCloser
	mute   bool // never answer the background-colour query

	mu     sync.Mutex
	out    bytes.Buffer
	change chan struct{} // closed and replaced on every read
	eof    bool
}

// openTerm dials and starts an interactive shell on a w×h PTY.
func (ts *testServer) openTerm(w, h int) (*term, error) {
	c, err := ts.dial()
	if err != nil {
		return nil, err
	}
	tm, err := startTerm(c, w, h)
	if err != nil {
		c.Close()
		return nil, err
	}
	return tm, nil
}

func startTerm(c *gossh.Client, w, h int, mute ...bool) (*term, error) {
	s, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	if err := s.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		return nil, err
	}
	in, err := s.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := s.StdoutPipe()
	if err != nil {
		return nil, err
	}
	tm := &term{client: c, sess: s, stdin: in, change: make(chan struct{}), mute: len(mute) > 0 && mute[0]}
	if err := s.Shell(); err != nil {
		return nil, err
	}
	go tm.read(out)
	return tm, nil
}

func (tm *term) read(r io.Reader) {
	buf := make([]byte, 32<<10)
	answered := false
	for {
		n, err := r.Read(buf)
		tm.mu.Lock()
		tm.out.Write(buf[:n])
		if !answered && !tm.mute && bytes.Contains(tm.out.Bytes(), []byte("\x1b[c")) {
			answered = true
			// A dark background, then primary device attributes (ends the query).
			go tm.stdin.Write([]byte("\x1b]11;rgb:1a1a/1a1a/1a1a\x07\x1b[?62;22c"))
		}
		if err != nil {
			tm.eof = true
		}
		close(tm.change)
		tm.change = make(chan struct{})
		tm.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitFor waits until the output contains every string (true), or EOF or
// the timeout (false).
func (tm *term) waitFor(d time.Duration, want ...string) bool {
	deadline := time.After(d)
	for {
		tm.mu.Lock()
		s, eof, ch := tm.out.String(), tm.eof, tm.change
		tm.mu.Unlock()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return true
		}
		if eof {
			return false
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// waitEOF waits for the server to end the session.
func (tm *term) waitEOF(d time.Duration) bool {
	deadline := time.After(d)
	for {
		tm.mu.Lock()
		eof, ch := tm.eof, tm.change
		tm.mu.Unlock()
		if eof {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

func (tm *term) close() {
	tm.sess.Close()
	tm.client.Close()
}

// waitUntil polls cond every 20 ms until it holds (true) or d passes
// (false, after one last look). The server's state (sessions, jobs, the
// listener) changes on goroutines a test cannot join, so this is the one
// way the tests here wait for it; every wait is bounded by its d.
func waitUntil(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// endsWithin reports whether wait returns within d, whatever it returns; on
// false the caller fails the test, and wait's goroutine is left to finish.
func endsWithin(d time.Duration, wait func() error) bool {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// waitGoroutines waits until at most limit goroutines run, else fails with
// their stacks.
func waitGoroutines(t testing.TB, limit int, d time.Duration) int {
	t.Helper()
	if !waitUntil(d, func() bool { return runtime.NumGoroutine() <= limit }) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines, want ≤ %d; stacks:\n%s", runtime.NumGoroutine(), limit, buf)
	}
	return runtime.NumGoroutine()
}
