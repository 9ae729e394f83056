package serve

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/internal/fakeengine"
)

// restored reports whether, after the last time the program entered the
// alternate screen, the client was given it back: alternate screen off,
// cursor shown, mouse reporting off.
func restored(out string) bool {
	i := strings.LastIndex(out, "\x1b[?1049h")
	if i < 0 {
		return false
	}
	rest := out[i:]
	return strings.Contains(rest, "\x1b[?1049l") && strings.Contains(rest, "\x1b[?25h") && strings.Contains(rest, "\x1b[?1002l")
}

// Stopping the server with seats connected and jobs queued or running
// leaves every client's terminal restored, with a goodbye.
func TestShutdownRestoresEveryTerminal(t *testing.T) {
	for _, forced := range []bool{false, true} {
		name := "graceful"
		if forced {
			name = "forced"
		}
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, func(c *Config) { c.Mouse = true })
			var terms []*term
			for range 3 {
				tm := ts.seat(t, 100, 30)
				terms = append(terms, tm)
				tm.stdin.Write([]byte("\r")) // mid-adaptation: jobs queued and running
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if forced {
				// No time for the programs' own goodbye: the server must
				// restore the terminals itself.
				ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
			}
			defer cancel()
			if _, done := stopped.LoadOrStore(ts, true); done {
				t.Fatal("stopped twice")
			}
			if err := ts.Shutdown(ctx); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			<-ts.served
			ts.sched.Close()
			for i, tm := range terms {
				if !tm.waitEOF(5 * time.Second) {
					t.Fatalf("seat %d still open after shutdown", i)
				}
				out := tm.output()
				if !restored(out) {
					t.Errorf("seat %d: terminal not restored; tail %q", i, out[max(0, len(out)-300):])
				}
				if !strings.Contains(out, "shutting down") {
					t.Errorf("seat %d: no goodbye", i)
				}
			}
		})
	}
}

