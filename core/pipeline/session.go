package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/sched"
	"github.com/degaml/workbench/tasks"
)

// Session is the view of a shared Workbench that one SSH connection uses:
// the same artifacts, bus and scheduler, but its Adapt, Chat and OptionProbs
// jobs are submitted under the session's own scheduler name, so the
// scheduler round-robins between connections and a disconnect cancels only
// that connection's jobs. It remembers the run ids it started, so a front end
// can show each connection only its own runs, and a chat can only use an
// adaptation run of the same session.
type Session struct {
	w    *Workbench
	name string

	mu     sync.Mutex
	runs   map[string]bool
	jobs   []*sched.Job // not yet pruned; see Jobs
	closed bool
}

// ErrSessionClosed is returned by a Session's methods after Close.
var ErrSessionClosed = errors.New("session closed")

// ForSession returns a view of w whose jobs run under the scheduler session
// name. Call Close when the connection ends.
func (w *Workbench) ForSession(name string) *Session {
	return &Session{w: w, name: name, runs: map[string]bool{}}
}

// Name is the scheduler session name.
func (s *Session) Name() string { return s.name }

// Owns reports whether runID was started by this session. It is true before
// the job is submitted, so no event of the session's own runs is missed.
func (s *Session) Owns(runID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[runID]
}

// Jobs returns the session's jobs that have not finished, oldest first.
func (s *Session) Jobs() []*sched.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	live := s.jobs[:0]
	for _, j := range s.jobs {
		select {
		case <-j.Done():
		default:
			live = append(live, j)
		}
	}
	clear(s.jobs[len(live):]) // let finished jobs' closures be collected
	s.jobs = live
	return slices.Clone(live)
}

// Close cancels the session's queued and running jobs and forgets its
// adaptation runs, whose adapters nobody else may use (a long-running server
// would otherwise keep every disconnected user's adapters in memory).
func (s *Session) Close() {
	s.mu.Lock()
	s.closed = true
	runs := s.runs
	s.runs = map[string]bool{}
	s.mu.Unlock()
	s.w.sched.CancelSession(s.name)
	s.w.runsMu.Lock()
	for id := range runs {
		delete(s.w.runs, id)
	}
	s.w.runsMu.Unlock()
}

// claim records a run id before its job is submitted (events may arrive
// before Submit returns).
func (s *Session) claim(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	s.runs[id] = true
	return nil
}

func (s *Session) track(j *sched.Job) {
	s.mu.Lock()
	s.jobs = append(s.jobs, j)
	s.mu.Unlock()
}

// checkRun refuses another session's adaptation run.
func (s *Session) checkRun(runID string) error {
	if runID != "" && !s.Owns(runID) {
		return fmt.Errorf("unknown adaptation run %q", runID)
	}
	return nil
}

// Adapt is Workbench.Adapt under the session's name.
func (s *Session) Adapt(ctx context.Context, r api.AdaptRequest) (string, error) {
	w := s.w
	if !slices.Contains(meta.Names(), r.Method) {
		return "", fmt.Errorf("unknown method %q (have %s)", r.Method, strings.Join(meta.Names(), ", "))
	}
	if err := r.Validate(); err != nil {
		return "", err // every front end's request (CLI, TUI, SSH) passes here
	}
	task, err := w.task(r.Suite, r.Seed)
	if err != nil {
		return "", err
	}
	id := w.newRunID("adapt")
	if err := s.claim(id); err != nil {
		return "", err
	}
	run := &adaptRun{method: r.Method, task: task, done: make(chan struct{})}
	w.runsMu.Lock()
	w.runs[id] = run
	w.runsMu.Unlock()
	tp := &terminalPublisher{pub: func(e events.Event) { e.Run = id; w.bus.Publish(e) }}
	job, err := w.sched.Submit(ctx, s.name, "adapt "+r.Method+" "+r.Suite, func(ctx context.Context) error {
		ad, _, err := w.RunTask(ctx, r.Method, task, r.Seed, r.Knobs, tp.publish)
		run.adapted, run.err = ad, err
		return err
	})
	if err != nil {
		w.runsMu.Lock()
		delete(w.runs, id)
		w.runsMu.Unlock()
		return "", err
	}
	s.track(job)
	go func() {
		tp.finish(job, events.Event{Method: r.Method, Task: task.Name})
		if job.State() != sched.Done && run.err == nil {
			run.err = job.Err() // a panic or a cancel while queued: never chat with a half-made adapter
		}
		close(run.done)
	}()
	return id, nil
}

