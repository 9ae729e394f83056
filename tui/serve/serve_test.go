package serve

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/degaml/workbench/tui/internal/fakeengine"
)

func TestAllowedKeyGetsUI(t *testing.T) {
	ts := startServer(t, nil)
	tm := ts.seat(t, 120, 40)
	if !tm.waitFor(5*time.Second, "your jobs: no jobs") {
		t.Fatalf("no queue line; got %q", tm.output())
	}
	if strings.Contains(tm.output(), "ANY SSH key") {
		t.Fatal("any-key banner shown on a server with authorized keys")
	}
}

func TestRefusedAuth(t *testing.T) {
	ts := startServer(t, nil)
	cases := map[string][]gossh.AuthMethod{
		"unknown key": {gossh.PublicKeys(newKey(t))},
		"password":    {gossh.Password("hunter2")},
		"keyboard-interactive": {gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return nil, nil
		})},
		"none": {},
	}
	for name, auth := range cases {
		t.Run(name, func(t *testing.T) {
			if len(auth) == 0 {
				auth = []gossh.AuthMethod{gossh.Password("")} // dial() would add the good key
			}
			c, err := ts.dial(auth...)
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			if !strings.Contains(err.Error(), "unable to authenticate") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestExecAndSubsystemRefused(t *testing.T) {
	c := startServer(t, nil).client(t)
	s := newSession(t, c)
	stderr, _ := s.StderrPipe()
	if err := s.Run("cat /etc/passwd"); err == nil {
		t.Fatal("exec accepted")
	}
	msg, _ := io.ReadAll(stderr)
	if !strings.Contains(string(msg), "commands are not accepted") {
		t.Fatalf("stderr = %q", msg)
	}
	s.Close()

	s = newSession(t, c)
	if err := s.RequestSubsystem("sftp"); err == nil {
		t.Fatal("sftp subsystem accepted")
	}
	if ok, _ := s.SendRequest("auth-agent-req@openssh.com", true, nil); ok {
		t.Fatal("agent forwarding accepted")
	}
	if ok, _ := s.SendRequest("x11-req", true, gossh.Marshal(struct {
		Single        bool
		Proto, Cookie string
		Screen        uint32
	}{false, "MIT-MAGIC-COOKIE-1", "00", 0})); ok {
		t.Fatal("X11 forwarding accepted")
	}
	s.Close()

	if conn, err := c.Dial("tcp", "127.0.0.1:1"); err == nil {
		conn.Close()
		t.Fatal("local port forwarding accepted")
	}
	if l, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Fatal("remote port forwarding accepted")
	}
}

func TestNoPTYRefused(t *testing.T) {
	ts := startServer(t, nil)
	s := newSession(t, ts.client(t))
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out)
	if !strings.Contains(string(b), "needs a terminal") {
		t.Fatalf("got %q", b)
	}
	if ts.Sessions() != 0 {
		t.Fatal("a session without a PTY took a slot")
	}
}

func TestSessionLimit(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxSessions = 2 })
	var terms []*term
	defer func() {
		for _, tm := range terms {
			tm.close()
		}
	}()
	for range 2 {
		tm := ts.seat(t, 100, 30)
		terms = append(terms, tm)
	}
	extra, err := ts.openTerm(100, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.close()
	if !extra.waitEOF(10 * time.Second) {
		t.Fatal("the extra session was not disconnected")
	}
	if out := extra.output(); !strings.Contains(out, "server is full") || !strings.Contains(out, "try again later") {
		t.Fatalf("extra session read %q", out)
	}
	// A slot frees when someone leaves.
	terms[0].close()
	terms = terms[1:]
	if !waitUntil(10*time.Second, func() bool { return ts.Sessions() == 1 }) {
		t.Fatalf("%d sessions after one of two left, want 1", ts.Sessions())
	}
	tm, err := ts.openTerm(100, 30)
	if err != nil {
		t.Fatal(err)
	}
	terms = append(terms, tm)
	if !tm.waitFor(10*time.Second, firstFrame...) {
		t.Fatalf("no first frame after a slot freed; got %q", tm.output())
	}
}

