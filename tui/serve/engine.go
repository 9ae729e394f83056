package serve

import (
	"context"
	"errors"
	"fmt"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/sched"
)

// SessionEngine is the part of the engine that must be per connection: jobs
// submitted under the session's own scheduler name, the run ids it owns, and
// its live jobs (for the queue position). *pipeline.Session implements it.
type SessionEngine interface {
	Adapt(ctx context.Context, r api.AdaptRequest) (string, error)
	Chat(ctx context.Context, r api.ChatRequest) (string, error)
	OptionProbs(ctx context.Context, r api.ChatRequest) ([]float64, error)
	// Owns reports whether a run id was started by this session.
	Owns(runID string) bool
	// Jobs lists the session's unfinished jobs, oldest first.
	Jobs() []*sched.Job
	// Close cancels the session's queued and running jobs.
	Close()
}

// sessionEngine is the api.Engine one SSH session's TUI sees: the shared
// engine for suites, stages and bench results, the session's own
// SessionEngine for jobs, and a private bus that carries pipeline events and
// this session's runs only (other users' runs are neither shown nor leaked).
type sessionEngine struct {
	shared  api.Engine
	own     SessionEngine
	base    context.Context // the server's lifetime: the shared pipeline outlives any session
	bus     *events.Bus
	sub     *events.Subscription
	done    chan struct{}
	maxJobs int
}

var _ api.Engine = (*sessionEngine)(nil)

func newSessionEngine(base context.Context, shared api.Engine, own SessionEngine, maxJobs int) *sessionEngine {
	e := &sessionEngine{shared: shared, own: own, base: base, bus: events.NewBus(),
		sub: shared.Bus().Subscribe(events.Coalesce), done: make(chan struct{}), maxJobs: maxJobs}
	go e.forward()
	return e
}

// forward copies the shared bus's events that this session may see.
func (e *sessionEngine) forward() {
	defer close(e.done)
	for {
		evs, ok := e.sub.Wait()
		for _, ev := range evs {
			if ev.Run == "" || e.own.Owns(ev.Run) {
				e.bus.Publish(ev)
			}
		}
		if !ok {
			return
		}
	}
}

// close stops the forwarder and cancels the session's jobs.
func (e *sessionEngine) close() {
	e.sub.Close()
	<-e.done
	e.own.Close()
}

func (e *sessionEngine) Bus() *events.Bus          { return e.bus }
func (e *sessionEngine) Suites() []api.SuiteInfo   { return e.shared.Suites() }
func (e *sessionEngine) Stages() []api.StageStatus { return e.shared.Stages() }
func (e *sessionEngine) LatestBench() (*api.BenchTable, error) {
	return e.shared.LatestBench()
}

// World implements api.Worlds when the shared engine does, so a seat's
// picker and dashboard name the same instance as a local TUI.
func (e *sessionEngine) World(suite string, seed int64) (api.World, error) {
	if w, ok := e.shared.(api.Worlds); ok {
		return w.World(suite, seed)
	}
	return api.World{}, errors.New("the engine does not name task instances")
}

// StartPipeline starts the shared pipeline under the server's context: the
// TUI passes its session context, and the first user's disconnect must not
// cancel the models everyone shares.
func (e *sessionEngine) StartPipeline(context.Context) { e.shared.StartPipeline(e.base) }

// admit bounds one session's share of the queue: without it a single client
// could queue thousands of jobs and starve everyone else's round-robin turn.
func (e *sessionEngine) admit() error {
	if n := len(e.own.Jobs()); n >= e.maxJobs {
		return fmt.Errorf("you have %d jobs queued or running (max %d per session); wait for one to finish", n, e.maxJobs)
	}
	return nil
}

func (e *sessionEngine) Adapt(ctx context.Context, r api.AdaptRequest) (string, error) {
	// Checked before admission (the engine checks again): a job's cost on
	// the shared workers grows with these numbers. core/api's rule, the one
	// the knobs form and the CLI apply.
	if err := r.Validate(); err != nil {
		return "", err
	}
	if err := e.admit(); err != nil {
		return "", err
	}
	return e.own.Adapt(ctx, r)
}

func (e *sessionEngine) Chat(ctx context.Context, r api.ChatRequest) (string, error) {
	if err := e.admit(); err != nil {
		return "", err
	}
	return e.own.Chat(ctx, r)
}

func (e *sessionEngine) OptionProbs(ctx context.Context, r api.ChatRequest) ([]float64, error) {
	if err := e.admit(); err != nil {
		return nil, err
	}
	return e.own.OptionProbs(ctx, r)
}

// queueStatus describes the session's jobs for the status bar.
func queueStatus(own SessionEngine, s *sched.Scheduler) string {
	jobs := own.Jobs()
	if len(jobs) == 0 {
		return "no jobs"
	}
	running, queued, ahead := 0, 0, -1
	for _, j := range jobs {
		switch j.State() {
		case sched.Running:
			running++
		case sched.Queued:
			queued++
			if s != nil {
				if p := s.Position(j); p >= 0 && (ahead < 0 || p < ahead) {
					ahead = p
				}
			}
		}
	}
	switch {
	case queued == 0:
		return fmt.Sprintf("%d job running", running)
	case ahead >= 0 && running > 0:
		return fmt.Sprintf("%d running · %d queued, queue position %d", running, queued, ahead+1)
	case ahead >= 0:
		return fmt.Sprintf("%d queued, queue position %d", queued, ahead+1)
	default:
		return fmt.Sprintf("%d running · %d queued", running, queued)
	}
}