// A client that sends 5,000 window-change requests back to back cannot
// wedge its session: it still answers keys, and when it leaves its slot is
// released.
func TestWindowChangeBurst(t *testing.T) {
	ts := startServer(t, nil)
	tm := ts.seat(t, 100, 30)
	sent := make(chan error, 1)
	t0 := time.Now()
	go func() {
		for i := range 5000 {
			if err := tm.sess.WindowChange(24+i%40, 80+i%60); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("window-change: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server stopped reading window-change requests (wedged)")
	}
	t.Logf("5000 window-change requests sent in %v", time.Since(t0).Round(time.Millisecond))
	// The session is alive: a key switches pane and the frame shows it.
	t1 := time.Now()
	tm.stdin.Write([]byte("6"))
	if !tm.waitFor(15*time.Second, "[6 Knobs]") {
		t.Fatalf("session wedged after the burst; tail %q", tail(tm.output()))
	}
	t.Logf("a key after the burst answered in %v", time.Since(t1).Round(time.Millisecond))
	tm.close()
	if !waitUntil(10*time.Second, func() bool { return ts.Sessions() == 0 }) {
		t.Fatalf("slot not released: %d sessions", ts.Sessions())
	}
}

func tail(s string) string { return s[max(0, len(s)-400):] }

// Idle unauthenticated connections from one address cannot lock others
// out: past the per-address limit they are refused, and those admitted are
// cut at the handshake deadline.
func TestPreAuthLimits(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.MaxSessions, c.MaxConns = 2, 6
		c.MaxPreAuthPerAddr, c.HandshakeTimeout = 3, 500*time.Millisecond
	})
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range 10 { // a flood of silent TCP connections from 127.0.0.1
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// Refused ones are closed by the server at once; three stay open.
	open := 0
	for _, c := range idle {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		buf := make([]byte, 64)
		_, err := c.Read(buf) // the server's version line, or EOF when refused
		if err == nil {
			open++
		}
	}
	if open != 3 {
		t.Fatalf("%d of 10 unauthenticated connections admitted, want the per-address limit 3", open)
	}
	// Another address is not locked out meanwhile.
	c, err := gossh.Dial("tcp", strings.Replace(ts.addr, "127.0.0.1", "127.0.0.2", 1), &gossh.ClientConfig{
		User: "other", Auth: []gossh.AuthMethod{gossh.PublicKeys(ts.key)}, Timeout: 5 * time.Second,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		// Port bound on 127.0.0.1 only: dial the same address once the
		// handshake deadline has cut the idle ones.
		t.Logf("127.0.0.2 not reachable (%v); checking the deadline instead", err)
	} else {
		c.Close()
	}
	// The handshake deadline (0.5 s) cuts the silent ones; then a real user
	// gets in. The test holds them open, so only the server can free the slots.
	var err2 error
	if !waitUntil(10*time.Second, func() bool {
		cl, err := ts.dial()
		if err == nil {
			cl.Close()
		}
		err2 = err
		return err == nil
	}) {
		t.Fatalf("a real user is still locked out 10 s after the handshake deadline: %v", err2)
	}
}

// `ssh HOST cmd` and `ssh -T HOST` get a one-line hint to use ssh -t.
func TestNoTerminalHints(t *testing.T) {
	s := newSession(t, startServer(t, nil).client(t))
	var stdout strings.Builder
	s.Stdout = &stdout
	if err := s.Shell(); err == nil { // no PTY requested: ssh -T
		if !endsWithin(10*time.Second, s.Wait) {
			t.Fatal("a session without a terminal was not ended")
		}
	}
	if !strings.Contains(stdout.String(), "ssh -t HOST") {
		t.Errorf("-T got %q, want a hint to use ssh -t", stdout.String())
	}
}

// Each seat shows its name (user and key comment); a seat whose key is
// listed as admin opens a view of every seat, its task and the queue.
func TestSeatNamesAndAdminView(t *testing.T) {
	var admin gossh.Signer
	ts := startServer(t, func(c *Config) {
		admin = newKey(t)
		dir := t.TempDir()
		b := append(gossh.MarshalAuthorizedKey(admin.PublicKey())[:len(gossh.MarshalAuthorizedKey(admin.PublicKey()))-1], []byte(" teacher@lab\n")...)
		p := dir + "/admins"
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		keys, _ := os.ReadFile(c.AuthorizedKeysPath)
		os.WriteFile(c.AuthorizedKeysPath, append(keys, b...), 0o600)
		c.AdminKeysPath = p
	})
	student := ts.seat(t, 120, 40)
	student.stdin.Write([]byte("\r"))
	c, err := ts.dial(gossh.PublicKeys(admin))
	if err != nil {
		t.Fatal(err)
	}
	teacher, err := startTerm(c, 120, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.close()
	if !teacher.waitFor(10*time.Second, "tester (teacher@lab)") {
		t.Fatalf("the seat does not show its name; tail %q", tail(teacher.output()))
	}
	teacher.stdin.Write([]byte{0x01}) // ctrl+a
	if !teacher.waitFor(10*time.Second, "Admin view", "Seats (2 of 8)", "arc-c seed 1 degaml", "Queue:") {
		t.Fatalf("no admin view; tail %q", tail(teacher.output()))
	}
	// ctrl+a, then a key whose frame proves the ctrl+a was handled: an open
	// admin view would hide the Knobs tab this shows.
	student.stdin.Write([]byte{0x01})
	student.stdin.Write([]byte("6"))
	if !student.waitFor(10*time.Second, "[6 Knobs]") {
		t.Fatalf("the seat without an admin key lost its screen after ctrl+a; tail %q", tail(student.output()))
	}
	if strings.Contains(student.output(), "Admin view") {
		t.Fatal("a seat without an admin key opened the admin view")
	}
}

// A seat sees the instance its seed selects, named by the shared engine.
func TestSessionEngineForwardsWorld(t *testing.T) {
	e := &sessionEngine{shared: fakeengine.New()}
	if w, err := e.World("math-mc", 3); err != nil || w.Task != "math-mc#503" {
		t.Fatalf("%+v %v", w, err)
	}
	noWorlds := struct{ api.Engine }{fakeengine.New()} // only api.Engine's methods: World hidden
	if _, err := (&sessionEngine{shared: noWorlds}).World("math-mc", 3); err == nil {
		t.Fatal("an engine without worlds must say so")
	}
}

// A terminal's reply to the session-start queries that arrives after the
// query gave up is not typed into the TUI (its "/" would open the task
// filter and fill it with "1a1a/1a1a").
func TestLateTerminalReplyIsNotTyped(t *testing.T) {
	r, w := io.Pipe()
	p := newInputPump(r)
	defer p.close()
	go func() {
		w.Write([]byte("\x1b]11;rgb:1a1a/1a1a/1a1a\x07\x1b[?62;22c"))
		w.Write([]byte("q"))
		w.Close()
	}()
	got, err := io.ReadAll(pumpReader{p})
	if err != nil || string(got) != "q" {
		t.Fatalf("the TUI read %q (%v), want only the typed q", got, err)
	}
}