func TestConnectionLimit(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxConns = 1; c.LoginGrace = 500 * time.Millisecond })
	c1, err := ts.dial()
	if err != nil {
		t.Fatal(err)
	}
	if c2, err := ts.dial(); err == nil {
		c2.Close()
		t.Fatal("second connection accepted over the limit")
	}
	c1.Close()
	// The slot frees on close; a connection that never opens a session is
	// cut after the login grace period.
	var c3 *gossh.Client
	if !waitUntil(5*time.Second, func() bool { c3, err = ts.dial(); return err == nil }) {
		t.Fatalf("slot not released: %v", err)
	}
	if !endsWithin(5*time.Second, c3.Wait) {
		t.Fatal("an idle connection without a session was not cut after the login grace")
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.IdleTimeout = 1500 * time.Millisecond })
	tm := ts.seat(t, 100, 30)
	// Keys keep the session alive past the timeout…
	for range 3 {
		time.Sleep(700 * time.Millisecond)
		tm.stdin.Write([]byte("\x1b[B")) // down arrow: harmless on the picker
	}
	if tm.waitEOF(0) {
		t.Fatal("disconnected although the user was typing")
	}
	// …and then silence ends it.
	start := time.Now()
	if !tm.waitEOF(10 * time.Second) {
		t.Fatal("idle session not disconnected")
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("disconnected after %v, before the idle timeout", d)
	}
	if !strings.Contains(tm.output(), "without input") {
		t.Fatalf("no idle message; got %q", tm.output())
	}
}

func TestAnyKeyBanner(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AuthorizedKeysPath = ""; c.AllowAnyKey = true })
	ts.key = newKey(t) // a key nobody listed
	tm, err := ts.openTerm(120, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.close()
	if !tm.waitFor(10*time.Second, append(firstFrame, "ANY SSH key")...) {
		t.Fatalf("no warning banner; got %q", tm.output())
	}
	// Still public keys only.
	if c, err := ts.dial(gossh.Password("x")); err == nil {
		c.Close()
		t.Fatal("password accepted with --allow-any-key")
	}
}

func TestNewRefusesInsecureSetups(t *testing.T) {
	dir := t.TempDir()
	base := Config{HostKeyPath: filepath.Join(dir, "host"), MaxSessions: 1, Engine: fakeengine.New(),
		ForSession: func(string) SessionEngine { return nil }}
	if _, err := New(base); !errors.Is(err, ErrNoAuthorizedKeys) {
		t.Fatalf("no keys: err = %v", err)
	}
	cfg := base
	cfg.AuthorizedKeysPath = writeAuthorizedKeys(t, dir, newKey(t))
	cfg.AllowAnyKey = true
	if _, err := New(cfg); err == nil {
		t.Fatal("authorized keys and allow-any-key together accepted")
	}
	cfg.AllowAnyKey = false
	os.Chmod(cfg.AuthorizedKeysPath, 0o666)
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "writable by others") {
		t.Fatalf("world-writable keys: err = %v", err)
	}
	os.Chmod(cfg.AuthorizedKeysPath, 0o600)
	os.WriteFile(cfg.AuthorizedKeysPath, []byte(`command="/bin/sh" `+string(gossh.MarshalAuthorizedKey(newKey(t).PublicKey()))), 0o600)
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("key options: err = %v", err)
	}
	os.WriteFile(cfg.AuthorizedKeysPath, []byte("# nobody\n"), 0o600)
	if _, err := New(cfg); err == nil {
		t.Fatal("empty authorized_keys accepted")
	}

	// The host key is generated once, 0600, and reused.
	cfg.AuthorizedKeysPath = writeAuthorizedKeys(t, dir, newKey(t))
	s1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(cfg.HostKeyPath)
	if err != nil || st.Mode().Perm() != 0o600 || !s1.HostKeyGenerated {
		t.Fatalf("host key: %v, %v, generated=%v", st.Mode(), err, s1.HostKeyGenerated)
	}
	s2, err := New(cfg)
	if err != nil || s2.HostKeyGenerated || s2.Fingerprint != s1.Fingerprint {
		t.Fatalf("host key not reused: %v", err)
	}
	os.Chmod(cfg.HostKeyPath, 0o644)
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable host key: err = %v", err)
	}
	for _, s := range []*Server{s1, s2} {
		s.Shutdown(context.Background())
	}
}

