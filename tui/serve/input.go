package serve

import (
	"errors"
	"io"
	"regexp"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
)

// errQueryTimeout ends a terminal query the client never answered.
var errQueryTimeout = errors.New("terminal did not answer")

// queryTimeout bounds wish's background-colour query at session start.
var queryTimeout = time.Second

// inputPump reads a session's input in one goroutine so that a read can be
// abandoned without losing bytes. wish's renderer queries the terminal's
// background colour by reading the session; on a terminal that never
// answers, its timeout cannot interrupt a blocked channel read, so the
// session would hang until the first keystroke and then lose it. Through
// the pump the query gives up on time and the keystroke goes to the TUI.
type inputPump struct {
	ch   chan []byte
	stop chan struct{}
	once sync.Once

	mu      sync.Mutex
	pending []byte
	queried []byte // what the terminal query read
	err     error  // after ch is closed
}

func newInputPump(r io.Reader) *inputPump {
	p := &inputPump{ch: make(chan []byte), stop: make(chan struct{})}
	go p.run(r)
	return p
}

func (p *inputPump) run(r io.Reader) {
	defer close(p.ch)
	for {
		buf := make([]byte, 4096)
		n, err := r.Read(buf)
		if n > 0 {
			select {
			case p.ch <- buf[:n]:
			case <-p.stop:
				return
			}
		}
		if err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
			return
		}
	}
}

// close releases a reader blocked in read and the pump (whose own read of
// the session ends when the channel closes).
func (p *inputPump) close() { p.once.Do(func() { close(p.stop) }) }

// read reads what the client typed; deadline (nil = none) abandons the wait.
// strip drops the terminal's replies to the session-start queries from
// each chunk: a reply that arrives after the query gave up (a slow link, a
// loaded server) would otherwise reach the TUI as keys ("/" opens the
// task filter, then "1a1a/…" is typed into it).
func (p *inputPump) read(b []byte, deadline <-chan time.Time, strip bool) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.pending) == 0 {
		p.mu.Unlock()
		var chunk []byte
		var ok bool
		select {
		case chunk, ok = <-p.ch:
		case <-deadline:
			p.mu.Lock()
			return 0, errQueryTimeout
		case <-p.stop:
			p.mu.Lock()
			return 0, io.EOF
		}
		p.mu.Lock()
		if !ok {
			if p.err != nil && !errors.Is(p.err, io.EOF) {
				return 0, p.err
			}
			return 0, io.EOF
		}
		if strip {
			chunk = terminalReplies.ReplaceAll(chunk, nil)
		}
		p.pending = chunk
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

// pumpReader is the TUI's input.
type pumpReader struct{ p *inputPump }

func (r pumpReader) Read(b []byte) (int, error) { return r.p.read(b, nil, true) }

// querySession is the session as wish's MakeRenderer sees it: reads come
// from the pump and fail after the query timeout.
type querySession struct {
	ssh.Session
	p        *inputPump
	deadline <-chan time.Time
}

func (q querySession) Read(b []byte) (int, error) {
	n, err := q.p.read(b, q.deadline, false)
	q.p.mu.Lock()
	q.p.queried = append(q.p.queried, b[:n]...)
	q.p.mu.Unlock()
	return n, err
}

// terminalReplies matches the answers to the background-colour (OSC 11) and
// primary device attributes (DA1) queries.
var terminalReplies = regexp.MustCompile(`\x1b\]11;[^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[\?[0-9;]*c`)

// endQuery gives back what the user typed while the query read the input
// (the query would otherwise swallow it), minus the terminal's replies.
func (p *inputPump) endQuery() {
	p.mu.Lock()
	defer p.mu.Unlock()
	typed := terminalReplies.ReplaceAll(p.queried, nil)
	p.queried = nil
	if len(typed) > 0 {
		p.pending = append(typed, p.pending...)
	}
}