// terminalPublisher makes a run end with exactly one terminal event (a
// result, an error or a cancellation) whatever happens to its job: a front
// end waiting on the run can always stop waiting. The job's own terminal
// event wins; finish publishes one only for a job that ended without it
// (a failure, a panic the scheduler recovered, a cancel while queued).
type terminalPublisher struct {
	pub  func(events.Event)
	sent atomic.Bool
}

// isTerminal reports whether e ends a run; a chat ends with its chat_done log.
func isTerminal(e events.Event) bool {
	switch e.Kind {
	case events.Result, events.Error, events.Canceled:
		return true
	case events.Log:
		return e.Phase == "chat_done"
	}
	return false
}

func (t *terminalPublisher) publish(e events.Event) {
	if isTerminal(e) && !t.sent.CompareAndSwap(false, true) {
		return // a second terminal event would make waiters disagree on the outcome
	}
	t.pub(e)
}

// finish waits for job and publishes its terminal event if it sent none;
// tmpl carries the run's method and task.
func (t *terminalPublisher) finish(job *sched.Job, tmpl events.Event) {
	<-job.Done()
	e := tmpl
	switch st, err := job.State(), job.Err(); {
	case st == sched.Canceled:
		e.Kind, e.Message = events.Canceled, "cancelled"
	case err != nil:
		e.Kind, e.Message = events.Error, err.Error()
	default:
		e.Kind, e.Message = events.Error, "run ended without a result (a bug: please report it)"
	}
	t.publish(e)
}

// Chat is Workbench.Chat under the session's name; AdaptRun must be one of
// the session's own runs.
func (s *Session) Chat(ctx context.Context, r api.ChatRequest) (string, error) {
	w := s.w
	if len(r.Prompt) > MaxChatBytes {
		return "", fmt.Errorf("prompt too long (%d bytes, max %d)", len(r.Prompt), MaxChatBytes)
	}
	if strings.TrimSpace(r.Prompt) == "" {
		return "", errors.New("empty prompt")
	}
	if err := s.checkRun(r.AdaptRun); err != nil {
		return "", err
	}
	maxNew := r.MaxNew
	if maxNew <= 0 || maxNew > 256 {
		maxNew = 64
	}
	id := w.newRunID("chat")
	if err := s.claim(id); err != nil {
		return "", err
	}
	tp := &terminalPublisher{pub: func(e events.Event) { e.Run = id; w.bus.Publish(e) }}
	job, err := w.sched.Submit(ctx, s.name, "chat", func(ctx context.Context) error {
		return w.chat(ctx, r, maxNew, tp.publish)
	})
	if err != nil {
		return "", err
	}
	s.track(job)
	go tp.finish(job, events.Event{})
	return id, nil
}

// OptionProbs is Workbench.OptionProbs under the session's name.
func (s *Session) OptionProbs(ctx context.Context, r api.ChatRequest) ([]float64, error) {
	w := s.w
	if len(r.Prompt) > MaxChatBytes {
		return nil, fmt.Errorf("prompt too long (%d bytes, max %d)", len(r.Prompt), MaxChatBytes)
	}
	if err := s.checkRun(r.AdaptRun); err != nil {
		return nil, err
	}
	if _, ok := tasks.ParseChoice(strings.TrimRight(r.Prompt, " \n")); !ok {
		return nil, errors.New("not a multiple-choice prompt (needs lines \"A: …\" and \"B: …\" after the question, or \"… options a b\")")
	}
	var probs []float64
	job, err := w.sched.Submit(ctx, s.name, "option-probs", func(ctx context.Context) error {
		base, err := w.Base(ctx)
		if err != nil {
			return err
		}
		ad, _, err := w.adapted(ctx, r.AdaptRun)
		if err != nil {
			return err
		}
		if _, err := chatPrompt(r.Prompt, base.Tokenizer); err != nil {
			return err // e.g. words the built-in model cannot read
		}
		ex, _ := choiceExample(strings.TrimRight(r.Prompt, " \n"), base.Tokenizer)
		ex.Answer = 0 // scored as if A were right: only the probabilities are kept
		env := &meta.Env{Backend: w.backend, Model: base, LoRA: LoRAConfig(w.cfg), Publish: meta.Discard}
		_, _, p, err := meta.Evaluate(ctx, env, ad, []tasks.Example{ex})
		if err == nil && len(p) == 1 {
			probs = p[0]
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.track(job)
	if err := job.Wait(); err != nil {
		return nil, err
	}
	return probs, nil
}