func TestQueuePositionAndCancelOnDisconnect(t *testing.T) {
	ts := startServer(t, nil)
	a, b := ts.seat(t, 120, 40), ts.seat(t, 120, 40)
	// Enter on the task picker adapts to the first suite: the current mode
	// and the base model (the chart's reference line), two jobs.
	a.stdin.Write([]byte("\r"))
	if !a.waitFor(10*time.Second, "1 running · 1 queued") {
		t.Fatalf("a: no running job shown; got %q", a.output())
	}
	b.stdin.Write([]byte("\r"))
	if !b.waitFor(10*time.Second, "queued, queue position") {
		t.Fatalf("b: no queue position; got %q", b.output())
	}
	a.close() // a's running job is canceled, so b's starts
	if !b.waitFor(10*time.Second, "1 running · 1 queued") {
		t.Fatalf("b: job did not start after a left; got %q", b.output())
	}
	if q, r := ts.sched.Stats(); q != 1 || r != 1 {
		t.Fatalf("after a left: %d queued, %d running; want 1, 1", q, r)
	}
}

func TestShutdownSaysGoodbye(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := startServer(t, nil)
	var terms []*term
	for range 3 {
		tm := ts.seat(t, 100, 30)
		terms = append(terms, tm)
		// A key pressed while the session still settles its terminal (the
		// colour query) can be lost on a loaded machine: press again, as a
		// person would, until the seat shows its jobs.
		for try := 0; try < 3; try++ {
			tm.stdin.Write([]byte("\r"))
			if waitAny(tm, 10*time.Second, "your jobs: 1 running", "your jobs: 2") {
				break
			}
		}
	}
	waitUntil(10*time.Second, func() bool { return ts.adapts.Load() >= 6 })
	if q, r := ts.sched.Stats(); q+r != 6 { // each seat: its mode and the base model
		t.Fatalf("%d queued + %d running jobs, want 6", q, r)
	}
	ts.stop(t)
	for i, tm := range terms {
		if !tm.waitEOF(5 * time.Second) {
			t.Fatalf("session %d still open after shutdown", i)
		}
		if !strings.Contains(tm.output(), "shutting down") {
			t.Fatalf("session %d got no goodbye: %q", i, tm.output())
		}
		tm.close()
	}
	if _, err := ts.dial(); err == nil {
		t.Fatal("dial succeeded after shutdown")
	}
	waitGoroutines(t, before, 10*time.Second)
}

func TestClampWindow(t *testing.T) {
	type pty struct {
		Term                 string
		Cols, Rows, PxW, PxH uint32
		Modes                string
	}
	var got pty
	in := pty{"xterm", 100000, 50000, 0, 0, "\x00"}
	if err := gossh.Unmarshal(clampWindow("pty-req", gossh.Marshal(&in)), &got); err != nil {
		t.Fatal(err)
	}
	if got.Cols != maxCols || got.Rows != maxRows || got.Term != "xterm" || got.Modes != "\x00" {
		t.Fatalf("pty-req clamped to %+v", got)
	}
	type win struct{ Cols, Rows, PxW, PxH uint32 }
	var w win
	if err := gossh.Unmarshal(clampWindow("window-change", gossh.Marshal(&win{80, 24, 1, 2})), &w); err != nil {
		t.Fatal(err)
	}
	if w != (win{80, 24, 1, 2}) {
		t.Fatalf("a normal size changed: %+v", w)
	}
}

// A terminal that never answers the background-colour query still gets the
// UI after the query timeout, and a key typed meanwhile is not lost.
func TestSilentTerminal(t *testing.T) {
	tm, err := startTerm(startServer(t, nil).client(t), 120, 40, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.close()
	tm.stdin.Write([]byte("q")) // typed before the query times out
	if !tm.waitFor(10*time.Second, firstFrame...) {
		t.Fatalf("no first frame; got %q", tm.output())
	}
	if !tm.waitEOF(10 * time.Second) {
		t.Fatal("q typed during the query was lost")
	}
}

// waitAny waits until the output contains one of want (true) or d passes.
func waitAny(tm *term, d time.Duration, want ...string) bool {
	return waitUntil(d, func() bool {
		return slices.ContainsFunc(want, func(w string) bool { return tm.waitFor(0, w) })
	})
}
