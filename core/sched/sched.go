// Package sched runs jobs from many sessions on a bounded number of workers,
// round-robin between sessions, so that one demo machine's two cores are
// shared fairly by everyone connected to it.
package sched

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("scheduler is shut down")

// State of a job.
type State int

const (
	Queued State = iota
	Running
	Done
	Failed
	Canceled
)

func (s State) String() string {
	return [...]string{"queued", "running", "done", "failed", "canceled"}[s]
}

// Job is one unit of work owned by a session.
type Job struct {
	ID      uint64
	Session string
	Name    string

	fn     func(ctx context.Context) error
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	state State
	err   error
}

// State returns the job's current state.
func (j *Job) State() State { j.mu.Lock(); defer j.mu.Unlock(); return j.state }

// Err returns the job's error once it is Done, Failed or Canceled.
func (j *Job) Err() error { j.mu.Lock(); defer j.mu.Unlock(); return j.err }

// Done is closed when the job has finished (in any state).
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait blocks until the job finishes and returns its error.
func (j *Job) Wait() error { <-j.done; return j.Err() }

// Cancel cancels a queued or running job.
func (j *Job) Cancel() { j.cancel() }

func (j *Job) finish(st State, err error) { j.finishOnce(st, err) }

// finishOnce records the final state; a second call (a cancel racing the
// worker) is a no-op.
func (j *Job) finishOnce(st State, err error) {
	j.mu.Lock()
	select {
	case <-j.done:
		j.mu.Unlock()
		return
	default:
	}
	j.state, j.err = st, err
	close(j.done)
	j.mu.Unlock()
	j.cancel()
}

// Scheduler is a fair, bounded job runner.
type Scheduler struct {
	mu       sync.Mutex
	cond     *sync.Cond
	queues   map[string][]*Job // per-session FIFO
	order    []string          // round-robin order of sessions with queued jobs
	nextID   uint64
	running  map[uint64]*Job
	closed   bool
	wg       sync.WaitGroup
	baseCtx  context.Context
	stopBase context.CancelFunc
}

// New starts a scheduler with the given number of workers (at least 1).
func New(workers int) *Scheduler {
	if workers < 1 {
		workers = 1
	}
	s := &Scheduler{queues: map[string][]*Job{}, running: map[uint64]*Job{}}
	s.cond = sync.NewCond(&s.mu)
	s.baseCtx, s.stopBase = context.WithCancel(context.Background())
	for range workers {
		s.wg.Add(1)
		go s.worker()
	}
	return s
}

// Submit queues fn for session. The job's context is canceled by Job.Cancel,
// CancelSession, Close, or when parent is done.
func (s *Scheduler) Submit(parent context.Context, session, name string, fn func(ctx context.Context) error) (*Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.nextID++
	ctx, cancel := context.WithCancel(parent)
	// Close cancels everything through the base context too.
	stop := context.AfterFunc(s.baseCtx, cancel)
	j := &Job{ID: s.nextID, Session: session, Name: name, fn: fn, ctx: ctx, done: make(chan struct{}),
		cancel: func() { stop(); cancel() }}
	if len(s.queues[session]) == 0 {
		s.order = append(s.order, session)
	}
	s.queues[session] = append(s.queues[session], j)
	// A job canceled while queued leaves the queue at once, so positions stay honest.
	context.AfterFunc(ctx, func() { s.dropQueued(j) })
	s.cond.Signal()
	return j, nil
}

func (s *Scheduler) dropQueued(j *Job) {
	s.mu.Lock()
	q := s.queues[j.Session]
	for i, x := range q {
		if x == j {
			s.queues[j.Session] = append(q[:i:i], q[i+1:]...)
			if len(s.queues[j.Session]) == 0 {
				s.removeFromOrder(j.Session)
			}
			s.mu.Unlock()
			j.finish(Canceled, context.Cause(j.ctx))
			return
		}
	}
	s.mu.Unlock()
}

func (s *Scheduler) removeFromOrder(session string) {
	delete(s.queues, session)
	for i, x := range s.order {
		if x == session {
			s.order = append(s.order[:i], s.order[i+1:]...)
			return
		}
	}
}

// next pops the head job of the next session in round-robin order.
func (s *Scheduler) next() *Job {
	session := s.order[0]
	q := s.queues[session]
	j := q[0]
	s.queues[session] = q[1:]
	s.order = s.order[1:]
	if len(s.queues[session]) > 0 {
		s.order = append(s.order, session) // back of the line
	} else {
		delete(s.queues, session)
	}
	return j
}

func (s *Scheduler) worker() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for len(s.order) == 0 && !s.closed {
			s.cond.Wait()
		}
		if len(s.order) == 0 && s.closed {
			s.mu.Unlock()
			return
		}
		j := s.next()
		if j.ctx.Err() != nil { // canceled while queued; its AfterFunc may not have run yet
			s.mu.Unlock()
			j.finishOnce(Canceled, j.ctx.Err())
			continue
		}
		j.mu.Lock()
		j.state = Running
		j.mu.Unlock()
		s.running[j.ID] = j
		s.mu.Unlock()

		err := runSafely(j)
		switch {
		case j.ctx.Err() != nil:
			j.finish(Canceled, j.ctx.Err())
		case err != nil:
			j.finish(Failed, err)
		default:
			j.finish(Done, nil)
		}
		s.mu.Lock()
		delete(s.running, j.ID)
		s.mu.Unlock()
	}
}

// runSafely turns a panicking job into a failed one instead of killing the
// server that runs everyone's jobs.
func runSafely(j *Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job %q panicked: %v", j.Name, r)
		}
	}()
	return j.fn(j.ctx)
}

// Position returns how many jobs will start before j (0 = next or running),
// counting round-robin turns; -1 if j is not queued.
func (s *Scheduler) Position(j *Job) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := -1
	for i, x := range s.queues[j.Session] {
		if x == j {
			idx = i
		}
	}
	if idx < 0 {
		return -1
	}
	// Each round takes one job from every session in order; j runs in round idx.
	pos := 0
	for _, sess := range s.order {
		n := len(s.queues[sess])
		if sess == j.Session {
			pos += idx
			continue
		}
		turns := min(n, idx)
		if before(s.order, sess, j.Session) {
			turns = min(n, idx+1)
		}
		pos += turns
	}
	return pos
}

func before(order []string, a, b string) bool {
	for _, x := range order {
		if x == a {
			return true
		}
		if x == b {
			return false
		}
	}
	return false
}

// CancelSession cancels every queued and running job of a session (a
// disconnect).
func (s *Scheduler) CancelSession(session string) {
	s.mu.Lock()
	jobs := append([]*Job(nil), s.queues[session]...)
	s.mu.Unlock()
	for _, j := range jobs {
		j.Cancel()
	}
	s.mu.Lock()
	var live []*Job
	for _, j := range s.running {
		if j.Session == session {
			live = append(live, j)
		}
	}
	s.mu.Unlock()
	for _, j := range live {
		j.Cancel()
	}
}

// Stats reports queued and running job counts.
func (s *Scheduler) Stats() (queued, running int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queues {
		queued += len(q)
	}
	return queued, len(s.running)
}

// Close cancels every job and waits for the workers to exit.
func (s *Scheduler) Close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.stopBase()
	s.wg.Wait()
}
